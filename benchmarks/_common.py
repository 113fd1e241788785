"""Shared by the benchmark scripts: bench warehouses, subprocess environments, timing, schema cleanup."""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass, replace
from pathlib import Path

from olist_segments import db, publish, settings

ROOT = settings.PROJECT_ROOT

BIN = Path(sys.executable).parent
OLIST_SEGMENTS = str(BIN / "olist-segments")
DEFAULT_DATA_DIR = ROOT.parent / "shared" / "olist"


def data_dir(explicit: str | None = None) -> Path:
    """OLIST_DATA_DIR (or --data-dir), else ../shared/olist; must hold the Kaggle CSVs."""
    folder = Path(explicit or os.environ.get("OLIST_DATA_DIR") or DEFAULT_DATA_DIR).resolve()
    if not (folder / "olist_orders_dataset.csv").is_file():
        raise SystemExit(
            f"benchmarks need the real Olist CSVs: {folder} has no olist_orders_dataset.csv "
            "(set OLIST_DATA_DIR or pass --data-dir)"
        )
    return folder


def warehouse(schema: str) -> settings.Warehouse:
    """The profile's warehouse with base schema `schema` (validated)."""
    db.quote_ident(schema)
    os.environ.setdefault("DBT_PROFILES_DIR", str(ROOT))
    return replace(settings.load(), schema=schema)


def env(schema: str, olist_data: Path | None = None) -> dict[str, str]:
    """Environment for a dbt/olist-segments subprocess on base `schema`, with its own dbt target folder."""
    out = {**os.environ, "DBT_SCHEMA": schema, "PYTHONUNBUFFERED": "1"}
    out.setdefault("DBT_PROFILES_DIR", str(ROOT))
    out["DBT_TARGET_PATH"] = out["DBT_LOG_PATH"] = str(ROOT / "target" / f"bench_{schema}")
    if olist_data is not None:
        out["OLIST_DATA_DIR"] = str(olist_data)
    return out


def drop_base(wh: settings.Warehouse) -> list[str]:
    """Drop <base> and every <base>_<name> database (only these); returns what was dropped."""
    with closing(db.connect(wh)) as conn:
        return db.drop_base(conn, wh.schema)


def table_exists(wh: settings.Warehouse, schema: str, table: str) -> bool:
    with closing(db.connect(wh)) as conn:
        return publish.table_exists(conn, schema, table)


@dataclass
class Run:
    """A finished subprocess: exit status, wall seconds, merged stdout+stderr."""

    returncode: int
    seconds: float
    output: str


def run(
    cmd: Sequence[str],
    environment: dict[str, str],
    *,
    echo: re.Pattern[str] | None = None,
    log: Path | None = None,
) -> Run:
    """Run `cmd` in the project folder, keeping its output; lines matching `echo` are shown as progress."""
    start = time.monotonic()
    lines: list[str] = []
    with subprocess.Popen(
        list(cmd), cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line)
            if echo is not None and echo.search(line):
                print(f"    | {line.rstrip()}", flush=True)
    seconds = time.monotonic() - start
    output = "".join(lines)
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text(output, encoding="utf-8")
    return Run(proc.returncode, seconds, output)


def check(result: Run, what: str) -> None:
    if result.returncode != 0:
        tail = "\n".join(result.output.splitlines()[-40:])
        raise RuntimeError(f"{what} failed (exit {result.returncode}):\n{tail}")


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)
