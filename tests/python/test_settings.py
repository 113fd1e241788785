"""Settings come from the dbt profile and the environment; the connector is the C extension."""

from __future__ import annotations

import pytest

from olist_segments import db, settings
from projectkit import new_base_schema


def test_profile_reads_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DBT_SCHEMA", "from_env")
    monkeypatch.setenv("MYSQL_PORT", "3307")
    monkeypatch.setenv("DBT_TARGET", "mysql")
    wh = settings.load()
    assert (wh.adapter, wh.port, wh.schema) == ("mysql_python", 3307, "from_env")
    assert wh.schema_for("ml") == "from_env_ml"


def test_password_never_in_repr(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MYSQL_PASSWORD", "s3cret-value")
    wh = settings.load()
    assert wh.password == "s3cret-value"
    assert "s3cret" not in repr(wh) and "s3cret" not in str(wh)


def test_unknown_target_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(settings.SettingsError, match="no target 'postgres'"):
        settings.load("postgres")


def test_connection_uses_c_extension_and_explicit_collation(base_warehouse: settings.Warehouse) -> None:
    conn = db.connect(base_warehouse)
    assert db.implementation(conn) == "C extension"
    cur = conn.cursor()
    cur.execute("SELECT @@character_set_connection, @@collation_connection")
    assert cur.fetchone() == ("utf8mb4", "utf8mb4_unicode_ci")
    conn.close()


@pytest.mark.parametrize("bad", ["a`b", "x; drop table t", "", "a" * 65, "name with space", "o'neil", "é"])
def test_hostile_identifiers_are_refused(bad: str) -> None:
    with pytest.raises(db.IdentifierError):
        db.quote_ident(bad)


def test_drop_base_drops_only_the_base_and_its_layer_schemas(base_warehouse: settings.Warehouse) -> None:
    base = new_base_schema("drop")
    mine = [base, f"{base}_raw", f"{base}_marts"]
    others = [f"{base}x", f"{base}_raw_2", f"x{base}_raw"]  # look alike, are not ours
    conn = db.connect(base_warehouse)
    cur = conn.cursor()
    for name in mine + others:
        cur.execute(f"create database {db.quote_ident(name)}")
    try:
        assert sorted(db.drop_base(conn, base)) == sorted(mine)
        cur.execute("show databases like %s", (f"%{base}%",))
        assert sorted(name for (name,) in cur.fetchall()) == sorted(others)
    finally:
        for name in others:
            cur.execute(f"drop database if exists {db.quote_ident(name)}")
        conn.close()
