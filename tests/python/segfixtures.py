"""Helpers for the segmentation tests: a synthetic customer_features mart with the contract's exact columns
and types, the segment_definitions seed loaded the way dbt seeds it, and table fingerprints."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from contextlib import closing
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np

from olist_harness import synth
from olist_segments import db
from olist_segments.settings import Warehouse
from projectkit import run_dbt

AS_OF = date(2018, 10, 18)
COLUMNS = (
    "customer_unique_id",
    "customer_state",
    "customer_city",
    "frequency",
    "monetary",
    "gmv",
    "avg_order_value",
    "first_purchase_at",
    "last_purchase_at",
    "recency_days",
    "tenure_days",
    "avg_review_score",
    "late_delivery_share",
    "distinct_categories",
    "as_of_date",
)


def customers(n: int, seed: int = 7) -> list[tuple[Any, ...]]:
    """Olist-shaped customers: log-normal spend, ~95 % single-order, keys are random 32-hex strings."""
    rng = np.random.default_rng(seed)
    frequency = np.where(rng.random(n) < 0.95, 1, rng.integers(2, 6, n))
    monetary = np.round(rng.lognormal(4.7, 0.8, n) * frequency**0.8, 2)
    recency = rng.integers(0, 700, n)
    tenure = recency + np.where(frequency > 1, rng.integers(0, 300, n), 0)
    rows = []
    for i in range(n):
        last = datetime.combine(AS_OF - timedelta(days=int(recency[i])), datetime.min.time()) + timedelta(
            hours=10
        )
        first = last - timedelta(days=int(tenure[i] - recency[i]))
        rows.append(
            (
                rng.bytes(16).hex(),
                "SP",
                "sao paulo",
                int(frequency[i]),
                float(monetary[i]),
                float(monetary[i]),
                round(float(monetary[i]) / int(frequency[i]), 2),
                first,
                last,
                int(recency[i]),
                int(tenure[i]),
                None if i % 10 == 0 else 4.0,
                None if i % 10 == 0 else 0.0,
                1,
                AS_OF,
            )
        )
    return rows


def execute(wh: Warehouse, *statements: str) -> None:
    conn = db.connect(wh)
    cur = conn.cursor()
    for sql in statements:
        cur.execute(sql)
    conn.close()


def create_mart(wh: Warehouse, rows: Iterable[Sequence[Any]] = ()) -> str:
    """(Re)create <base>_marts.customer_features holding `rows`; returns the qualified table name."""
    schema = wh.schema_for("marts")
    table = db.qualified(schema, "customer_features")
    with closing(db.connect(wh)) as conn:
        db.create_schema(conn, wh, schema)
    execute(wh, f"drop table if exists {table}")
    execute(wh, f"create table {table} {synth.DDL}")
    insert_rows(wh, table, COLUMNS, list(rows))
    return table


def insert_rows(wh: Warehouse, table: str, columns: Sequence[str], rows: list[Sequence[Any]]) -> None:
    conn = db.connect(wh)
    cur = conn.cursor()
    sql = f"insert into {table} ({', '.join(columns)}) values ({', '.join(['%s'] * len(columns))})"
    for start in range(0, len(rows), 5000):
        cur.executemany(sql, rows[start : start + 5000])
    conn.close()


def load_definitions(wh: Warehouse) -> None:
    """Load seeds/reference/segment_definitions.csv into <base>_raw.segment_definitions, as dbt seed does."""
    with closing(db.connect(wh)) as conn:
        synth.seed_definitions(conn, wh, replace=True)


FAST = {"segment_k": 4, "segment_n_init": 2}  # dbt vars of a quick fit


def run_model(
    wh: Warehouse, check: bool = True, env: dict[str, str] | None = None, **dbt_vars: object
) -> str:
    """`dbt run -s customer_segments` alone (its inputs are the hand-made tables); dbt's output."""
    args = ("run", "--select", "customer_segments", "--vars", json.dumps(FAST | dbt_vars))
    return run_dbt(*args, schema=wh.schema, check=check, env=env).stdout


def query(wh: Warehouse, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    conn = db.connect(wh)
    cur = conn.cursor()
    cur.execute(sql, tuple(params))
    rows = list(cur.fetchall())
    conn.close()
    return rows


def segments_table(wh: Warehouse) -> str:
    return db.qualified(wh.schema_for("ml"), "customer_segments")


def assignments(wh: Warehouse) -> list[tuple[Any, ...]]:
    """(customer, segment id, name, distance) in key order: the published content without run metadata."""
    return query(
        wh,
        "select customer_unique_id, segment_id, segment_name, distance_to_centroid"
        f" from {segments_table(wh)} order by customer_unique_id",
    )


def fingerprint(wh: Warehouse) -> tuple[int, str]:
    """CHECKSUM TABLE and a hash of every row in key order: equal only for byte-identical content."""
    (_, checksum) = query(wh, f"checksum table {segments_table(wh)}")[0]
    rows = query(wh, f"select * from {segments_table(wh)} order by customer_unique_id")
    return int(checksum), hashlib.sha256(repr(rows).encode()).hexdigest()


def registry(wh: Warehouse) -> list[dict[str, Any]]:
    """Every segment_model_runs row, JSON columns decoded."""
    conn = db.connect(wh)
    cur = conn.cursor(dictionary=True)
    cur.execute(f"select * from {db.qualified(wh.schema_for('ml'), 'segment_model_runs')}")
    rows = [dict(r) for r in cur.fetchall()]
    conn.close()
    for row in rows:
        for column in ("features", "params", "metrics", "centroids", "scaler", "library_versions"):
            row[column] = None if row[column] is None else json.loads(row[column])
    return rows


def ml_tables(wh: Warehouse) -> set[str]:
    sql = "select table_name from information_schema.tables where table_schema = %s"
    return {str(t) for (t,) in query(wh, sql, (wh.schema_for("ml"),))}
