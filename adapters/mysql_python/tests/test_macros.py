"""The adapter's macros on the real server, for both adapter types.

The cross-database macros are proven by the fixture's singular dbt tests in tests/cross_db (each returns rows
when a macro gives a wrong answer). Both seed loaders (the server's LOAD DATA, dbt's reader with our INSERTs)
must load a CSV full of awkward values exactly as Python's csv module reads it, the same as dbt-mysql's stock
type does; an unchanged file is not reloaded.
"""

from __future__ import annotations

import csv
import hashlib
import json
import re
import shutil
import subprocess
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from fixturekit import FIXTURE, TARGETS, query, run_dbt, target_path

CROSS_DB_TESTS = sorted(p.stem for p in (FIXTURE / "tests" / "cross_db").glob("*.sql"))
TRICKY_HEADER = ["id", "zip", "txt", "ts", "amount", "city"]  # typed in the fixture's dbt_project.yml


@pytest.mark.parametrize("target", TARGETS)
def test_cross_db_singular_tests_pass(schema: str, target: str) -> None:
    run_dbt("test", "--select", "path:tests/cross_db", schema=schema, target=target)
    results = json.loads((target_path(schema) / "run_results.json").read_text())["results"]
    statuses = {r["unique_id"].split(".")[2]: r["status"] for r in results}
    assert statuses == dict.fromkeys(CROSS_DB_TESTS, "pass")
    assert len(CROSS_DB_TESTS) >= 13


def test_adapter_concat_wins_dispatch(schema: str) -> None:
    """dbt-core's default__concat would render `'a' || 'b'` (logical OR in MySQL): ours must be used."""
    run_dbt("compile", "--select", "assert_cross_db_concat", schema=schema)
    compiled = next(target_path(schema).rglob("compiled/**/assert_cross_db_concat.sql")).read_text()
    sql = "\n".join(line for line in compiled.splitlines() if not line.lstrip().startswith("--"))
    assert "concat('a', 'b')" in sql
    assert "||" not in sql


def tricky_rows() -> list[list[str]]:
    """Values that break naive loaders, then enough plain rows to need several INSERT statements."""
    rows = [
        ["1", "01234", 'He said "hi", then left', "2018-01-01 23:59:59", "12.30", "São Paulo"],
        ["2", "00001", "line one\nline two\n", "", "0.05", "ação — 😀 emoji"],
        ["3", "", "", "", "", ""],
        [
            "4",
            "99999",
            "it's a \\ backslash and 100%s sure; DROP TABLE x; --",
            "2020-02-29 00:00:00",
            "-7.00",
            "'",
        ],
        ["5", "00420", "  padded  ", "1999-12-31 00:00:00", "1234567890.99", "Guarujá"],
        ["6", "10000", "windows\r\nline end", "2018-06-30 12:00:00", "1.00", "x"],
        ["7", "12345", "null", "2018-06-30 12:00:00", "2.00", "NULL"],
    ]
    # Short rows with four long ones together: the batch holding them is over budget and must be split.
    rows += [
        [str(i), f"{i:05d}", "long " * 80 if 40 <= i < 44 else f"t{i}", "2018-01-01 00:00:00", f"{i}.5", "c"]
        for i in range(8, 81)
    ]
    return rows


def expected_value(column: str, raw: str) -> Any:
    """What the warehouse must hold for a CSV field: dbt (agate) reads '' and 'null' as NULL."""
    if raw.strip().lower() in ("", "null"):
        return None
    converters = {
        "id": int,
        "ts": datetime.fromisoformat,
        "amount": Decimal,
        # agate opens the CSV in text mode: a CRLF inside a quoted field arrives as LF.
        "txt": lambda v: v.replace("\r\n", "\n"),
    }
    return converters.get(column, str)(raw)


def seed_tricky(schema: str, target: str, folder: Path, *vars_args: str) -> str:
    proc = run_dbt(
        "seed", "--full-refresh", *vars_args, schema=schema, target=target, env={"FIXTURE_SEEDS": str(folder)}
    )
    return proc.stdout


def loaded(schema: str) -> list[tuple[Any, ...]]:
    return query(f"SELECT {', '.join(TRICKY_HEADER)} FROM `{schema}`.`tricky` ORDER BY id")


def write_tricky(folder: Path, rows: list[list[str]]) -> Path:
    path = folder / "tricky.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([TRICKY_HEADER, *rows])
    return path


def expected_rows(path: Path) -> list[tuple[Any, ...]]:
    with path.open(encoding="utf-8", newline="") as f:
        raw_rows = list(csv.reader(f))[1:]
    return [tuple(expected_value(c, v) for c, v in zip(TRICKY_HEADER, row, strict=True)) for row in raw_rows]


def seed_message(schema: str) -> str:
    (result,) = json.loads((target_path(schema) / "run_results.json").read_text())["results"]
    return str(result["adapter_response"].get("_message"))


@pytest.mark.parametrize("target", TARGETS)
def test_both_seed_loaders_round_trip_tricky_values(schema: str, target: str, tmp_path: Path) -> None:
    path = write_tricky(tmp_path, tricky_rows())
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    expected = expected_rows(path)

    # The server's LOAD DATA of the typed columns (the default).
    seed_tricky(schema, target, tmp_path)
    assert seed_message(schema) == "LOAD 80"
    assert loaded(schema) == expected

    # dbt's agate reader and our INSERTs, with a 3 KB statement budget: many statements, and the batch with
    # the long rows is split.
    seed_tricky(
        schema, target, tmp_path, "--vars", "{seed_load_by_server: false, seed_max_statement_bytes: 3000}"
    )
    log = (target_path(schema) / "dbt.log").read_text()
    statements, batch_rows = map(int, re.findall(r"80 rows in (\d+) statements of <= (\d+) rows", log)[-1])
    assert statements > -(-80 // batch_rows) > 1
    assert loaded(schema) == expected
    # dbt 1.7 writes a seed's SQL to target/run/<original path>: for an absolute seed path that would be the
    # CSV itself. Neither loader may touch the data file.
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest

    # dbt-mysql's stock type agrees (given a folder inside the project: it would overwrite an absolute one).
    inside = target_path(schema) / "stock_seeds"
    inside.mkdir(parents=True)
    shutil.copy(path, inside)
    seed_tricky(schema, "stock_mariadb", inside.relative_to(FIXTURE))
    assert loaded(schema) == expected


def test_an_unchanged_seed_file_is_not_reloaded(schema: str, tmp_path: Path) -> None:
    path = write_tricky(tmp_path, tricky_rows())
    env = {"FIXTURE_SEEDS": str(tmp_path)}
    run_dbt("seed", schema=schema, env=env)
    assert seed_message(schema) == "LOAD 80"
    run_dbt("seed", schema=schema, env=env)
    assert seed_message(schema) == "UNCHANGED"

    write_tricky(tmp_path, [*tricky_rows(), ["81", "00081", "new", "2018-01-01 00:00:00", "1.00", "c"]])
    run_dbt("seed", schema=schema, env=env)
    assert seed_message(schema) == "LOAD 81"
    assert loaded(schema) == expected_rows(path)

    query(f"DELETE FROM `{schema}`.`tricky` WHERE id = 81")  # the table no longer holds what was loaded
    run_dbt("seed", schema=schema, env=env)
    assert seed_message(schema) == "LOAD 81"
    run_dbt("seed", "--full-refresh", schema=schema, env=env)
    assert seed_message(schema) == "LOAD 81"


def test_a_value_the_server_cannot_convert_fails_and_keeps_the_loaded_seed(
    schema: str, tmp_path: Path
) -> None:
    """LOAD DATA LOCAL makes conversion errors warnings: the loader must fail on them, naming the file, and
    the seed loaded before stays as it was."""
    path = write_tricky(tmp_path, tricky_rows())
    env = {"FIXTURE_SEEDS": str(tmp_path)}
    run_dbt("seed", schema=schema, env=env)
    before = loaded(schema)
    rows = tricky_rows()
    rows[2][3] = "yesterday"
    write_tricky(tmp_path, rows)
    proc = run_dbt("seed", schema=schema, env=env, check=False)
    assert proc.returncode == 1
    assert f"{path}: the server could not load it as configured" in proc.stdout
    assert "ts" in proc.stdout
    assert loaded(schema) == before


def test_a_row_larger_than_the_statement_budget_is_a_clear_error(schema: str, tmp_path: Path) -> None:
    path = tmp_path / "tricky.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([TRICKY_HEADER, ["1", "00001", "x" * 5000, "", "", ""]])
    proc: subprocess.CompletedProcess[str] = run_dbt(
        "seed",
        "--vars",
        "{seed_load_by_server: false, seed_max_statement_bytes: 4096}",
        schema=schema,
        env={"FIXTURE_SEEDS": str(tmp_path)},
        check=False,
    )
    assert proc.returncode != 0
    assert "tricky.csv: data row 1 may need" in proc.stdout and "max_allowed_packet" in proc.stdout
