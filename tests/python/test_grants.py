"""Least-privilege users, created on the real server: what each may and may not do."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import mysql.connector
import pytest

from olist_segments import cli, db, grants, settings
from projectkit import drop_base_schema, new_base_schema

DENIED = (1044, 1142, 1227)  # access denied to database / command denied on table / needs a privilege


@dataclass(frozen=True)
class Users:
    base: settings.Warehouse  # the scratch base, as admin
    pipeline: settings.Warehouse
    bi: settings.Warehouse
    other: str  # another base's marts schema
    lookalike: str  # a schema `<base>_marts` would match if `_` were not escaped


def admin_sql(wh: settings.Warehouse, *statements: str) -> None:
    conn = db.connect(wh)
    cur = conn.cursor()
    for sql in statements:
        cur.execute(sql)
    conn.close()


def drop_users(wh: settings.Warehouse, *names: str) -> None:
    conn = db.connect(wh)
    cur = conn.cursor()
    for name in names:
        cur.execute("DROP USER IF EXISTS %s@'%'", (name,))
    conn.close()


def secret() -> str:
    return f"pw'\"\\%s;{uuid.uuid4().hex}"  # quotes, backslash, %s: all passed as a parameter


def run_grants(
    monkeypatch: pytest.MonkeyPatch, base: str, pipeline: str, bi: str, pw: tuple[str, str]
) -> int:
    monkeypatch.setenv(grants.PIPELINE_PASSWORD_ENV, pw[0])
    monkeypatch.setenv(grants.BI_PASSWORD_ENV, pw[1])
    argv = ["grants", "--pipeline-user", pipeline, "--bi-user", bi, "--schema", base, "--apply"]
    return cli.main(argv)


@pytest.fixture
def users(
    scratch: settings.Warehouse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Iterator[Users]:
    base = scratch.schema
    other = replace(scratch, schema=new_base_schema())
    lookalike = f"{base}xmarts"
    names = (f"tp_{uuid.uuid4().hex[:12]}", f"tb_{uuid.uuid4().hex[:12]}")
    pw = (secret(), secret())
    try:
        admin_sql(
            scratch,
            *(f"CREATE DATABASE `{base}_{s}`" for s in ("raw", "marts", "ml", "snapshots")),
            f"CREATE TABLE `{base}_marts`.m (id int)",
            f"INSERT INTO `{base}_marts`.m VALUES (1), (2)",
            f"CREATE TABLE `{base}_raw`.r (id int)",
            f"CREATE TABLE `{base}_snapshots`.s (id int)",
            f"CREATE DATABASE `{other.schema}_marts`",
            f"CREATE TABLE `{other.schema}_marts`.secret (id int)",
            f"CREATE DATABASE `{lookalike}`",
            f"CREATE TABLE `{lookalike}`.secret (id int)",
        )
        assert run_grants(monkeypatch, base, *names, pw) == 0
        output = capsys.readouterr().out
        assert pw[0] not in output and pw[1] not in output
        assert f"<from ${grants.BI_PASSWORD_ENV}>" in output
        yield Users(
            scratch,
            replace(scratch, user=names[0], password=pw[0]),
            replace(scratch, user=names[1], password=pw[1]),
            f"{other.schema}_marts",
            lookalike,
        )
    finally:
        drop_users(scratch, *names)
        drop_base_schema(other)
        admin_sql(scratch, f"DROP DATABASE IF EXISTS `{lookalike}`")


def denied(wh: settings.Warehouse, sql: str) -> None:
    conn = db.connect(wh)
    with pytest.raises(mysql.connector.Error) as exc:
        conn.cursor().execute(sql)
    conn.close()
    assert exc.value.errno in DENIED, exc.value


def allowed(wh: settings.Warehouse, *statements: str) -> list[tuple[object, ...]]:
    conn = db.connect(wh)
    cur = conn.cursor()
    rows: list[tuple[object, ...]] = []
    for sql in statements:
        cur.execute(sql)
        rows = cur.fetchall() if cur.with_rows else []
    conn.close()
    return rows


def test_bi_user_reads_marts_only(users: Users) -> None:
    base = users.base.schema
    assert allowed(users.bi, f"SELECT id FROM `{base}_marts`.m ORDER BY id") == [(1,), (2,)]
    assert allowed(users.bi, f"SELECT count(*) FROM `{base}_snapshots`.s") == [(0,)]
    denied(users.bi, f"INSERT INTO `{base}_marts`.m VALUES (3)")
    denied(users.bi, f"DELETE FROM `{base}_marts`.m")
    denied(users.bi, f"CREATE TABLE `{base}_marts`.t (id int)")
    denied(users.bi, f"DROP TABLE `{base}_marts`.m")
    denied(users.bi, f"SELECT * FROM `{base}_raw`.r")
    denied(users.bi, f"SELECT * FROM `{users.lookalike}`.secret")
    denied(users.bi, f"SELECT * FROM `{users.other}`.secret")
    denied(users.bi, "SELECT * FROM mysql.user")
    assert allowed(users.base, f"SELECT count(*) FROM `{base}_marts`.m") == [(2,)]


def test_pipeline_user_owns_the_project_schemas_only(users: Users, tmp_path: Path) -> None:
    base = users.base.schema
    for schema in (f"{base}_ml", f"{base}_marts"):
        allowed(
            users.pipeline,
            f"CREATE TABLE `{schema}`.t (id int primary key)",
            f"INSERT INTO `{schema}`.t VALUES (1)",
            f"CREATE INDEX ix ON `{schema}`.t (id)",
            f"RENAME TABLE `{schema}`.t TO `{schema}`.t2",
            f"DROP TABLE `{schema}`.t2",
        )
    # dbt creates its schemas and views itself; the Python step locks and loads with LOAD DATA LOCAL.
    allowed(
        users.pipeline,
        f"CREATE DATABASE IF NOT EXISTS `{base}_staging`",
        f"CREATE VIEW `{base}_staging`.v AS SELECT id FROM `{base}_marts`.m",
        f"SHOW CREATE VIEW `{base}_staging`.v",
        f"DROP VIEW `{base}_staging`.v",
    )
    assert allowed(users.pipeline, "SELECT GET_LOCK('olist_segments:test', 0)") == [(1,)]
    csv = tmp_path / "r.csv"
    csv.write_text("7\n8\n", encoding="utf-8")
    conn = db.connect(users.pipeline, local_infile=True)
    cur = conn.cursor()
    cur.execute(f"LOAD DATA LOCAL INFILE %s INTO TABLE `{base}_raw`.r", (str(csv),))
    cur.execute(f"SELECT count(*) FROM `{base}_raw`.r")
    assert cur.fetchone() == (2,)
    conn.close()
    denied(users.pipeline, "SELECT * FROM mysql.user")
    denied(users.pipeline, "CREATE TABLE mysql.t (id int)")
    denied(users.pipeline, f"SELECT * FROM `{users.other}`.secret")
    denied(users.pipeline, f"CREATE TABLE `{users.other}`.t (id int)")
    denied(users.pipeline, f"SELECT * FROM `{users.lookalike}`.secret")
    denied(users.pipeline, f"CREATE DATABASE `{base}_other`")
    denied(users.pipeline, "CREATE USER intruder IDENTIFIED BY 'x'")
    denied(users.pipeline, f"GRANT SELECT ON `{base}_marts`.* TO '{users.bi.user}'@'%'")


def test_rerun_is_idempotent_and_sets_the_new_password(
    users: Users, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    admin_sql(users.base, f"GRANT SELECT ON `{users.other}`.* TO '{users.bi.user}'@'%'")  # drifted grant
    new = (secret(), secret())
    assert run_grants(monkeypatch, users.base.schema, users.pipeline.user, users.bi.user, new) == 0
    capsys.readouterr()
    with pytest.raises(mysql.connector.Error):
        db.connect(users.bi)  # the old password
    bi = replace(users.bi, password=new[1])
    assert allowed(bi, f"SELECT count(*) FROM `{users.base.schema}_marts`.m") == [(2,)]
    denied(bi, f"SELECT * FROM `{users.other}`.secret")  # back to exactly the planned grants


def test_rendered_sql_escapes_wildcards_and_never_shows_passwords(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(grants.BI_PASSWORD_ENV, "visible-if-leaked")
    code = cli.main(
        ["grants", "--pipeline-user", "olist_pipeline", "--bi-user", "olist_bi", "--schema", "shop"]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "visible-if-leaked" not in out
    assert "CREATE USER IF NOT EXISTS 'olist_bi'@'%' IDENTIFIED BY <from $OLIST_BI_PASSWORD>;" in out
    assert "GRANT ALL PRIVILEGES ON `shop\\_ml`.* TO 'olist_pipeline'@'%';" in out
    assert "GRANT SELECT ON `shop\\_marts`.* TO 'olist_bi'@'%';" in out
    assert "GRANT ALL PRIVILEGES ON `shop`.* TO 'olist_pipeline'@'%';" in out
    bi_grants = [ln for ln in out.splitlines() if ln.startswith("GRANT") and "'olist_bi'" in ln]
    assert len(bi_grants) == 2


@pytest.mark.parametrize(
    ("pipeline", "bi", "schema", "host"),
    [
        ("p'x", "bi", "shop", "%"),
        ("p`x", "bi", "shop", "%"),
        ("p; drop table t", "bi", "shop", "%"),
        ("pipe", 'b"i', "shop", "%"),
        ("pipe", "", "shop", "%"),
        ("pipe", "b" * 33, "shop", "%"),
        ("root", "bi", "shop", "%"),
        ("pipe", "pipe", "shop", "%"),
        ("pipe", "bi", "shop`; drop database mysql; --", "%"),
        ("pipe", "bi", "shop'", "%"),
        ("pipe", "bi", "s" * 60, "%"),
        ("pipe", "bi", "shop", "%' OR '1'='1"),
        ("pipe", "bi", "shop", "host name"),
    ],
)
def test_hostile_names_are_refused_before_any_sql(
    pipeline: str,
    bi: str,
    schema: str,
    host: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(db.IdentifierError):
        grants.plan(schema, pipeline, bi, host)
    # With --apply and a server that does not exist: refused before any connection is tried.
    monkeypatch.setenv("MYSQL_HOST", "127.0.0.1")
    monkeypatch.setenv("MYSQL_PORT", "1")
    argv = [
        "grants",
        "--pipeline-user",
        pipeline,
        "--bi-user",
        bi,
        "--schema",
        schema,
        "--host",
        host,
        "--apply",
    ]
    assert cli.main(argv) == 1
    captured = capsys.readouterr()
    assert "nothing was run" in captured.err and "GRANT" not in captured.out


def test_missing_password_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(grants.PIPELINE_PASSWORD_ENV, raising=False)
    monkeypatch.setenv(grants.BI_PASSWORD_ENV, "x")
    name = f"tp_{uuid.uuid4().hex[:12]}"
    assert cli.main(["grants", "--pipeline-user", name, "--bi-user", "tb_never", "--apply"]) == 1
    assert f"set {grants.PIPELINE_PASSWORD_ENV}" in capsys.readouterr().err


def test_existing_powerful_account_is_not_touched(
    scratch: settings.Warehouse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    name = f"tp_{uuid.uuid4().hex[:12]}"
    try:
        admin_sql(
            scratch, f"CREATE USER '{name}'@'%' IDENTIFIED BY 'x'", f"GRANT PROCESS ON *.* TO '{name}'@'%'"
        )
        code = run_grants(
            monkeypatch, scratch.schema, name, f"tb_{uuid.uuid4().hex[:12]}", (secret(), secret())
        )
        assert code == 1
        assert "already exists with global privileges (PROCESS)" in capsys.readouterr().err
        conn = db.connect(scratch)
        cur = conn.cursor()
        cur.execute("SHOW GRANTS FOR %s@'%'", (name,))
        assert any("GRANT PROCESS ON *.*" in row[0] for row in cur.fetchall())
        conn.close()
    finally:
        drop_users(scratch, name)
