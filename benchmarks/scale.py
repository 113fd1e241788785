"""Scale: synth-features N customers, then `olist-segments segment` on them; wall time per phase and peak RSS.

For every N: `olist-harness synth-features --customers N` into a throwaway base schema, then
`olist-segments segment --out <tmp>` (KMeans, publish and report: the user's command) as a subprocess whose
peak resident memory is taken from the kernel (wait4's ru_maxrss) and cross-checked by polling psutil. The
phase times are the segment step's own (segment_model_runs.metrics.timings_s of the run).

Standalone: `.venv/bin/python benchmarks/scale.py --sizes 250000,1000000,5000000 [--repeats N]`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
from _common import OLIST_SEGMENTS, ROOT, check, drop_base, env, median, progress, run, warehouse

from olist_segments import db, settings

BASE = "bench_scale"
LOGS = ROOT / "benchmarks" / "runs"
PROGRESS_EVERY_S = 30  # show the segment step's latest log line this often
# The segment step's timings_s keys, in order, and what they measure.
PHASES = {
    "read": "pass 1: stream the mart into the fit sample",
    "choose_k": "scale + KMeans for every k + silhouettes (on the sample)",
    "score": "pass 2: nearest centre per chunk",
    "load": "pass 2: bulk load chunks into customer_segments__new",
    "validate": "checks of the new table",
    "publish": "registry row + atomic RENAME",
}


@dataclass
class SegmentRun:
    wall: float
    peak_rss: int  # bytes
    polled_rss: int  # bytes, psutil's largest sample (a lower bound)
    timings: dict[str, float]
    fit_rows: int
    k: int
    output: str


@dataclass
class SizeResult:
    customers: int
    synth: list[float] = field(default_factory=list)
    runs: list[SegmentRun] = field(default_factory=list)

    def phase(self, name: str) -> float:
        return median([r.timings.get(name, 0.0) for r in self.runs])

    def pass2_read(self) -> float:
        """Pass 2's reading: its total minus scoring and loading."""
        return median(
            [
                r.timings.get("read_score_load", 0.0)
                - r.timings.get("score", 0.0)
                - r.timings.get("load", 0.0)
                for r in self.runs
            ]
        )

    def wall(self) -> float:
        return median([r.wall for r in self.runs])

    def peak_rss(self) -> int:
        return max(r.peak_rss for r in self.runs)


def synth(customers: int, schema: str) -> float:
    result = run(
        [OLIST_SEGMENTS, "synth-features", "--customers", str(customers), "--schema-base", schema],
        env(schema),
        log=LOGS / f"synth_{customers}.log",
    )
    check(result, f"synth-features --customers {customers}")
    return result.seconds


def segment(schema: str, customers: int, extra: list[str] | None = None) -> SegmentRun:
    """Run the segment step; peak RSS from wait4 (the kernel's high-water mark), psutil polling as a check."""
    log_path = LOGS / f"segment_{customers}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="bench_report_") as out, log_path.open("w") as log:
        cmd = [OLIST_SEGMENTS, "segment", "--out", out, *(extra or [])]
        start = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env(schema), stdout=log, stderr=subprocess.STDOUT)
        watched, polled, shown = psutil.Process(proc.pid), 0, start
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(psutil.NoSuchProcess):
                polled = max(polled, watched.memory_info().rss)
            if time.monotonic() - shown >= PROGRESS_EVERY_S:
                shown = time.monotonic()
                lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
                print(f"    | {lines[-1] if lines else '(no output yet)'}", flush=True)
            time.sleep(0.1)
        wall = time.monotonic() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
    output = log_path.read_text(encoding="utf-8")
    if proc.returncode != 0:
        raise RuntimeError(f"olist-segments segment on {customers:,} customers failed:\n{output[-4000:]}")
    metrics, params, k = latest_run(warehouse(schema))
    return SegmentRun(
        wall=wall,
        peak_rss=usage.ru_maxrss * 1024,  # Linux reports KiB
        polled_rss=polled,
        timings={name: float(s) for name, s in metrics.get("timings_s", {}).items()},
        fit_rows=int(params.get("fit_rows", 0)),
        k=k,
        output=output,
    )


def latest_run(wh: settings.Warehouse) -> tuple[dict[str, Any], dict[str, Any], int]:
    """metrics, params and k of the newest published run in <base>_ml.segment_model_runs."""
    conn = db.connect(wh)
    cur = conn.cursor()
    cur.execute(
        f"select metrics, params, k from {db.qualified(wh.schema_for('ml'), 'segment_model_runs')}"
        " where status = 'published' order by finished_at desc, started_at desc limit 1"
    )
    metrics, params, k = cur.fetchone()
    conn.close()
    return json.loads(metrics), json.loads(params), int(k)


def measure(sizes: list[int], repeats: int, schema: str = BASE, keep: bool = False) -> list[SizeResult]:
    results = []
    try:
        for customers in sorted(sizes):
            size = SizeResult(customers)
            for i in range(repeats):
                progress(f"scale {customers:,}: synth-features run {i + 1}/{repeats} …")
                size.synth.append(synth(customers, schema))
                progress(f"scale {customers:,}: synth-features {size.synth[-1]:.1f} s; segment …")
                size.runs.append(segment(schema, customers))
                r = size.runs[-1]
                progress(
                    f"scale {customers:,}: segment {r.wall:.1f} s, peak RSS {r.peak_rss / 2**20:,.0f} MiB,"
                    f" k={r.k}, fit rows {r.fit_rows:,}; phases "
                    + ", ".join(f"{n} {s:.1f}" for n, s in r.timings.items())
                )
            results.append(size)
    finally:
        if not keep:
            drop_base(warehouse(schema))
    return results


def profile(customers: int, schema: str = BASE, top: int = 15) -> str:
    """cProfile of one segment run on `customers` synthetic customers: the top functions by own time."""
    import pstats

    try:
        synth(customers, schema)
        with tempfile.TemporaryDirectory(prefix="bench_profile_") as tmp:
            stats_path = Path(tmp) / "segment.prof"
            cmd = [
                str(Path(OLIST_SEGMENTS).with_name("python")),
                "-m",
                "cProfile",
                "-o",
                str(stats_path),
                "-m",
                "olist_segments.cli",
                "segment",
                "--no-report",
            ]
            check(run(cmd, env(schema)), "cProfile of olist-segments segment")
            report = Path(tmp) / "top.txt"
            with report.open("w") as stream:
                pstats.Stats(str(stats_path), stream=stream).sort_stats("tottime").print_stats(top)
            return report.read_text()
    finally:
        drop_base(warehouse(schema))


def plot(results: list[SizeResult], path: Path) -> None:
    """Wall time per phase and peak RSS against N, with the line through the origin and the largest N."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ns = [r.customers / 1e6 for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    series = {
        "segment (wall, total)": [r.wall() for r in results],
        "pass 1 read": [r.phase("read") for r in results],
        "choose k (fit)": [r.phase("choose_k") for r in results],
        "pass 2 read+score+load": [r.phase("read_score_load") for r in results],
        "synth-features": [median(r.synth) for r in results],
    }
    for label, values in series.items():
        left.plot(ns, values, marker="o", label=label)
    total = series["segment (wall, total)"]
    left.plot([0, ns[-1]], [0, total[-1]], ls=":", color="grey", label="linear (through the largest N)")
    left.axhline(300, color="red", lw=0.8, ls="--", label="goal: 5 M in ≤ 300 s")
    left.set(xlabel="customers (millions)", ylabel="seconds", title="Wall time vs customers")
    left.legend(fontsize=8)
    rss = [r.peak_rss() / 2**20 for r in results]
    right.plot(ns, rss, marker="o", color="tab:purple", label="peak RSS of olist-segments segment")
    right.axhline(1024, color="red", lw=0.8, ls="--", label="goal: ≤ 1 GiB")
    right.set(xlabel="customers (millions)", ylabel="MiB", title="Peak resident memory vs customers")
    right.set_ylim(0, max(1100, max(rss) * 1.1))
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
    parser.add_argument("--sizes", default="250000,1000000,5000000", help="comma-separated customer counts")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help=f"keep the {BASE}_* schemas")
    parser.add_argument("--plot", type=Path, help="write the plot here")
    args = parser.parse_args()
    results = measure([int(s) for s in args.sizes.split(",")], args.repeats, keep=args.keep)
    for r in results:
        print(
            f"{r.customers:>10,}  synth {median(r.synth):7.1f} s  segment {r.wall():7.1f} s"
            f"  peak RSS {r.peak_rss() / 2**20:7.0f} MiB"
        )
    if args.plot:
        plot(results, args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
