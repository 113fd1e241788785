"""The upstream dbt models (seeds → staging → intermediate → fct_orders, customer_features, customer_rfm,
cohort_retention: everything that does not need the segmentation model) on the sample.

One `dbt build --select +customer_features +fct_orders +customer_rfm +cohort_retention` per adapter type into
a fresh base schema; the outcomes are then checked in SQL against expectations computed independently with
pandas from the sample CSVs.
`expected_customer_features` is also used by test_customer_features_real.py on the real Kaggle files.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from olist_segments import db, settings
from projectkit import ROOT, drop_base_schema, new_base_schema, run_dbt

SAMPLE = ROOT / "seeds" / "olist_sample"
INVALID_STATUSES = ("canceled", "unavailable")
UPSTREAM = (
    *("--select", "+customer_features", "+fct_orders", "+customer_rfm", "+cohort_retention"),
    *("--indirect-selection", "cautious"),
)
# Contract of customer_features: (DATA_TYPE, length or (precision, scale), nullable).
CONTRACT: dict[str, tuple[str, Any, bool]] = {
    "customer_unique_id": ("char", 32, False),
    "customer_state": ("char", 2, True),
    "customer_city": ("varchar", 100, True),
    "frequency": ("int", None, False),
    "monetary": ("decimal", (14, 2), False),
    "gmv": ("decimal", (14, 2), False),
    "avg_order_value": ("decimal", (14, 2), False),
    "first_purchase_at": ("datetime", None, False),
    "last_purchase_at": ("datetime", None, False),
    "recency_days": ("int", None, False),
    "tenure_days": ("int", None, False),
    "avg_review_score": ("decimal", (4, 2), True),
    "late_delivery_share": ("decimal", (5, 4), True),
    "distinct_categories": ("int", None, False),
    "as_of_date": ("date", None, False),
}
AVERAGES = ("avg_order_value", "avg_review_score", "late_delivery_share")


# ----------------------------------------------------------------------------------------------------
# Independent expectations (pandas, straight from the CSVs)
# ----------------------------------------------------------------------------------------------------


def _read(data_dir: Path, name: str) -> pd.DataFrame:
    """A Kaggle CSV as strings; empty fields stay ''. utf-8-sig: the translation file starts with a BOM."""
    return pd.read_csv(data_dir / f"{name}.csv", dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _clean(col: pd.Series, case: str = "lower") -> pd.Series:
    out = col.str.strip()
    out = out.str.lower() if case == "lower" else out.str.upper()
    return out.where(out != "", None)


def _timestamps(col: pd.Series) -> pd.Series:
    return pd.to_datetime(col.where(col != "", None), format="%Y-%m-%d %H:%M:%S")


def _cents(col: pd.Series) -> pd.Series:
    """Exact money: '58.90' → 5890 (int), through Decimal."""
    return col.map(lambda v: int(Decimal(v) * 100)).astype("int64")


@dataclass
class OlistFrames:
    orders: pd.DataFrame  # one row per order, with customer_unique_id, is_valid, amounts, review, is_late
    items: pd.DataFrame  # one row per order line, with the product category
    reviews: pd.DataFrame  # the one kept review per order


def olist_frames(data_dir: Path) -> OlistFrames:
    orders = _read(data_dir, "olist_orders_dataset")
    customers = _read(data_dir, "olist_customers_dataset")
    items = _read(data_dir, "olist_order_items_dataset")
    payments = _read(data_dir, "olist_order_payments_dataset")
    reviews = _read(data_dir, "olist_order_reviews_dataset")
    products = _read(data_dir, "olist_products_dataset")

    customers = customers.assign(
        customer_city=_clean(customers["customer_city"]),
        customer_state=_clean(customers["customer_state"], "upper"),
    )[["customer_id", "customer_unique_id", "customer_city", "customer_state"]]
    orders = orders.assign(
        order_status=_clean(orders["order_status"]),
        purchased_at=_timestamps(orders["order_purchase_timestamp"]),
        delivered_at=_timestamps(orders["order_delivered_customer_date"]),
        estimated=_timestamps(orders["order_estimated_delivery_date"]),
    ).merge(customers, on="customer_id", how="left")
    orders["is_valid"] = ~orders["order_status"].isin(INVALID_STATUSES)
    delivered = (orders["order_status"] == "delivered") & orders["delivered_at"].notna()
    orders["is_delivered"] = delivered
    orders["is_late"] = delivered & (
        orders["delivered_at"].dt.normalize() > orders["estimated"].dt.normalize()
    )

    items = items.assign(gmv_cents=_cents(items["price"]) + _cents(items["freight_value"]))
    products = products.assign(category=_clean(products["product_category_name"]))[["product_id", "category"]]
    items = items.merge(products, on="product_id", how="left")
    order_gmv = items.groupby("order_id")["gmv_cents"].sum()
    paid = payments.assign(cents=_cents(payments["payment_value"])).groupby("order_id")["cents"].sum()
    orders["gmv_cents"] = orders["order_id"].map(order_gmv).fillna(0).astype("int64")
    orders["paid_cents"] = orders["order_id"].map(paid).fillna(0).astype("int64")

    # One review per order: latest answer, latest creation, largest review_id; missing dates last.
    reviews = reviews.assign(
        answered=_timestamps(reviews["review_answer_timestamp"]),
        created=_timestamps(reviews["review_creation_date"]),
        score=reviews["review_score"].astype(int),
    )
    kept = reviews.sort_values(
        ["order_id", "answered", "created", "review_id"],
        ascending=[True, False, False, False],
        na_position="last",
    ).drop_duplicates("order_id", keep="first")
    orders["review_score"] = orders["order_id"].map(kept.set_index("order_id")["score"])
    return OlistFrames(orders=orders, items=items, reviews=kept)


def expected_customer_features(data_dir: Path) -> pd.DataFrame:
    """customer_features computed from the CSVs, indexed by customer_unique_id (money in cents)."""
    frames = olist_frames(data_dir)
    valid = frames.orders[frames.orders["is_valid"]]
    as_of = valid["purchased_at"].max().normalize() + pd.Timedelta(days=1)
    grouped = valid.groupby("customer_unique_id")
    latest = valid.sort_values(["purchased_at", "order_id"], ascending=False).drop_duplicates(
        "customer_unique_id"
    )
    out = pd.DataFrame(
        {
            "frequency": grouped["order_id"].nunique(),
            "monetary_cents": grouped["paid_cents"].sum(),
            "gmv_cents": grouped["gmv_cents"].sum(),
            "first_purchase_at": grouped["purchased_at"].min(),
            "last_purchase_at": grouped["purchased_at"].max(),
            "avg_review_score": grouped["review_score"].mean(),
            "late_delivery_share": grouped["is_late"].sum()
            / grouped["is_delivered"].sum().replace(0, float("nan")),
        }
    )
    out["avg_order_value"] = out["monetary_cents"] / out["frequency"] / 100
    out["recency_days"] = (as_of - out["last_purchase_at"].dt.normalize()).dt.days
    out["tenure_days"] = (as_of - out["first_purchase_at"].dt.normalize()).dt.days
    out["as_of_date"] = as_of.date()
    out = out.join(latest.set_index("customer_unique_id")[["customer_state", "customer_city"]])
    valid_items = frames.items.merge(valid[["order_id", "customer_unique_id"]], on="order_id")
    categories = valid_items.groupby("customer_unique_id")["category"].nunique()
    out["distinct_categories"] = categories.reindex(out.index).fillna(0).astype(int)
    return out


# ----------------------------------------------------------------------------------------------------
# Reading the warehouse
# ----------------------------------------------------------------------------------------------------


def query(wh: settings.Warehouse, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    conn = db.connect(wh)
    try:
        cur = conn.cursor(dictionary=True)
        cur.execute(sql, params)
        return list(cur.fetchall())
    finally:
        conn.close()


def customer_features_rows(wh: settings.Warehouse) -> dict[str, dict[str, Any]]:
    table = db.qualified(wh.schema_for("marts"), "customer_features")
    return {row["customer_unique_id"]: row for row in query(wh, f"select * from {table}")}


def compare_row_by_row(actual: dict[str, dict[str, Any]], expected: pd.DataFrame) -> list[str]:
    """Every contract column of every customer: money exact (cents), averages within 0.01. → problems."""
    problems: list[str] = []
    missing, extra = set(expected.index) - set(actual), set(actual) - set(expected.index)
    if missing or extra:
        problems.append(f"{len(missing)} customers missing (e.g. {sorted(missing)[:3]}), {len(extra)} extra")
    for cid in sorted(set(expected.index) & set(actual)):
        exp, row = expected.loc[cid], actual[cid]
        wanted: dict[str, Any] = {
            "customer_state": exp["customer_state"],
            "customer_city": exp["customer_city"],
            "frequency": int(exp["frequency"]),
            "monetary": int(exp["monetary_cents"]),
            "gmv": int(exp["gmv_cents"]),
            "first_purchase_at": exp["first_purchase_at"].to_pydatetime(),
            "last_purchase_at": exp["last_purchase_at"].to_pydatetime(),
            "recency_days": int(exp["recency_days"]),
            "tenure_days": int(exp["tenure_days"]),
            "distinct_categories": int(exp["distinct_categories"]),
            "as_of_date": exp["as_of_date"],
        }
        got = {k: row[k] for k in wanted}
        got["monetary"], got["gmv"] = int(row["monetary"] * 100), int(row["gmv"] * 100)
        for key, value in wanted.items():
            if got[key] != value:
                problems.append(f"{cid}.{key}: warehouse {got[key]!r}, pandas {value!r}")
        for key in AVERAGES:
            value = None if pd.isna(exp[key]) else float(exp[key])
            if (row[key] is None) != (value is None) or (
                value is not None and abs(float(row[key]) - value) > 0.01
            ):
                problems.append(f"{cid}.{key}: warehouse {row[key]!r}, pandas {value!r}")
        if len(problems) > 20:
            break
    return problems


# ----------------------------------------------------------------------------------------------------
# One build per adapter type
# ----------------------------------------------------------------------------------------------------


@dataclass
class Build:
    wh: settings.Warehouse
    target: str
    target_path: Path
    frames: OlistFrames
    expected: pd.DataFrame


@pytest.fixture(scope="module", params=["mariadb", "mysql"])
def build(request: pytest.FixtureRequest, base_warehouse: settings.Warehouse) -> Iterator[Build]:
    schema = new_base_schema("t_build")
    wh = replace(base_warehouse, schema=schema)
    target_path = ROOT / "target" / f"pytest_{schema}"
    try:
        run_dbt("build", *UPSTREAM, schema=schema, target=request.param, env={"OLIST_DATA_DIR": str(SAMPLE)})
        yield Build(wh, request.param, target_path, olist_frames(SAMPLE), expected_customer_features(SAMPLE))
    finally:
        drop_base_schema(wh)
        shutil.rmtree(target_path, ignore_errors=True)


def test_build_ran_the_tests(build: Build) -> None:
    results = json.loads((build.target_path / "run_results.json").read_text())["results"]
    by_status: dict[str, list[str]] = {}
    for result in results:
        by_status.setdefault(result["status"], []).append(result["unique_id"])
    assert not by_status.get("error") and not by_status.get("fail"), by_status
    tests = [r for r in results if r["unique_id"].startswith("test.")]
    assert len(tests) >= 100, f"only {len(tests)} dbt tests ran"
    models = {r["unique_id"] for r in results if r["unique_id"].startswith("model.")}
    assert {"model.olist_segments.customer_features", "model.olist_segments.fct_orders"} <= models


def test_customer_features_matches_pandas_row_by_row(build: Build) -> None:
    assert compare_row_by_row(customer_features_rows(build.wh), build.expected) == []


def test_one_row_per_customer_unique_id(build: Build) -> None:
    table = db.qualified(build.wh.schema_for("marts"), "customer_features")
    (row,) = query(build.wh, f"select count(*) as n, count(distinct customer_unique_id) as d from {table}")
    orders = build.frames.orders
    assert row["n"] == row["d"] == orders.loc[orders["is_valid"], "customer_unique_id"].nunique()
    # The sample has people with several customer_ids (one per order): rows are per person, not per order.
    assert orders.groupby("customer_unique_id")["customer_id"].nunique().max() > 1


def test_customers_with_only_canceled_orders_are_absent(build: Build) -> None:
    orders = build.frames.orders
    valid_orders = orders.groupby("customer_unique_id")["is_valid"].sum()
    canceled_only = set(valid_orders[valid_orders == 0].index)
    assert canceled_only, "the sample should have customers whose orders are all canceled/unavailable"
    assert canceled_only.isdisjoint(customer_features_rows(build.wh))


def test_repeat_buyer_frequency_counts_valid_orders_only(build: Build) -> None:
    orders = build.frames.orders
    per_customer = orders.groupby("customer_unique_id").agg(
        valid=("is_valid", "sum"), total=("order_id", "count")
    )
    repeat = per_customer[per_customer["valid"] >= 2]
    mixed = per_customer[(per_customer["valid"] >= 1) & (per_customer["valid"] < per_customer["total"])]
    assert len(repeat) and len(mixed), "the sample should have repeat buyers and buyers with canceled orders"
    rows = customer_features_rows(build.wh)
    for cid, counts in pd.concat([repeat, mixed]).iterrows():
        assert rows[cid]["frequency"] == counts["valid"], cid


def test_order_without_payments_adds_zero_to_monetary(build: Build) -> None:
    orders = build.frames.orders
    payments = _read(SAMPLE, "olist_order_payments_dataset")
    unpaid = orders[orders["is_valid"] & ~orders["order_id"].isin(payments["order_id"])]
    assert len(unpaid), "the sample should have valid orders without payments"
    rows = customer_features_rows(build.wh)
    valid = orders[orders["is_valid"]]
    for cid in unpaid["customer_unique_id"].unique():
        paid_elsewhere = int(valid.loc[valid["customer_unique_id"] == cid, "paid_cents"].sum())
        assert int(rows[cid]["monetary"] * 100) == paid_elsewhere, cid
        assert rows[cid]["frequency"] == valid[valid["customer_unique_id"] == cid]["order_id"].nunique()
    fct = db.qualified(build.wh.schema_for("marts"), "fct_orders")
    marks = ", ".join(["%s"] * len(unpaid))
    found = query(
        build.wh,
        f"select order_id, paid_amount, payment_count from {fct} where order_id in ({marks})",
        tuple(unpaid["order_id"]),
    )
    assert {(r["paid_amount"], r["payment_count"]) for r in found} == {(Decimal("0.00"), 0)}
    assert len(found) == len(unpaid)


def test_reviews_are_deduplicated_to_one_per_order(build: Build) -> None:
    raw = _read(SAMPLE, "olist_order_reviews_dataset")
    multi = raw["order_id"][raw["order_id"].duplicated()].unique()
    shared_ids = raw["review_id"][raw["review_id"].duplicated()].unique()
    assert len(multi) and len(shared_ids), "the sample should have orders with several reviews and shared ids"
    view = db.qualified(build.wh.schema_for("staging"), "stg_olist__order_reviews")
    rows = {
        r["order_id"]: r for r in query(build.wh, f"select order_id, review_id, reviews_of_order from {view}")
    }
    assert len(rows) == raw["order_id"].nunique()
    kept = build.frames.reviews.set_index("order_id")["review_id"]
    for order_id in multi:
        assert rows[order_id]["review_id"] == kept[order_id], order_id
        assert rows[order_id]["reviews_of_order"] == (raw["order_id"] == order_id).sum()


def test_leading_zeros_of_zip_prefixes_are_kept(build: Build) -> None:
    raw = _read(SAMPLE, "olist_customers_dataset")
    zero = raw[raw["customer_zip_code_prefix"].str.startswith("0")]
    assert len(zero), "the sample should have zip prefixes with a leading zero"
    fct = db.qualified(build.wh.schema_for("marts"), "fct_orders")
    rows = query(build.wh, f"select customer_id, customer_zip_code_prefix from {fct}")
    zips = {r["customer_id"]: r["customer_zip_code_prefix"] for r in rows}
    for customer_id, zip_prefix in zip(zero["customer_id"], zero["customer_zip_code_prefix"], strict=True):
        assert zips[customer_id] == zip_prefix


def test_as_of_date_is_the_day_after_the_last_valid_purchase(build: Build) -> None:
    orders = build.frames.orders
    last_valid = orders.loc[orders["is_valid"], "purchased_at"].max()
    assert orders["purchased_at"].max() > last_valid, (
        "the sample should have invalid orders after the last valid one"
    )
    table = db.qualified(build.wh.schema_for("marts"), "customer_features")
    rows = query(
        build.wh, f"select distinct as_of_date, min(recency_days) as r from {table} group by as_of_date"
    )
    assert rows == [{"as_of_date": last_valid.date() + dt.timedelta(days=1), "r": 1}]


def test_as_of_date_var(build: Build) -> None:
    """var as_of_date moves recency/tenure; a malformed value is refused with a message naming the var."""
    table = db.qualified(build.wh.schema_for("marts"), "customer_features")
    try:
        run_dbt(
            "run",
            "--select",
            "customer_features",
            "--vars",
            "{as_of_date: '2019-01-01'}",
            schema=build.wh.schema,
            target=build.target,
        )
        rows = query(build.wh, f"select as_of_date, recency_days, last_purchase_at from {table}")
        assert {r["as_of_date"] for r in rows} == {dt.date(2019, 1, 1)}
        assert all(
            r["recency_days"] == (dt.date(2019, 1, 1) - r["last_purchase_at"].date()).days for r in rows
        )
    finally:
        run_dbt("run", "--select", "customer_features", schema=build.wh.schema, target=build.target)
    bad = run_dbt(
        "compile",
        "--select",
        "customer_features",
        "--vars",
        "{as_of_date: '2018-02-30'}",
        schema=build.wh.schema,
        target=build.target,
        check=False,
    )
    assert bad.returncode != 0
    assert "as_of_date must be a date written YYYY-MM-DD, got '2018-02-30'" in bad.stdout


def test_contract_column_types(build: Build) -> None:
    rows = query(
        build.wh,
        "select column_name as name, data_type as type, character_maximum_length as length,"
        " numeric_precision as p, numeric_scale as s, is_nullable as nullable, column_key as k"
        " from information_schema.columns where table_schema = %s and table_name = 'customer_features'"
        " order by ordinal_position",
        (build.wh.schema_for("marts"),),
    )
    assert [r["name"].lower() for r in rows] == list(CONTRACT)
    for row in rows:
        data_type, size, nullable = CONTRACT[row["name"].lower()]
        assert row["type"].lower() == data_type, row
        if data_type in ("char", "varchar"):
            assert row["length"] == size, row
        if data_type == "decimal":
            assert (row["p"], row["s"]) == size, row
        assert (row["nullable"] == "YES") == nullable, row
    assert rows[0]["k"] == "PRI"


def test_docs_generate_and_every_column_is_described(build: Build) -> None:
    run_dbt("docs", "generate", schema=build.wh.schema, target=build.target)
    catalog = json.loads((build.target_path / "catalog.json").read_text())
    manifest = json.loads((build.target_path / "manifest.json").read_text())
    # Every model this build made: all of them but the segmentation model and what is built on it.
    ml = "model.olist_segments.customer_segments"
    downstream, frontier = {ml}, {ml}
    while frontier:
        frontier = {child for uid in frontier for child in manifest["child_map"][uid]} - downstream
        downstream |= frontier
    ours = [
        node
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] == "model" and uid not in downstream
    ]
    assert len(ours) >= 16
    undocumented: list[str] = []
    for node in ours:
        if not node["description"].strip():
            undocumented.append(node["name"])
        assert node["unique_id"] in catalog["nodes"], f"{node['name']} missing from the catalog"
        for column in catalog["nodes"][node["unique_id"]]["columns"]:
            documented = node["columns"].get(column.lower(), {}).get("description", "").strip()
            if not documented:
                undocumented.append(f"{node['name']}.{column}")
    assert undocumented == []
