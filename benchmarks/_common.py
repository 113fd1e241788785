"""Shared by the benchmark scripts: bench_* warehouses, subprocess runs with peak RSS, dbt's run_results."""

from __future__ import annotations

import filecmp
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from olist_segments import checks, db, settings

ROOT = settings.PROJECT_ROOT
BIN = Path(sys.executable).parent
OLIST_SEGMENTS = str(BIN / "olist-segments")
OLIST_HARNESS = str(BIN / "olist-harness")
DBT = str(BIN / "dbt")
LOGS = ROOT / "target" / "bench_logs"
# The 8 Kaggle tables the models read (geolocation is not loaded by default), from the seeds' properties.
OLIST_TABLES = tuple(t for t in checks.seed_column_types() if t != checks.GEOLOCATION)


def data_dir(explicit: str | None = None) -> Path:
    """--data-dir, else OLIST_DATA_DIR, else ../shared/olist: the Kaggle CSVs."""
    candidates = [explicit, os.environ.get("OLIST_DATA_DIR"), ROOT.parent / "shared" / "olist"]
    for candidate in candidates:
        if candidate and (Path(candidate) / "olist_orders_dataset.csv").is_file():
            return Path(candidate).resolve()
    raise SystemExit("benchmarks need the real Olist CSVs: set OLIST_DATA_DIR or pass --data-dir")


@contextmanager
def staged_copy(folder: Path) -> Iterator[Path]:
    """A temporary copy (outside the repo) of the folder's CSVs, for dbt to read instead of the originals.

    dbt 1.7 writes a seed's SQL to target/run/<original_file_path>; for an absolute seed path that IS the CSV,
    which a seed materialization without that guard overwrites (it happened once, to the shared real data,
    while the seed materialization was being rewritten). The originals are never handed to dbt;
    `changed_files` tells whether dbt wrote over the copy."""
    with tempfile.TemporaryDirectory(prefix="bench_olist_") as tmp:
        for path in sorted(folder.glob("*.csv")):
            shutil.copyfile(path, Path(tmp) / path.name)
        yield Path(tmp)


def changed_files(original: Path, copy: Path) -> list[str]:
    """The CSVs of the staged copy that dbt modified."""
    return [
        p.name for p in sorted(original.glob("*.csv")) if not filecmp.cmp(p, copy / p.name, shallow=False)
    ]


def warehouse(base: str) -> settings.Warehouse:
    """The profile's warehouse with base schema `base`, which must start with bench_."""
    if not base.startswith("bench_"):
        raise ValueError(f"benchmark schemas start with bench_, got {base!r}")
    db.quote_ident(base)
    os.environ.setdefault("DBT_PROFILES_DIR", str(ROOT))
    return replace(settings.load(), schema=base)


def target_dir(base: str) -> Path:
    """dbt's target and log folder for base schema `base`: parallel dbt runs never share a manifest."""
    return ROOT / "target" / base


def env(base: str, olist_data: Path | None = None) -> dict[str, str]:
    """Environment of a dbt / olist-segments subprocess on base schema `base`."""
    out = {**os.environ, "DBT_SCHEMA": base, "PYTHONUNBUFFERED": "1"}
    out.setdefault("DBT_PROFILES_DIR", str(ROOT))
    out["DBT_TARGET_PATH"] = out["DBT_LOG_PATH"] = str(target_dir(base))
    out.pop("OLIST_DATA_DIR", None)
    if olist_data is not None:
        out["OLIST_DATA_DIR"] = str(olist_data)
    return out


def drop_base(base: str) -> list[str]:
    """Drop <base> and every <base>_<name> database (only bench_ ones) and forget which folder passed
    check-data for it (the next run checks the CSVs, as a first run does); returns what was dropped."""
    (target_dir(base) / checks.PASSED_RECORD).unlink(missing_ok=True)
    wh = warehouse(base)
    with closing(db.connect(wh)) as conn:
        return db.drop_base(conn, wh.schema)


@dataclass
class Run:
    """A finished subprocess: exit status, wall seconds, peak RSS (bytes, wait4's ru_maxrss), output."""

    returncode: int
    seconds: float
    peak_rss: int
    output: str


def run(
    cmd: Sequence[str],
    environment: dict[str, str],
    *,
    log: str,
    echo: re.Pattern[str] | None = None,
    check: bool = True,
) -> Run:
    """Run `cmd` in the project folder, output to target/bench_logs/<log>.log; lines matching `echo` are shown
    on stderr as progress. With `check`, raises with the output's tail if it fails."""
    LOGS.mkdir(parents=True, exist_ok=True)
    path = LOGS / f"{log}.log"
    start = time.monotonic()
    with path.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            list(cmd), cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if echo is not None and echo.search(line):
                progress(f"  | {line.rstrip()[-150:]}")
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    output = path.read_text(encoding="utf-8")
    if check and proc.returncode != 0:
        tail = "\n".join(output.splitlines()[-40:])
        raise RuntimeError(f"{' '.join(cmd[:3])} … failed (exit {proc.returncode}), log {path}:\n{tail}")
    return Run(proc.returncode, seconds, usage.ru_maxrss * 1024, output)  # Linux: ru_maxrss in KiB


@contextmanager
def scaled_folder(factor: float) -> Iterator[Path]:
    """A temporary folder written by `olist-harness scale-data --factor FACTOR` (deterministic)."""
    with tempfile.TemporaryDirectory(prefix="bench_scale_") as tmp:
        progress(f"olist-harness scale-data --factor {factor:g} …")
        run(
            [OLIST_HARNESS, "scale-data", "--factor", f"{factor:g}", "--out", tmp],
            dict(os.environ),
            log=f"scale_data_{factor:g}",
        )
        yield Path(tmp)


def dbt_failures(output: str) -> list[str]:
    """dbt's one-line summaries of what failed ("Failure in test …", "Database Error in seed …")."""
    found = re.findall(
        r"^(?:dbt \| )?\S+\s+((?:Failure|Database Error|Runtime Error|Compilation Error) in .+)$",
        output,
        re.M,
    )
    return [" ".join(f.split()) for f in found]


def run_results(base: str) -> list[dict[str, Any]]:
    """results[] of the last dbt invocation on base schema `base` (its target/run_results.json)."""
    path = target_dir(base) / "run_results.json"
    return list(json.loads(path.read_text(encoding="utf-8"))["results"])


def query(base: str, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    with closing(db.connect(warehouse(base))) as conn:
        return db.query(conn, sql, params)


def latest_run(base: str) -> dict[str, Any]:
    """The newest row of <base>_ml.segment_model_runs: status, mode, k, silhouette, metrics (parsed)."""
    table = db.qualified(f"{base}_ml", "segment_model_runs")
    rows = query(
        base,
        f"select status, k, k_selection, silhouette, n_customers, metrics from {table}"
        " order by started_at desc limit 1",
    )
    status, k, selection, silhouette, customers, metrics = rows[0]
    parsed = json.loads(metrics) if isinstance(metrics, str | bytes | bytearray) else dict(metrics or {})
    return {
        "status": str(status),
        "k": int(k) if k is not None else None,
        "k_selection": selection,
        "silhouette": float(silhouette) if silhouette is not None else None,
        "customers": int(customers or 0),
        "metrics": parsed,
    }


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def progress(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)
