"""Settings come from the dbt profile and the environment; the connector is the C extension."""

from __future__ import annotations

import pytest

from olist_segments import db, doctor, settings
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


def test_doctor_compares_the_buffer_pool_with_the_projects_tables(base_warehouse: settings.Warehouse) -> None:
    """The tables of <base> and <base>_* are counted, not those of a schema the LIKE wildcard `_` would
    match too (<base>x…); the pool is the server's."""
    base = new_base_schema("dr")
    mine, lookalike = f"{base}_raw", f"{base}xraw"
    conn = db.connect(base_warehouse)
    cur = conn.cursor()
    try:
        for schema in (mine, lookalike):
            cur.execute(f"CREATE DATABASE {db.quote_ident(schema)}")
            cur.execute(f"CREATE TABLE {db.qualified(schema, 't')} (id int primary key, pad char(200))")
        cur.execute(
            f"INSERT INTO {db.qualified(lookalike, 't')} WITH RECURSIVE n (i) AS"
            " (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)"
            " SELECT a.i * 1000 + b.i, 'x' FROM n a, n b"
        )
        conn.commit()
        cur.execute(f"ANALYZE TABLE {db.qualified(mine, 't')}, {db.qualified(lookalike, 't')}")
        cur.fetchall()
        cur.execute(
            "SELECT table_schema, data_length + index_length FROM information_schema.tables"
            " WHERE table_schema IN (%s, %s)",
            (mine, lookalike),
        )
        sizes = dict(cur.fetchall())
        assert sizes[lookalike] > sizes[mine] > 0
        assert doctor.tables_bytes(cur, base) == sizes[mine]
        cur.execute("SELECT @@innodb_buffer_pool_size")
        pool = int(cur.fetchone()[0])
        assert doctor.buffer_pool_advice(cur, base).startswith(f"buffer pool  {pool // 2**20:,} MiB;")
    finally:
        for schema in (mine, lookalike):
            cur.execute(f"DROP DATABASE IF EXISTS {db.quote_ident(schema)}")
        conn.close()
