"""`olist-harness scale-data`: Olist-shaped folders at N x, deterministic, with the real data's pitfalls, that
check-data accepts and dbt builds."""

from __future__ import annotations

import argparse
import csv
import re
import shutil
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from olist_harness import cli, sample, scaled_data
from olist_segments import checks, db, settings
from projectkit import REAL_DATA, ROOT, drop_base_schema, new_base_schema, query, run_dbt
from test_sample import HEADERS, INVALID

FACTOR = 0.1
FILES = sorted(f"{name}.csv" for name in HEADERS)
# rows per file of the real data (1x); the translation file is a fixed table
REAL_ROWS = {
    "olist_customers_dataset": 99_441,
    "olist_orders_dataset": 99_441,
    "olist_order_items_dataset": 112_650,
    "olist_order_payments_dataset": 103_886,
    "olist_order_reviews_dataset": 99_224,
    "olist_products_dataset": 32_951,
    "olist_sellers_dataset": 3_095,
}
Tables = dict[str, pd.DataFrame]


def read(folder: Path, name: str) -> pd.DataFrame:
    """Every value as text, empty fields as NaN (the way dbt's seed loader sees them)."""
    return pd.read_csv(
        folder / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
    )


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("scaled")
    counts = scaled_data.generate(out, FACTOR)
    assert counts == {f"{name}.csv": len(read(out, name)) for name in HEADERS}
    return out


@pytest.fixture(scope="module")
def t(generated: Path) -> Tables:
    """The tables by short name (orders, order_items, …) and "o": orders with their customer, paid
    (payments), gmv (price + freight) and n_valid (valid orders of their customer_unique_id)."""
    tables = {name.removeprefix("olist_").removesuffix("_dataset"): read(generated, name) for name in HEADERS}
    orders = tables["orders"].merge(tables["customers"], on="customer_id", how="left")
    for col in ("order_purchase_timestamp", "order_delivered_customer_date", "order_estimated_delivery_date"):
        orders[col] = pd.to_datetime(orders[col], format="%Y-%m-%d %H:%M:%S")
    pays, items = tables["order_payments"], tables["order_items"]
    pays["value"] = pays.payment_value.astype(float)
    items["value"] = items.price.astype(float) + items.freight_value.astype(float)
    orders["paid"] = orders.order_id.map(pays.groupby("order_id").value.sum())
    orders["gmv"] = orders.order_id.map(items.groupby("order_id").value.sum())
    orders["valid"] = ~orders.order_status.isin(INVALID)
    orders["n_orders"] = orders.groupby("customer_unique_id").order_id.transform("count")
    orders["n_valid"] = orders.groupby("customer_unique_id").valid.transform("sum")
    tables["o"] = orders
    return tables


def test_same_seed_same_bytes_another_seed_other_bytes(generated: Path, tmp_path: Path) -> None:
    scaled_data.generate(tmp_path / "again", FACTOR)
    scaled_data.generate(tmp_path / "other", FACTOR, seed=7)
    assert sorted(p.name for p in generated.iterdir()) == FILES
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (generated / name).read_bytes(), name
        if name != "product_category_name_translation.csv":
            assert (tmp_path / "other" / name).read_bytes() != (generated / name).read_bytes(), name


def scale_data(*argv: str) -> int:
    """`olist-harness scale-data ARGV` (the parser alone: cli.main would import every subcommand)."""
    module, help_text = cli.COMMANDS["scale-data"]
    assert module == "scaled_data" and help_text
    parser = argparse.ArgumentParser()
    scaled_data.add_arguments(parser)
    return scaled_data.main(parser.parse_args(argv))


def test_cli_writes_the_folder_and_refuses_bad_arguments(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scale_data("--factor", "0.01", "--out", str(tmp_path / "new"), "--seed", "3") == 0
    printed = capsys.readouterr().out
    for name in HEADERS:
        rows = len(read(tmp_path / "new", name))
        assert re.search(rf"^{name}\.csv\s+{rows:,} rows", printed, re.M), printed
    assert "0.01x Olist" in printed
    assert scale_data("--factor", "0", "--out", str(tmp_path / "zero")) == 2
    assert "factor must be positive" in capsys.readouterr().out
    (tmp_path / "file").write_text("not a folder")
    assert scale_data("--factor", "0.01", "--out", str(tmp_path / "file")) == 1
    assert "cannot write into" in capsys.readouterr().out


@pytest.mark.parametrize("name", HEADERS)
def test_headers_and_file_conventions_are_kaggles(generated: Path, name: str) -> None:
    data = (generated / f"{name}.csv").read_bytes()
    first_line = data.split(b"\n", 1)[0] + b"\n"
    text = first_line.decode("utf-8")
    assert next(csv.reader([text.removeprefix("\ufeff").rstrip("\r\n")])) == HEADERS[name]
    # the translation file starts with a UTF-8 BOM; reviews and translation use CRLF line ends
    crlf = name in ("olist_order_reviews_dataset", "product_category_name_translation")
    assert text.startswith("\ufeff") == (name == "product_category_name_translation")
    assert text.endswith("\r\n") == crlf
    if not crlf:  # no stray CR anywhere (review texts carry their own CRLFs, inside quotes)
        assert b"\r" not in data
    real = REAL_DATA / f"{name}.csv"
    if real.is_file():
        with real.open("rb") as f:
            assert f.readline() == first_line


def test_ids_zips_timestamps_and_money_are_formatted_like_kaggle(generated: Path, t: Tables) -> None:
    checks_ = {
        r"[0-9a-f]{32}": [
            ("customers", "customer_id"), ("customers", "customer_unique_id"), ("orders", "order_id"),
            ("order_items", "product_id"), ("order_items", "seller_id"), ("order_reviews", "review_id"),
            ("products", "product_id"), ("sellers", "seller_id"),
        ],
        r"\d{5}": [("customers", "customer_zip_code_prefix"), ("sellers", "seller_zip_code_prefix")],
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d": [
            ("orders", "order_approved_at"), ("orders", "order_delivered_carrier_date"),
            ("order_items", "shipping_limit_date"), ("order_reviews", "review_answer_timestamp"),
        ],
        r"\d{4}-\d\d-\d\d 00:00:00": [
            ("orders", "order_estimated_delivery_date"), ("order_reviews", "review_creation_date"),
        ],
        r"(0|[1-9]\d*)\.\d\d": [
            ("order_items", "price"), ("order_items", "freight_value"), ("order_payments", "payment_value"),
        ],
        r"[1-9]\d*": [("order_items", "order_item_id"), ("order_payments", "payment_sequential")],
    }  # fmt: skip
    for pattern, columns in checks_.items():
        for table, column in columns:
            values = t[table][column].dropna()
            assert len(values) and values.str.fullmatch(pattern).all(), f"{table}.{column} !~ {pattern}"
    # ids and zip prefixes starting with a digit are quoted, the others not (as in the Kaggle files)
    lines = (generated / "olist_sellers_dataset.csv").read_text().splitlines()[1:]
    for line in lines[:200]:
        seller_id = line.split(",", 1)[0]
        assert seller_id.startswith('"') == seller_id.strip('"')[0].isdigit(), line
        assert re.fullmatch(r'[^,]+,"\d{5}",[a-z ]+,[A-Z]{2}', line), line
    when = t["o"].order_purchase_timestamp
    assert when.min() >= pd.Timestamp("2016-09-04") and when.max() < pd.Timestamp("2018-10-18")
    assert t["customers"].customer_state.value_counts().index[0] == "SP"


def test_referential_integrity_like_the_real_data(t: Tables) -> None:
    orders, customers = t["orders"], t["customers"]
    assert orders.order_id.is_unique and customers.customer_id.is_unique
    assert set(orders.customer_id) == set(customers.customer_id)  # 1:1, one customer_id per order
    assert t["order_items"].order_id.isin(orders.order_id).all()
    assert t["order_items"].product_id.isin(t["products"].product_id).all()
    assert t["order_items"].seller_id.isin(t["sellers"].seller_id).all()
    assert t["order_payments"].order_id.isin(orders.order_id).all()
    assert t["order_reviews"].order_id.isin(orders.order_id).all()
    assert t["products"].product_id.is_unique and t["sellers"].seller_id.is_unique
    assert customers.customer_unique_id.nunique() < len(customers)
    assert not t["order_items"].duplicated(["order_id", "order_item_id"]).any()
    assert not t["order_payments"].duplicated(["order_id", "payment_sequential"]).any()
    assert not t["order_reviews"].duplicated(["review_id", "order_id"]).any()
    # order_item_id runs 1..n and payment_sequential 1..n within each order
    for table, col in (("order_items", "order_item_id"), ("order_payments", "payment_sequential")):
        seq = t[table][col].astype(int)
        assert (seq.groupby(t[table].order_id).max() == seq.groupby(t[table].order_id).count()).all()


def test_check_data_accepts_the_folder(generated: Path) -> None:
    problems = checks.check_folder(generated)
    assert checks.errors(problems) == [], "\n".join(map(str, problems))


def test_repeat_buyers_are_about_three_percent_with_a_long_tail(t: Tables) -> None:
    valid = t["o"][t["o"].valid].groupby("customer_unique_id").size()
    assert 0.02 <= (valid > 1).mean() <= 0.045
    assert valid.max() >= 5
    all_orders = t["o"].groupby("customer_unique_id").size()
    assert (all_orders == 1).mean() > 0.95 and len(t["orders"]) / len(all_orders) == pytest.approx(
        1.035, abs=0.01
    )


def _uids(orders: pd.DataFrame) -> int:
    return orders.customer_unique_id.nunique()


def _pays(t: Tables, kind: str) -> pd.DataFrame:
    return t["order_payments"][t["order_payments"].payment_type == kind]


def _item_categories(t: Tables) -> pd.Series:
    return t["order_items"].product_id.map(t["products"].set_index("product_id").product_category_name)


def _texts(t: Tables, column: str, needle: str) -> int:
    return int(t["order_reviews"][column].str.contains(needle, regex=False).sum())


def _status(name: str) -> Callable[[Tables], int]:
    return lambda t: int((t["orders"].order_status == name).sum())


def _delivered_without(column: str) -> Callable[[Tables], int]:
    return lambda t: int(t["orders"].query("order_status == 'delivered'")[column].isna().sum())


# pitfall of the real data → (how often it occurs at FACTOR, the minimum)
PITFALLS: dict[str, tuple[Callable[[Tables], int], int]] = {
    "repeat buyers (one customer_unique_id, several customer_id)": (
        lambda t: _uids(t["o"][t["o"].n_orders > 1]), 150),
    "customers with 3+ orders": (lambda t: _uids(t["o"][t["o"].n_orders >= 3]), 10),
    "repeat buyers who moved (another zip prefix)": (
        lambda t: int((t["o"].groupby("customer_unique_id").customer_zip_code_prefix.nunique() > 1).sum()),
        5),
    "orders without any payment row": (lambda t: int(t["o"].paid.isna().sum()), 1),
    "orders paid with several vouchers": (
        lambda t: int((_pays(t, "voucher").groupby("order_id").size() > 1).sum()), 10),
    "orders paid with voucher + credit card": (
        lambda t: len(set(_pays(t, "voucher").order_id) & set(_pays(t, "credit_card").order_id)), 10),
    "credit card in 10+ installments": (
        lambda t: int((_pays(t, "credit_card").payment_installments.astype(int) >= 10).sum()), 20),
    "orders paid more than price + freight (interest)": (
        lambda t: int((t["o"].paid > t["o"].gmv + 0.005).sum()), 10),
    "not_defined payments of 0.00 on canceled orders": (
        lambda t: int(t["o"].query("order_status == 'canceled'").order_id
                      .isin(_pays(t, "not_defined").query("value == 0").order_id).sum()), 1),
    "review_id shared by two orders": (
        lambda t: int((t["order_reviews"].groupby("review_id").order_id.nunique() > 1).sum()), 20),
    "orders with two reviews (other review_id, other date)": (
        lambda t: int((t["order_reviews"].groupby("order_id")[["review_id", "review_creation_date"]]
                       .nunique().min(axis=1) > 1).sum()), 10),
    "orders without a review": (
        lambda t: int((~t["orders"].order_id.isin(t["order_reviews"].order_id)).sum()), 10),
    **{f"status {s}": (_status(s), 1) for s in sample.STATUSES},
    "canceled/unavailable orders of repeat buyers": (
        lambda t: int((~t["o"].valid & (t["o"].n_orders > 1)).sum()), 2),
    "customers whose orders are all canceled/unavailable": (
        lambda t: int((t["o"].groupby("customer_unique_id").n_valid.first() == 0).sum()), 50),
    "approved_at empty on canceled orders": (
        lambda t: int(t["orders"].query("order_status == 'canceled'").order_approved_at.isna().sum()), 5),
    **{f"delivered orders without {c}": (_delivered_without(c), 1)
       for c in ("order_approved_at", "order_delivered_carrier_date", "order_delivered_customer_date")},
    "canceled orders that reached the carrier": (
        lambda t: int(t["orders"].query("order_status == 'canceled'").order_delivered_carrier_date
                      .notna().sum()), 3),
    "canceled orders with a customer delivery date": (
        lambda t: int(t["o"].query("order_status == 'canceled'").order_delivered_customer_date
                      .notna().sum()), 1),
    "late deliveries": (
        lambda t: int((t["o"].order_delivered_customer_date > t["o"].order_estimated_delivery_date).sum()),
        400),
    "customer zip prefixes with a leading zero": (
        lambda t: int(t["customers"].customer_zip_code_prefix.str.startswith("0").sum()), 1000),
    "seller zip prefixes with a leading zero": (
        lambda t: int(t["sellers"].seller_zip_code_prefix.str.startswith("0").sum()), 20),
    "products without category (and name/description/photos)": (
        lambda t: int(t["products"].iloc[:, 1:5].isna().all(axis=1).sum()), 20),
    "products without weight and dimensions": (
        lambda t: int(t["products"].iloc[:, 5:].isna().all(axis=1).sum()), 1),
    "items of products without category": (lambda t: int(_item_categories(t).isna().sum()), 20),
    "items of pc_gamer (untranslated)": (lambda t: int((_item_categories(t) == "pc_gamer").sum()), 3),
    "items of portateis_cozinha_e_preparadores_de_alimentos (untranslated)": (
        lambda t: int((_item_categories(t) == "portateis_cozinha_e_preparadores_de_alimentos").sum()), 3),
    "order lines repeating one product (several units)": (
        lambda t: int(t["order_items"].duplicated(["order_id", "product_id"]).sum()), 300),
    "free shipping (freight 0.00)": (lambda t: int((t["order_items"].freight_value == "0.00").sum()), 5),
    "review messages with a comma": (lambda t: _texts(t, "review_comment_message", ","), 100),
    "review messages with a double quote": (lambda t: _texts(t, "review_comment_message", '"'), 100),
    "review messages with an embedded CRLF": (lambda t: _texts(t, "review_comment_message", "\r\n"), 100),
    "review titles with a comma": (lambda t: _texts(t, "review_comment_title", ","), 10),
    "reviews with neither title nor message": (
        lambda t: int(t["order_reviews"].iloc[:, 3:5].isna().all(axis=1).sum()), 5000),
}  # fmt: skip


@pytest.mark.parametrize("pitfall", PITFALLS)
def test_every_pitfall_of_the_real_data_is_in_the_folder(t: Tables, pitfall: str) -> None:
    count, minimum = PITFALLS[pitfall]
    assert count(t) >= minimum, pitfall


def test_rare_pitfalls_are_in_even_a_tiny_folder(tmp_path: Path) -> None:
    scaled_data.generate(tmp_path, 0.005)  # ~500 orders
    o = read(tmp_path, "olist_orders_dataset")
    assert set(o.order_status) == set(sample.STATUSES)
    assert (~o.order_id.isin(read(tmp_path, "olist_order_payments_dataset").order_id)).sum() >= 1
    assert o.query("order_status == 'delivered'").iloc[:, 4:7].isna().sum().min() >= 1
    products = read(tmp_path, "olist_products_dataset")
    assert products.iloc[:, 5:].isna().all(axis=1).sum() >= 1
    assert set(products.product_category_name.dropna()) == {c[0] for c in sample.CATEGORIES}


def test_untranslated_categories_are_the_real_two(t: Tables) -> None:
    used = set(t["products"].product_category_name.dropna())
    translated = set(t["product_category_name_translation"].product_category_name)
    assert used - translated == {"pc_gamer", "portateis_cozinha_e_preparadores_de_alimentos"}
    assert translated <= used


def test_statuses_have_the_real_empty_timestamps(t: Tables) -> None:
    o = t["orders"]
    undelivered = o[~o.order_status.isin(["delivered", "shipped", "canceled"])]
    assert undelivered[["order_delivered_carrier_date", "order_delivered_customer_date"]].isna().all().all()
    assert o[o.order_status == "created"].order_approved_at.isna().all()
    assert o[~o.order_status.isin(["created", "canceled", "delivered"])].order_approved_at.notna().all()
    assert o[o.order_status == "shipped"].order_delivered_customer_date.isna().all()
    assert o[o.order_status == "shipped"].order_delivered_carrier_date.notna().all()
    assert o.order_purchase_timestamp.notna().all() and o.order_estimated_delivery_date.notna().all()
    canceled = o[o.order_status == "canceled"]
    assert (
        canceled.order_delivered_customer_date.notna().sum()
        <= canceled.order_delivered_carrier_date.notna().sum()
    )
    # after 2018-09 nothing but cancellations, as in the real data; no delivery after the snapshot
    assert set(t["o"][t["o"].order_purchase_timestamp >= "2018-09-01"].order_status) == {"canceled"}
    assert t["o"].order_delivered_customer_date.max() <= pd.Timestamp("2018-10-17 23:59:59")


def test_payments_follow_the_type_and_add_up_to_the_items(t: Tables) -> None:
    pays = t["order_payments"]
    installments = pays.payment_installments.astype(int)
    card = pays.payment_type == "credit_card"
    assert set(installments[card]) <= set(range(1, 25)) and installments[card].max() >= 12
    assert (installments[~card] == 1).all()
    assert set(pays.payment_type) == {"credit_card", "boleto", "voucher", "debit_card", "not_defined"}
    # the card pays first, vouchers after it
    first = pays[pays.payment_sequential == "1"].set_index("order_id").payment_type
    assert (first[first.index.isin(_pays(t, "credit_card").order_id)] == "credit_card").all()
    # payments are price + freight to the cent, or more (interest) on a few installment plans; not_defined
    # is 0.00
    o = t["o"].dropna(subset=["paid", "gmv"])
    o = o[~o.order_id.isin(_pays(t, "not_defined").order_id)]
    paid_more = o.paid > o.gmv + 0.005
    assert (o.paid >= o.gmv - 0.005).all()
    assert 0.001 < paid_more.mean() < 0.01


def test_distributions_are_shaped_like_the_real_data(t: Tables) -> None:
    o, items, pays = t["o"], t["order_items"], t["order_payments"]
    price, freight = items.price.astype(float), items.freight_value.astype(float)
    assert 60 < price.median() < 90 and 100 < price.mean() < 150 and price.max() < 7000
    assert 13 < freight.median() < 20
    assert 1.1 < len(items) / items.order_id.nunique() < 1.2
    assert 1.02 < len(pays) / pays.order_id.nunique() < 1.06
    assert 0.95 < (o.order_status == "delivered").mean() < 0.98
    delivered = o.dropna(subset=["order_delivered_customer_date"])
    late = delivered.order_delivered_customer_date > delivered.order_estimated_delivery_date
    assert 0.05 < late.mean() < 0.11
    assert 3.9 < t["order_reviews"].review_score.astype(int).mean() < 4.3
    per_year = o.order_purchase_timestamp.dt.year.value_counts()
    assert per_year[2016] < per_year[2017] / 10 and per_year[2017] < per_year[2018]


@pytest.mark.parametrize("factor", [0.3, 1.0])
def test_row_counts_scale_linearly_with_the_factor(tmp_path: Path, factor: float) -> None:
    counts = scaled_data.generate(tmp_path, factor)
    for name, real in REAL_ROWS.items():
        assert counts[f"{name}.csv"] == pytest.approx(real * factor, rel=0.01), name
    assert counts["product_category_name_translation.csv"] == 23
    customers = read(tmp_path, "olist_customers_dataset").customer_unique_id.nunique()
    assert customers == round(scaled_data.REAL_CUSTOMERS * factor)


@pytest.mark.slow
def test_dbt_builds_the_folder_with_a_segment_for_every_customer(
    generated: Path, base_warehouse: settings.Warehouse, t: Tables
) -> None:
    wh = replace(base_warehouse, schema=new_base_schema("t_scaled"))
    try:
        run_dbt("build", schema=wh.schema, env={"OLIST_DATA_DIR": str(generated)})
        features = db.qualified(wh.schema_for("marts"), "customer_features")
        segments = db.qualified(wh.schema_for("ml"), "customer_segments")
        with closing(db.connect(wh)) as conn:
            feature_keys = [r[0] for r in query(conn, f"select customer_unique_id from {features}")]
            segment_keys = {r[0] for r in query(conn, f"select customer_unique_id from {segments}")}
            (frequency,) = query(conn, f"select sum(frequency) from {features}")[0]
        expected = set(t["o"][t["o"].valid].customer_unique_id)
        assert len(feature_keys) == len(set(feature_keys)) == len(expected)
        assert set(feature_keys) == expected == segment_keys
        assert int(frequency) == int(t["o"].valid.sum())
    finally:
        drop_base_schema(wh)
        shutil.rmtree(ROOT / "target" / f"pytest_{wh.schema}", ignore_errors=True)
