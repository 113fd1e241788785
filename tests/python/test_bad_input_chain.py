"""Bad input end to end: `olist-segments run` with OLIST_DATA_DIR on a broken copy of the bundled sample must
exit non-zero naming the file, column and problem, and leave every published table as it was, while a BI
reader polls customer_segments and dim_customers. The good sample is published once for the whole module."""

from __future__ import annotations

import csv
import hashlib
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from faultkit import explain, fresh_base
from olist_harness import reliability
from olist_harness.bad_input import BAD_INPUTS, TOO_FEW_CUSTOMERS, UNKNOWN_STATUS, BadInput
from olist_harness.reliability import CHAIN_TABLES, State
from olist_segments import db, settings
from projectkit import ROOT


@dataclass(frozen=True)
class Chain:
    wh: settings.Warehouse
    baseline: State  # the published tables after the first good run
    logs: Path
    work: Path


@pytest.fixture(scope="module")
def chain(base_warehouse: settings.Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Chain]:
    with fresh_base(base_warehouse, "bad") as wh:
        logs = tmp_path_factory.mktemp("logs")
        code, output = reliability.run_cli(wh, "run", logs=logs)
        assert code == 0, output[-6000:]
        baseline = reliability.published_state(wh, CHAIN_TABLES)
        assert all(baseline.values()), baseline
        yield Chain(wh, baseline, logs, tmp_path_factory.mktemp("cases"))


def slug(case: BadInput) -> str:
    return case.name.replace(" ", "_")


@pytest.mark.slow
@pytest.mark.parametrize("case", BAD_INPUTS, ids=slug)
def test_bad_input_is_refused_before_loading_and_nothing_published_changes(
    chain: Chain, case: BadInput
) -> None:
    outcome = reliability.chain_run(
        chain.wh, case, chain.work / slug(case), chain.logs, before=chain.baseline
    )
    assert outcome.exit_code == 1, explain(outcome)
    assert outcome.facts["refused_by_check_data"], explain(outcome)
    assert reliability.names_problem(outcome.facts["output"], case), explain(outcome)
    assert outcome.facts["changed"] == [] and outcome.rows_lost == 0, explain(outcome)
    assert outcome.reader_queries > 0, explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_a_value_check_data_accepts_but_a_dbt_test_refuses(chain: Chain) -> None:
    """order_status 'lost': a plain varchar to check-data, refused by accepted_values on stg_olist__orders.
    dbt skips everything built on the failed test, so no mart moves; the raw seed table (not a published
    table) does hold the new file."""
    case = UNKNOWN_STATUS
    outcome = reliability.chain_run(
        chain.wh, case, chain.work / slug(case), chain.logs, before=chain.baseline
    )
    assert outcome.exit_code == 1, explain(outcome)
    assert not outcome.facts["refused_by_check_data"], explain(outcome)
    assert "step 'build' failed" in outcome.facts["output"], explain(outcome)
    assert reliability.names_problem(outcome.facts["output"], case), explain(outcome)
    assert outcome.facts["changed"] == [] and outcome.rows_lost == 0, explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    conn = db.connect(chain.wh)
    cur = conn.cursor()
    raw = db.qualified(chain.wh.schema_for("raw"), "olist_orders_dataset")
    cur.execute(f"select count(*) from {raw} where order_status = 'lost'")
    assert cur.fetchone() == (1,)
    conn.close()


@pytest.mark.slow
def test_data_too_small_to_segment_leaves_the_published_marts_unchanged(chain: Chain) -> None:
    """An 8-order extract passes check-data, but k up to 10 needs 10 customers: dbt build refuses it
    (tests/dbt/intermediate/assert_enough_customers_to_segment.sql) before customer_features is rebuilt,
    so nothing published changes."""
    case = TOO_FEW_CUSTOMERS
    outcome = reliability.chain_run(
        chain.wh, case, chain.work / slug(case), chain.logs, before=chain.baseline
    )
    assert outcome.exit_code == 1, explain(outcome)
    assert "step 'build' failed" in outcome.facts["output"], explain(outcome)
    assert reliability.names_problem(outcome.facts["output"], case), explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.facts["changed"] == [], explain(outcome)
    assert outcome.rows_lost == 0, explain(outcome)


def export_differently(folder: Path) -> None:
    """Every file as another system may export it, all valid: CRLF line ends, every field quoted, a UTF-8
    byte-order mark, the columns in reverse order."""
    for path in folder.glob("*.csv"):
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [row[::-1] for row in csv.reader(f)]
        with path.open("w", encoding="utf-8-sig", newline="") as f:
            csv.writer(f, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(rows)


@pytest.mark.slow
def test_valid_variations_of_the_files_give_identical_marts(chain: Chain) -> None:
    folder = chain.work / "exported_differently"
    shutil.copytree(reliability.SAMPLE, folder)
    export_differently(folder)
    digests = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.csv")}
    code, output = reliability.run_cli(chain.wh, "run", "--no-report", logs=chain.logs, data_dir=folder)
    assert code == 0, output[-6000:]
    # dbt 1.7 can write a seed's SQL over a CSV given by absolute path: the data files must be untouched.
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.glob("*.csv")} == digests
    after = reliability.published_state(chain.wh, CHAIN_TABLES)
    differs = [
        n for n in chain.baseline if reliability.content(after, n) != reliability.content(chain.baseline, n)
    ]
    assert differs == [], output[-3000:]


@pytest.mark.slow
def test_good_data_publishes_the_same_tables_again(chain: Chain) -> None:
    outcome = reliability.good_chain_run(chain.wh, chain.baseline, chain.logs)
    assert outcome.exit_code == 0, explain(outcome)
    assert outcome.reader_queries > 0 and outcome.reader_failures == [], explain(outcome)
    assert outcome.partial_reads == [] and outcome.rows_lost == 0, explain(outcome)
    assert outcome.problems == [], explain(outcome)


def test_check_data_refuses_keys_that_collide_in_the_warehouse(
    base_warehouse: settings.Warehouse, tmp_path: Path
) -> None:
    """Two customer_ids differing only in case are two keys to check-data but one to the warehouse
    (utf8mb4_unicode_ci is case-insensitive), so dbt's unique test on stg_olist__customers fails after
    loading. check-data should refuse the folder before loading, like any other duplicate key."""
    folder = tmp_path / "olist"
    shutil.copytree(reliability.SAMPLE, folder)
    customers, orders = (folder / f"{t}.csv" for t in ("olist_customers_dataset", "olist_orders_dataset"))
    lines = customers.read_text(encoding="utf-8").splitlines(keepends=True)
    first, second = (line.split(",")[0].strip('"') for line in lines[1:3])
    twin = first.upper()
    customers.write_text(
        "".join([*lines[:2], lines[2].replace(second, twin, 1), *lines[3:]]), encoding="utf-8"
    )
    orders.write_text(orders.read_text(encoding="utf-8").replace(second, twin, 1), encoding="utf-8")

    conn = db.connect(base_warehouse)
    cur = conn.cursor()
    cur.execute("select %s = %s", (first, twin))
    assert cur.fetchone() == (1,), "the warehouse collation should treat the two ids as one key"
    conn.close()
    proc = subprocess.run(
        [sys.executable, "-m", "olist_segments.cli", "check-data", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "olist_customers_dataset.csv, column customer_id" in proc.stderr
    assert "duplicate key" in proc.stderr
