"""`olist-segments run`: the whole chain, one step after the other, stopping at the first failure.

check-data (when OLIST_DATA_DIR is set) → dbt build --selector upstream (seeds, +customer_features, tests) →
segment → dbt source freshness (source ml) → dbt build --selector downstream (stg_ml, marts, the snapshot
and segment_transitions, tests). The snapshot is part of the downstream build: segment_transitions reads it,
so dbt runs it in DAG order there and a separate `dbt snapshot` would only repeat it.

The run holds the lock `olist_segments_run:<schema>` from start to end, so two runs on one schema never
interleave; the segment step takes its own lock `olist_segments:<schema>` inside, which a lone
`olist-segments segment` also takes: different names, so the pipeline never waits for itself.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import db, settings

log = logging.getLogger(__name__)

DBT = Path(sys.executable).with_name("dbt")
MAX_LOCK_NAME = 64  # MySQL's limit for GET_LOCK names


@dataclass
class Step:
    name: str
    what: str
    run: Callable[[], int]  # returns an exit status
    status: str = "not run"
    seconds: float = 0.0


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")
    parser.add_argument(
        "--vars", help="dbt vars (YAML) for every dbt step, e.g. \"{as_of_date: '2018-09-01'}\""
    )
    parser.add_argument("--k", metavar="auto|N", help="segment step: number of segments (default: auto)")
    parser.add_argument("--features", help="segment step: comma-separated clustering features")
    parser.add_argument(
        "--wait", type=int, default=0, metavar="SECONDS", help="wait this long for another run on the schema"
    )


def run_lock_name(wh: settings.Warehouse) -> str:
    name = f"olist_segments_run:{wh.schema}"
    if len(name) <= MAX_LOCK_NAME:
        return name
    return f"olist_segments_run:{hashlib.sha1(wh.schema.encode()).hexdigest()}"


def stream(cmd: list[str], prefix: str) -> int:
    """Run `cmd` in the project folder, echoing each output line behind `prefix`; return its exit status."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        cmd, cwd=settings.PROJECT_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            print(f"{prefix} | {line.rstrip()}", flush=True)
    return proc.returncode


def dbt(args: argparse.Namespace, *command: str) -> Callable[[], int]:
    """A dbt step: the venv's dbt on this project, with the same profile as the Python steps."""
    cmd = [str(DBT), "--no-use-colors", *command, "--project-dir", str(settings.PROJECT_ROOT)]
    cmd += ["--profiles-dir", str(settings.profiles_dir())]
    if args.target:
        cmd += ["--target", args.target]
    if args.vars:
        cmd += ["--vars", args.vars]
    return lambda: stream(cmd, "dbt")


def segment(args: argparse.Namespace) -> Callable[[], int]:
    verbose = ["-v"] if getattr(args, "verbose", False) else []
    cmd = [sys.executable, "-m", "olist_segments.cli", *verbose, "segment"]
    cmd += ["--wait", str(args.wait)]  # a lone `olist-segments segment` may hold the segment lock
    if args.target:
        cmd += ["--target", args.target]
    if args.k:
        cmd += ["--k", args.k]
    if args.features:
        cmd += ["--features", args.features]
    return lambda: stream(cmd, "segment")


def check_data(data_dir: str) -> Callable[[], int]:
    """The check-data command, in process (it reads files only)."""

    def run() -> int:
        from . import checks

        parser = argparse.ArgumentParser(prog="olist-segments check-data")
        checks.add_arguments(parser)
        return int(checks.main(parser.parse_args([data_dir])) or 0)

    return run


def plan(args: argparse.Namespace) -> list[Step]:
    steps = []
    if data_dir := os.environ.get("OLIST_DATA_DIR"):
        steps.append(Step("check-data", f"validate the CSVs in {data_dir}", check_data(data_dir)))
    steps += [
        Step("upstream", "dbt build --selector upstream", dbt(args, "build", "--selector", "upstream")),
        Step("segment", "olist-segments segment", segment(args)),
        Step(
            "freshness",
            "dbt source freshness -s source:ml",
            dbt(args, "source", "freshness", "-s", "source:ml"),
        ),
        Step(
            "downstream",
            "dbt build --selector downstream (incl. the snapshot)",
            dbt(args, "build", "--selector", "downstream"),
        ),
    ]
    return steps


def execute(steps: list[Step]) -> Step | None:
    """Run the steps in order; return the one that failed, if any."""
    for i, step in enumerate(steps, 1):
        log.info("[%d/%d] %s: %s …", i, len(steps), step.name, step.what)
        start = time.monotonic()
        try:
            code = step.run()
        except Exception:
            log.exception("[%d/%d] %s raised", i, len(steps), step.name)
            code = 1
        step.seconds = time.monotonic() - start
        step.status = "ok" if code == 0 else f"failed ({code})"
        log.info("[%d/%d] %s %s in %.1f s", i, len(steps), step.name, step.status, step.seconds)
        if code != 0:
            return step
    return None


def summary(steps: list[Step]) -> str:
    width = max(len(s.name) for s in steps)
    lines = [f"{'step':<{width}}  {'status':<11} {'seconds':>8}"]
    lines += [f"{s.name:<{width}}  {s.status:<11} {s.seconds:>8.1f}" for s in steps]
    lines.append(f"{'total':<{width}}  {'':<11} {sum(s.seconds for s in steps):>8.1f}")
    return "\n".join(lines)


def main(args: argparse.Namespace) -> int:
    wh = settings.load(args.target)
    if data_dir := os.environ.get("OLIST_DATA_DIR"):
        # relative to where the user is, also for dbt (which reads seed-paths relative to the project)
        os.environ["OLIST_DATA_DIR"] = str(Path(data_dir).resolve())
    steps = plan(args)
    conn = db.connect(wh)
    try:
        with db.named_lock(conn, run_lock_name(wh), args.wait):
            failed = execute(steps)
    except db.LockTimeout as exc:
        log.error("%s", exc)
        return 1
    finally:
        conn.close()
    print(summary(steps), flush=True)
    if failed:
        log.error("step %r failed: later steps not run. %s", failed.name, _what_changed(failed.name))
        return 1
    log.info("done: %s (schema %s)", ", ".join(s.name for s in steps), wh.schema)
    return 0


def _what_changed(failed_step: str) -> str:
    """An honest account of the published tables after a failure at `failed_step`."""
    if failed_step == "check-data":
        return "Nothing was loaded: published marts and segments are unchanged."
    if failed_step == "upstream":
        return (
            "Models after the failed model or test were not rebuilt; customer_segments and the segment marts "
            "are still those of the last good run."
        )
    return (
        "customer_features and fct_orders were rebuilt and passed their tests; customer_segments and the "
        "segment marts are still those of the last good run."
    )
