"""Scale: `dbt run -s customer_segments` on synthetic customer_features marts of N customers.

For every N: `olist-harness synth-features --customers N --schema-base bench_scale_<N>` writes the mart (and
segment_definitions) into a new base schema; then `dbt run -s customer_segments` with DBT_SCHEMA on it runs
the Python model in the dbt process (a first run: refit, k chosen from segment_k_range). Wall time and peak
RSS are the dbt process's (the kernel's high-water mark: wait4's ru_maxrss); the phases are the model's own
(segment_model_runs.metrics.timings_s). Each base schema is dropped after its size.

Standalone: `.venv/bin/python benchmarks/scale.py --sizes 250000,1000000 [--plot benchmarks/scale.png]`.
"""

from __future__ import annotations

import argparse
import re
from dataclasses import dataclass, field
from pathlib import Path

from _common import DBT, OLIST_HARNESS, ROOT, drop_base, env, latest_run, progress, run, run_results

MIB = 2**20
GOAL_5M_S = 60.0
DBT_LINE = re.compile(r"customer_segments|Completed|ERROR")
MODEL_LINE = re.compile(r"read:|score \+ load:|k=\d+:|chose k|silhouettes")


@dataclass
class SizeResult:
    customers: int
    synth_s: float
    wall_s: float
    peak_rss: int  # bytes
    model_s: float  # dbt's execution_time of the model
    k: int | None
    fit_rows: int
    search_rows: int  # the fit rows k was chosen on
    timings: dict[str, float] = field(default_factory=dict)


def base_for(customers: int) -> str:
    return f"bench_scale_{customers}"


def measure(customers: int) -> SizeResult:
    base = base_for(customers)
    drop_base(base)
    try:
        progress(f"scale {customers:,}: olist-harness synth-features …")
        synth = run(
            [OLIST_HARNESS, "synth-features", "--customers", str(customers), "--schema-base", base],
            env(base),
            log=f"synth_{customers}",
        )
        progress(f"scale {customers:,}: synth-features {synth.seconds:.1f} s; dbt run -s customer_segments …")
        cmd = [DBT, "--no-use-colors", "run", "-s", "customer_segments", "--project-dir", str(ROOT)]
        dbt = run(
            cmd,
            env(base),
            log=f"scale_{customers}",
            echo=re.compile(f"{DBT_LINE.pattern}|{MODEL_LINE.pattern}"),
        )
        (node,) = [r for r in run_results(base) if r["unique_id"].endswith(".customer_segments")]
        registry = latest_run(base)
        if registry["status"] != "published":
            raise RuntimeError(f"customer_segments on {customers:,}: registry status {registry['status']}")
        metrics = registry["metrics"]
        result = SizeResult(
            customers=customers,
            synth_s=synth.seconds,
            wall_s=dbt.seconds,
            peak_rss=dbt.peak_rss,
            model_s=float(node["execution_time"]),
            k=registry["k"],
            fit_rows=int(metrics.get("fit_rows", 0)),
            search_rows=int(metrics.get("k_search_rows", metrics.get("fit_rows", 0))),
            timings={n: float(s) for n, s in metrics.get("timings_s", {}).items()},
        )
    finally:
        drop_base(base)
    progress(
        f"scale {customers:,}: dbt run {result.wall_s:.1f} s (model {result.model_s:.1f} s), peak RSS"
        f" {result.peak_rss / MIB:,.0f} MiB, k={result.k}; "
        + ", ".join(f"{n} {s:.1f}" for n, s in result.timings.items())
    )
    return result


def plot(results: list[SizeResult], path: Path) -> None:
    """Wall time (and the model's phases) and peak RSS of the dbt process against N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r.customers / 1e6 for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = {
        "dbt run -s customer_segments (wall)": [r.wall_s for r in results],
        "model (dbt execution_time)": [r.model_s for r in results],
        "choose k": [r.timings.get("choose_k", 0.0) for r in results],
        "pass 2: read + score + load": [r.timings.get("read_score_load", 0.0) for r in results],
        "synth-features": [r.synth_s for r in results],
    }
    for label, values in series.items():
        left.plot(ns, values, marker="o", label=label)
    left.axhline(GOAL_5M_S, color="red", lw=0.8, ls="--", label="goal: 5 M customers in ≤ 60 s")
    left.set(xlabel="customers (millions)", ylabel="seconds", title="Wall time vs customers")
    left.legend(fontsize=8)
    rss = [r.peak_rss / MIB for r in results]
    right.plot(ns, rss, marker="o", color="tab:purple", label="peak RSS of the dbt process")
    right.set(xlabel="customers (millions)", ylabel="MiB", title="Peak resident memory vs customers")
    right.set_ylim(0, max(rss) * 1.2)
    right.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
        ax.set_xlim(left=0)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default="250000,1000000", help="comma-separated customer counts")
    parser.add_argument("--plot", type=Path, help="write the plot here")
    args = parser.parse_args()
    results = [measure(int(s)) for s in sorted(args.sizes.split(","), key=int)]
    for r in results:
        print(f"{r.customers:>10,}  dbt run {r.wall_s:7.1f} s  peak RSS {r.peak_rss / MIB:7.0f} MiB")
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
