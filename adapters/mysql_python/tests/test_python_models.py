"""Python models run by the adapter in the dbt process, on the real server, for both adapter types.

The fixture's models/python: py_doubled streams `numbers` in chunks into declared columns, py_values returns
one DataFrame of awkward values with inferred types, py_logged stages a log row that is published with it.
"""

from __future__ import annotations

import threading
from collections import Counter

import mysql.connector
import pytest

from fixturekit import TARGETS, connect, query, run_dbt, tables

SQL_AND_PYTHON = ("--select", "path:models/sql", "path:models/python")


@pytest.fixture
def built(schema: str) -> str:
    run_dbt("run", *SQL_AND_PYTHON, schema=schema)
    return schema


def columns(schema: str, table: str) -> list[tuple[object, ...]]:
    return query(
        "select column_name, column_type, is_nullable, column_key, collation_name"
        " from information_schema.columns where table_schema = %s and table_name = %s"
        " order by ordinal_position",
        (schema, table),
    )


def checksum(schema: str, table: str) -> int:
    return int(query(f"checksum table `{schema}`.`{table}`")[0][1])


@pytest.mark.parametrize("target", TARGETS)
def test_a_streamed_model_gets_its_declared_columns(schema: str, target: str) -> None:
    out = run_dbt("run", *SQL_AND_PYTHON, schema=schema, target=target).stdout
    assert "OK created python table model" in out and "OK 1,000 rows (infile" in out
    (collation,) = query(
        "select default_collation_name from information_schema.schemata where schema_name = %s", (schema,)
    )[0]
    assert columns(schema, "py_doubled") == [
        ("n", "int(11)", "NO", "PRI", None),
        ("bucket", "varchar(10)", "NO", "", collation),
        ("amount", "decimal(10,2)", "YES", "", None),
    ]
    doubled = query(
        "select count(*), sum(d.amount = 2 * n.amount and d.bucket = n.bucket)"
        f" from `{schema}`.`py_doubled` d join `{schema}`.`numbers` n on d.n = n.n"
    )
    assert doubled == [(1000, 1000)]
    assert tables(schema) == {"numbers", "numbers_by_bucket", "small_numbers", "py_doubled", "py_values"} | {
        "py_logged",
        "py_log",
        "py_failures",
    }


def test_inferred_types_and_awkward_values(built: str) -> None:
    assert [(name, kind) for name, kind, *_ in columns(built, "py_values")] == [
        ("id", "bigint(20)"),
        ("label", "text"),
        ("ratio", "double"),
        ("flag", "tinyint(1)"),
        ("at", "datetime(6)"),
        ("day", "date"),
    ]
    rows = query(f"select id, label, ratio, flag, at, day from `{built}`.`py_values` order by id")
    assert [r[1] for r in rows] == [
        "x'); drop table t; --",
        "back\\slash\\",
        "tab\there",
        "new\nline",
        "ção 🚀",
        None,
    ]
    assert [r[2] for r in rows] == [0.0, 1e-300, 1 / 3, 2**0.5, 123456.789, None]
    assert [r[3] for r in rows] == [1, 0, 1, 0, 1, 0]
    assert rows[2][4] is None and rows[4][4].microsecond == 250_000
    assert str(rows[5][5]) == "2018-01-06"


def test_a_failing_model_publishes_nothing_and_shows_its_traceback(built: str) -> None:
    before = checksum(built, "py_doubled")
    failed = run_dbt("run", "-s", "py_doubled", "--vars", "{py_fail_after: 3}", schema=built, check=False)
    assert failed.returncode == 1
    assert 'File "models/python/py_doubled.py", line' in failed.stdout and ", in doubled" in failed.stdout
    assert "RuntimeError: injected failure after 3 chunks" in failed.stdout
    assert checksum(built, "py_doubled") == before
    assert "py_doubled__dbt_tmp" not in tables(built)

    extra = run_dbt("run", "-s", "py_doubled", "--vars", "{py_extra_column: true}", schema=built, check=False)
    assert extra.returncode == 1
    assert "does not match the columns of `" in extra.stdout and "not in the table surprise" in extra.stdout
    assert checksum(built, "py_doubled") == before


def test_a_staged_copy_is_published_with_the_model_and_never_without(built: str) -> None:
    run_dbt("run", "-s", "py_logged", schema=built)
    assert query(f"select run from `{built}`.`py_log` order by run") == [(1,), (2,)]
    assert query(f"select run, customers from `{built}`.`py_logged`") == [(2, 1000)]

    failed = run_dbt("run", "-s", "py_logged", "--vars", "{py_fail: true}", schema=built, check=False)
    assert failed.returncode == 1 and "injected failure of run 3" in failed.stdout
    assert query(f"select run from `{built}`.`py_log` order by run") == [(1,), (2,)]
    assert query(f"select run from `{built}`.`py_logged`") == [(2,)]
    assert query(f"select error from `{built}`.`py_failures`") == [("injected failure of run 3",)]
    assert not {"py_log__dbt_tmp", "py_log__dbt_backup", "py_logged__dbt_tmp"} & tables(built)


@pytest.mark.slow
def test_rebuilds_of_a_python_model_never_interrupt_readers(built: str) -> None:
    counts: Counter[int] = Counter()
    errors: list[str] = []
    stop = threading.Event()

    def poll() -> None:
        conn = connect()
        cur = conn.cursor()
        while not stop.is_set():
            try:
                cur.execute(f"select count(*), sum(amount) from `{built}`.`py_doubled`")
                counts[cur.fetchone()[0]] += 1
            except mysql.connector.Error as exc:
                errors.append(f"{exc.errno}: {exc.msg}")
        conn.close()

    reader = threading.Thread(target=poll, daemon=True)
    reader.start()
    try:
        for _ in range(4):
            run_dbt("run", "-s", "py_doubled", "--vars", "{py_chunk: 50}", schema=built)
    finally:
        stop.set()
        reader.join(timeout=30)
    assert errors == []
    assert set(counts) == {1000} and sum(counts.values()) > 40
