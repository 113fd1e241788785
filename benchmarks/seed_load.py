"""Seed loading: the project's fast load_csv_rows vs dbt's stock loader, on the real Olist CSVs.

Each run is `dbt seed --full-refresh` into a throwaway base schema (dropped at the end); per-table times come
from dbt's run_results.json, the wall time from the clock around the dbt process (parsing included). After the
first run of each loader every table is compared with Python's csv module: same row count, same values
(a multiset, typed like the seed's column_types), so leading zeros, NULL timestamps, decimals and multi-line
quoted texts are checked, not assumed.

    .venv/bin/python benchmarks/seed_load.py --repeats 3 --stock-repeats 1
    .venv/bin/python benchmarks/seed_load.py --tables olist_customers_dataset,olist_sellers_dataset
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from _common import drop_base

from olist_segments import checks, db, settings

ROOT = Path(__file__).resolve().parents[1]
DBT = str(Path(sys.executable).with_name("dbt"))
OLIST_TABLES = [
    "olist_customers_dataset",
    "olist_orders_dataset",
    "olist_order_items_dataset",
    "olist_order_payments_dataset",
    "olist_order_reviews_dataset",
    "olist_products_dataset",
    "olist_sellers_dataset",
    "product_category_name_translation",
]
LOADERS = {"fast": "{fast_seed_loading: true}", "stock": "{fast_seed_loading: false}"}


@dataclass
class LoaderTimes:
    """Runs of one loader: per-table execution times (s) and dbt's wall time (s), one entry per run."""

    tables: dict[str, list[float]] = field(default_factory=dict)
    wall: list[float] = field(default_factory=list)

    def median(self, table: str) -> float:
        return statistics.median(self.tables[table])

    def sum_of_medians(self) -> float:
        return sum(self.median(t) for t in self.tables)


@dataclass
class SeedLoadResult:
    loaders: dict[str, LoaderTimes]
    rows: dict[str, int]
    threads: int | None
    load_average: tuple[float, float]  # 1-minute load average before and after: other work skews timings

    def markdown(self) -> str:
        fast, stock = self.loaders.get("fast"), self.loaders.get("stock")
        lines = [
            "| table | rows | fast (s) | stock (s) | speed-up |",
            "|---|---:|---:|---:|---:|",
        ]
        for table, rows in self.rows.items():
            f = fast.median(table) if fast else None
            s = stock.median(table) if stock else None
            lines.append(f"| {table} | {rows:,} | {_num(f)} | {_num(s)} | {_ratio(s, f)} |")
        f_sum = fast.sum_of_medians() if fast else None
        s_sum = stock.sum_of_medians() if stock else None
        lines.append(
            f"| **sum of tables** | {sum(self.rows.values()):,} | {_num(f_sum)} | {_num(s_sum)} | "
            f"{_ratio(s_sum, f_sum)} |"
        )
        f_wall = statistics.median(fast.wall) if fast else None
        s_wall = statistics.median(stock.wall) if stock else None
        lines.append(
            f"| **dbt seed wall time** | | {_num(f_wall)} | {_num(s_wall)} | {_ratio(s_wall, f_wall)} |"
        )
        runs = ", ".join(f"{name}: {len(t.wall)} run(s)" for name, t in self.loaders.items())
        lines.append("")
        lines.append(
            f"Medians over {runs}; dbt threads: {self.threads or 'profile default'}; load average "
            f"{self.load_average[0]:.1f} before, {self.load_average[1]:.1f} after ({os.cpu_count()} CPUs). "
            "Wall time includes dbt start-up and parsing; table times are dbt's execution_time."
        )
        return "\n".join(lines)


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _ratio(slow: float | None, fast: float | None) -> str:
    return "-" if slow is None or not fast else f"{slow / fast:.0f}x"


def seed_column_types() -> dict[str, dict[str, str]]:
    """column_types per Olist seed, from _olist__seeds.yml (the types dbt creates the tables with)."""
    return checks.seed_column_types()


def run_seed(
    wh: settings.Warehouse, loader: str, tables: list[str], data_dir: Path, threads: int | None
) -> float:
    """One `dbt seed --full-refresh`; returns the wall time. Raises with dbt's output if it fails."""
    env = {
        **os.environ,
        "DBT_SCHEMA": wh.schema,
        "DBT_TARGET": wh.adapter,
        "OLIST_DATA_DIR": str(data_dir),
        "OLIST_LOAD_GEOLOCATION": "0",
        "DBT_TARGET_PATH": str(target_dir(wh)),
        "DBT_LOG_PATH": str(target_dir(wh)),
    }
    env.setdefault("DBT_PROFILES_DIR", str(ROOT))
    cmd = [DBT, "--no-use-colors", "seed", "--full-refresh", "--select", *tables, "--vars", LOADERS[loader]]
    if threads:
        cmd += ["--threads", str(threads)]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"dbt seed ({loader}) failed:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
    return wall


def target_dir(wh: settings.Warehouse) -> Path:
    return ROOT / "target" / f"seed_load_{wh.schema}"


def table_times(wh: settings.Warehouse) -> dict[str, float]:
    results = json.loads((target_dir(wh) / "run_results.json").read_text())["results"]
    return {r["unique_id"].split(".")[-1]: r["execution_time"] for r in results}


def _converter(column_type: str) -> Callable[[str], Any]:
    base = column_type.lower().split("(")[0].strip()
    if base in ("int", "integer", "bigint", "smallint", "tinyint"):
        return int
    if base in ("decimal", "numeric"):
        return Decimal
    if base in ("double", "float"):
        return float
    if base in ("datetime", "timestamp"):
        return datetime.fromisoformat
    # dbt reads the CSV in text mode: a CRLF inside a quoted field arrives as LF.
    return lambda v: v.replace("\r\n", "\n")


def csv_rows(path: Path, types: dict[str, str]) -> tuple[list[str], Counter[tuple[Any, ...]]]:
    """The CSV as dbt should load it: '' and 'null' (any case, surrounding blanks) are NULL."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        convert = [_converter(types.get(column, "text")) for column in header]
        rows: Counter[tuple[Any, ...]] = Counter(
            tuple(
                None if v.strip().lower() in ("", "null") else c(v) for c, v in zip(convert, row, strict=True)
            )
            for row in reader
        )
    return header, rows


def verify_load(wh: settings.Warehouse, tables: Iterable[str], data_dir: Path) -> dict[str, int]:
    """Every table holds exactly the CSV's rows and values; returns the row counts."""
    types = seed_column_types()
    counts: dict[str, int] = {}
    conn = db.connect(wh)
    try:
        cur = conn.cursor()
        for table in tables:
            header, expected = csv_rows(data_dir / f"{table}.csv", types.get(table, {}))
            columns = ", ".join(db.quote_ident(c) for c in header)
            cur.execute(f"SELECT {columns} FROM {db.qualified(wh.schema_for('raw'), table)}")
            actual = Counter(tuple(row) for row in cur.fetchall())
            if actual != expected:
                missing, extra = expected - actual, actual - expected
                raise AssertionError(
                    f"{table}: {sum(missing.values())} CSV rows not loaded as-is (e.g. {list(missing)[:1]}), "
                    f"{sum(extra.values())} unexpected (e.g. {list(extra)[:1]})"
                )
            counts[table] = expected.total()
    finally:
        conn.close()
    return counts


def fingerprints(data_dir: Path, tables: Iterable[str]) -> dict[str, str]:
    return {t: hashlib.sha256((data_dir / f"{t}.csv").read_bytes()).hexdigest() for t in tables}


def benchmark_seed_load(
    tables: list[str] | None = None,
    repeats: int = 3,
    stock_repeats: int = 1,
    data_dir: Path | None = None,
    target: str | None = None,
    threads: int | None = None,
    verify: bool = True,
) -> SeedLoadResult:
    """Load `tables` (default: the 8 Olist tables) with both loaders; medians of the per-table times."""
    tables = tables or OLIST_TABLES
    data_dir = data_dir or Path(os.environ.get("OLIST_DATA_DIR", ROOT.parent / "shared" / "olist"))
    missing = [t for t in tables if not (data_dir / f"{t}.csv").is_file()]
    if missing:
        raise FileNotFoundError(f"{data_dir}: no CSV for {', '.join(missing)}")
    # One throwaway base schema (and target folder: dbt re-parses only once) for all runs, dropped at the end.
    wh = replace(settings.load(target), schema=f"bench_{uuid.uuid4().hex[:8]}")
    # dbt 1.7 can overwrite an absolutely-pathed seed CSV with SQL (macros/seeds/seed.sql prevents it): check.
    before = fingerprints(data_dir, tables)
    load_before = os.getloadavg()[0]
    loaders: dict[str, LoaderTimes] = {}
    rows: dict[str, int] = {}
    try:
        for loader, n in (("fast", repeats), ("stock", stock_repeats)):
            if n < 1:
                continue
            times = loaders[loader] = LoaderTimes()
            for i in range(n):
                times.wall.append(run_seed(wh, loader, tables, data_dir, threads))
                for table, seconds in table_times(wh).items():
                    times.tables.setdefault(table, []).append(seconds)
                if verify and i == 0:
                    rows = verify_load(wh, tables, data_dir)
                if fingerprints(data_dir, tables) != before:
                    raise RuntimeError(f"dbt seed modified CSV files in {data_dir}")
                print(f"{loader} run {i + 1}/{n}: {times.wall[-1]:.1f} s", file=sys.stderr)
    finally:
        drop_base(wh)
    if not rows:
        rows = {t: sum(csv_rows(data_dir / f"{t}.csv", {})[1].values()) for t in tables}
    return SeedLoadResult(
        loaders=loaders,
        rows={t: rows[t] for t in tables},
        threads=threads,
        load_average=(load_before, os.getloadavg()[0]),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tables", help="comma-separated seed names (default: the 8 Olist tables)")
    parser.add_argument("--repeats", type=int, default=3, help="runs of the fast loader (median)")
    parser.add_argument(
        "--stock-repeats", type=int, default=1, help="runs of dbt's stock loader (slow; 0: skip)"
    )
    parser.add_argument("--data-dir", type=Path, help="folder of the Olist CSVs (default: OLIST_DATA_DIR)")
    parser.add_argument("--target", help="dbt target: mariadb or mysql (default: DBT_TARGET / the profile's)")
    parser.add_argument("--threads", type=int, help="dbt threads (default: the profile's)")
    parser.add_argument(
        "--no-verify", action="store_true", help="skip the row-by-row comparison with the CSVs"
    )
    args = parser.parse_args(argv)
    result = benchmark_seed_load(
        tables=[t.strip() for t in args.tables.split(",")] if args.tables else None,
        repeats=args.repeats,
        stock_repeats=args.stock_repeats,
        data_dir=args.data_dir,
        target=args.target,
        threads=args.threads,
        verify=not args.no_verify,
    )
    print(result.markdown())
    return 0


if __name__ == "__main__":
    sys.exit(main())
