"""Publishing segments: load customer_segments__new in bulk, validate it, swap it in with one RENAME TABLE.

Readers of <base>_ml.customer_segments see the previous segments or the new ones, never none or half:
`RENAME TABLE a TO a__old, a__new TO a` is atomic in MySQL and MariaDB. The registry row is written just
before the swap (and marked 'failed' if the swap fails), so every run_id a reader can see in
customer_segments has its row in segment_model_runs. MySQL has no transactional DDL, so a process killed
between those two statements leaves a 'published' row for a run that never went live; readers should join
the registry on customer_segments.run_id (the report does).
"""

from __future__ import annotations

import json
import logging
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from itertools import repeat
from pathlib import Path
from typing import Any

import mysql.connector
import numpy as np
from mysql.connector.abstracts import MySQLConnectionAbstract

from . import db
from .features import SegmentError

log = logging.getLogger(__name__)

SEGMENTS = "customer_segments"
NEW, OLD = f"{SEGMENTS}__new", f"{SEGMENTS}__old"
RUNS = "segment_model_runs"
BULK_METHODS = ("auto", "infile", "insert")
# Errors meaning "LOAD DATA LOCAL is not allowed here" (MySQL server/client, MariaDB); anything else, such as
# a lost connection, is a real failure and must not be retried as INSERTs.
LOCAL_INFILE_REFUSED = frozenset({1148, 2068, 3948, 4166})
# Upper bound of one rendered VALUES tuple: key, id, a 64-character name in 4-byte UTF-8, a double, run_id,
# datetime, quotes and commas. INSERT statements use at most half of @@max_allowed_packet.
ROW_BYTES = 512
_CHARSET = re.compile(r"^[a-z0-9_]{1,64}$")
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n"})


def _escaped(values: Sequence[str]) -> Sequence[str]:
    """Values with LOAD DATA's escapes; one scan of the joined text spares the per-value work when none
    has a backslash, tab or newline (the usual case: it was a third of the load time at Olist size)."""
    text = "".join(values)
    if "\\" in text or "\t" in text or "\n" in text:
        return [v.translate(_ESCAPE) for v in values]
    return values


class PublishError(SegmentError):
    """The new table is not fit to publish; the published one was left untouched."""


def _run(conn: MySQLConnectionAbstract, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, tuple(params))
    rows = cur.fetchall() if cur.with_rows else []
    cur.close()
    return list(rows)


def table_exists(conn: MySQLConnectionAbstract, schema: str, table: str) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = %s and table_name = %s"
    return bool(_run(conn, sql, (schema, table))[0][0])


def ensure_ml(conn: MySQLConnectionAbstract, schema: str) -> None:
    """Create <base>_ml and the segment_model_runs registry if missing."""
    _run(conn, f"create database if not exists {db.quote_ident(schema)} character set utf8mb4")
    _run(
        conn,
        f"""create table if not exists {db.qualified(schema, RUNS)} (
            run_id char(36) not null,
            started_at datetime not null,
            finished_at datetime null,
            status varchar(16) not null,
            k int null,
            k_selection varchar(16) null,
            features longtext null,
            params longtext null,
            metrics longtext null,
            centroids longtext null,
            scaler longtext null,
            library_versions longtext null,
            n_customers int null,
            data_as_of date null,
            silhouette double null,
            primary key (run_id)
        ) engine = InnoDB default charset = utf8mb4""",
    )


def prepare_new(conn: MySQLConnectionAbstract, schema: str, key_charset: str, key_collation: str) -> None:
    """(Re)create an empty customer_segments__new; the key takes the mart key's collation so joins work."""
    if not (_CHARSET.match(key_charset) and _CHARSET.match(key_collation)):
        raise PublishError(f"unexpected character set/collation {key_charset!r}/{key_collation!r}")
    _run(conn, f"drop table if exists {db.qualified(schema, NEW)}")
    _run(
        conn,
        f"""create table {db.qualified(schema, NEW)} (
            customer_unique_id char(32) character set {key_charset} collate {key_collation} not null,
            segment_id int not null,
            segment_name varchar(64) not null,
            distance_to_centroid double not null,
            run_id char(36) not null,
            scored_at datetime not null,
            primary key (customer_unique_id)
        ) engine = InnoDB default charset = utf8mb4""",
    )


class SegmentWriter:
    """Bulk loads scored chunks into customer_segments__new, never row by row.

    `infile`: LOAD DATA LOCAL INFILE from a temporary file per chunk. `insert`: multi-row INSERTs (the
    connector's executemany batches an INSERT … VALUES), each under half of @@max_allowed_packet. `auto`:
    infile when the server's @@local_infile is on, switching to insert for good at the first refusal.
    """

    def __init__(
        self,
        conn: MySQLConnectionAbstract,
        schema: str,
        run_id: str,
        scored_at: datetime,
        method: str = "auto",
        max_packet: int | None = None,
    ) -> None:
        if method not in BULK_METHODS:
            raise ValueError(f"bulk method must be one of {BULK_METHODS}")
        self.conn, self.table = conn, db.qualified(schema, NEW)
        self.run_id, self.scored_at = run_id, scored_at
        self.requested = method
        server_infile, packet = _run(conn, "select @@local_infile, @@max_allowed_packet")[0]
        self.batch_rows = max(1, int(max_packet or packet) // 2 // ROW_BYTES)
        self.method = method
        if method == "auto":
            self.method = "infile" if int(server_infile) else "insert"
            if self.method == "insert":
                log.info("server has local_infile=OFF: loading with multi-row INSERTs")
        self._tmp = tempfile.TemporaryDirectory(prefix="olist_segments_")

    def write(
        self, keys: Sequence[str], segment_ids: np.ndarray, names: Sequence[str], dist: np.ndarray
    ) -> None:
        ids, distances = segment_ids.tolist(), dist.tolist()
        if self.method == "infile":
            try:
                self._load(keys, ids, names, distances)
                return
            except mysql.connector.Error as exc:
                if self.requested == "infile" or exc.errno not in LOCAL_INFILE_REFUSED:
                    raise
                log.warning("LOAD DATA LOCAL INFILE refused (%s): falling back to multi-row INSERTs", exc.msg)
                self.method = "insert"
        self._insert(keys, ids, names, distances)

    def _load(self, keys: Sequence[str], ids: list[int], names: Sequence[str], dist: list[float]) -> None:
        path = Path(self._tmp.name) / "chunk.tsv"
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.writelines(
                f"{k}\t{i}\t{n}\t{d!r}\n"
                for k, i, n, d in zip(_escaped(keys), ids, _escaped(names), dist, strict=True)
            )
        cur = self.conn.cursor()
        cur.execute(
            f"load data local infile %s into table {self.table} character set utf8mb4"
            " fields terminated by '\\t' escaped by '\\\\' lines terminated by '\\n'"
            " (customer_unique_id, segment_id, segment_name, distance_to_centroid)"
            " set run_id = %s, scored_at = %s",
            (str(path), self.run_id, self.scored_at),
        )
        loaded = cur.rowcount
        cur.execute("show warnings limit 3")
        warnings = cur.fetchall()
        cur.close()
        # With LOCAL the server turns data errors into warnings and goes on: treat any as a failure.
        if warnings or loaded != len(keys):
            detail = "; ".join(str(w[2]) for w in warnings) or "no warning"
            raise PublishError(
                f"LOAD DATA into {self.table} loaded {loaded:,} of {len(keys):,} rows: {detail}"
            )

    def _insert(self, keys: Sequence[str], ids: list[int], names: Sequence[str], dist: list[float]) -> None:
        sql = (
            f"insert into {self.table} (customer_unique_id, segment_id, segment_name, distance_to_centroid,"
            " run_id, scored_at) values (%s, %s, %s, %s, %s, %s)"
        )
        rows = list(zip(keys, ids, names, dist, repeat(self.run_id), repeat(self.scored_at), strict=False))
        cur = self.conn.cursor()
        for start in range(0, len(rows), self.batch_rows):
            batch = rows[start : start + self.batch_rows]
            cur.executemany(sql, batch)
            if cur.rowcount != len(batch):
                raise PublishError(f"INSERT into {self.table} wrote {cur.rowcount:,} of {len(batch):,} rows")
        cur.close()

    def close(self) -> None:
        self._tmp.cleanup()


def validate_new(conn: MySQLConnectionAbstract, schema: str, expected_rows: int, k: int) -> None:
    """Refuse to publish unless there is one row per mart customer, each with a segment id in 1..k.

    The primary key rules out duplicate customers, so one scan checks the rest.
    """
    rows, null_ids, low, high = _run(
        conn,
        "select count(*), sum(segment_id is null), min(segment_id), max(segment_id)"
        f" from {db.qualified(schema, NEW)}",
    )[0]
    table = f"{schema}.{NEW}"
    if rows != expected_rows:
        raise PublishError(
            f"{table} has {rows:,} rows, customer_features has {expected_rows:,}: not published"
        )
    if null_ids:
        raise PublishError(f"{table} has {null_ids:,} rows without a segment: not published")
    if rows and not 1 <= low <= high <= k:
        raise PublishError(f"{table} has segment ids {low}..{high}, outside 1..{k}: not published")


def swap(conn: MySQLConnectionAbstract, schema: str) -> None:
    """customer_segments__new becomes customer_segments in one atomic RENAME; the old table is dropped."""
    live, new, old = (db.qualified(schema, t) for t in (SEGMENTS, NEW, OLD))
    _run(conn, f"drop table if exists {old}")
    if table_exists(conn, schema, SEGMENTS):
        _run(conn, f"rename table {live} to {old}, {new} to {live}")
        try:
            _run(conn, f"drop table {old}")
        except mysql.connector.Error as exc:  # published already; the next run drops it
            log.warning("could not drop %s.%s: %s", schema, OLD, exc.msg)
    else:
        _run(conn, f"rename table {new} to {live}")


def drop_new(conn: MySQLConnectionAbstract, schema: str) -> None:
    _run(conn, f"drop table if exists {db.qualified(schema, NEW)}")


@dataclass
class RunRecord:
    """One row of segment_model_runs (dicts and lists are stored as JSON text)."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "failed"
    k: int | None = None
    k_selection: str | None = None
    features: list[str] | None = None
    params: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    centroids: list[dict[str, Any]] | None = None
    scaler: dict[str, Any] | None = None
    library_versions: dict[str, str] | None = None
    n_customers: int | None = None
    data_as_of: date | None = None
    silhouette: float | None = None

    def values(self) -> dict[str, Any]:
        return {
            name: json.dumps(value, allow_nan=False) if isinstance(value, dict | list) else value
            for name, value in vars(self).items()
        }


def record_run(conn: MySQLConnectionAbstract, schema: str, record: RunRecord) -> None:
    """Insert the run's registry row, or replace it (a run that failed after recording 'published')."""
    values = record.values()
    columns = ", ".join(db.quote_ident(c) for c in values)
    marks = ", ".join(["%s"] * len(values))
    conn.start_transaction()
    try:
        _run(conn, f"delete from {db.qualified(schema, RUNS)} where run_id = %s", (record.run_id,))
        _run(
            conn,
            f"insert into {db.qualified(schema, RUNS)} ({columns}) values ({marks})",
            list(values.values()),
        )
    except BaseException:
        conn.rollback()
        raise
    conn.commit()
