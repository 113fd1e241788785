"""`make bench`: measure the current chain (check-data + one `dbt build`) and write benchmarks/RESULTS.md.

    .venv/bin/python benchmarks/run.py                            # every default section
    .venv/bin/python benchmarks/run.py --only load,publish        # these; the others keep their last results
    .venv/bin/python benchmarks/run.py --scale-sizes 250000,1000000   # without the 5 M customers (~3 min)
    .venv/bin/python benchmarks/run.py --only scale --buffer-pool 1024  # as the project's own server runs

Sections (issue 12's goals; each names the command behind its figures):
  chain    `olist-segments run --no-report` on the real data, cold then warm, by default and with the
           opt-in skip_unchanged_tables: wall and per phase (dbt's run_results.json); floors: LOAD DATA
           of the CSVs, pandas customer_features, one KMeans fit
  load     `dbt seed` of the 8 Olist tables (the adapter's seed materialization) vs the LOAD DATA floor;
           a second `dbt seed` of unchanged files: skipped or reloaded?
  segment  choose-k on the real data (`dbt run -s customer_segments`, refit) and the model on synthetic marts
           of --scale-sizes customers: wall, peak RSS of the dbt process, benchmarks/scale.png
  publish  the real segments: the adapter's TableWriter (LOAD DATA, INSERT) vs pandas.to_sql vs UPDATE per row
  dask     customer_segments with submission_method local vs dask (localhost cluster of 1 and 2 workers) on
           the real mart and --dask-customers synthetic customers: wall, peak RSS per process, equality
  check    `olist-segments check-data` vs a plain pandas parse of the same CSVs, real data and 10x
           (`olist-harness scale-data`): wall and peak RSS of each process
  scale    the whole chain, cold and warm, on `olist-harness scale-data` folders of --scale-factors times
           Olist: wall, phases, peak RSS, benchmarks/chain_scale.png

Needs the real Olist CSVs (--data-dir, OLIST_DATA_DIR or ../shared/olist). Works only in bench_* base
schemas, each dropped when done. Progress goes to stderr; dbt's output to target/bench_logs/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import check_compare
import dask_compare
import floors
import psutil
import publish_compare
import scale
from _common import (
    DBT,
    OLIST_SEGMENTS,
    OLIST_TABLES,
    ROOT,
    changed_files,
    data_dir,
    dbt_failures,
    drop_base,
    env,
    latest_run,
    progress,
    query,
    run,
    run_results,
    scaled_folder,
    staged_copy,
)

from olist_segments import db

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
PLOT = ROOT / "benchmarks" / "scale.png"
SCALE_PLOT = ROOT / "benchmarks" / "chain_scale.png"
SECTIONS = ("chain", "load", "segment", "publish", "dask", "check", "scale")
CHAIN_BASE = "bench_chain"
SCALE_BASE = "bench_scale"
LOAD_BASE = "bench_load"
DATA_MARK = "<!-- bench-data"
MIB = 2**20
SKIP_UNCHANGED = ("--vars", "{skip_unchanged_tables: true}")
# the pipeline's "[2/2] build ok in 31.2 s", dbt's seeds, models and snapshot as they finish, errors
STEP_LINE = re.compile(r"INFO\s+\[\d+/\d+\]|OK (loaded|created|snapshotted)|ERROR")
SEED_LINE = re.compile(r"OK loaded seed|ERROR")


@dataclass
class Goal:
    goal: str
    measured: str
    verdict: str  # met | missed | not measured


@dataclass
class Section:
    name: str
    title: str
    date: str
    load: str  # load average before and after
    command: str  # markdown
    body: str  # markdown
    goals: list[Goal] = field(default_factory=list)
    buffer_pool: str = ""  # the server's innodb_buffer_pool_size during the run


def goal(text: str, measured: str, met: bool) -> Goal:
    return Goal(text, measured, "met" if met else "missed")


# --------------------------------------------------------------------------------------------- machine


def machine() -> dict[str, str]:
    (server, pool, infile, packet) = query(
        CHAIN_BASE, "select version(), @@innodb_buffer_pool_size, @@local_infile, @@max_allowed_packet"
    )[0]
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown",
    )  # fmt: skip
    return {
        "CPU": f"{cpu}: {psutil.cpu_count(logical=True)} logical cores",
        "RAM": f"{psutil.virtual_memory().total / 2**30:.1f} GiB",
        "OS": platform.platform(),
        "server": f"{server}; innodb_buffer_pool_size {int(pool) // MIB} MiB, local_infile"
        f" {'ON' if int(infile) else 'OFF'}, max_allowed_packet {int(packet) // MIB} MiB",
        "software": f"Python {platform.python_version()}; "
        + ", ".join(
            f"{d} {version(d)}"
            for d in ("dbt-core", "dbt-mysql", "mysql-connector-python", "pandas", "scikit-learn")
        ),
    }


def buffer_pool_mib() -> int:
    return int(query(CHAIN_BASE, "select @@innodb_buffer_pool_size")[0][0]) // MIB


def set_buffer_pool(mib: int, timeout_s: float = 120) -> None:
    """SET GLOBAL innodb_buffer_pool_size and wait until the server has resized the pool."""
    progress(f"server: innodb_buffer_pool_size {buffer_pool_mib()} → {mib} MiB …")
    query(CHAIN_BASE, f"set global innodb_buffer_pool_size = {int(mib) * MIB}")
    deadline = time.monotonic() + timeout_s
    while buffer_pool_mib() != mib:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the server did not resize its buffer pool to {mib} MiB in {timeout_s:.0f} s")
        time.sleep(0.5)


def load_average() -> str:
    return " / ".join(f"{v:.2f}" for v in os.getloadavg())


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def table(header: list[str], rows: list[list[str]], align: str | None = None) -> str:
    align = align or "l" + "r" * (len(header) - 1)
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---:" if a == "r" else "---" for a in align) + "|",
    ]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in rows])


# --------------------------------------------------------------------------------------------- the chain


def phase_of(unique_id: str) -> str:
    kind, _, name = unique_id.split(".", 2)
    if kind == "seed":
        return "seeds"
    if kind == "test":
        return "tests"
    if kind == "snapshot":
        return "snapshot"
    if name == "customer_segments":
        return "customer_segments (Python model)"
    return "staging / intermediate / marts models"


PHASES = (
    "seeds",
    "staging / intermediate / marts models",
    "customer_segments (Python model)",
    "snapshot",
    "tests",
)


def chain_run(
    folder: Path, copy: Path, label: str, base: str = CHAIN_BASE, extra: tuple[str, ...] = ()
) -> dict[str, float] | str:
    """One `olist-segments run --no-report [extra]` on `base` reading `copy` (a staged copy of `folder`):
    wall, check-data, build, per-phase sums and peak RSS (MiB); or, when it fails, what failed."""
    progress(f"chain: olist-segments run --no-report {shlex.join(extra)} ({label}) …")
    result = run(
        [OLIST_SEGMENTS, "run", "--no-report", *extra],
        env(base, copy),
        log=f"{base}_{label}",
        echo=STEP_LINE,
        check=False,
    )
    if changed := changed_files(folder, copy):
        progress(f"chain {label}: dbt WROTE OVER the seed CSVs it read: {', '.join(changed)}")
        return f"failed: dbt wrote over the seed CSVs it read ({', '.join(changed)}; a staged copy)"
    if result.returncode != 0:
        failures = dbt_failures(result.output) or [result.output.strip().splitlines()[-1]]
        progress(f"chain {label}: FAILED after {result.seconds:.1f} s: {'; '.join(failures)}")
        return f"failed after {result.seconds:.1f} s: {'; '.join(failures)}"
    steps = {m.group(1): float(m.group(2)) for m in re.finditer(r"^(check-data|build)\s+ok\s+([\d.]+)$",
                                                                 result.output, re.M)}  # fmt: skip
    times = {"wall": result.seconds, "check-data": steps["check-data"], "dbt build": steps["build"]}
    times["peak RSS (MiB)"] = result.peak_rss / MIB
    for r in run_results(base):
        name = phase_of(r["unique_id"])
        times[name] = times.get(name, 0.0) + float(r["execution_time"])
    progress(f"chain {label}: " + ", ".join(f"{k} {v:.1f}" for k, v in times.items()))
    return times


def segments_base(args: argparse.Namespace) -> str:
    """The base schema with the real customer_features and customer_segments: --segments-base, else
    CHAIN_BASE, built by the chain once if this invocation did not run it."""
    base = args.segments_base
    found = query(
        base,
        "select count(*) from information_schema.tables where table_schema = %s and table_name = %s",
        (f"{base}_ml", "customer_segments"),
    )
    if found[0][0]:
        return base
    if base != CHAIN_BASE:
        raise RuntimeError(f"{base}_ml.customer_segments does not exist")
    folder = data_dir(args.data_dir)
    with staged_copy(folder) as copy:
        if isinstance(failed := chain_run(folder, copy, "setup"), str):
            raise RuntimeError(f"olist-segments run {failed}")
    return base


def section_chain(args: argparse.Namespace) -> Section:
    folder = data_dir(args.data_dir)
    before = load_average()
    runs: dict[str, dict[str, float] | str] = {}
    with staged_copy(folder) as copy:
        for mode, extra in (("", ()), (" skip", SKIP_UNCHANGED)):
            drop_base(CHAIN_BASE)
            for label in ("cold", "warm"):
                runs[label + mode] = chain_run(folder, copy, label + mode, extra=extra)
    progress("chain floors: LOAD DATA of the 8 CSVs …")
    loads = floors.load_floor(folder)
    load_s = sum(t.seconds for t in loads)
    progress("chain floors: pandas customer_features …")
    read_s, compute_s, n_customers = floors.features_floor(folder)
    built = not isinstance(runs["cold skip"], str)  # the fit floor reads the base the last pair built
    k = (latest_run(CHAIN_BASE)["k"] or 4) if built else 4
    progress(f"chain floors: one KMeans fit, k={k} …")
    fit_s, fit_rows = floors.fit_floor(CHAIN_BASE, k) if built else (0.0, 0)
    after = load_average()

    def cell(label: str, name: str) -> str:
        times = runs[label]
        return "failed" if isinstance(times, str) else f"{times.get(name, 0.0):.1f}"

    labels = ("cold", "warm", "cold skip", "warm skip")
    rows = [
        [f"**{n}**" if n in ("wall", "dbt build") else n, *(cell(label, n) for label in labels)]
        for n in ["wall", "check-data", "dbt build", *PHASES, "peak RSS (MiB)"]
    ]
    failures = [f"The {label} run {times}." for label, times in runs.items() if isinstance(times, str)]
    floor_total = load_s + compute_s + fit_s
    body = "\n\n".join(
        [
            f"Data: {args.data_label} (`{folder}`, staged into a temporary copy that dbt reads). The first"
            " run is on a new base schema (cold: every schema and table is created), the second on"
            " the same one (warm: what a scheduled rerun does; check-data finds the files unchanged since"
            " they passed and does not read them again). `wall` is the clock around the process;"
            " check-data and `dbt build` are the pipeline's own step times; the phases are sums of dbt's"
            " per-node `execution_time` (target/bench_chain/run_results.json): dbt runs 2 nodes at a time,"
            " so the phase sums overlap and add up to more than the build. Peak RSS: the olist-segments"
            " process with dbt in it (wait4's ru_maxrss; the server's memory is not counted). *skip*: the"
            f" same pair on a new base schema with `{shlex.join(SKIP_UNCHANGED)}` (opt-in): the cold run"
            " records what each SQL table was built from, the warm one keeps the tables whose definition"
            " and inputs are unchanged (the tests and the segmentation model run as always).",
            table(["", *(f"{label} (s)" for label in labels)], rows),
            *failures,
            "Floors (same data, same server, no dbt):",
            table(
                ["floor", "seconds", "what"],
                [
                    [
                        "LOAD DATA LOCAL INFILE, 8 CSVs",
                        f"{load_s:.2f}",
                        f"{sum(t.rows for t in loads):,} rows into tables with the seeds' column types and"
                        f" indexes, one after the other ({sum(t.warnings for t in loads)} warnings)",
                    ],
                    [
                        "pandas customer_features",
                        f"{compute_s:.2f}",
                        f"{n_customers:,} customers from the CSVs, after {read_s:.2f} s of read_csv",
                    ],
                    [
                        "one KMeans fit",
                        f"{fit_s:.2f}",
                        f"k={k}, n_init 10, one thread, {fit_rows:,} customers",
                    ],
                    ["**sum**", f"{floor_total:.2f}", "what the chain cannot go below with this design"],
                ],
                "lrl",
            ),
        ]
    )
    command = (
        f"`DBT_SCHEMA={CHAIN_BASE} OLIST_DATA_DIR=<copy of {folder}> DBT_TARGET_PATH=target/{CHAIN_BASE}"
        " .venv/bin/olist-segments run --no-report`, twice, then twice with"
        f" `{shlex.join(SKIP_UNCHANGED)}` on a new base schema; floors: `benchmarks/floors.py` (load_floor,"
        " features_floor, fit_floor)"
    )
    goals = []
    for label, limit in (("warm", 30), ("cold", 40), ("warm skip", 30), ("cold skip", 40)):
        times = runs[label]
        mode = ", skip_unchanged_tables (opt-in)" if label.endswith("skip") else ""
        text = f"whole chain, {label.split()[0]}{mode} ≤ {limit} s"
        if isinstance(times, str):
            goals.append(goal(text, f"the run {times.split(':')[0]}", False))
        else:
            goals.append(goal(text, f"{times['wall']:.1f} s", times["wall"] <= limit))
    return Section("chain", "1. The whole chain", now(), f"{before} → {after}", command, body, goals)


# --------------------------------------------------------------------------------------------- loading


def seed_once(copy: Path, label: str) -> tuple[float, dict[str, dict[str, Any]]]:
    cmd = [DBT, "--no-use-colors", "seed", "--select", *OLIST_TABLES, "--threads", "1"]
    cmd += ["--project-dir", str(ROOT)]
    progress(f"load: dbt seed of the 8 Olist tables ({label}) …")
    result = run(cmd, env(LOAD_BASE, copy), log=f"seed_{label}", echo=SEED_LINE)
    nodes = {r["unique_id"].split(".")[-1]: r for r in run_results(LOAD_BASE)}
    return result.seconds, nodes


def section_load(args: argparse.Namespace) -> Section:
    folder = data_dir(args.data_dir)
    drop_base(LOAD_BASE)
    before = load_average()
    try:
        with staged_copy(folder) as copy:
            first_wall, first = seed_once(copy, "first")
            second_wall, second = seed_once(copy, "unchanged")
            if changed := changed_files(folder, copy):
                raise RuntimeError(f"dbt seed wrote over the seed CSVs it read: {', '.join(changed)}")
        counts = {
            t: int(query(LOAD_BASE, f"select count(*) from {db.qualified(f'{LOAD_BASE}_raw', t)}")[0][0])
            for t in OLIST_TABLES
        }
    finally:
        drop_base(LOAD_BASE)
    progress("load: LOAD DATA floor …")
    floor = {t.table: t for t in floors.load_floor(folder)}
    after = load_average()

    def rows_of(node: dict[str, Any]) -> int:
        return int((node.get("adapter_response") or {}).get("rows_affected") or 0)

    rows = []
    for t in OLIST_TABLES:
        seconds = float(first[t]["execution_time"])
        rows.append(
            [
                t,
                f"{floor[t].rows:,}",
                f"{floor[t].seconds:.2f}",
                f"{seconds:.2f}",
                f"{seconds / floor[t].seconds:.1f}x",
                f"{float(second[t]['execution_time']):.2f} ({rows_of(second[t]):,} rows loaded,"
                f" {counts[t]:,} in the table)",
            ]
        )
    seed_sum = sum(float(first[t]["execution_time"]) for t in OLIST_TABLES)
    floor_sum = sum(t.seconds for t in floor.values())
    second_sum = sum(float(second[t]["execution_time"]) for t in OLIST_TABLES)
    rows.append(
        [
            "**sum of tables**",
            f"{sum(t.rows for t in floor.values()):,}",
            f"{floor_sum:.2f}",
            f"{seed_sum:.2f}",
            f"{seed_sum / floor_sum:.1f}x",
            f"{second_sum:.2f}",
        ]
    )
    rows.append(
        [
            "**dbt seed wall**",
            "",
            "",
            f"{first_wall:.2f}",
            f"{first_wall / floor_sum:.1f}x",
            f"{second_wall:.2f}",
        ]
    )
    reloaded = [t for t in OLIST_TABLES if rows_of(second[t]) > 0]
    # a skip counts only if the table still holds every row of the file
    lost = [t for t in OLIST_TABLES if counts[t] != floor[t].rows]
    body = "\n\n".join(
        [
            "The project's seed materialization for the plugin types (adapters/mysql_python,"
            " macros/seeds/seed.sql, as it was at the time of the run) vs the LOAD DATA floor"
            " (benchmarks/floors.py: typed, indexed tables, no dbt). One table at a time on both sides"
            " (`--threads 1`); per-table times are dbt's `execution_time`, the wall time adds dbt's start-up"
            " and parsing.",
            table(
                [
                    "table",
                    "rows",
                    "LOAD DATA (s)",
                    "dbt seed (s)",
                    "vs floor",
                    "2nd seed, unchanged file (s)",
                ],
                rows,
            ),
            f"Data: {args.data_label} (`{folder}`, staged into a temporary copy that dbt reads). Second"
            f" `dbt seed` of the unchanged files: {len(reloaded)} of {len(OLIST_TABLES)} tables loaded again"
            " (rows_affected in run_results.json)"
            + (
                f"; after it, {len(lost)} table(s) no longer hold the file's rows: {', '.join(lost)}."
                if lost
                else "; every table holds the file's rows afterwards."
            ),
        ]
    )
    command = (
        f"`DBT_SCHEMA={LOAD_BASE} OLIST_DATA_DIR=<copy of {folder}> .venv/bin/dbt seed --select"
        " <the 8 Olist tables> --threads 1`, twice on a new base schema; floor: `benchmarks/floors.py`"
        " (load_floor)"
    )
    goals = [
        goal(
            "dbt seed of the 8 Olist tables within 3x of the LOAD DATA floor (sum of per-table times)",
            f"{seed_sum / floor_sum:.1f}x ({seed_sum:.1f} s vs {floor_sum:.1f} s; wall {first_wall:.1f} s)",
            seed_sum <= 3 * floor_sum,
        ),
        goal(
            "an unchanged file is skipped on the second run",
            f"{len(reloaded)}/{len(OLIST_TABLES)} tables reloaded ({second_sum:.1f} s)"
            + (f", {len(lost)} left without the file's rows" if lost else ""),
            not reloaded and not lost,
        ),
    ]
    return Section("load", "2. Loading the Olist tables", now(), f"{before} → {after}", command, body, goals)


# --------------------------------------------------------------------------------------------- segment


def choose_k_real(base: str) -> tuple[dict[str, Any], float]:
    """A refit of customer_segments on <base>'s real mart: the registry row and dbt's execution_time."""
    cmd = [DBT, "--no-use-colors", "run", "-s", "customer_segments", "--project-dir", str(ROOT)]
    cmd += ["--vars", json.dumps({"segment_refit": "always"})]
    progress("segment: dbt run -s customer_segments --vars '{segment_refit: always}' on the real data …")
    run(cmd, env(base), log="segment_real", echo=scale.MODEL_LINE)
    (node,) = [r for r in run_results(base) if r["unique_id"].endswith(".customer_segments")]
    return latest_run(base), float(node["execution_time"])


def section_segment(args: argparse.Namespace) -> Section:
    base = segments_base(args)
    before = load_average()
    real, model_s = choose_k_real(base)
    metrics = real["metrics"]
    timings = metrics.get("timings_s", {})
    per_k = metrics.get("per_k", [])
    sizes = sorted(int(s) for s in args.scale_sizes.split(","))
    results = [scale.measure(n) for n in sizes]
    scale.plot(results, PLOT)
    after = load_average()
    choose = float(timings.get("choose_k", 0.0))
    k_rows = [
        [
            str(s["k"]),
            f"{s['seconds']:.2f}",
            f"{s['inertia']:,.1f}",
            "n/a" if s["silhouette"] is None else f"{s['silhouette']:.3f}",
            "**chosen**" if s["k"] == real["k"] else "",
        ]
        for s in per_k
    ]
    fits_sum = sum(float(s["seconds"]) for s in per_k)
    scale_rows = [
        [
            f"{r.customers:,}",
            f"{r.synth_s:.1f}",
            f"{r.wall_s:.1f}",
            f"{r.model_s:.1f}",
            f"{r.timings.get('read', 0.0):.1f}",
            f"{r.timings.get('choose_k', 0.0):.1f}",
            f"{r.timings.get('read_score_load', 0.0):.1f}",
            f"{r.timings.get('compare', 0.0):.1f}",
            f"{r.peak_rss / MIB:,.0f}",
            f"{r.fit_rows:,}",
            f"{r.search_rows:,}",
            str(r.k),
        ]
        for r in results
    ]
    body = "\n\n".join(
        [
            f"**Choose-k on the real data** ({real['customers']:,} customers; mode"
            f" {metrics.get('mode')}, k={real['k']}, rule: {metrics.get('rule')}). The model's own phase"
            " times (segment_model_runs.metrics.timings_s): "
            + ", ".join(f"{n} {float(s):.2f} s" for n, s in timings.items())
            + f"; dbt's execution_time of the model {model_s:.2f} s. choose_k = scaling + one KMeans fit per"
            f" k (n_init 10, one thread each, 2 at a time) + the silhouettes of every k on one shared sample."
            f" Per-k fit seconds (metrics.per_k) add up to {fits_sum:.2f} s of fitting (in parallel); the"
            " registry records no separate time for the silhouettes.",
            table(["k", "fit (s)", "inertia", "silhouette", ""], k_rows, "rrrrl"),
            "**Scale**: per N, `olist-harness synth-features --customers N --schema-base"
            " bench_scale_<N>`, then `DBT_SCHEMA=bench_scale_<N> dbt run -s customer_segments` (first run:"
            " refit). Wall and peak RSS are the dbt process's (wait4 ru_maxrss); the phases are the model's"
            " timings_s (read = pass 1 into the fit sample; choose k = the fits of every k on at most"
            " segment_k_search_rows (200k) of the fit rows, then the chosen k on all of them; pass 2 = read +"
            " score + load, each chunk's LOAD DATA overlapping the next chunk's read and score).",
            table(
                [
                    "customers",
                    "synth-features (s)",
                    "dbt run wall (s)",
                    "model (s)",
                    "pass 1 read",
                    "choose k",
                    "pass 2",
                    "compare",
                    "peak RSS (MiB)",
                    "fit rows",
                    "k chosen on",
                    "k",
                ],
                scale_rows,
            ),
            "![wall time and peak RSS vs customers](scale.png)",
        ]
    )
    command = (
        f"`DBT_SCHEMA={base} .venv/bin/dbt run -s customer_segments --vars '{{segment_refit: always}}'`"
        f" on the real customer_features ({base}_marts); `.venv/bin/python benchmarks/scale.py --sizes"
        f" {args.scale_sizes}` (per N:"
        " synth-features, then `dbt run -s customer_segments`)"
    )
    goals = [goal("choose-k on the real data ≤ 3 s", f"{choose:.2f} s", choose <= 3)]
    five = next((r for r in results if r.customers == 5_000_000), None)
    if five is None:
        goals.append(Goal("customer_segments on 5 M customers ≤ 60 s", "not run this time", "not measured"))
    else:
        goals.append(
            goal("customer_segments on 5 M customers ≤ 60 s", f"{five.wall_s:.1f} s", five.wall_s <= 60)
        )
    return Section("segment", "3. The segment step", now(), f"{before} → {after}", command, body, goals)


# --------------------------------------------------------------------------------------------- publish


def section_publish(args: argparse.Namespace) -> Section:
    base = segments_base(args)
    before = load_average()
    result = publish_compare.compare(base, args.publish_repeats, args.loop_rows)
    after = load_average()
    medians = result.medians()
    ours = medians[publish_compare.METHODS["infile"]]
    to_sql = medians[publish_compare.TO_SQL]
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
    body = "\n\n".join(
        [
            f"The same {result.rows:,} rows ({base}_ml.customer_segments, the real segments) for every"
            " method, into a throwaway bench_pub_ml. TableWriter: `create table … like` the published"
            " table (primary key), then chunks of 50,000 (what the adapter does with the model's chunks; the"
            " RENAME swap is not timed). to_sql: `if_exists='replace', chunksize=10_000, index=False` on a"
            " `mysql+mysqlconnector://` engine, no primary key. UPDATE loop: one statement per customer on a"
            f" pre-filled keyed table, one commit, timed on a random {result.loop_rows:,}-row subset"
            f" ({result.loop_per_row * 1e3:.3f} ms per row) and extrapolated.",
            table(["method", "seconds (median)", "rows/s", "vs LOAD DATA", "runs (s)"], rows, "lrrrl"),
        ]
    )
    command = (
        f"`.venv/bin/python benchmarks/publish_compare.py --source-base {base} --repeats"
        f" {args.publish_repeats} --loop-rows {args.loop_rows}`"
    )
    goals = [
        goal(
            "publishing (TableWriter, LOAD DATA) ≥ 5x faster than pandas to_sql",
            f"{to_sql / ours:.1f}x ({ours:.2f} s vs {to_sql:.2f} s)",
            to_sql / ours >= 5,
        )
    ]
    return Section(
        "publish", "4. Publishing the segments", now(), f"{before} → {after}", command, body, goals
    )


# --------------------------------------------------------------------------------------------- dask


def section_dask(args: argparse.Namespace) -> Section:
    base = segments_base(args)
    before = load_average()
    workers = [1, 2]
    real = dask_compare.compare(base, workers)
    synthetic, synth_s = dask_compare.synthetic(args.dask_customers, workers)
    after = load_average()
    n = f"{args.dask_customers:,}"
    body = "\n\n".join(
        [
            "Every measured run is a refit (`--vars '{segment_refit: always}'`: pass 1, choose k, pass 2,"
            " compare) after an unmeasured local run that published the model it is compared with. Dask: a"
            " new localhost cluster per run (a scheduler and W one-thread worker processes; their modules"
            " imported first, as on a long-lived cluster: a fresh scheduler or worker spends ~6 s importing"
            " dbt-core and scikit-learn), `DASK_SCHEDULER_ADDRESS` and `segment_submission_method: dask`, two"
            " key ranges per worker. Wall and RSS: the dbt process (wait4 ru_maxrss) and each worker"
            " (VmHWM). *Differing*: customers whose segment id or distance is not bit-identical to the local"
            " run's.",
            f"**Real data** ({base}_marts.customer_features):",
            table(dask_compare.HEADER, dask_compare.rows(real)),
            f"**{n} synthetic customers** (synth-features {synth_s:.0f} s):",
            table(dask_compare.HEADER, dask_compare.rows(synthetic)),
        ]
    )
    command = (
        f"`.venv/bin/python benchmarks/dask_compare.py --base {base} --customers {args.dask_customers}`"
        " (what this section runs)"
    )
    same_real = all(r.differing == 0 for r in real if r.workers)
    same_synth = all(r.differing == 0 for r in synthetic if r.workers)
    goals = [
        goal("dask publishes the same assignments as local: real data", "0 differing" if same_real
             else "differences", same_real),
        goal(f"dask publishes the same assignments as local: {n} customers", "0 differing" if same_synth
             else "differences", same_synth),
    ]  # fmt: skip
    return Section("dask", "5. Dask submission method", now(), f"{before} → {after}", command, body, goals)


# --------------------------------------------------------------------------------------------- check


def section_check(args: argparse.Namespace) -> Section:
    before = load_average()
    results = check_compare.compare(data_dir(args.data_dir))  # check-data only reads the folder
    after = load_average()
    rows = [
        [
            m.label,
            f"{m.bytes / MIB:,.0f}",
            f"{m.check_seconds:.1f}",
            f"{m.check_rss / MIB:,.0f}",
            f"{m.parse_seconds:.1f}",
            f"{m.parse_rss / MIB:,.0f}",
            f"{m.ratio:.1f}x",
        ]
        for m in results
    ]
    body = "\n\n".join(
        [
            f"Data: {args.data_label} (1x) and `olist-harness scale-data --factor 10` (10x), the 8 tables"
            " check-data reads (geolocation skipped, as by default). Each figure is a new process: the"
            " console script as a user runs it, and a Python process that only parses the same files with"
            " pandas' C parser (`read_csv(dtype=str, keep_default_na=False)`). check-data parses a file with"
            " pandas' C parser too once numpy has found its quoting plain (every quote opens, closes or"
            " doubles inside a field; every record has the header's commas), otherwise with the csv module"
            " (strict quoting, line numbers for every problem); it keeps per file only the columns the"
            " foreign-key checks read and checks values on their distinct values.",
            table(
                ["data", "CSV MiB", "check-data (s)", "peak MiB", "pandas parse (s)", "peak MiB", "ratio"],
                rows,
                "lrrrrrr",
            ),
        ]
    )
    ten = results[-1]
    goals = [
        goal(
            f"check-data at {ten.label} within 3x of a plain pandas parse",
            f"{ten.ratio:.1f}x ({ten.check_seconds:.1f} s vs {ten.parse_seconds:.1f} s)",
            ten.ratio <= 3,
        ),
        goal(
            f"check-data at {ten.label}: peak memory ≤ 2 GiB",
            f"{ten.check_rss / MIB:,.0f} MiB",
            ten.check_rss <= 2048 * MIB,
        ),
    ]
    return Section(
        "check",
        "6. Checking the CSVs",
        now(),
        f"{before} → {after}",
        "`.venv/bin/python benchmarks/check_compare.py`",
        body,
        goals,
    )


# --------------------------------------------------------------------------------------------- scale


def scale_plot(results: dict[float, dict[str, dict[str, float] | str]], path: Path) -> None:
    """Wall time and peak RSS of the whole chain (cold and warm) against the data's size."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for label, marker in (("cold", "o"), ("warm", "s")):
        done = [(f, r[label]) for f, r in sorted(results.items()) if not isinstance(r[label], str)]
        factors = [f for f, _ in done]
        left.plot(factors, [t["wall"] for _, t in done], marker=marker, label=f"{label}: wall")
        left.plot(
            factors, [t["dbt build"] for _, t in done], marker=marker, ls=":", label=f"{label}: dbt build"
        )
        right.plot(factors, [t["peak RSS (MiB)"] for _, t in done], marker=marker, label=label)
    left.axhline(180, color="red", lw=0.8, ls="--", label="goal at 10x: 3 min")
    left.set(xlabel="data size (x Olist)", ylabel="seconds", title="Whole chain: wall time vs size")
    right.axhline(2048, color="red", lw=0.8, ls="--", label="goal: 2 GiB per process")
    right.set(xlabel="data size (x Olist)", ylabel="MiB", title="Peak RSS of the olist-segments process")
    for ax in (left, right):
        ax.set_xscale("log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def section_scale(args: argparse.Namespace) -> Section:
    factors = sorted({float(f) for f in args.scale_factors.split(",") if f.strip()})
    before = load_average()
    results: dict[float, dict[str, dict[str, float] | str]] = {}
    for factor in factors:
        drop_base(SCALE_BASE)
        with scaled_folder(factor) as folder:
            results[factor] = {
                label: chain_run(folder, folder, f"{factor:g}x_{label}", SCALE_BASE)
                for label in ("cold", "warm")
            }
    drop_base(SCALE_BASE)
    after = load_average()
    scale_plot(results, SCALE_PLOT)

    def cell(factor: float, label: str, name: str) -> str:
        times = results[factor][label]
        return "failed" if isinstance(times, str) else f"{times.get(name, 0.0):,.1f}"

    names = ["wall", "check-data", "dbt build", *PHASES, "peak RSS (MiB)"]
    header = ["", *(f"{f:g}x {label} (s)" for f in factors for label in ("cold", "warm"))]
    rows = [[n, *(cell(f, label, n) for f in factors for label in ("cold", "warm"))] for n in names]
    failures = [
        f"The {f:g}x {label} run {times}."
        for f, runs in results.items()
        for label, times in runs.items()
        if isinstance(times, str)
    ]
    body = "\n\n".join(
        [
            "Data: `olist-harness scale-data --factor N` (the synthetic Olist-shaped folder, N times the real"
            " size, deterministic), a new base schema per size; cold then warm `olist-segments run"
            " --no-report`, as in section 1. Peak RSS is in MiB (the olist-segments process with dbt in it).",
            table(header, rows),
            *failures,
            f"![wall time and memory against the size]({SCALE_PLOT.name})",
        ]
    )
    if 10.0 in results and not isinstance(ten := results[10.0]["cold"], str):
        goals = [
            goal("10x Olist whole chain ≤ 3 min (cold)", f"{ten['wall']:.0f} s", ten["wall"] <= 180),
            goal(
                "10x Olist: peak memory of the olist-segments process ≤ 2 GiB",
                f"{ten['peak RSS (MiB)']:,.0f} MiB",
                ten["peak RSS (MiB)"] <= 2048,
            ),
        ]
    else:
        goals = [
            Goal(
                "10x Olist whole chain ≤ 3 min (cold)", "not run (--scale-factors without 10)", "not measured"
            )
        ]
    command = (
        f"`olist-harness scale-data --factor N --out DIR`, then `DBT_SCHEMA={SCALE_BASE} OLIST_DATA_DIR=DIR"
        " .venv/bin/olist-segments run --no-report` twice, for N in " + ", ".join(f"{f:g}" for f in factors)
    )
    return Section("scale", "7. The chain at scale", now(), f"{before} → {after}", command, body, goals)


# --------------------------------------------------------------------------------------------- RESULTS.md


def previous() -> tuple[dict[str, Section], str]:
    """The sections and the note of the current RESULTS.md (an older format keeps nothing)."""
    if not RESULTS.is_file():
        return {}, ""
    text = RESULTS.read_text(encoding="utf-8")
    start = text.find(DATA_MARK)
    if start < 0:
        return {}, ""
    try:
        raw = json.loads(text[start + len(DATA_MARK) : text.index("-->", start)])
        sections = {
            name: Section(**{**s, "goals": [Goal(**g) for g in s["goals"]]})
            for name, s in raw["sections"].items()
            if name in SECTIONS
        }
        return sections, str(raw.get("note", ""))
    except (ValueError, TypeError, KeyError):
        return {}, ""


def render(info: dict[str, str], sections: dict[str, Section], note: str) -> str:
    ordered = [sections[n] for n in SECTIONS if n in sections]
    out = [
        "# Benchmarks",
        "",
        "Generated by `make bench` (`.venv/bin/python benchmarks/run.py`); do not edit by hand. Each section"
        " names the command behind its figures and the load average before → after it: the machine may be"
        " shared with other work, the load average says how busy it was.",
        "",
        *([f"**Note:** {note}", ""] if note else []),
        "## Machine",
        "",
        table(["", ""], [[k, v] for k, v in info.items()], "ll"),
        "",
    ]
    for s in ordered:
        out += [
            f"## {s.title}",
            "",
            f"Run {s.date}; load average (1 / 5 / 15 min, {psutil.cpu_count()} cores) {s.load}"
            + (f"; the server's innodb_buffer_pool_size {s.buffer_pool}." if s.buffer_pool else "."),
            "",
            f"Command: {s.command}.",
            "",
            table(
                ["goal", "measured", ""],
                [[g.goal, g.measured, f"**{g.verdict}**"] for g in s.goals],
                "lll",
            ),
            "",
            s.body,
            "",
        ]
    payload = json.dumps(
        {"note": note, "sections": {s.name: asdict(s) for s in ordered}}, indent=1, ensure_ascii=False
    )
    out += [DATA_MARK, payload.replace("-->", "--\\u003e"), "-->", ""]
    return "\n".join(out)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help=f"comma-separated: {','.join(SECTIONS)}")
    parser.add_argument("--data-dir", help="Olist CSVs (default OLIST_DATA_DIR, else ../shared/olist)")
    parser.add_argument(
        "--data-label", default="the real Kaggle CSVs", help="what --data-dir holds, for RESULTS.md"
    )
    parser.add_argument(
        "--segments-base",
        default=CHAIN_BASE,
        help=f"base schema with the real customer_features and customer_segments for segment and publish"
        f" (default {CHAIN_BASE}: built by the chain)",
    )
    parser.add_argument(
        "--note", help="a note for the top of RESULTS.md (kept until replaced; '' removes it)"
    )
    parser.add_argument("--scale-sizes", default="250000,1000000,5000000", help="synthetic customer counts")
    parser.add_argument(
        "--scale-factors", default="1,10", help="sizes of the scaled Olist folders for scale (1,10)"
    )
    parser.add_argument(
        "--dask-customers", type=int, default=5_000_000, help="synthetic customers for dask (5000000)"
    )
    parser.add_argument("--publish-repeats", type=int, default=3, help="runs of each publish method (3)")
    parser.add_argument(
        "--loop-rows", type=int, default=publish_compare.LOOP_ROWS, help="UPDATE-loop subset (5000)"
    )
    parser.add_argument(
        "--buffer-pool",
        type=int,
        metavar="MIB",
        help="set the server's innodb_buffer_pool_size to MIB for this run and back afterwards (SET GLOBAL;"
        " scripts/warehouse.sh starts the project's own server with 1024)",
    )
    parser.add_argument(
        "--keep", action="store_true", help=f"keep {CHAIN_BASE} (the real-data chain) at the end"
    )
    args = parser.parse_args()
    only = [s.strip() for s in args.only.split(",") if s.strip()]
    if unknown := [s for s in only if s not in SECTIONS]:
        parser.error(f"unknown section {unknown[0]!r}: choose from {', '.join(SECTIONS)}")
    data_dir(args.data_dir)  # fail early without the real CSVs
    info = machine()
    sections, note = previous()
    note = note if args.note is None else args.note
    runners: dict[str, Callable[[argparse.Namespace], Section]] = {
        "chain": section_chain,
        "load": section_load,
        "segment": section_segment,
        "publish": section_publish,
        "dask": section_dask,
        "check": section_check,
        "scale": section_scale,
    }
    start, failed = time.monotonic(), []
    pool_before = buffer_pool_mib()
    try:
        if args.buffer_pool:
            set_buffer_pool(args.buffer_pool)
        for name in (n for n in SECTIONS if n in only):
            progress(f"== section {name} ==")
            try:
                sections[name] = replace(runners[name](args), buffer_pool=f"{buffer_pool_mib()} MiB")
            except Exception as exc:  # the other sections still run; RESULTS.md keeps this one's last result
                failed.append(name)
                progress(f"== section {name} FAILED: {type(exc).__name__}: {exc}")
                continue
            RESULTS.write_text(render(info, sections, note), encoding="utf-8")
            progress(f"== section {name} done; {RESULTS.relative_to(ROOT)} written ==")
    finally:
        if not args.keep:
            drop_base(CHAIN_BASE)
        if args.buffer_pool:
            set_buffer_pool(pool_before)
    missed = [g.goal for s in sections.values() for g in s.goals if g.verdict != "met"]
    progress(
        f"done in {time.monotonic() - start:.0f} s; "
        + (f"not met: {'; '.join(missed)}" if missed else "every goal met")
        + (f"; FAILED (not updated): {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
