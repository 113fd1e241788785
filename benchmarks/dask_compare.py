"""Dask: `dbt run -s customer_segments` with submission_method local vs dask on a localhost cluster.

Each measured run is a refit (`segment_refit: always`: pass 1, choose k, pass 2, compare) after a first,
unmeasured local run published the model it is compared with. For dask a new cluster is started per run
(olist_harness.dask_cluster: a scheduler and W one-thread worker processes), so each worker's peak RSS (the
kernel's VmHWM) is that run's. Every dask run's assignments are compared row by row with the local run's
(segment id and distance, `<=>` in SQL). Real data: the real customer_features; scale: a synth-features
mart of --customers (5 M).

Standalone: `.venv/bin/python benchmarks/dask_compare.py --base bench_chain` (a base with a built chain) or
`--customers 5000000`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import scale
from _common import DBT, OLIST_HARNESS, ROOT, drop_base, env, latest_run, progress, query, run
from distributed import Client

from olist_harness.dask_cluster import start_cluster
from olist_segments import db

MIB = 2**20
WORKER_MODULES = ("dbt.adapters.mysql_python.dask_jobs", "olist_segments.segmentation")
SNAPSHOT = "bench_local_assignments"


@dataclass
class ModelRun:
    label: str
    workers: int  # 0: local
    wall_s: float
    driver_rss: int  # bytes, the dbt process
    worker_rss: list[int] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    k: int | None = None
    differing: int | None = None  # customers whose segment or distance differs from local's


def refit(base: str, workers: int, folder: Path) -> ModelRun:
    """One refit of customer_segments on `base`: local (workers 0) or on a new cluster of `workers`."""
    label = f"dask, {workers} worker{'s' * (workers > 1)}" if workers else "local"
    dbt_vars: dict[str, object] = {"segment_refit": "always"}
    environment = env(base)
    cluster = None
    if workers:
        cluster = start_cluster(folder / f"{base}_{workers}", workers)
        warm(cluster.address)
        dbt_vars["segment_submission_method"] = "dask"
        environment["DASK_SCHEDULER_ADDRESS"] = cluster.address
    try:
        progress(f"dask: {base}: {label} …")
        cmd = [DBT, "--no-use-colors", "run", "-s", "customer_segments", "--project-dir", str(ROOT)]
        result = run([*cmd, "--vars", json.dumps(dbt_vars)], environment, log=f"dask_{base}_{workers}",
                     echo=scale.MODEL_LINE)  # fmt: skip
        peaks = cluster.worker_peak_rss() if cluster else []
    finally:
        if cluster:
            cluster.stop()
    registry = latest_run(base)
    if registry["status"] != "published":
        raise RuntimeError(f"{label} on {base}: registry status {registry['status']}")
    timings = {n: float(s) for n, s in registry["metrics"].get("timings_s", {}).items()}
    out = ModelRun(label, workers, result.seconds, result.peak_rss, peaks, timings, registry["k"])
    progress(f"dask: {base}: {label} {out.wall_s:.1f} s, dbt {out.driver_rss / MIB:,.0f} MiB")
    return out


def warm(address: str) -> None:
    """Import the tasks' modules on the scheduler (it unpickles the tasks) and every worker, as on a
    long-lived cluster: a fresh process spends ~6 s on them here (the adapter package imports dbt-core)."""
    with Client(address) as client:
        for module in WORKER_MODULES:
            client.run_on_scheduler(importlib.import_module, module)
            client.run(importlib.import_module, module)


def snapshot(base: str) -> None:
    """Keep the published assignments (of the local run) to compare the dask runs with."""
    ml = f"{base}_ml"
    copy, live = db.qualified(ml, SNAPSHOT), db.qualified(ml, "customer_segments")
    query(base, f"drop table if exists {copy}")
    query(base, f"create table {copy} (primary key (customer_unique_id)) as select customer_unique_id,"
                f" segment_id, distance_to_centroid from {live}")  # fmt: skip


def differing(base: str) -> int:
    ml = f"{base}_ml"
    copy, live = db.qualified(ml, SNAPSHOT), db.qualified(ml, "customer_segments")
    rows = query(
        base,
        f"select (select count(*) from {live} n left join {copy} l using (customer_unique_id)"
        "  where not (n.segment_id <=> l.segment_id and n.distance_to_centroid <=> l.distance_to_centroid))"
        f" + abs((select count(*) from {live}) - (select count(*) from {copy}))",
    )
    return int(rows[0][0])


def compare(base: str, workers: list[int]) -> list[ModelRun]:
    """A first local run (publishes), then measured: local and dask with each number of workers."""
    with tempfile.TemporaryDirectory(prefix="bench_dask_") as tmp:
        folder = Path(tmp)
        refit(base, 0, folder)
        runs = [refit(base, 0, folder)]
        snapshot(base)
        for w in workers:
            runs.append(refit(base, w, folder))
            runs[-1].differing = differing(base)
            progress(f"dask: {base}: {runs[-1].label}: {runs[-1].differing:,} customers differ from local")
    return runs


def synthetic(customers: int, workers: list[int]) -> tuple[list[ModelRun], float]:
    base = f"bench_dask_{customers}"
    drop_base(base)
    try:
        progress(f"dask: olist-harness synth-features --customers {customers:,} …")
        synth = run([OLIST_HARNESS, "synth-features", "--customers", str(customers), "--schema-base", base],
                    env(base), log=f"synth_dask_{customers}")  # fmt: skip
        return compare(base, workers), synth.seconds
    finally:
        drop_base(base)


def rows(runs: list[ModelRun]) -> list[list[str]]:
    return [
        [
            r.label,
            f"{r.wall_s:.1f}",
            f"{r.timings.get('read', 0.0):.1f}",
            f"{r.timings.get('choose_k', 0.0):.1f}",
            f"{r.timings.get('read_score_load', 0.0):.1f}",
            f"{r.timings.get('compare', 0.0):.1f}",
            f"{r.driver_rss / MIB:,.0f}",
            ", ".join(f"{p / MIB:,.0f}" for p in r.worker_rss) or "-",
            "reference" if r.differing is None else f"{r.differing:,}",
        ]
        for r in runs
    ]


HEADER = ["submission", "wall (s)", "pass 1", "choose k", "pass 2", "compare", "dbt RSS (MiB)",
          "worker RSS (MiB)", "customers differing from local"]  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", help="a base schema with a built chain (real data)")
    parser.add_argument("--customers", type=int, help="a synth-features mart of this many customers")
    parser.add_argument("--workers", default="1,2", help="comma-separated cluster sizes (1,2)")
    args = parser.parse_args()
    workers = [int(w) for w in args.workers.split(",")]
    if args.base:
        for r in rows(compare(args.base, workers)):
            print(" | ".join(r))
    if args.customers:
        for r in rows(synthetic(args.customers, workers)[0]):
            print(" | ".join(r))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
