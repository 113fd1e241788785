"""Floors: what the chain's work costs without dbt, on the same data and server.

- load: LOAD DATA LOCAL INFILE of each of the 8 Kaggle CSVs into a table with the seed's column types and
  indexes (models/staging/olist/_olist__seeds.yml), one table after the other, on one connection;
- features: customer_features computed with pandas from the CSVs (read, then compute, timed apart);
- fit: one KMeans fit (the model's own fit_kmeans: n_init 10, one thread) on the real customer_features.

Standalone: `.venv/bin/python benchmarks/floors.py [--data-dir DIR]` (load and features only).
"""

from __future__ import annotations

import argparse
import time
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from _common import OLIST_TABLES, data_dir, drop_base, progress, warehouse

from olist_segments import checks, db, features, model

FLOOR_BASE = "bench_floor"
INVALID_STATUSES = ("canceled", "unavailable")  # dbt_project.yml's invalid_order_statuses


@dataclass
class TableLoad:
    table: str
    rows: int
    warnings: int
    seconds: float


def seed_indexes() -> dict[str, list[list[str]]]:
    """The `indexes` of every Olist seed (seed → list of column lists), as dbt creates them."""
    seeds = yaml.safe_load(checks.SEEDS_FILE.read_text(encoding="utf-8"))["seeds"]
    return {
        s["name"]: [list(i["columns"]) for i in (s.get("config") or {}).get("indexes", [])] for s in seeds
    }


def load_floor(folder: Path, base: str = FLOOR_BASE) -> list[TableLoad]:
    """LOAD DATA LOCAL INFILE of the 8 CSVs into typed, indexed tables in <base>_raw (dropped afterwards)."""
    types, indexes = checks.seed_column_types(), seed_indexes()
    wh = warehouse(base)
    raw = wh.schema_for("raw")
    out = []
    try:
        with closing(db.connect(wh, local_infile=True)) as conn:
            db.create_schema(conn, wh, raw)
            for table in OLIST_TABLES:
                path = folder / f"{table}.csv"
                with path.open("rb") as f:
                    first = f.readline()
                header = first.decode("utf-8-sig").strip().replace('"', "").split(",")
                ending = "\\r\\n" if first.endswith(b"\r\n") else "\\n"
                columns = [f"{db.quote_ident(c)} {types[table][c]} null" for c in header]
                keys = [
                    f"index ({', '.join(db.quote_ident(c) for c in cols)})" for cols in indexes.get(table, [])
                ]
                name = db.qualified(raw, table)
                db.query(conn, f"drop table if exists {name}")
                db.query(conn, f"create table {name} ({', '.join(columns + keys)})")
                variables = ", ".join(f"@v{i}" for i in range(len(header)))
                assign = ", ".join(f"{db.quote_ident(c)} = nullif(@v{i}, '')" for i, c in enumerate(header))
                start = time.perf_counter()
                cur = conn.cursor()
                cur.execute(
                    f"load data local infile %s into table {name} character set utf8mb4"
                    " fields terminated by ',' optionally enclosed by '\"' escaped by ''"
                    f" lines terminated by '{ending}' ignore 1 lines ({variables}) set {assign}",
                    (str(path),),
                )
                rows = cur.rowcount
                cur.execute("show count(*) warnings")
                (warnings,) = cur.fetchone()
                cur.close()
                out.append(TableLoad(table, int(rows), int(warnings), time.perf_counter() - start))
                progress(f"floor: LOAD DATA {table}: {rows:,} rows in {out[-1].seconds:.2f} s")
    finally:
        drop_base(base)
    return out


def features_floor(folder: Path) -> tuple[float, float, int]:
    """(read seconds, compute seconds, customers): customer_features' columns with pandas from the CSVs."""
    start = time.perf_counter()

    def read(name: str, columns: list[str]) -> pd.DataFrame:
        return pd.read_csv(folder / f"olist_{name}_dataset.csv", usecols=columns)

    customers = read("customers", ["customer_id", "customer_unique_id", "customer_state", "customer_city"])
    orders = read(
        "orders",
        [
            "order_id",
            "customer_id",
            "order_status",
            "order_purchase_timestamp",
            "order_delivered_customer_date",
            "order_estimated_delivery_date",
        ],
    )
    items = read("order_items", ["order_id", "product_id", "price", "freight_value"])
    payments = read("order_payments", ["order_id", "payment_value"])
    reviews = read("order_reviews", ["order_id", "review_score"])
    products = read("products", ["product_id", "product_category_name"])
    read_s = time.perf_counter() - start

    start = time.perf_counter()
    for column in (
        "order_purchase_timestamp",
        "order_delivered_customer_date",
        "order_estimated_delivery_date",
    ):
        orders[column] = pd.to_datetime(orders[column])
    items["gmv"] = items["price"] + items["freight_value"]
    per_order = (
        orders.merge(customers, on="customer_id", how="left")
        .merge(items.groupby("order_id")["gmv"].sum().rename("gmv"), on="order_id", how="left")
        .merge(payments.groupby("order_id")["payment_value"].sum().rename("paid"), on="order_id", how="left")
        .merge(reviews.groupby("order_id")["review_score"].mean().rename("review"), on="order_id", how="left")
    )
    valid = per_order[~per_order["order_status"].isin(INVALID_STATUSES)].copy()
    delivered = (valid["order_status"] == "delivered") & valid["order_delivered_customer_date"].notna()
    valid["delivered"] = delivered.astype(int)
    valid["late"] = (
        delivered
        & (valid["order_delivered_customer_date"].dt.normalize() > valid["order_estimated_delivery_date"])
    ).astype(int)
    valid = valid.sort_values(["order_purchase_timestamp", "order_id"])
    as_of = valid["order_purchase_timestamp"].max().normalize() + pd.Timedelta(days=1)
    grouped = valid.groupby("customer_unique_id")
    result = grouped.agg(
        frequency=("order_id", "nunique"),
        monetary=("paid", "sum"),
        gmv=("gmv", "sum"),
        first_purchase_at=("order_purchase_timestamp", "min"),
        last_purchase_at=("order_purchase_timestamp", "max"),
        avg_review_score=("review", "mean"),
        late_deliveries=("late", "sum"),
        delivered_orders=("delivered", "sum"),
        customer_state=("customer_state", "last"),
        customer_city=("customer_city", "last"),
    )
    result["avg_order_value"] = result["monetary"] / result["frequency"]
    result["recency_days"] = (as_of - result["last_purchase_at"].dt.normalize()).dt.days
    result["tenure_days"] = (as_of - result["first_purchase_at"].dt.normalize()).dt.days
    result["late_delivery_share"] = result["late_deliveries"] / result["delivered_orders"].replace(0, np.nan)
    categories = (
        valid[["customer_unique_id", "order_id"]]
        .merge(items[["order_id", "product_id"]], on="order_id")
        .merge(products, on="product_id", how="left")
        .groupby("customer_unique_id")["product_category_name"]
        .nunique()
    )
    result["distinct_categories"] = categories.reindex(result.index).fillna(0).astype(int)
    compute_s = time.perf_counter() - start
    return read_s, compute_s, len(result)


def fit_floor(base: str, k: int, n_init: int = 10, random_state: int = 42) -> tuple[float, int]:
    """(seconds, rows): one KMeans fit at `k` on <base>_marts.customer_features (monetary, frequency)."""
    wh = warehouse(base)
    with closing(db.connect(wh)) as conn:
        rows = db.query(
            conn,
            "select cast(monetary as double), frequency from"
            f" {db.qualified(wh.schema_for('marts'), 'customer_features')} order by customer_unique_id",
        )
    values = np.asarray(rows, dtype=np.float64)
    z = features.Scaler.fit(values).transform(values)
    start = time.perf_counter()
    model.fit_kmeans(z, k, random_state=random_state, n_init=n_init)
    return time.perf_counter() - start, len(values)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--data-dir", help="Olist CSVs (default OLIST_DATA_DIR, else ../shared/olist)")
    args = parser.parse_args()
    folder = data_dir(args.data_dir)
    loads = load_floor(folder)
    print(f"LOAD DATA floor: {sum(t.seconds for t in loads):.2f} s for {sum(t.rows for t in loads):,} rows")
    read_s, compute_s, n = features_floor(folder)
    print(f"pandas customer_features: read {read_s:.2f} s, compute {compute_s:.2f} s, {n:,} customers")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
