"""Loading DataFrames into a table on the real server: both bulk paths, the fallback, batching, bad frames."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path

import mysql.connector
import numpy as np
import pandas as pd
import pytest

from dbt.adapters.mysql_python.bulk_load import LoadError, TableWriter
from fixturekit import connect, query

SCORED_AT = datetime(2024, 1, 2, 3, 4, 5)
HOSTILE_KEYS = ["x'); drop table t; --", "back\\slash\\", "tab\tkey", "new\nline", "`tick`", "cr\rhere"]
HOSTILE_NAMES = ['it\'s "quoted"', "a\\b\\\\c", "tab\there", "line\nbreak", "; drop table x; --", "ção 🚀"]
DISTANCES = [0.0, 1e-300, 1 / 3, 2**0.5, 123456.789, 7.0]
COLUMNS = ["k", "segment_id", "segment_name", "distance", "note", "at"]


@pytest.fixture
def table(schema: str) -> str:
    name = f"`{schema}`.`loaded`"
    query(
        f"create table {name} (k varchar(40) primary key, segment_id int not null, segment_name varchar(64),"
        " distance double not null, note text null, at datetime not null)"
    )
    return name


def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "k": HOSTILE_KEYS,
            "segment_id": np.arange(1, 7),
            "segment_name": HOSTILE_NAMES,
            "distance": DISTANCES,
            "note": [None, "n", None, "\\N", "NULL", ""],
            "at": SCORED_AT,
        }
    )


def expected() -> list[tuple[object, ...]]:
    df = frame()
    return [
        (
            r.k,
            r.segment_id,
            r.segment_name,
            r.distance,
            None if pd.isna(r.note) else r.note,
            r.at.to_pydatetime(),
        )
        for r in df.itertuples(index=False)
    ]


def write(table: str, method: str, df: pd.DataFrame, *, local_infile: bool = True) -> str:
    conn = connect(local_infile=local_infile)
    writer = TableWriter(conn, table, COLUMNS, method)
    try:
        writer.write(df)
        writer.flush()
        return writer.method
    finally:
        writer.close()
        conn.close()


@pytest.mark.parametrize("method", ["infile", "insert"])
def test_hostile_values_arrive_byte_for_byte(table: str, method: str) -> None:
    assert write(table, method, frame().sample(frac=1, random_state=1)[COLUMNS[::-1]]) == method
    assert query(f"select {', '.join(COLUMNS)} from {table} order by segment_id") == expected()


def test_refused_load_data_falls_back_to_inserts(table: str, caplog: pytest.LogCaptureFixture) -> None:
    if not query("select @@local_infile")[0][0]:
        pytest.skip("the server has local_infile=OFF: auto never tries LOAD DATA")
    # Without allow_local_infile the client refuses the server's request for the file.
    with caplog.at_level(logging.WARNING):
        assert write(table, "auto", frame(), local_infile=False) == "insert"
    assert "LOAD DATA LOCAL INFILE refused" in caplog.text
    assert query(f"select {', '.join(COLUMNS)} from {table} order by segment_id") == expected()
    query(f"truncate table {table}")
    with pytest.raises(mysql.connector.Error):  # asked for infile explicitly: no silent fallback
        write(table, "infile", frame(), local_infile=False)


def test_inserts_are_multi_row_batches_under_max_allowed_packet(table: str) -> None:
    conn = connect()
    cur = conn.cursor()
    cur.execute("show session status like 'Com_insert'")
    before = int(cur.fetchone()[1])
    writer = TableWriter(conn, table, COLUMNS, "insert")
    writer.max_statement = 32 * 1024  # as if max_allowed_packet were 64 KiB
    n = 1000
    df = pd.DataFrame(
        {
            "k": [f"{i:032x}" for i in range(n)],
            "segment_id": 1,
            "segment_name": "Low spenders",
            "distance": 0.5,
            "note": None,
            "at": SCORED_AT,
        }
    )
    writer.write(df)
    cur.execute("show session status like 'Com_insert'")
    statements = int(cur.fetchone()[1]) - before
    conn.close()
    assert 1 < statements < 50  # a handful of multi-row INSERTs, never one per row
    assert query(f"select count(*) from {table}") == [(n,)]


def test_chunks_load_in_order_and_a_failed_chunk_is_reported(table: str) -> None:
    """A chunk loads while the next is made: its error comes at the next write() or flush(), the rows of the
    chunks before it stay counted, and close() after the error neither raises nor leaves files behind."""
    conn = connect(local_infile=True)
    writer = TableWriter(conn, table, COLUMNS, "infile")
    good = frame()
    writer.write(good)
    writer.write(good.assign(k=good["k"] + "-2"))
    writer.flush()
    assert writer.rows == 2 * len(good)
    writer.write(good.assign(k=good["k"] + "-3", segment_name="x" * 65))  # truncated: a warning, a failure
    with pytest.raises(LoadError, match=rf"LOAD DATA into {table} loaded 6 of 6 rows: Data truncated"):
        writer.write(good.assign(k=good["k"] + "-4"))
    folder = Path(writer._tmp.name)
    writer.close()
    conn.close()
    assert writer.rows == 2 * len(good)
    assert not folder.exists()
    assert query(f"select count(*) from {table} where k like '%-2'") == [(len(good),)]


def test_frames_that_do_not_match_the_table_are_refused(table: str) -> None:
    with pytest.raises(LoadError, match=r"missing note; not in the table extra"):
        write(table, "auto", frame().drop(columns=["note"]).assign(extra=1))
    with pytest.raises(LoadError, match=r"column 'distance' has infinite values"):
        write(table, "infile", frame().assign(distance=np.inf))
    # With LOCAL the server truncates and warns instead of failing: any warning fails the load (the new table
    # holding the truncated rows is then dropped, never published).
    with pytest.raises(LoadError, match=r"loaded 6 of 6 rows: Data truncated for column 'segment_name'"):
        write(table, "infile", frame().assign(segment_name="x" * 65))
    with pytest.raises(mysql.connector.Error, match="Data too long for column 'segment_name'"):
        write(table, "insert", frame().assign(segment_name="x" * 65, k=list("abcdef")))
