"""Submission method dask: the segmentation model's two passes as tasks on a real dask.distributed cluster on
localhost (a scheduler and two worker processes), on the real server. The same assignments as `local`
whatever the key ranges, a worker killed mid-pass fails the run with nothing published, no scheduler is a
clear error."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import segfixtures as sf
from olist_harness import synth
from olist_harness.dask_cluster import Cluster, start_cluster
from olist_segments.settings import Warehouse
from projectkit import DBT, ROOT


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    started = start_cluster(tmp_path_factory.mktemp("dask"), workers=2)
    yield started
    started.stop()


@pytest.fixture
def wh(scratch: Warehouse) -> Warehouse:
    sf.load_definitions(scratch)
    sf.create_mart(scratch, sf.customers(3000))
    return scratch


def latest_run(wh: Warehouse) -> dict:
    return max(sf.registry(wh), key=lambda r: r["started_at"])


def test_dask_publishes_what_local_publishes_whatever_the_ranges(wh: Warehouse, cluster: Cluster) -> None:
    # A fit sample of 1,000 of the 3,000 customers: the sample merged from the ranges must be local's.
    fit = {"segment_refit": "always", "segment_max_fit_rows": 1000, "segment_chunk_size": 250}
    sf.run_model(wh, **fit)
    local, local_run = sf.assignments(wh), latest_run(wh)
    assert local_run["metrics"]["fit_rows"] == 1000
    for partitions in (0, 3, 7):
        out = sf.run_model(
            wh,
            env={"DASK_SCHEDULER_ADDRESS": cluster.address},
            segment_submission_method="dask",
            segment_dask_partitions=partitions,
            **fit,
        )
        ranges = partitions or 4  # two per worker thread
        assert f"dask: scheduler {cluster.address}, 2 workers, 2 threads, {ranges} key ranges" in out
        assert f"OK 3,000 rows (dask: {ranges} ranges" in out
        run = latest_run(wh)
        assert run["status"] == "published" and run["run_id"] != local_run["run_id"]
        assert run["metrics"]["fit_rows"] == 1000 and run["k"] == local_run["k"]
        assert run["centroids"] == local_run["centroids"]
        assert sf.assignments(wh) == local  # ids, names and distances, bit for bit


def test_worker_killed_mid_pass_fails_the_run_and_keeps_the_published_segments(
    scratch: Warehouse, tmp_path: Path
) -> None:
    # allowed-failures 0: the scheduler does not rerun a task whose worker died (its default is 3 times).
    cluster = start_cluster(tmp_path / "dask", workers=2, allowed_failures=0)
    try:
        synth.generate(scratch, 300_000, seed=7)
        sf.run_model(scratch)
        before, runs = sf.fingerprint(scratch), len(sf.registry(scratch))
        dbt_vars = {**sf.FAST, "segment_submission_method": "dask", "segment_chunk_size": 2000}
        env = {
            **os.environ,
            "DBT_SCHEMA": scratch.schema,
            "DBT_TARGET": "mariadb",
            "DBT_PROFILES_DIR": os.environ.get("DBT_PROFILES_DIR", str(ROOT)),
            "DBT_TARGET_PATH": str(ROOT / "target" / f"pytest_{scratch.schema}"),
            "DBT_LOG_PATH": str(ROOT / "target" / f"pytest_{scratch.schema}"),
            "DASK_SCHEDULER_ADDRESS": cluster.address,
        }
        args = ["--no-use-colors", "run", "-s", "customer_segments", "--vars", json.dumps(dbt_vars)]
        with (tmp_path / "dbt.log").open("w+") as log:
            proc = subprocess.Popen([DBT, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
            try:
                wait_for_range_loads(scratch, proc)
                cluster.kill_worker(0)
                code = proc.wait(timeout=600)
            finally:
                if proc.poll() is None:
                    proc.kill()
            log.seek(0)
            out = log.read()
        assert code == 1, out[-3000:]
        assert "failed on the Dask cluster: KilledWorker" in out
        assert sf.fingerprint(scratch) == before
        assert "customer_segments__dbt_tmp" not in sf.ml_tables(scratch)
        assert len(sf.registry(scratch)) == runs + 1 and latest_run(scratch)["status"] == "failed"
    finally:
        cluster.stop()


def wait_for_range_loads(wh: Warehouse, proc: subprocess.Popen[str], timeout_s: float = 300) -> None:
    """Until a worker's task is loading its range into customer_segments__dbt_tmp (pass 2)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and proc.poll() is None:
        loading = sf.query(
            wh,
            "select count(*) from information_schema.processlist where info like 'load data%%'"
            " and info like %s",
            (f"%{wh.schema_for('ml')}`.`customer_segments__dbt_tmp%",),
        )
        if loading[0][0]:
            return
        time.sleep(0.01)
    pytest.fail(f"no range was loading (dbt exit {proc.poll()})")


def test_dask_without_a_scheduler_is_a_clear_error(wh: Warehouse) -> None:
    out = sf.run_model(wh, check=False, env={"DASK_SCHEDULER_ADDRESS": ""}, segment_submission_method="dask")
    assert "submission_method dask: no Dask scheduler configured; set DASK_SCHEDULER_ADDRESS" in out
    assert "customer_segments" not in sf.ml_tables(wh) or not sf.query(
        wh, f"select 1 from {sf.segments_table(wh)}"
    )
