"""`olist-segments run`: the whole chain — check-data, ONE `dbt build`, the report — stopping at a failure.

check-data (when OLIST_DATA_DIR is set) refuses a broken folder before anything is loaded; `dbt build` then
runs seeds, models (the segmentation model customer_segments among them), the segment-history snapshot and
every test in DAG order, exactly as an analytics engineer's scheduler would; the report is drawn from what
was published.

Two runs on one schema never interleave: every dbt run holds the schema's writer lock (dbt_project.yml's
on-run-start hook); `--wait` is how long this one waits for another.
"""

from __future__ import annotations

import argparse
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from . import dbt_cli, segment_options, settings
from .settings import PROJECT_ROOT

log = logging.getLogger(__name__)


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
        "--vars", help="more dbt vars (YAML) for the build, e.g. \"{as_of_date: '2018-09-01'}\""
    )
    segment_options.add_arguments(parser)
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder (reports/)")
    parser.add_argument("--no-report", action="store_true", help="skip the report")
    parser.add_argument(
        "--recheck-data",
        action="store_true",
        help="check the CSVs even when they passed unchanged before (a content checksum decides)",
    )
    parser.add_argument(
        "--wait",
        type=int,
        default=0,
        metavar="SECONDS",
        help="wait this long for another run on the schema (dbt var run_lock_wait_seconds)",
    )


def build(args: argparse.Namespace) -> Callable[[], int]:
    extra = yaml.safe_load(args.vars) if args.vars else {}
    if not isinstance(extra, dict):
        raise settings.SettingsError(f"--vars must be a YAML mapping, got {args.vars!r}")
    run_lock = {"run_lock_wait_seconds": args.wait} if args.wait else {}
    dbt_vars = {**extra, **run_lock, **segment_options.dbt_vars(args)}
    cmd = dbt_cli.command("build", target=args.target, dbt_vars=dbt_vars)
    return lambda: dbt_cli.stream(cmd)


def check_data(data_dir: str, recheck: bool) -> Callable[[], int]:
    """check-data, in process (it reads files only); skipped when the folder passed it unchanged before."""

    def run() -> int:
        from . import checks

        record = PROJECT_ROOT / os.environ.get("DBT_TARGET_PATH", "target") / checks.PASSED_RECORD
        problems, unchanged = checks.check_folder_remembered(Path(data_dir), record, recheck=recheck)
        for problem in problems:
            print(problem, flush=True)
        if unchanged:
            print(f"check-data: the folder passed unchanged before ({record}): not read again", flush=True)
        found = len(checks.errors(problems))
        if found:
            print(f"check-data: {data_dir} refused, {found} problem(s): nothing was loaded", flush=True)
        return 1 if found else 0

    return run


def report(args: argparse.Namespace, wh: settings.Warehouse) -> Callable[[], int]:
    def run() -> int:
        from . import report  # matplotlib only when drawing

        print(f"report: {report.build(wh, args.out)}", flush=True)
        return 0

    return run


def plan(args: argparse.Namespace, wh: settings.Warehouse) -> list[Step]:
    steps = []
    if data_dir := os.environ.get("OLIST_DATA_DIR"):
        check = check_data(data_dir, args.recheck_data)
        steps.append(Step("check-data", f"validate the CSVs in {data_dir}", check))
    steps.append(
        Step("build", "dbt build (seeds, models, the segmentation model, snapshot, tests)", build(args))
    )
    if not args.no_report:
        steps.append(Step("report", f"plots and HTML in {args.out}", report(args, wh)))
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
    steps = plan(args, wh)
    failed = execute(steps)
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
    if failed_step == "build":
        return (
            "dbt skipped everything after the failed node; every model that failed or was skipped left its"
            " published table as it was (dbt's output above names them)."
        )
    return "The build succeeded: the marts and segments are published; only the report is missing."
