"""Publishing the real segments: our writer vs pandas.to_sql vs the old notebook's UPDATE-per-customer loop.

Same rows for every method: the customer_segments the pipeline published from the real Olist data (~95k
customers), read once into memory. Each method writes them into <bench>_ml:

- ours, LOAD DATA: olist_segments.publish (prepare customer_segments__new with its primary key,
  SegmentWriter chunks of 50,000 through LOAD DATA LOCAL INFILE, validate, atomic RENAME swap);
- ours, INSERT fallback: the same with SegmentWriter(method="insert") (multi-row INSERTs, for servers with
  local_infile=OFF);
- pandas.DataFrame.to_sql through SQLAlchemy + mysql-connector (`mysql+mysqlconnector://`),
  if_exists='replace', chunksize=10,000, index=False: what most users write (its table has no primary key:
  less work than ours);
- the replaced notebook's loop: one `UPDATE … WHERE customer_unique_id = %s` per customer on a pre-filled
  table, one commit at the end; timed on a subset (5,000 rows) and extrapolated per row to all rows.

Standalone: `.venv/bin/python benchmarks/publish_compare.py [--source-base B] [--repeats N]`.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import sqlalchemy
from _common import (
    OLIST_SEGMENTS,
    check,
    data_dir,
    drop_base,
    env,
    median,
    progress,
    run,
    table_exists,
    warehouse,
)

from olist_segments import db, publish, settings

CHUNK = 50_000  # the segment step's default chunk size
TO_SQL_CHUNK = 10_000
LOOP_ROWS = 5_000
SOURCE_BASE = "bench_real"
TARGET_BASE = "bench_pub"


def ensure_segments(source: settings.Warehouse, olist_data: Path) -> None:
    """Publish the real segments into <source>_ml with `olist-segments run`, unless they are there already."""
    if table_exists(source, source.schema_for("ml"), publish.SEGMENTS):
        return
    progress(f"no {source.schema_for('ml')}.customer_segments yet: running the chain on the real data once")
    result = run([OLIST_SEGMENTS, "run"], env(source.schema, olist_data), log=None)
    check(result, "olist-segments run")


def read_segments(source: settings.Warehouse) -> pd.DataFrame:
    conn = db.connect(source)
    cur = conn.cursor()
    cur.execute(
        "select customer_unique_id, segment_id, segment_name, distance_to_centroid, run_id, scored_at"
        f" from {db.qualified(source.schema_for('ml'), publish.SEGMENTS)} order by customer_unique_id"
    )
    columns = [d[0] for d in cur.description]
    frame = pd.DataFrame(cur.fetchall(), columns=columns)
    conn.close()
    return frame.astype({"segment_id": "int64", "distance_to_centroid": "float64"})


def key_collation(source: settings.Warehouse) -> tuple[str, str]:
    """Character set and collation of the published key (the segment step copies the mart key's)."""
    conn = db.connect(source)
    cur = conn.cursor()
    cur.execute(
        "select character_set_name, collation_name from information_schema.columns"
        " where table_schema = %s and table_name = %s and column_name = 'customer_unique_id'",
        (source.schema_for("ml"), publish.SEGMENTS),
    )
    charset, collation = cur.fetchone()
    conn.close()
    return str(charset), str(collation)


def publish_ours(target: settings.Warehouse, frame: pd.DataFrame, method: str, key: tuple[str, str]) -> float:
    """Seconds for our whole publish: new table, bulk load in chunks, validation, atomic swap."""
    ml = target.schema_for("ml")
    start = time.perf_counter()
    conn = db.connect(target, local_infile=method != "insert")
    publish.ensure_ml(conn, ml)
    publish.prepare_new(conn, ml, *key)
    writer = publish.SegmentWriter(
        conn, ml, str(frame["run_id"].iloc[0]), frame["scored_at"].iloc[0].to_pydatetime(), method
    )
    for begin in range(0, len(frame), CHUNK):
        part = frame.iloc[begin : begin + CHUNK]
        writer.write(
            part["customer_unique_id"].tolist(),
            part["segment_id"].to_numpy(),
            part["segment_name"].tolist(),
            part["distance_to_centroid"].to_numpy(),
        )
    writer.close()
    if writer.method != method:
        raise RuntimeError(f"SegmentWriter fell back from {method} to {writer.method}")
    publish.validate_new(conn, ml, len(frame), int(frame["segment_id"].max()))
    publish.swap(conn, ml)
    conn.close()
    return time.perf_counter() - start


def engine(target: settings.Warehouse) -> sqlalchemy.Engine:
    url = sqlalchemy.engine.URL.create(
        "mysql+mysqlconnector",
        username=target.user,
        password=target.password or None,
        host=target.host,
        port=target.port,
        database=target.schema_for("ml"),
        query={"charset": "utf8mb4", "collation": "utf8mb4_general_ci"},
    )
    return sqlalchemy.create_engine(url)


def publish_to_sql(target: settings.Warehouse, frame: pd.DataFrame) -> float:
    """Seconds for DataFrame.to_sql(if_exists='replace', chunksize=10,000), engine creation included."""
    start = time.perf_counter()
    eng = engine(target)
    frame.to_sql("customer_segments_to_sql", eng, if_exists="replace", index=False, chunksize=TO_SQL_CHUNK)
    eng.dispose()
    return time.perf_counter() - start


def update_loop(target: settings.Warehouse, frame: pd.DataFrame, rows: int) -> float:
    """Seconds per row of the notebook's loop: one UPDATE per customer of a pre-filled table, one commit."""
    ml = target.schema_for("ml")
    table = db.qualified(ml, "customer_segments_notebook")
    conn = db.connect(target, autocommit=False)
    cur = conn.cursor()
    cur.execute(f"create database if not exists {db.quote_ident(ml)}")
    cur.execute(f"drop table if exists {table}")
    cur.execute(
        f"create table {table} (customer_unique_id char(32) not null primary key, segment_id int null,"
        " segment_name varchar(64) null, distance_to_centroid double null, run_id char(36) null,"
        " scored_at datetime null)"
    )
    cur.executemany(
        f"insert into {table} (customer_unique_id) values (%s)",
        [(k,) for k in frame["customer_unique_id"]],
    )
    conn.commit()
    subset = frame.sample(n=min(rows, len(frame)), random_state=0)
    start = time.perf_counter()
    for row in subset.itertuples(index=False):
        cur.execute(
            f"update {table} set segment_id = %s, segment_name = %s, distance_to_centroid = %s, run_id = %s,"
            " scored_at = %s where customer_unique_id = %s",
            (
                int(row.segment_id),
                row.segment_name,
                float(row.distance_to_centroid),
                row.run_id,
                row.scored_at.to_pydatetime(),
                row.customer_unique_id,
            ),
        )
    conn.commit()
    seconds = time.perf_counter() - start
    conn.close()
    return seconds / len(subset)


def profile_ours(
    source: settings.Warehouse, target: settings.Warehouse, method: str = "infile", top: int = 12
) -> str:
    """cProfile of one run of our publish: the top functions by own time (server waits show as execute)."""
    frame, key = read_segments(source), key_collation(source)
    profiler = cProfile.Profile()
    try:
        profiler.runcall(publish_ours, target, frame, method, key)
    finally:
        drop_base(target)
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def count_rows(target: settings.Warehouse, table: str) -> int:
    conn = db.connect(target)
    cur = conn.cursor()
    cur.execute(f"select count(*) from {db.qualified(target.schema_for('ml'), table)}")
    (n,) = cur.fetchone()
    conn.close()
    return int(n)


@dataclass
class Comparison:
    rows: int
    repeats: int
    loop_rows: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    loop_per_row: float = 0.0

    def medians(self) -> dict[str, float]:
        out = {name: median(values) for name, values in self.seconds.items()}
        out["notebook UPDATE loop (extrapolated)"] = self.loop_per_row * self.rows
        return out


def compare(
    source: settings.Warehouse, target: settings.Warehouse, repeats: int, loop_rows: int
) -> Comparison:
    frame = read_segments(source)
    if frame.empty:
        raise RuntimeError(f"{source.schema_for('ml')}.customer_segments is empty")
    result = Comparison(rows=len(frame), repeats=repeats, loop_rows=min(loop_rows, len(frame)))
    key = key_collation(source)
    methods: dict[str, Callable[[], float]] = {
        "ours: LOAD DATA LOCAL INFILE": lambda: publish_ours(target, frame, "infile", key),
        "ours: INSERT fallback": lambda: publish_ours(target, frame, "insert", key),
        "pandas to_sql (SQLAlchemy + mysql-connector)": lambda: publish_to_sql(target, frame),
    }
    for i in range(repeats):
        for name, method in methods.items():
            seconds = method()
            result.seconds.setdefault(name, []).append(seconds)
            progress(f"publish {i + 1}/{repeats}: {name}: {seconds:.2f} s for {len(frame):,} rows")
    for table in (publish.SEGMENTS, "customer_segments_to_sql"):
        if count_rows(target, table) != len(frame):
            raise RuntimeError(f"{target.schema_for('ml')}.{table} does not hold the {len(frame):,} rows")
    result.loop_per_row = update_loop(target, frame, loop_rows)
    progress(
        f"publish: notebook loop {result.loop_per_row * 1e3:.2f} ms/row on {result.loop_rows:,} rows"
        f" → {result.loop_per_row * len(frame):.0f} s extrapolated to {len(frame):,}"
    )
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--source-base", default=SOURCE_BASE, help="base schema holding the real segments")
    parser.add_argument("--target-base", default=TARGET_BASE, help="base schema written to (dropped after)")
    parser.add_argument("--data-dir", help="Olist CSVs (default OLIST_DATA_DIR or ../shared/olist)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-rows", type=int, default=LOOP_ROWS)
    args = parser.parse_args()
    source, target = warehouse(args.source_base), warehouse(args.target_base)
    ensure_segments(source, data_dir(args.data_dir))
    try:
        result = compare(source, target, args.repeats, args.loop_rows)
    finally:
        drop_base(target)
    for name, seconds in result.medians().items():
        print(f"{name:48s} {seconds:10.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
