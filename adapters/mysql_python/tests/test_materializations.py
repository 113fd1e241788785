"""The adapter's table/view materializations on the real server, for both adapter types.

On the fixture project: readers never see a rebuilt table missing (dbt-mysql's stock type does), comments and
indexes reach information_schema, and contract-enforced tables build (or fail safely).
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import mysql.connector
import pytest

from dbt.adapters.mysql_python import unchanged
from fixturekit import TARGETS, connect, query, run_dbt, tables, target_path

N_NUMBERS = 1000  # rows of the fixture's `numbers` model
REBUILDS = 10


def manifest_node(schema: str, name: str) -> dict[str, Any]:
    manifest = json.loads((target_path(schema) / "manifest.json").read_text())
    return manifest["nodes"][f"model.adapter_fixture.{name}"]


@dataclass
class ReadLog:
    counts: Counter[int] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)


@contextmanager
def polling_reader(schema: str, table: str) -> Iterator[ReadLog]:
    """A BI-like reader: `select count(*)` in a tight loop (autocommit) until the block ends."""
    log = ReadLog()
    stop = threading.Event()
    sql = f"SELECT COUNT(*) FROM `{schema}`.`{table}`"

    def poll() -> None:
        conn = connect()
        cur = conn.cursor()
        while not stop.is_set():
            try:
                cur.execute(sql)
                log.counts[cur.fetchone()[0]] += 1
            except mysql.connector.Error as exc:
                log.errors.append(f"{exc.errno}: {exc.msg}")
        conn.close()

    thread = threading.Thread(target=poll, daemon=True)
    thread.start()
    try:
        yield log
    finally:
        stop.set()
        thread.join(timeout=30)


def rebuild_while_reading(schema: str, target: str, model: str, *, stop_on_error: bool) -> ReadLog:
    run_dbt("run", "--select", model, schema=schema, target=target)
    with polling_reader(schema, model) as log:
        for _ in range(REBUILDS):
            run_dbt("run", "--select", model, schema=schema, target=target)
            if stop_on_error and log.errors:
                break
    return log


@pytest.mark.slow
@pytest.mark.parametrize("target", TARGETS)
def test_rebuilds_never_interrupt_readers(schema: str, target: str) -> None:
    log = rebuild_while_reading(schema, target, "numbers", stop_on_error=False)
    assert log.errors == []
    assert set(log.counts) == {N_NUMBERS}
    assert sum(log.counts.values()) > 10 * REBUILDS, "the reader hardly ran: the test proves nothing"
    assert tables(schema) == {"numbers"}, "a __dbt_tmp or __dbt_backup table was left behind"


@pytest.mark.slow
def test_stock_type_has_a_gap(schema: str) -> None:
    """The same reader against dbt-mysql's own type (dbt's table materialization, its drop-then-rename)."""
    run_dbt("run", "--select", "numbers", schema=schema)  # stock dbt-mysql cannot build its contract
    log = rebuild_while_reading(schema, "stock_mariadb", "numbers_by_bucket", stop_on_error=True)
    assert log.errors, f"no failed read in {REBUILDS} stock rebuilds ({sum(log.counts.values())} reads)"
    assert all("doesn't exist" in error for error in log.errors), log.errors[:3]


@pytest.mark.parametrize("target", TARGETS)
def test_comments_and_indexes_reach_information_schema(schema: str, target: str) -> None:
    run_dbt("run", "--select", "path:models/sql", schema=schema, target=target)
    run_dbt(
        "run", "--select", "path:models/sql", schema=schema, target=target
    )  # a rebuild replaces everything, once

    table_comments = dict(
        query(
            "SELECT table_name, table_comment FROM information_schema.tables WHERE table_schema = %s",
            (schema,),
        )
    )
    column_comments = {
        (t, c): comment
        for t, c, comment in query(
            "SELECT table_name, column_name, column_comment FROM information_schema.columns "
            "WHERE table_schema = %s",
            (schema,),
        )
    }
    for name in ("numbers", "numbers_by_bucket"):
        node = manifest_node(schema, name)
        assert table_comments[name] == node["description"][:2048]
        for column, info in node["columns"].items():
            assert column_comments[(name, column)] == info["description"][:1024]
    # Quotes, a backslash, %s and non-ASCII text arrive unchanged; MySQL's length limits are respected.
    assert "' and \" and a backslash \\ and %s and ação" in table_comments["numbers"]
    assert len(table_comments["numbers_by_bucket"]) == 2048
    assert len(column_comments[("numbers", "amount")]) == 1024
    assert column_comments[("numbers", "created_at")] == ""  # undocumented column
    assert table_comments["small_numbers"] == "VIEW"  # MySQL keeps no comments on views

    indexes = query(
        "SELECT table_name, index_name, non_unique, column_name, sub_part FROM information_schema.statistics "
        "WHERE table_schema = %s ORDER BY table_name, index_name, seq_in_index",
        (schema,),
    )
    assert indexes == [
        ("numbers", "ix_bucket__created_at", 1, "bucket", None),
        ("numbers", "ix_bucket__created_at", 1, "created_at", None),
        ("numbers", "ix_note20", 1, "note", 20),
        ("numbers", "PRIMARY", 0, "n", None),
        ("numbers", "ux_numbers_amount", 0, "amount", None),
        ("numbers_by_bucket", "ux_bucket", 0, "bucket", None),
    ]


@pytest.mark.parametrize("target", TARGETS)
def test_a_model_can_change_between_table_and_view(schema: str, target: str) -> None:
    """A table where a view model goes (and the reverse) is replaced by the same one-statement swap."""
    query(f"CREATE TABLE `{schema}`.`small_numbers` (x int)")
    query(f"CREATE VIEW `{schema}`.`numbers_by_bucket` AS SELECT 1 AS x")
    run_dbt("run", "--select", "path:models/sql", schema=schema, target=target)
    kinds = query(
        "SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = %s ORDER BY 1",
        (schema,),
    )
    assert kinds == [
        ("numbers", "BASE TABLE"),
        ("numbers_by_bucket", "BASE TABLE"),
        ("small_numbers", "VIEW"),
    ]
    assert query(f"SELECT COUNT(*) FROM `{schema}`.`small_numbers`") == [(10,)]


@pytest.mark.parametrize("target", TARGETS)
def test_comments_change_nothing_else(schema: str, target: str) -> None:
    """Each commented column keeps its exact definition: compare with a plain CREATE TABLE ... SELECT."""
    run_dbt("run", "--select", "+numbers_by_bucket", schema=schema, target=target)
    compiled = next((target_path(schema) / "compiled").rglob("numbers_by_bucket.sql"))
    query(f"CREATE TABLE `{schema}`.`plain` AS {compiled.read_text()}")
    definition = (
        "SELECT column_name, column_type, is_nullable, column_default, extra, character_set_name, "
        "collation_name FROM information_schema.columns WHERE table_schema = %s AND table_name = %s "
        "ORDER BY ordinal_position"
    )
    built = query(definition, (schema, "numbers_by_bucket"))
    assert built == query(definition, (schema, "plain"))
    assert any(default is not None for *_, default, _, _, _ in built), "no column with a default: weak test"


@pytest.mark.parametrize("target", TARGETS)
def test_contract_tables_build_and_fail_safely(schema: str, target: str) -> None:
    run_dbt("run", "--select", "numbers", schema=schema, target=target)
    columns = query(
        "SELECT column_name, column_type, is_nullable, column_key FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'numbers' ORDER BY ordinal_position",
        (schema,),
    )
    declared = [
        (name, col_type.split("(")[0] if name == "n" else col_type, nullable, key)
        for name, col_type, nullable, key in columns
    ]
    assert declared == [
        ("n", "int", "NO", "PRI"),
        ("bucket", "varchar(10)", "NO", "MUL"),
        ("amount", "decimal(10,2)", "YES", "UNI"),
        ("created_at", "datetime", "YES", ""),
        ("note", "text", "YES", "MUL"),
    ]

    # The check constraint is still enforced after persist_docs restated the column to comment it (MariaDB
    # drops a column-level CHECK that MODIFY COLUMN leaves out).
    with pytest.raises(mysql.connector.Error) as violation:
        query(f"INSERT INTO `{schema}`.`numbers` (n, bucket, amount) VALUES (0, 'b0', -1)")
    assert violation.value.errno in (3819, 4025)  # MySQL / MariaDB: check constraint violated

    # A type that contradicts the contract: refused before any DDL.
    wrong = run_dbt(
        "run",
        "--select",
        "numbers",
        "--vars",
        "{wrong_type: true}",
        schema=schema,
        target=target,
        check=False,
    )
    assert wrong.returncode != 0 and "enforced contract that failed" in wrong.stdout
    assert "| n           | string          | integer       |" in wrong.stdout
    # A NULL primary key: the server refuses the new table; the published one stays as it was.
    null_key = run_dbt(
        "run", "--select", "numbers", "--vars", "{null_key: true}", schema=schema, target=target, check=False
    )
    assert null_key.returncode != 0 and "cannot be null" in null_key.stdout
    assert query(f"SELECT COUNT(*) FROM `{schema}`.`numbers`") == [(N_NUMBERS,)]
    assert tables(schema) == {"numbers"}


def messages(schema: str) -> dict[str, str]:
    """The last dbt invocation's result message per model."""
    results = json.loads((target_path(schema) / "run_results.json").read_text())["results"]
    return {r["unique_id"].rsplit(".", 1)[-1]: str(r["message"]) for r in results}


@pytest.mark.parametrize("target", TARGETS)
def test_unchanged_tables_are_not_rebuilt_when_asked(schema: str, target: str) -> None:
    """skip_unchanged_tables: a table model whose definition and inputs (content checksums) are what it was
    built from, and whose own content is unchanged, is left as it is; any change anywhere rebuilds it."""
    skip = ("--vars", "{skip_unchanged_tables: true}")
    models = ("--select", "numbers", "numbers_by_bucket")
    run_dbt("run", *models, *skip, schema=schema, target=target)
    assert set(messages(schema).values()) == {"SUCCESS 1000", "SUCCESS 7"}
    built = query("select create_time from information_schema.tables where table_schema = %s", (schema,))

    run_dbt("run", *models, *skip, schema=schema, target=target)
    assert messages(schema) == {"numbers": "UNCHANGED", "numbers_by_bucket": "UNCHANGED"}
    assert (
        query("select create_time from information_schema.tables where table_schema = %s", (schema,)) == built
    )

    # a table changed outside dbt is rebuilt; what reads it sees the same content again: not rebuilt
    query(f"update `{schema}`.numbers set note = 'changed' where n = 1")
    run_dbt("run", *models, *skip, schema=schema, target=target)
    assert messages(schema) == {"numbers": "SUCCESS 1000", "numbers_by_bucket": "UNCHANGED"}
    assert query(f"select note from `{schema}`.numbers where n = 1") == [(None,)]

    # an input that really changed rebuilds the table that reads it
    query(f"insert into `{schema}`.numbers (n, bucket, amount) values (1001, 'b0', 10.01)")
    run_dbt("run", "--select", "numbers_by_bucket", *skip, schema=schema, target=target)
    assert messages(schema) == {"numbers_by_bucket": "SUCCESS 7"}
    assert query(f"select sum(n_rows) from `{schema}`.numbers_by_bucket") == [(1001,)]

    # --full-refresh, or the default (no var), rebuild whatever the inputs
    run_dbt("run", "--select", "numbers_by_bucket", "--full-refresh", *skip, schema=schema, target=target)
    assert messages(schema) == {"numbers_by_bucket": "SUCCESS 7"}
    run_dbt("run", "--select", "numbers_by_bucket", schema=schema, target=target)
    assert messages(schema) == {"numbers_by_bucket": "SUCCESS 7"}


def test_the_relations_a_table_reads_are_found_for_seeds_and_sources_too() -> None:
    """In dbt's flat graph a seed depends on macros only (no `nodes`) and a source is under `sources`."""
    graph = {
        "nodes": {
            "seed.p.raw": {
                "resource_type": "seed",
                "schema": "b_raw",
                "alias": "raw",
                "depends_on": {"macros": []},
            },
            "model.p.t": {
                "resource_type": "model",
                "schema": "b",
                "alias": "t_alias",
                "depends_on": {"macros": ["macro.p.m"], "nodes": ["seed.p.raw", "source.p.src.x"]},
            },
            "test.p.check": {
                "resource_type": "test",
                "schema": "b",
                "alias": "check",
                "depends_on": {"nodes": []},
            },
        },
        "sources": {"source.p.src.x": {"schema": "b_src", "identifier": "x_table"}},
    }
    assert unchanged.relations(graph) == {
        "seed.p.raw": {"schema": "b_raw", "identifier": "raw", "reads": []},
        "model.p.t": {"schema": "b", "identifier": "t_alias", "reads": ["seed.p.raw", "source.p.src.x"]},
        "source.p.src.x": {"schema": "b_src", "identifier": "x_table", "reads": []},
    }
