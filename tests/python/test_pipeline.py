"""`olist-segments run` end to end on the bundled sample, the pipeline lock, and the lineage diagram."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from olist_segments import cli, db, lineage, settings
from projectkit import ROOT, query, run_dbt


def olist_segments(
    *args: str, wh: settings.Warehouse, target: str = "mariadb", data_dir: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """The console script as a user runs it, into base schema wh.schema (default: on the bundled sample)."""
    env = {k: v for k, v in os.environ.items() if k != "OLIST_DATA_DIR"}
    env |= {"DBT_SCHEMA": wh.schema, "DBT_TARGET": target, "DBT_PROFILES_DIR": str(ROOT)}
    if data_dir:
        env["OLIST_DATA_DIR"] = str(data_dir)
    env |= {"DBT_TARGET_PATH": str(target_path(wh)), "DBT_LOG_PATH": str(target_path(wh))}
    cmd = [sys.executable, "-m", "olist_segments.cli", *args]
    return subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)


def target_path(wh: settings.Warehouse) -> Path:
    return ROOT / "target" / f"pytest_{wh.schema}"


def assert_chain_consistent(wh: settings.Warehouse) -> int:
    """The marts agree with customer_features and the published segments; returns the number of customers."""
    marts, ml = wh.schema_for("marts"), wh.schema_for("ml")
    conn = db.connect(wh)
    features_sql = f"select customer_unique_id from {db.qualified(marts, 'customer_features')}"
    features = {c for (c,) in query(conn, features_sql)}
    dim = query(
        conn, f"select customer_unique_id, segment_id, run_id from {db.qualified(marts, 'dim_customers')}"
    )
    published = query(
        conn, f"select customer_unique_id, segment_id, run_id from {db.qualified(ml, 'customer_segments')}"
    )
    assert features and len(dim) == len(features)
    assert set(dim) == set(published) and {c for c, *_ in dim} == features
    (k,) = query(
        conn,
        f"select r.k from {db.qualified(ml, 'segment_model_runs')} r "
        f"join {db.qualified(ml, 'customer_segments')} s using (run_id) limit 1",
    )[0]
    summary = query(
        conn,
        "select segment_id, customers, customer_share, revenue, revenue_share "
        f"from {db.qualified(marts, 'segment_summary')} order by segment_id",
    )
    assert [s for s, *_ in summary] == list(range(1, k + 1))
    assert sum(n for _, n, *_ in summary) == len(features)
    (revenue,) = query(conn, f"select sum(monetary) from {db.qualified(marts, 'customer_features')}")[0]
    assert sum(r for *_, r, _ in summary) == revenue
    assert sum(s for _, _, s, _, _ in summary) == pytest.approx(1, abs=1e-6)
    assert sum(s for *_, s in summary) == pytest.approx(1, abs=1e-6)
    conn.close()
    return len(features)


def snapshot_state(wh: settings.Warehouse) -> tuple[int, list[tuple]]:
    conn = db.connect(wh)
    (versions,) = query(
        conn, f"select count(*) from {db.qualified(wh.schema_for('snapshots'), 'customer_segments_snapshot')}"
    )[0]
    transitions = query(
        conn,
        "select generation, transition_type, from_segment_id, to_segment_id, customers "
        f"from {db.qualified(wh.schema_for('marts'), 'segment_transitions')} order by 1, 2, 3, 4",
    )
    conn.close()
    return versions, transitions


class BIReader(threading.Thread):
    """A dashboard: polls the BI tables without pause and records every failed query and every row count."""

    TABLES = ("dim_customers", "segment_summary")

    def __init__(self, wh: settings.Warehouse) -> None:
        super().__init__(daemon=True)
        self.wh, self.stop = wh, threading.Event()
        self.queries, self.failures, self.counts = 0, [], {t: set() for t in self.TABLES}

    def run(self) -> None:
        conn = db.connect(self.wh)
        cur = conn.cursor()
        while not self.stop.is_set():
            for table in self.TABLES:
                try:
                    cur.execute(f"select count(*) from {db.qualified(self.wh.schema_for('marts'), table)}")
                    self.counts[table].add(cur.fetchone()[0])
                except Exception as exc:  # any failure is what the test looks for
                    self.failures.append(f"{table}: {exc}")
                self.queries += 1  # no pause: a gap of a few milliseconds between two statements is caught
        conn.close()


@pytest.mark.slow
def test_run_end_to_end_then_rerun_under_bi_load(scratch: settings.Warehouse) -> None:
    first = olist_segments("run", wh=scratch)
    assert first.returncode == 0, first.stdout[-5000:] + first.stderr[-5000:]
    log = first.stdout + first.stderr
    for i, step in enumerate(["build", "report"], 1):
        assert f"[{i}/2] {step}" in log
    for step in ("build", "report", "total"):  # the durations table
        assert re.search(rf"^{step} +(ok +)?\d+\.\d$", first.stdout, re.MULTILINE), step
    assert "dbt | " in first.stdout and "OK created python table model" in first.stdout  # ONE dbt build
    assert first.stdout.count("Running with dbt=") == 1
    customers = assert_chain_consistent(scratch)
    versions, transitions = snapshot_state(scratch)
    assert versions == customers
    assert {(g, t, f) for g, t, f, _, _ in transitions} == {(1, "new", None)}
    assert sum(n for *_, n in transitions) == customers

    # Second whole run while a dashboard reads: never a failed query, never a partial table. The same data
    # and seed give the same assignment, so the snapshot adds no version and no generation.
    reader = BIReader(scratch)
    reader.start()
    second = olist_segments("run", wh=scratch)
    reader.stop.set()
    reader.join()
    assert second.returncode == 0, second.stdout[-5000:] + second.stderr[-5000:]
    assert reader.queries > 100 and reader.failures == []
    assert reader.counts["dim_customers"] == {customers}
    assert len(reader.counts["segment_summary"]) == 1  # the same k, never a half-built table
    assert assert_chain_consistent(scratch) == customers
    assert snapshot_state(scratch) == (versions, transitions)

    # A failing step stops the chain, names the step, and leaves what was published in place.
    conn = db.connect(scratch)
    published = query(
        conn, f"select run_id from {db.qualified(scratch.schema_for('ml'), 'customer_segments')}"
    )
    failed = olist_segments("run", "--k", "100000", wh=scratch)  # more segments than customers
    assert failed.returncode != 0
    assert "step 'build' failed" in failed.stderr, failed.stdout[-3000:] + failed.stderr[-3000:]
    assert "FAIL 1 assert_enough_customers_to_segment" in failed.stdout
    assert "[2/2] report" not in failed.stderr
    assert (
        query(conn, f"select run_id from {db.qualified(scratch.schema_for('ml'), 'customer_segments')}")
        == published
    )
    conn.close()
    assert assert_chain_consistent(scratch) == customers


@pytest.mark.slow
def test_plain_dbt_build_is_the_whole_workflow_mysql_type(scratch: settings.Warehouse) -> None:
    """A new schema, plain `dbt build` through the mysql_python type: everything, the Python model included,
    in DAG order; then `dbt build -s customer_segments+` refits and rebuilds only what depends on it."""
    build = run_dbt("build", schema=scratch.schema, target="mysql")
    assert "ERROR=0" in build.stdout and "SKIP=0" in build.stdout
    customers = assert_chain_consistent(scratch)
    versions, transitions = snapshot_state(scratch)
    assert versions == customers and sum(n for *_, n in transitions) == customers

    manifest = json.loads((target_path(scratch) / "manifest.json").read_text())
    node = manifest["nodes"]["model.olist_segments.customer_segments"]
    assert node["language"] == "python" and node["config"]["materialized"] == "table"
    assert set(node["depends_on"]["nodes"]) == {
        "model.olist_segments.customer_features",
        "seed.olist_segments.segment_definitions",
    }
    children = set(manifest["child_map"]["model.olist_segments.customer_segments"])
    assert {
        "model.olist_segments.dim_customers",
        "snapshot.olist_segments.customer_segments_snapshot",
    } <= children

    conn = db.connect(scratch)
    segments = db.qualified(scratch.schema_for("ml"), "customer_segments")
    (before,) = query(conn, f"select distinct run_id from {segments}")
    run_dbt("build", "--select", "customer_segments+", schema=scratch.schema, target="mysql")
    (after,) = query(conn, f"select distinct run_id from {segments}")
    conn.close()
    assert after != before  # refitted and published
    results = json.loads((target_path(scratch) / "run_results.json").read_text())["results"]
    built = {r["unique_id"].split(".")[-1] for r in results if not r["unique_id"].startswith("test.")}
    assert built == {
        "customer_segments",
        "stg_ml__segment_model_runs",
        "dim_customers",
        "segment_summary",
        "customer_segments_snapshot",
        "segment_transitions",
        "segment_rfm_crosswalk",
        "segment_runs",
        "stg_ml__run_segments",
        "int_segment_moves_aggregated_to_generations",
    }


def test_run_refuses_while_another_run_holds_the_lock(scratch: settings.Warehouse) -> None:
    """The schema's writer lock is dbt's (on-run-start): `olist-segments run` waits --wait seconds for it."""
    conn = db.connect(scratch)
    (got,) = query(conn, "select get_lock(%s, 0)", (f"olist_segments:{scratch.schema}",))[0]
    assert got == 1
    start = time.monotonic()
    proc = olist_segments("run", "--wait", "1", wh=scratch)
    conn.close()
    assert proc.returncode == 1
    assert "another run is writing to this schema" in proc.stdout and "waited 1 s" in proc.stdout
    assert "step 'build' failed" in proc.stderr and "[2/2] report" not in proc.stderr
    assert "OK created" not in proc.stdout  # nothing ran
    assert time.monotonic() - start < 60


def test_run_stops_at_check_data_naming_the_step(scratch: settings.Warehouse, tmp_path: Path) -> None:
    """With OLIST_DATA_DIR, check-data runs first: a broken folder stops the chain before anything loads."""
    (tmp_path / "olist_orders_dataset.csv").write_text("order_id\n1\n")
    proc = olist_segments("run", wh=scratch, data_dir=tmp_path)
    assert proc.returncode == 1
    assert "[1/3] check-data" in proc.stderr and "step 'check-data' failed" in proc.stderr
    assert "[2/3] build" not in proc.stderr
    conn = db.connect(scratch)
    assert query(conn, "show databases like %s", (f"{scratch.schema}\\_%",)) == []
    conn.close()


@pytest.fixture(scope="module")
def manifest_file(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    path = tmp_path_factory.mktemp("lineage") / "manifest.json"
    path.write_text(json.dumps(lineage.parse_manifest()))
    yield path


def test_lineage_diagram_covers_the_chain(manifest_file: Path) -> None:
    nodes, edges = lineage.graph(json.loads(manifest_file.read_text()))
    group = {name: g for g, _, name in nodes.values()}
    assert group["olist_orders_dataset"] == "seeds" and group["customer_features"] == "marts"
    assert group["customer_segments"] == "ml" and group["segment_model_runs"] == "sources"
    downstream = (
        "dim_customers",
        "customer_segments_snapshot",
        "int_segment_moves_aggregated_to_generations",
    )
    assert {group[n] for n in (*downstream, "segment_transitions")} == {"downstream"}
    assert group["customer_segments_dashboard"] == "bi"
    assert "olist_geolocation_dataset" not in group  # unused seeds are left out
    names = {uid: name for uid, (_, _, name) in nodes.items()}
    named = {(names[p], names[c]) for p, c in edges}
    assert ("customer_features", "customer_segments") in named
    assert ("customer_segments", "dim_customers") in named
    assert ("customer_segments", "stg_ml__segment_model_runs") in named  # its `depends_on` comment
    assert ("customer_segments_snapshot", "int_segment_moves_aggregated_to_generations") in named
    assert ("int_segment_moves_aggregated_to_generations", "segment_transitions") in named


def test_lineage_write_and_check(manifest_file: Path, tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# project\n\nintro\n")

    def run(*args: str) -> int:
        return cli.main(["lineage", "--manifest", str(manifest_file), *args])

    assert run("--check", str(readme)) == 1  # no markers yet
    assert run("--write", str(readme)) == 0
    text = readme.read_text()
    assert text.startswith("# project\n\nintro\n\n## Lineage\n\n<!-- lineage:start -->")
    assert "```mermaid\nflowchart LR" in text and "model_customer_segments -->" in text
    assert run("--check", str(readme)) == 0
    readme.write_text(text.replace("flowchart LR", "flowchart TD") + "\nafter\n")
    assert run("--check", str(readme)) == 1
    assert run("--write", str(readme)) == 0
    assert readme.read_text() == text + "\nafter\n"  # only the block between the markers changed


def test_readme_lineage_is_current() -> None:
    """The README's diagram matches the project (regenerate with `make lineage`), via a real `dbt parse`."""
    proc = subprocess.run(
        [sys.executable, "-m", "olist_segments.cli", "lineage", "--check"],
        cwd=ROOT,
        env={**os.environ, "DBT_PROFILES_DIR": str(ROOT)},
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
