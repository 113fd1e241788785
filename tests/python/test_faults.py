"""Faults during the segmentation step and the pipeline, on the real server: the process killed with SIGKILL
mid-write, its connections killed from another session, the server restarted and killed (a throwaway MariaDB
of our own), two runs at once. Throughout, a BI reader polls customer_segments: it must never fail and never
see anything but the segments before or after. The scenarios are olist_harness.reliability's, which
`olist-harness reliability` also runs to write docs/reliability.md."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faultkit import explain, fresh_base, throwaway_server
from olist_harness import reliability
from olist_harness.reliability import SEGMENTS, Outcome, Reader, State
from olist_segments import db, settings
from projectkit import new_base_schema

CUSTOMERS = reliability.CUSTOMERS  # loading them in 5,000-row chunks leaves time to strike mid-write
Base = tuple[settings.Warehouse, Path]


@pytest.fixture(scope="module")
def segments(base_warehouse: settings.Warehouse, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Base]:
    """A synthetic customer_features and a first published segmentation of it."""
    with fresh_base(base_warehouse, "flt") as wh:
        logs = tmp_path_factory.mktemp("logs")
        reliability.prepare_segments(wh, CUSTOMERS, logs)
        yield wh, logs


def assert_survived(outcome: Outcome) -> None:
    """The faulted run failed, the published tables did not move, a rerun published the same assignments
    and dropped the leftover table, and the reader saw only whole tables."""
    facts = outcome.facts
    assert outcome.exit_code != 0, explain(outcome)
    assert facts["changed"] == [] and outcome.rows_lost == 0, explain(outcome)
    assert facts["registry_status"] != "published", explain(outcome)
    assert facts["rerun_exit"] == 0, explain(outcome)
    assert facts["new_after_rerun"] is None, explain(outcome)
    assert facts["final_runs"] == [facts["rerun_id"]], explain(outcome)
    assert outcome.reader_queries > 0, explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_segment_process_killed_mid_write(segments: Base) -> None:
    outcome = reliability.kill_client(*segments)
    assert outcome.exit_code == -signal.SIGKILL, explain(outcome)
    # Killed while loading: a partial customer_segments__dbt_tmp is left, never a partial published table.
    assert 0 < outcome.facts["rows_at_fault"] < CUSTOMERS, explain(outcome)
    assert outcome.facts["leftover_rows"] is not None, explain(outcome)
    assert outcome.facts["leftover_rows"] < CUSTOMERS, explain(outcome)
    assert_survived(outcome)


@pytest.fixture(scope="module")
def writer_killed(segments: Base) -> Outcome:
    return reliability.kill_connection(*segments, "writer")


@pytest.mark.slow
def test_writer_connection_killed_from_another_session(writer_killed: Outcome) -> None:
    assert writer_killed.exit_code == 1, explain(writer_killed)  # dbt: a node failed
    assert "customer_segments" in writer_killed.message, explain(writer_killed)
    assert reliability.lost_connection(writer_killed.facts["output"]), explain(writer_killed)
    assert_survived(writer_killed)


@pytest.mark.slow
def test_a_run_whose_connection_was_killed_is_recorded_as_failed(writer_killed: Outcome) -> None:
    """segment_model_runs should record every run; after a lost connection the failure is written on the dead
    connection, so the model writes it on a connection of its own."""
    assert writer_killed.facts["registry_status"] == "failed", explain(writer_killed)


@pytest.mark.slow
def test_a_lost_connection_is_not_taken_for_a_local_infile_refusal(writer_killed: Outcome) -> None:
    """`--bulk auto` falls back to INSERTs when the server refuses LOAD DATA LOCAL INFILE; a lost connection
    is no refusal, and the log should not say so."""
    assert "falling back to multi-row INSERTs" not in writer_killed.facts["output"], explain(writer_killed)


@pytest.mark.slow
def test_mart_reader_connection_killed_from_another_session(segments: Base) -> None:
    outcome = reliability.kill_connection(*segments, "reader")
    assert outcome.exit_code == 1, explain(outcome)
    assert reliability.lost_connection(outcome.facts["output"]), explain(outcome)
    assert outcome.facts["registry_status"] == "failed", explain(outcome)
    assert outcome.facts["leftover_rows"] is None, explain(outcome)  # the step dropped its own table
    assert_survived(outcome)


@pytest.mark.slow
def test_two_segment_runs_at_once_one_is_refused(segments: Base) -> None:
    outcome = reliability.concurrent_segments(*segments, wait=False)
    assert outcome.facts["codes"].count(0) == 1, explain(outcome)
    assert reliability.LOCK_MESSAGE in outcome.message, explain(outcome)
    assert len(outcome.facts["new_runs"]) == 1, explain(outcome)
    assert outcome.facts["published_runs"] == list(outcome.facts["new_runs"]), explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_two_segment_runs_with_wait_take_turns(segments: Base) -> None:
    outcome = reliability.concurrent_segments(*segments, wait=True)
    assert outcome.facts["codes"] == [0, 0], explain(outcome)
    (first, second) = sorted(outcome.facts["new_runs"].values(), key=lambda run: run[1])
    assert first[0] == second[0] == "published", explain(outcome)
    assert second[1] >= first[2], explain(outcome)  # the second started after the first finished
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_an_idle_bi_transaction_delays_the_swap_not_the_readers(segments: Base) -> None:
    """A BI session with autocommit off holds customer_segments' metadata lock: the swap waits for it in
    short attempts, so autocommit readers are never queued long, and it publishes once the session ends."""
    outcome = reliability.idle_bi_transaction(*segments, ends_after_s=10)
    assert outcome.exit_code == 0, explain(outcome)
    assert outcome.longest_read_s <= reliability.MAX_READ_WAIT_S, explain(outcome)
    assert [run[0] for run in outcome.facts["new_runs"].values()] == ["published"], explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_a_bi_transaction_that_never_ends_fails_the_run_naming_it(segments: Base) -> None:
    outcome = reliability.idle_bi_transaction(*segments, ends_after_s=None)
    assert outcome.exit_code == 1, explain(outcome)
    assert f"session {outcome.facts['bi_session']} " in outcome.facts["output"], explain(outcome)
    assert outcome.longest_read_s <= reliability.MAX_READ_WAIT_S, explain(outcome)
    assert outcome.rows_lost == 0 and outcome.reader_failures == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_dbt_killed_during_the_swap_leaves_the_published_table_and_a_green_next_run(segments: Base) -> None:
    outcome = reliability.kill_during_swap(*segments)
    assert outcome.exit_code == -signal.SIGKILL, explain(outcome)
    assert outcome.facts["rerun_exit"] == 0, explain(outcome)
    assert outcome.rows_lost == 0 and outcome.reader_failures == [], explain(outcome)
    assert outcome.partial_reads == [] and outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_two_pipeline_runs_at_once(base_warehouse: settings.Warehouse, tmp_path: Path) -> None:
    """A second `olist-segments run` on the same base is refused while the first holds the schema's run lock;
    the lock dies with the first run's session."""
    with fresh_base(base_warehouse, "lck") as wh:
        lock = reliability.run_lock(wh)
        first = reliability.start_cli(wh, "run", logs=tmp_path, new_session=True)
        try:
            outcome = reliability.second_run_refused(wh, first, lock, "run", logs=tmp_path)
        finally:
            os.killpg(first.proc.pid, signal.SIGTERM)  # the first run and its dbt child
            first.wait()
        assert outcome.exit_code == 1, explain(outcome)
        assert reliability.LOCK_MESSAGE in outcome.message and lock in outcome.message, explain(outcome)
        assert outcome.facts["seconds"] < 60, explain(outcome)
        assert outcome.problems == [], explain(outcome)
        deadline = time.monotonic() + 30  # the server frees the lock once it sees the connection gone
        while reliability.lock_holder(wh, lock) is not None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert reliability.lock_holder(wh, lock) is None


@pytest.fixture(scope="module")
def server(
    base_warehouse: settings.Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[reliability.ThrowawayServer, settings.Warehouse, Path]]:
    """A throwaway MariaDB (never the shared server) holding a synthetic mart and its published segments."""
    with throwaway_server(tmp_path_factory.mktemp("mariadb")) as srv:
        wh = srv.warehouse(base_warehouse, new_base_schema("srv"))
        logs = tmp_path_factory.mktemp("logs")
        reliability.prepare_segments(wh, CUSTOMERS, logs, srv.env())
        yield srv, wh, logs


@pytest.mark.slow
def test_server_restarted_between_runs(
    server: tuple[reliability.ThrowawayServer, settings.Warehouse, Path],
) -> None:
    outcome = reliability.restart_between_runs(*server)
    assert outcome.facts["changed"] == [], explain(outcome)  # customer_features, segments and the registry
    assert outcome.exit_code == 0, explain(outcome)
    assert outcome.facts["published_runs"] == outcome.facts["run_ids"][:1], explain(outcome)
    assert outcome.reader_failures == [] and outcome.partial_reads == [], explain(outcome)
    assert outcome.problems == [], explain(outcome)


@pytest.mark.slow
def test_server_killed_mid_write(
    server: tuple[reliability.ThrowawayServer, settings.Warehouse, Path],
) -> None:
    outcome = reliability.kill_server(*server)
    assert reliability.lost_connection(outcome.facts["output"]), explain(outcome)
    assert_survived(outcome)


def wait_for_queries(reader: Reader, n: int) -> None:
    deadline = time.monotonic() + 30
    while reader.queries < n and time.monotonic() < deadline:
        time.sleep(0.01)


def test_the_checksums_and_the_reader_see_a_changed_or_partial_table(scratch: settings.Warehouse) -> None:
    """The harness can fail: a changed row changes the published state, a deleted row is a row lost, and a
    read of a table in neither state is a partial read."""
    ml = scratch.schema_for("ml")
    table = db.qualified(ml, "customer_segments")
    conn = db.connect(scratch)
    cur = conn.cursor()
    cur.execute(f"create database {db.quote_ident(ml)}")
    cur.execute(
        f"create table {table} (customer_unique_id char(32) primary key, segment_id int, run_id char(36),"
        " scored_at datetime)"
    )
    cur.execute(
        f"insert into {table} values ('a', 1, 'r1', now()), ('b', 2, 'r1', now()), ('c', 2, 'r1', now())"
    )
    states: list[State] = [reliability.published_state(scratch, [SEGMENTS])]
    cur.execute(f"update {table} set run_id = 'r2', scored_at = now()")  # a new run, same assignments
    states.append(reliability.published_state(scratch, [SEGMENTS]))
    reader = Reader(scratch, [SEGMENTS])
    reader.start()
    wait_for_queries(reader, 4)
    conn.start_transaction()  # one new state: a segment changed and a customer gone
    cur.execute(f"update {table} set segment_id = 1 where customer_unique_id = 'c'")
    cur.execute(f"delete from {table} where customer_unique_id = 'b'")
    conn.commit()
    wait_for_queries(reader, reader.queries + 4)
    reader.stop()
    states.append(reliability.published_state(scratch, [SEGMENTS]))
    conn.close()

    name = "ml.customer_segments"
    assert reliability.changed(states[0], states[1]) == [name]  # CHECKSUM TABLE sees the run metadata
    assert reliability.content(states[0], name) == reliability.content(states[1], name)
    assert reliability.rows_lost(states[0], states[1]) == 0
    assert reliability.rows_lost(states[1], states[2]) == 1
    assert reader.failures == []
    assert reader.partial_reads(states[0], states[1]), "the reader saw the edited table and should say so"
    assert reader.partial_reads(states[0], states[1], states[2]) == []
