"""Publishing on the real server: both bulk-load paths, the fallback, batching, validation, the swap."""

from __future__ import annotations

import logging
import threading
import uuid
from dataclasses import replace
from datetime import datetime

import mysql.connector
import numpy as np
import pytest
from olist_segments.publish import PublishError, SegmentWriter

import segfixtures as sf
from olist_segments import db, publish, segment
from olist_segments.settings import Warehouse

FAST = segment.SegmentOptions(k=4, n_init=2)
SCORED_AT = datetime(2024, 1, 2, 3, 4, 5)
HOSTILE_KEYS = ["x'); drop table t; --", "back\\slash\\", "tab\tkey", "new\nline", "`tick`", "plain"]
HOSTILE_NAMES = ['it\'s "quoted"', "a\\b\\\\c", "tab\there", "line\nbreak", "; drop table x; --", "ção 🚀"]
DISTANCES = [0.0, 1e-300, 1 / 3, 2**0.5, 123456.789, 7.0]


@pytest.fixture
def wh(scratch: Warehouse) -> Warehouse:
    sf.load_definitions(scratch)
    sf.create_mart(scratch, sf.customers(3000))
    return scratch


@pytest.fixture
def new_table(scratch: Warehouse) -> Warehouse:
    """An empty customer_segments__new in a fresh <base>_ml."""
    conn = db.connect(scratch)
    publish.ensure_ml(conn, scratch.schema_for("ml"))
    publish.prepare_new(conn, scratch.schema_for("ml"), "utf8mb4", "utf8mb4_unicode_ci")
    conn.close()
    return scratch


def new_rows(wh: Warehouse) -> list[tuple[object, ...]]:
    return sf.query(wh, f"select * from {db.qualified(wh.schema_for('ml'), publish.NEW)} order by segment_id")


def write(
    conn: mysql.connector.abstracts.MySQLConnectionAbstract, wh: Warehouse, method: str, **kw: int
) -> str:
    writer = SegmentWriter(conn, wh.schema_for("ml"), "r" * 36, SCORED_AT, method, **kw)
    writer.write(HOSTILE_KEYS, np.arange(1, 7), HOSTILE_NAMES, np.array(DISTANCES))
    writer.close()
    return writer.method


def test_load_data_and_inserts_publish_identical_tables(wh: Warehouse) -> None:
    segment.run(wh, replace(FAST, bulk="infile"))
    by_infile = sf.assignments(wh)
    segment.run(wh, replace(FAST, bulk="insert"))
    assert sf.assignments(wh) == by_infile and len(by_infile) == 3000
    used = {r["params"]["bulk_used"] for r in sf.registry(wh)}
    assert used == {"infile", "insert"}


@pytest.mark.parametrize("method", ["infile", "insert"])
def test_hostile_values_arrive_byte_for_byte(new_table: Warehouse, method: str) -> None:
    conn = db.connect(new_table, local_infile=True)
    assert write(conn, new_table, method) == method
    conn.close()
    expected = [
        (key, sid, name, dist, "r" * 36, SCORED_AT)
        for key, sid, name, dist in zip(HOSTILE_KEYS, range(1, 7), HOSTILE_NAMES, DISTANCES, strict=True)
    ]
    assert new_rows(new_table) == expected


def test_refused_load_data_falls_back_to_inserts(
    new_table: Warehouse, caplog: pytest.LogCaptureFixture
) -> None:
    if not sf.query(new_table, "select @@local_infile")[0][0]:
        pytest.skip("the server has local_infile=OFF: auto never tries LOAD DATA")
    conn = db.connect(new_table)  # without local_infile the client refuses the server's file request
    with caplog.at_level(logging.WARNING):
        assert write(conn, new_table, "auto") == "insert"
    assert "LOAD DATA LOCAL INFILE refused" in caplog.text
    assert [r[0] for r in new_rows(new_table)] == HOSTILE_KEYS
    sf.execute(new_table, f"truncate table {db.qualified(new_table.schema_for('ml'), publish.NEW)}")
    with pytest.raises(mysql.connector.Error):  # asked for infile explicitly: no silent fallback
        write(conn, new_table, "infile")
    conn.close()


def test_inserts_are_multi_row_batches_under_max_allowed_packet(new_table: Warehouse) -> None:
    conn = db.connect(new_table)
    cur = conn.cursor()
    cur.execute("show session status like 'Com_insert'")
    before = int(cur.fetchone()[1])
    writer = SegmentWriter(
        conn, new_table.schema_for("ml"), "r" * 36, SCORED_AT, "insert", max_packet=64 * 1024
    )
    assert writer.batch_rows == 64 * 1024 // 2 // publish.ROW_BYTES == 64
    keys = [f"{i:032x}" for i in range(1000)]
    writer.write(keys, np.ones(1000, dtype=int), ["Low spenders"] * 1000, np.zeros(1000))
    cur.execute("show session status like 'Com_insert'")
    assert int(cur.fetchone()[1]) - before == 16  # ceil(1000 / 64) statements, not 1000
    assert len(new_rows(new_table)) == 1000
    conn.close()


def test_validation_refuses_tables_unfit_to_publish(new_table: Warehouse) -> None:
    conn = db.connect(new_table, local_infile=True)
    write(conn, new_table, "auto")  # 6 rows, segment ids 1..6
    ml = new_table.schema_for("ml")
    with pytest.raises(PublishError, match=r"__new has 6 rows, customer_features has 7: not published"):
        publish.validate_new(conn, ml, 7, 6)
    with pytest.raises(PublishError, match=r"segment ids 1\.\.6, outside 1\.\.4"):
        publish.validate_new(conn, ml, 6, 4)
    publish.validate_new(conn, ml, 6, 6)
    conn.close()


def test_stale_tables_of_a_crashed_run_do_not_block_publishing(wh: Warehouse) -> None:
    ml = wh.schema_for("ml")
    sf.execute(
        wh,
        f"create database {db.quote_ident(ml)}",
        f"create table {db.qualified(ml, publish.NEW)} (junk int)",
        f"create table {db.qualified(ml, publish.OLD)} (junk int)",
    )
    segment.run(wh, FAST)  # first publish: a plain rename
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}
    sf.execute(wh, f"create table {db.qualified(ml, publish.OLD)} (junk int)")
    segment.run(wh, FAST)  # later publishes: one RENAME of both tables
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}
    assert len(sf.assignments(wh)) == 3000


def test_readers_never_see_a_missing_or_partial_table(wh: Warehouse) -> None:
    segment.run(wh, FAST)
    table = sf.segments_table(wh)
    stop = threading.Event()
    counts: list[int] = []
    errors: list[str] = []

    def poll() -> None:
        conn = db.connect(wh)
        cur = conn.cursor()
        while not stop.is_set():
            try:
                cur.execute(f"select count(*) from {table}")
                counts.append(int(cur.fetchone()[0]))
            except mysql.connector.Error as exc:
                errors.append(str(exc))
        conn.close()

    reader = threading.Thread(target=poll)
    reader.start()
    try:
        run_ids = {segment.run(wh, FAST).run_id for _ in range(3)}
    finally:
        stop.set()
        reader.join()
    assert errors == []
    assert len(counts) > 20 and set(counts) == {3000}
    assert len(run_ids) == 3 and len(sf.registry(wh)) == 4
    assert all(uuid.UUID(r).version == 4 for r in run_ids)
