"""Publishing the real segments: the adapter's TableWriter vs pandas.to_sql vs an UPDATE-per-row loop.

The same rows for every method: <source>_ml.customer_segments as the chain published it from the real data
(~95k customers), read once into memory. Each method writes them into <target>_ml:

- TableWriter (dbt.adapters.mysql_python.bulk_load, what the adapter loads a Python model's chunks with):
  `create table … like` the published table (primary key included), then writes in chunks of 50,000 rows,
  method `infile` (LOAD DATA LOCAL INFILE) or `insert` (multi-row INSERTs, for servers with local_infile=OFF);
- pandas.DataFrame.to_sql through SQLAlchemy + mysql-connector, if_exists='replace', chunksize=10,000,
  index=False (its table has no primary key: less work than ours);
- a notebook's loop: one `UPDATE … WHERE customer_unique_id = %s` per customer of a pre-filled keyed table,
  one commit at the end, timed on a random subset and extrapolated per row to all rows.

Standalone: `.venv/bin/python benchmarks/publish_compare.py --source-base bench_chain [--repeats N]`.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy
from _common import drop_base, median, progress, query, warehouse

from dbt.adapters.mysql_python.bulk_load import TableWriter
from olist_segments import db

SEGMENTS = "customer_segments"
COLUMNS = ["customer_unique_id", "segment_id", "segment_name", "distance_to_centroid", "run_id", "scored_at"]
CHUNK = 50_000  # the model's chunk_size default (dbt var segment_chunk_size)
TO_SQL_CHUNK = 10_000
LOOP_ROWS = 5_000
TARGET_BASE = "bench_pub"
METHODS = {"infile": "TableWriter: LOAD DATA LOCAL INFILE", "insert": "TableWriter: multi-row INSERT"}
TO_SQL = "pandas to_sql (SQLAlchemy + mysql-connector)"
LOOP = "UPDATE per row (extrapolated)"


def read_segments(source_base: str) -> pd.DataFrame:
    rows = query(
        source_base,
        f"select {', '.join(COLUMNS)} from {db.qualified(f'{source_base}_ml', SEGMENTS)} order by 1",
    )
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({"segment_id": "int64", "distance_to_centroid": "float64"})


def write_ours(source_base: str, frame: pd.DataFrame, method: str) -> float:
    """Seconds for a new keyed table like the published one plus TableWriter's chunks into it."""
    wh = warehouse(TARGET_BASE)
    ml = wh.schema_for("ml")
    table = db.qualified(ml, "customer_segments_ours")
    start = time.perf_counter()
    with closing(db.connect(wh, local_infile=method == "infile")) as conn:
        db.create_schema(conn, wh, ml)
        db.query(conn, f"drop table if exists {table}")
        db.query(conn, f"create table {table} like {db.qualified(f'{source_base}_ml', SEGMENTS)}")
        writer = TableWriter(conn, table, COLUMNS, method)
        try:
            for begin in range(0, len(frame), CHUNK):
                writer.write(frame.iloc[begin : begin + CHUNK])
            writer.flush()
        finally:
            writer.close()
        if writer.method != method or writer.rows != len(frame):
            raise RuntimeError(f"TableWriter({method}) wrote {writer.rows:,} rows by {writer.method}")
    return time.perf_counter() - start


def write_to_sql(frame: pd.DataFrame) -> float:
    """Seconds for DataFrame.to_sql(if_exists='replace', chunksize=10,000), engine creation included."""
    wh = warehouse(TARGET_BASE)
    with closing(db.connect(wh)) as conn:
        db.create_schema(conn, wh, wh.schema_for("ml"))
    url = sqlalchemy.engine.URL.create(
        "mysql+mysqlconnector",
        username=wh.user,
        password=wh.password or None,
        host=wh.host,
        port=wh.port,
        database=wh.schema_for("ml"),
        query={"charset": wh.charset, "collation": wh.collation},
    )
    start = time.perf_counter()
    engine = sqlalchemy.create_engine(url)
    frame.to_sql("customer_segments_to_sql", engine, if_exists="replace", index=False, chunksize=TO_SQL_CHUNK)
    engine.dispose()
    return time.perf_counter() - start


def update_loop(source_base: str, frame: pd.DataFrame, rows: int) -> float:
    """Seconds per row of one UPDATE per customer on a pre-filled keyed table, one commit at the end."""
    wh = warehouse(TARGET_BASE)
    table = db.qualified(wh.schema_for("ml"), "customer_segments_loop")
    with closing(db.connect(wh, autocommit=False)) as conn:
        db.create_schema(conn, wh, wh.schema_for("ml"))
        cur = conn.cursor()
        cur.execute(f"drop table if exists {table}")
        cur.execute(f"create table {table} like {db.qualified(f'{source_base}_ml', SEGMENTS)}")
        cur.execute(
            f"insert into {table} select customer_unique_id, 0, '', 0, '', now()"
            f" from {db.qualified(f'{source_base}_ml', SEGMENTS)}"
        )
        conn.commit()
        subset = frame.sample(n=min(rows, len(frame)), random_state=0)
        start = time.perf_counter()
        for row in subset.itertuples(index=False):
            cur.execute(
                f"update {table} set segment_id = %s, segment_name = %s, distance_to_centroid = %s,"
                " run_id = %s, scored_at = %s where customer_unique_id = %s",
                (
                    int(row.segment_id),
                    row.segment_name,
                    float(row.distance_to_centroid),
                    row.run_id,
                    pd.Timestamp(row.scored_at).to_pydatetime(),
                    row.customer_unique_id,
                ),
            )
        conn.commit()
        seconds = time.perf_counter() - start
        cur.close()
    return seconds / len(subset)


@dataclass
class Comparison:
    rows: int
    loop_rows: int
    seconds: dict[str, list[float]] = field(default_factory=dict)
    loop_per_row: float = 0.0

    def medians(self) -> dict[str, float]:
        out = {name: median(values) for name, values in self.seconds.items()}
        out[LOOP] = self.loop_per_row * self.rows
        return out


def compare(source_base: str, repeats: int, loop_rows: int) -> Comparison:
    """Every method `repeats` times (interleaved) on the same rows, then the loop; <target> is dropped."""
    frame = read_segments(source_base)
    if frame.empty:
        raise RuntimeError(f"{source_base}_ml.customer_segments is empty")
    result = Comparison(rows=len(frame), loop_rows=min(loop_rows, len(frame)))
    methods: dict[str, Callable[[], float]] = {
        METHODS["infile"]: lambda: write_ours(source_base, frame, "infile"),
        METHODS["insert"]: lambda: write_ours(source_base, frame, "insert"),
        TO_SQL: lambda: write_to_sql(frame),
    }
    try:
        for i in range(repeats):
            for name, method in methods.items():
                seconds = method()
                result.seconds.setdefault(name, []).append(seconds)
                progress(f"publish {i + 1}/{repeats}: {name}: {seconds:.2f} s for {len(frame):,} rows")
        for table in ("customer_segments_ours", "customer_segments_to_sql"):
            (count,) = query(TARGET_BASE, f"select count(*) from {db.qualified(f'{TARGET_BASE}_ml', table)}")[
                0
            ]
            if int(count) != len(frame):
                raise RuntimeError(f"{TARGET_BASE}_ml.{table} holds {count:,} rows, not {len(frame):,}")
        progress(f"publish: UPDATE loop on {result.loop_rows:,} rows …")
        result.loop_per_row = update_loop(source_base, frame, loop_rows)
    finally:
        drop_base(TARGET_BASE)
    progress(f"publish: UPDATE loop {result.loop_per_row * 1e3:.3f} ms/row")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--source-base", required=True, help="base schema holding the real segments (bench_…)"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--loop-rows", type=int, default=LOOP_ROWS)
    args = parser.parse_args()
    result = compare(args.source_base, args.repeats, args.loop_rows)
    for name, seconds in result.medians().items():
        print(f"{name:48s} {seconds:10.2f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
