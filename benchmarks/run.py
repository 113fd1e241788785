"""`make bench`: measure seeding, the whole chain, publishing and scale; write benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py                        # everything (< 30 min on 2 cores)
    .venv/bin/python benchmarks/run.py --only publish,scale   # these sections; the others keep their results
    .venv/bin/python benchmarks/run.py --quick                # one run of everything

Sections (each calls the project's own commands/functions; every figure names the command behind it):
  seed     dbt seed of the 8 real Olist tables: our loader vs dbt's stock loader (benchmarks/seed_load.py)
  chain    `olist-segments run` on the real data, warm: per step and total
  publish  the real segments: our LOAD DATA / INSERT writer vs pandas.to_sql vs an UPDATE-per-row loop
  scale    synth-features 250k / 1M / 5M customers, then `olist-segments segment`: time per phase, peak RSS

Needs the real Olist CSVs (OLIST_DATA_DIR or ../shared/olist). Works in bench_* base schemas, dropped at the
end. RESULTS.md keeps every section's numbers in a JSON comment, so a partial run rewrites only its sections.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import psutil
import publish_compare
import scale
from _common import (
    OLIST_SEGMENTS,
    ROOT,
    check,
    data_dir,
    drop_base,
    env,
    median,
    progress,
    run,
    warehouse,
)

from olist_segments import db, settings

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PLOT = ROOT / "benchmarks" / "scale.png"
SECTIONS = ("seed", "chain", "publish", "scale")
CHAIN_BASE = publish_compare.SOURCE_BASE
DATA_MARK = "<!-- bench-data"
MIB = 2**20
MEASURED = ("read", "choose_k", "read_score_load", "validate")  # the segment step's non-overlapping phases


@dataclass
class Goal:
    goal: str
    measured: str
    met: bool


@dataclass
class Section:
    name: str
    title: str
    date: str
    host: str  # machine line of the run that produced it
    body: str  # markdown
    goals: list[Goal] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    wh = settings.load()
    conn = db.connect(wh)
    cur = conn.cursor()
    cur.execute(
        "select version(), @@innodb_buffer_pool_size, @@innodb_flush_log_at_trx_commit, @@local_infile,"
        " @@max_allowed_packet"
    )
    server, pool, flush, infile, packet = cur.fetchone()
    implementation = db.implementation(conn)
    conn.close()
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    os_name = platform.platform()
    release = Path("/etc/os-release")
    if release.is_file():
        found = re.search(r'^PRETTY_NAME="?([^"\n]*)', release.read_text(), re.M)
        os_name = f"{found.group(1)} ({platform.release()})" if found else os_name
    return {
        "CPU": f"{cpu}: {psutil.cpu_count(logical=True)} logical cores"
        f" ({psutil.cpu_count(logical=False)} physical)",
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": os_name,
        "server": f"{server} at {wh.host}:{wh.port}; innodb_buffer_pool_size {int(pool) // MIB} MiB,"
        f" innodb_flush_log_at_trx_commit {flush}, local_infile {'ON' if int(infile) else 'OFF'},"
        f" max_allowed_packet {int(packet) // MIB} MiB",
        "Python": f"{platform.python_version()}; mysql-connector-python {version('mysql-connector-python')}"
        f" ({implementation})",
        "libraries": ", ".join(
            f"{d} {version(d)}"
            for d in ("dbt-core", "dbt-mysql", "pandas", "numpy", "scikit-learn", "SQLAlchemy")
        ),
    }


def host_line(info: dict[str, str]) -> str:
    return f"{info['CPU']}, {info['RAM']}; {info['server'].split(';')[0]}"


def load_note() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {psutil.cpu_count()} cores"


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    marks = ["---:" if a == "r" else "---" for a in align]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(marks) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def verdict(met: bool) -> str:
    return "**met**" if met else "**MISSED**"


# --------------------------------------------------------------------------------------------- a. seed


def section_seed(args: argparse.Namespace, host: str) -> Section:
    import seed_load  # benchmarks/seed_load.py (the fast loader's own benchmark)

    folder = data_dir(args.data_dir)
    progress(f"seed: {args.seed_repeats} run(s) of our loader, {args.stock_repeats} of dbt's stock loader …")
    started, load_before = now(), load_note()
    result = seed_load.benchmark_seed_load(
        repeats=args.seed_repeats, stock_repeats=args.stock_repeats, data_dir=folder
    )
    fast, stock = result.loaders["fast"], result.loaders["stock"]
    fast_wall, stock_wall = median(fast.wall), median(stock.wall)
    fast_sum, stock_sum = fast.sum_of_medians(), stock.sum_of_medians()
    goals = [
        Goal(
            "seed of the 8 Olist tables, our loader ≤ 60 s (dbt seed wall time)",
            f"{fast_wall:.1f} s",
            fast_wall <= 60,
        ),
        Goal(
            "our loader ≥ 10x faster than dbt's stock seed (wall time)",
            f"{stock_wall / fast_wall:.1f}x (tables only: {stock_sum / fast_sum:.1f}x)",
            stock_wall / fast_wall >= 10,
        ),
    ]
    command = (
        f"`OLIST_DATA_DIR={folder} .venv/bin/python benchmarks/seed_load.py --repeats {args.seed_repeats}"
        f" --stock-repeats {args.stock_repeats}` (each run: `dbt seed --full-refresh --select <8 tables>"
        " --vars '{fast_seed_loading: true|false}'` into a new bench_* schema, then dropped)"
    )
    body = "\n\n".join(
        [
            f"Command: {command}. Ours = `macros/seeds/load_csv_rows.sql` (multi-row INSERTs sized to"
            " max_allowed_packet); stock = dbt-core 1.7's `default__load_csv_rows`. The first run of each"
            " loader is checked value by value against the CSVs.",
            result.markdown(),
            f"Before the run: {load_before}.",
        ]
    )
    data = {
        "fast_wall": fast.wall,
        "stock_wall": stock.wall,
        "fast_tables": fast.tables,
        "stock_tables": stock.tables,
        "rows": result.rows,
    }
    return Section(
        "seed", "a. dbt seed of the real Olist tables: ours vs stock", started, host, body, goals, data
    )


# --------------------------------------------------------------------------------------------- b. chain

SUMMARY_LINE = re.compile(
    r"^(check-data|upstream|segment|freshness|downstream|total)\s+(?:(\S+)\s+)?([\d.]+)$"
)
STEP_LINE = re.compile(r"INFO\s+\[\d+/\d+\]")  # the pipeline's "[2/5] upstream ok in 31.2 s" lines
NODE_LINE = re.compile(
    r"\d+ of \d+ (?:OK|PASS|WARN) (?:created |loaded |snapshotted )?(.+?)\s*\.*\s*\[.*? in ([\d.]+)s\]"
)


def parse_chain(output: str) -> tuple[dict[str, float], dict[str, float]]:
    """(step → seconds from the pipeline's summary table, dbt node → seconds from dbt's log lines)."""
    steps: dict[str, float] = {}
    nodes: dict[str, float] = {}
    for line in output.splitlines():
        if match := SUMMARY_LINE.match(line.strip()):
            steps[match.group(1)] = float(match.group(3))
        elif line.startswith("dbt |") and (node := NODE_LINE.search(line)):
            name = re.sub(r"^(sql \w+ model|seed file|snapshot) ", "", node.group(1)).strip()
            nodes[name] = nodes.get(name, 0.0) + float(node.group(2))
    if "total" not in steps:
        raise RuntimeError("no step summary in the output of olist-segments run")
    return steps, nodes


def section_chain(args: argparse.Namespace, host: str) -> Section:
    folder = data_dir(args.data_dir)
    wh = warehouse(CHAIN_BASE)
    drop_base(wh)
    started, load_before = now(), load_note()
    runs: list[dict[str, float]] = []
    node_runs: list[dict[str, float]] = []
    segment_phases: list[dict[str, float]] = []
    for i in range(args.chain_repeats + 1):
        label = "cold (first run: creates every schema)" if i == 0 else f"warm {i}/{args.chain_repeats}"
        progress(f"chain: olist-segments run, {label} …")
        result = run(
            [OLIST_SEGMENTS, "run"],
            env(CHAIN_BASE, folder),
            echo=STEP_LINE,
            log=scale.LOGS / f"chain_{i}.log",
        )
        check(result, "olist-segments run")
        steps, nodes = parse_chain(result.output)
        steps["wall"] = result.seconds
        runs.append(steps)
        node_runs.append(nodes)
        metrics, _, _ = scale.latest_run(wh)
        segment_phases.append(metrics.get("timings_s", {}))
        progress(f"chain {label}: " + ", ".join(f"{k} {v:.1f} s" for k, v in steps.items()))
    cold, warm = runs[0], runs[1:]
    names = [
        s
        for s in ("check-data", "upstream", "segment", "freshness", "downstream", "total", "wall")
        if s in cold
    ]
    rows = [
        [
            f"`{n}`" if n not in ("total", "wall") else f"**{n}**",
            f"{cold[n]:.1f}",
            f"{median([r[n] for r in warm]):.1f}",
        ]
        + [f"{r[n]:.1f}" for r in warm]
        for n in names
    ]
    total = median([r["total"] for r in warm])
    slow_nodes = sorted(
        ((n, median([r.get(n, 0.0) for r in node_runs[1:]])) for n in node_runs[-1]), key=lambda x: -x[1]
    )[:10]
    phases = {k: median([p.get(k, 0.0) for p in segment_phases[1:]]) for k in segment_phases[-1]}
    goals = [Goal("whole chain on the real data, warm, ≤ 120 s", f"{total:.1f} s", total <= 120)]
    command = f"`OLIST_DATA_DIR={folder} DBT_SCHEMA={CHAIN_BASE} .venv/bin/olist-segments run`"
    body = "\n\n".join(
        [
            f"Command: {command}, {args.chain_repeats + 1} times in a row on a new base schema: the first run"
            " creates every schema (cold), the others find them (warm: what a scheduled rerun does; the seeds"
            " are reloaded every time). Step times are the pipeline's own summary table; `wall` adds"
            " process start-up and the lock.",
            table(
                ["step", "cold (s)", "warm median (s)", *[f"warm {i + 1}" for i in range(len(warm))]],
                rows,
            ),
            "Slowest dbt nodes of the warm runs (median of dbt's own per-node times; nodes run 2 at a time,"
            " so they overlap):",
            table(
                ["dbt node", "seconds"],
                [[f"`{n.replace(f'{CHAIN_BASE}_', '')}`", f"{s:.2f}"] for n, s in slow_nodes],
            ),
            "Inside the `segment` step (its `segment_model_runs.metrics.timings_s`, warm median): "
            + ", ".join(f"{k} {v:.2f} s" for k, v in phases.items())
            + ".",
            f"Before the run: {load_before}.",
        ]
    )
    data = {"runs": runs, "slow_nodes": slow_nodes, "segment_phases": phases}
    return Section(
        "chain",
        "b. The whole chain on the real data (`olist-segments run`)",
        started,
        host,
        body,
        goals,
        data,
    )


# --------------------------------------------------------------------------------------------- c. publish


def section_publish(args: argparse.Namespace, host: str) -> Section:
    source, target = warehouse(CHAIN_BASE), warehouse(publish_compare.TARGET_BASE)
    publish_compare.ensure_segments(source, data_dir(args.data_dir))
    started, load_before = now(), load_note()
    progress(f"publish: {args.publish_repeats} run(s) of each method …")
    try:
        result = publish_compare.compare(source, target, args.publish_repeats, args.loop_rows)
    finally:
        drop_base(target)
    medians = result.medians()
    ours = medians["ours: LOAD DATA LOCAL INFILE"]
    to_sql = medians["pandas to_sql (SQLAlchemy + mysql-connector)"]
    rows = [
        [
            name,
            f"{seconds:.2f}",
            f"{result.rows / seconds:,.0f}",
            f"{seconds / ours:.1f}x",
            ", ".join(f"{s:.2f}" for s in result.seconds.get(name, [])) or f"{result.loop_rows:,}-row subset",
        ]
        for name, seconds in medians.items()
    ]
    goals = [Goal("publishing ≥ 5x faster than pandas to_sql", f"{to_sql / ours:.1f}x", to_sql / ours >= 5)]
    profile_text = ""
    if not goals[0].met:
        progress("publish: goal missed: profiling one run of ours (cProfile) …")
        profile_text = publish_compare.profile_ours(source, target)
    body = "\n\n".join(
        [
            f"Command: `.venv/bin/python benchmarks/publish_compare.py --repeats {args.publish_repeats}"
            f" --loop-rows {args.loop_rows}`. The same {result.rows:,} rows (the real segments published"
            " by the chain) for every method.",
            "- **ours** = `olist_segments.publish`: create `customer_segments__new` (primary key),"
            " `SegmentWriter` in chunks of 50,000, validate, atomic `RENAME` swap; by LOAD DATA LOCAL"
            " INFILE, or by the multi-row INSERT fallback used when the server has local_infile=OFF;\n"
            "- **to_sql** = `DataFrame.to_sql(if_exists='replace', chunksize=10_000, index=False)` on a"
            " `mysql+mysqlconnector://` SQLAlchemy engine (no primary key, no swap: less work than ours);\n"
            "- **notebook loop** = one `UPDATE … WHERE customer_unique_id = %s` per customer on a pre-filled"
            f" keyed table, one commit at the end: timed on a random {result.loop_rows:,}-row subset"
            f" ({result.loop_per_row * 1e3:.2f} ms per row) and **extrapolated** to all rows.",
            table(["method", "seconds (median)", "rows/s", "vs ours (LOAD DATA)", "runs (s)"], rows, "lrrrl"),
            f"Before the run: {load_before}.",
        ]
    )
    if profile_text:
        body += (
            "\n\nProfile (the goal was missed): `cProfile` of one run of ours (LOAD DATA), top functions by"
            " own time; time inside `cmysql` / `execute` is the server working:\n\n```\n"
            + profile_text.strip()
            + "\n```"
        )
    data = {"rows": result.rows, "seconds": result.seconds, "loop_per_row": result.loop_per_row}
    return Section("publish", "c. Publishing the real segments", started, host, body, goals, data)


# --------------------------------------------------------------------------------------------- d. scale


def section_scale(args: argparse.Namespace, host: str) -> Section:
    sizes = sorted(int(s) for s in args.scale_sizes.split(","))
    started, load_before = now(), load_note()
    results = scale.measure(sizes, args.scale_repeats)
    scale.plot(results, PLOT)
    largest = results[-1]
    rows = []
    for r in results:
        per_m = 1e6 / r.customers
        rows.append(
            [
                f"{r.customers:,}",
                f"{median(r.synth):.1f}",
                f"{r.wall():.1f}",
                f"{r.phase('read'):.1f}",
                f"{r.phase('choose_k'):.1f}",
                f"{r.pass2_read():.1f}",
                f"{r.phase('score'):.1f}",
                f"{r.phase('load'):.1f}",
                f"{r.phase('validate'):.1f}",
                f"{r.wall() - sum(r.phase(p) for p in MEASURED):.1f}",
                f"{(r.phase('read') + r.phase('read_score_load')) * per_m:.1f}",
                f"{r.peak_rss() / MIB:,.0f}",
                f"{r.runs[-1].fit_rows:,}",
                str(r.runs[-1].k),
            ]
        )
    goals = []
    streaming = {r.customers: (r.phase("read") + r.phase("read_score_load")) / r.customers for r in results}
    if len(results) >= 2:
        ratio = streaming[largest.customers] / streaming[results[0].customers]
        grow = largest.wall() / results[-2].wall()
        n_ratio = largest.customers / results[-2].customers
        goals.append(
            Goal(
                "linear time: streaming cost per customer at the largest N ≤ 1.25x the smallest N's;"
                " total wall grows no faster than N",
                f"per-customer ratio {ratio:.2f}; wall x{grow:.2f} for N x{n_ratio:.1f}",
                ratio <= 1.25 and grow <= n_ratio * 1.1,
            )
        )
    goals.append(
        Goal(
            f"peak RSS of `segment` ≤ 1 GiB at {largest.customers:,}",
            f"{largest.peak_rss() / MIB:,.0f} MiB",
            largest.peak_rss() <= 2**30,
        )
    )
    if largest.customers >= 5_000_000:
        goals.append(
            Goal("`segment` on 5 M customers ≤ 5 min", f"{largest.wall():.0f} s", largest.wall() <= 300)
        )
        goals.append(
            Goal(
                "`synth-features` 5 M customers well under 2 min",
                f"{median(largest.synth):.0f} s",
                median(largest.synth) < 120,
            )
        )
    profile_text = ""
    if not all(g.met for g in goals) and args.profile_size:
        progress(
            f"scale: a goal was missed: profiling segment on {args.profile_size:,} customers (cProfile) …"
        )
        profile_text = scale.profile(args.profile_size)
    command = (
        f"`.venv/bin/python benchmarks/scale.py --sizes {args.scale_sizes} --repeats {args.scale_repeats}`:"
        " per N,"
        " `olist-harness synth-features --customers N --schema-base bench_scale` then"
        " `DBT_SCHEMA=bench_scale olist-segments segment --out <tmp>`"
    )
    parts = [
        f"Command: {command}. Time columns in seconds (median of {args.scale_repeats} run(s)); phases are the"
        " segment step's own `timings_s`; *other* = process start-up, the gate query, registry, swap and the"
        " report. Peak RSS = the kernel's high-water mark of the `segment` process (`wait4` ru_maxrss).",
        table(
            [
                "customers",
                "synth-features",
                "segment wall",
                "pass 1 read",
                "choose k",
                "pass 2 read",
                "score",
                "load",
                "validate",
                "other",
                "read+score+load per M",
                "peak RSS (MiB)",
                "fit rows",
                "k",
            ],
            rows,
        ),
        "![time and peak RSS vs customers](scale.png)",
        f"Before the run: {load_before}.",
    ]
    if profile_text:
        parts.append(
            f"Profile (a goal was missed): `python -m cProfile -m olist_segments.cli segment --no-report` on"
            f" {args.profile_size:,} synthetic customers, top functions by own time:\n\n```\n"
            + profile_text.strip()
            + "\n```"
        )
    data = {
        "sizes": {
            r.customers: {
                "synth": r.synth,
                "wall": [x.wall for x in r.runs],
                "peak_rss": [x.peak_rss for x in r.runs],
                "polled_rss": [x.polled_rss for x in r.runs],
                "timings": [x.timings for x in r.runs],
            }
            for r in results
        }
    }
    return Section(
        "scale",
        "d. Scale: synthetic customers, `olist-segments segment`",
        started,
        host,
        "\n\n".join(parts),
        goals,
        data,
    )


# --------------------------------------------------------------------------------------------- RESULTS.md


def previous_sections() -> dict[str, Section]:
    if not RESULTS.is_file():
        return {}
    text = RESULTS.read_text(encoding="utf-8")
    start = text.find(DATA_MARK)
    if start < 0:
        return {}
    raw = json.loads(text[start + len(DATA_MARK) : text.index("-->", start)])
    return {
        name: Section(**{**s, "goals": [Goal(**g) for g in s["goals"]]})
        for name, s in raw["sections"].items()
    }


def render(info: dict[str, str], sections: dict[str, Section], args: argparse.Namespace) -> str:
    ordered = [sections[n] for n in SECTIONS if n in sections]
    out = [
        "# Benchmarks",
        "",
        f"Generated by `make bench` (`.venv/bin/python benchmarks/run.py`{' --quick' if args.quick else ''});"
        " do not edit by hand. Each section names the command behind its figures, the date it ran and"
        " (when it differs) the machine. The machine is shared: the load average before each section says"
        " how quiet it was.",
        "",
        "## Machine",
        "",
        table(["", ""], [[k, v] for k, v in info.items()], "ll"),
        "",
        "## Goals",
        "",
        table(
            ["section", "goal", "measured", ""],
            [[s.title.split(".")[0], g.goal, g.measured, verdict(g.met)] for s in ordered for g in s.goals],
            "llll",
        ),
        "",
    ]
    current = host_line(info)
    for s in ordered:
        out += [
            f"## {s.title}",
            "",
            f"Run {s.date}" + ("" if s.host == current else f" on {s.host}") + ".",
            "",
        ]
        out += [s.body, ""]
    payload = json.dumps({"sections": {s.name: asdict(s) for s in ordered}}, indent=1, default=str)
    out += [DATA_MARK, payload.replace("-->", "--\\u003e"), "-->", ""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--quick", action="store_true", help="one run of everything (repeat counts 1)")
    parser.add_argument("--data-dir", help="Olist CSVs (default OLIST_DATA_DIR, else ../shared/olist)")
    parser.add_argument("--seed-repeats", type=int, default=3, help="runs of our seed loader (3)")
    parser.add_argument("--stock-repeats", type=int, default=1, help="runs of dbt's stock loader (1; slow)")
    parser.add_argument(
        "--chain-repeats", type=int, default=2, help="warm runs of the chain (2, after a cold one)"
    )
    parser.add_argument("--publish-repeats", type=int, default=3, help="runs of each publish method (3)")
    parser.add_argument("--loop-rows", type=int, default=publish_compare.LOOP_ROWS, help="UPDATE loop subset")
    parser.add_argument("--scale-sizes", default="250000,1000000,5000000", help="customer counts")
    parser.add_argument("--scale-repeats", type=int, default=1, help="runs per size (1)")
    parser.add_argument(
        "--profile-size",
        type=int,
        default=250_000,
        help="customers for the cProfile run when a goal is missed (0: none)",
    )
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := [s for s in only if s not in SECTIONS]:
        parser.error(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}")
    if args.quick:
        args.seed_repeats = args.stock_repeats = args.chain_repeats = args.publish_repeats = (
            args.scale_repeats
        ) = 1
    data_dir(args.data_dir)  # fail early without the real CSVs
    info = machine()
    host = host_line(info)
    sections = previous_sections()
    runners = {
        "seed": section_seed,
        "chain": section_chain,
        "publish": section_publish,
        "scale": section_scale,
    }
    start, failed = time.monotonic(), []
    try:
        for name in (n for n in SECTIONS if n in only):
            progress(f"== section {name} ==")
            try:
                sections[name] = runners[name](args, host)
            except Exception as exc:  # the other sections still run; RESULTS.md keeps this one's last result
                failed.append(name)
                progress(f"== section {name} FAILED: {type(exc).__name__}: {exc}")
                continue
            RESULTS.write_text(render(info, sections, args), encoding="utf-8")
            progress(f"== section {name} done; {RESULTS.relative_to(ROOT)} updated ==")
    finally:
        drop_base(warehouse(CHAIN_BASE))
    missed = [g.goal for s in sections.values() for g in s.goals if not g.met]
    progress(
        f"done in {time.monotonic() - start:.0f} s; "
        + (f"{len(missed)} goal(s) missed: {'; '.join(missed)}" if missed else "every goal met")
        + (f"; FAILED sections (not updated): {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
