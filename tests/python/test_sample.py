"""The bundled sample: deterministic, committed up to date, Kaggle-shaped, with the real data's quirks."""

from __future__ import annotations

import argparse
import csv
import re
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from olist_harness import cli, sample
from olist_segments import db, settings
from projectkit import REAL_DATA, ROOT, run_dbt

COMMITTED = ROOT / "seeds" / "olist_sample"
# the Kaggle headers, spelling mistakes included (product_name_lenght)
HEADERS: dict[str, list[str]] = {
    name: columns.split()
    for name, columns in {
        "olist_customers_dataset": (
            "customer_id customer_unique_id customer_zip_code_prefix customer_city customer_state"
        ),
        "olist_orders_dataset": (
            "order_id customer_id order_status order_purchase_timestamp order_approved_at "
            "order_delivered_carrier_date order_delivered_customer_date order_estimated_delivery_date"
        ),
        "olist_order_items_dataset": (
            "order_id order_item_id product_id seller_id shipping_limit_date price freight_value"
        ),
        "olist_order_payments_dataset": (
            "order_id payment_sequential payment_type payment_installments payment_value"
        ),
        "olist_order_reviews_dataset": (
            "review_id order_id review_score review_comment_title review_comment_message "
            "review_creation_date review_answer_timestamp"
        ),
        "olist_products_dataset": (
            "product_id product_category_name product_name_lenght product_description_lenght "
            "product_photos_qty product_weight_g product_length_cm product_height_cm product_width_cm"
        ),
        "olist_sellers_dataset": "seller_id seller_zip_code_prefix seller_city seller_state",
        "product_category_name_translation": "product_category_name product_category_name_english",
    }.items()
}
INVALID = ["canceled", "unavailable"]
Tables = dict[str, pd.DataFrame]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    counts = sample.generate(out)
    assert counts == {f"{name}.csv": len(read(out, name)) for name in HEADERS}
    return out


def read(folder: Path, name: str) -> pd.DataFrame:
    """Every value as text, empty fields as NaN (the way dbt's seed loader sees them)."""
    return pd.read_csv(
        folder / f"{name}.csv", dtype=str, keep_default_na=False, na_values=[""], encoding="utf-8-sig"
    )


@pytest.fixture(scope="module")
def t(generated: Path) -> Tables:
    """The generated tables by short name (orders, order_items, …) and "o": orders with their customer,
    paid (payments), gmv (price + freight), n_orders and spend (paid) of their customer_unique_id."""
    tables = {name.removeprefix("olist_").removesuffix("_dataset"): read(generated, name) for name in HEADERS}
    orders = tables["orders"].merge(tables["customers"], on="customer_id", how="left")
    for col in ("order_purchase_timestamp", "order_delivered_customer_date", "order_estimated_delivery_date"):
        orders[col] = pd.to_datetime(orders[col], format="%Y-%m-%d %H:%M:%S")
    pays, items = tables["order_payments"], tables["order_items"]
    pays["value"] = pays.payment_value.astype(float)
    items["value"] = items.price.astype(float) + items.freight_value.astype(float)
    orders["paid"] = orders.order_id.map(pays.groupby("order_id").value.sum())
    orders["gmv"] = orders.order_id.map(items.groupby("order_id").value.sum())
    orders["n_orders"] = orders.groupby("customer_unique_id").order_id.transform("count")
    orders["spend"] = orders.groupby("customer_unique_id").paid.transform("sum")
    tables["o"] = orders
    return tables


def test_same_bytes_every_run_and_committed_sample_is_current(generated: Path, tmp_path: Path) -> None:
    sample.generate(tmp_path)
    files = sorted(f"{name}.csv" for name in HEADERS)
    assert sorted(p.name for p in generated.iterdir()) == files
    for name in files:
        assert (tmp_path / name).read_bytes() == (generated / name).read_bytes(), (
            f"{name} differs between runs"
        )
        committed = COMMITTED / name
        assert committed.is_file() and committed.read_bytes() == (generated / name).read_bytes(), (
            f"seeds/olist_sample/{name} is not what the generator writes: run `make sample`"
        )
    assert sorted(p.name for p in COMMITTED.iterdir()) == files, "stray files in seeds/olist_sample"
    assert sum((generated / name).stat().st_size for name in files) < 2_000_000


def generate_sample(*argv: str) -> int:
    """`olist-harness generate-sample ARGV` (the parser alone: cli.main would import every subcommand)."""
    module, help_text = cli.COMMANDS["generate-sample"]
    assert module == "sample" and help_text
    parser = argparse.ArgumentParser()
    sample.add_arguments(parser)
    return sample.main(parser.parse_args(argv))


def test_cli_writes_another_sample_for_another_seed(
    generated: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert generate_sample(str(tmp_path / "new"), "--seed", "7") == 0
    printed = capsys.readouterr().out
    for name in HEADERS:
        rows = len(read(tmp_path / "new", name))
        assert re.search(rf"^{name}\.csv\s+{rows} rows", printed, re.M), printed
        assert list(read(tmp_path / "new", name).columns) == HEADERS[name]
    orders = (tmp_path / "new" / "olist_orders_dataset.csv").read_bytes()
    assert orders != (generated / "olist_orders_dataset.csv").read_bytes()


def test_cli_reports_an_unwritable_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "file").write_text("not a folder")
    assert generate_sample(str(tmp_path / "file")) == 1
    assert "cannot write into" in capsys.readouterr().out


@pytest.mark.parametrize("name", HEADERS)
def test_headers_and_file_conventions_are_kaggles(generated: Path, name: str) -> None:
    first_line = (generated / f"{name}.csv").read_bytes().split(b"\n", 1)[0] + b"\n"
    text = first_line.decode("utf-8")
    assert next(csv.reader([text.removeprefix("\ufeff").rstrip("\r\n")])) == HEADERS[name]
    # the translation file starts with a UTF-8 BOM; reviews and translation use CRLF line ends
    assert text.startswith("\ufeff") == (name == "product_category_name_translation")
    assert text.endswith("\r\n") == (
        name in ("olist_order_reviews_dataset", "product_category_name_translation")
    )
    real = REAL_DATA / f"{name}.csv"
    if real.is_file():
        with real.open("rb") as f:
            assert f.readline() == first_line


def test_ids_zips_timestamps_and_money_are_formatted_like_kaggle(t: Tables) -> None:
    checks = {
        r"[0-9a-f]{32}": [
            ("customers", "customer_id"), ("customers", "customer_unique_id"), ("orders", "order_id"),
            ("order_items", "product_id"), ("order_items", "seller_id"), ("order_reviews", "review_id"),
            ("products", "product_id"), ("sellers", "seller_id"),
        ],
        r"\d{5}": [("customers", "customer_zip_code_prefix"), ("sellers", "seller_zip_code_prefix")],
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d": [
            ("orders", "order_purchase_timestamp"), ("orders", "order_approved_at"),
            ("order_items", "shipping_limit_date"), ("order_reviews", "review_answer_timestamp"),
        ],
        r"\d{4}-\d\d-\d\d 00:00:00": [
            ("orders", "order_estimated_delivery_date"), ("order_reviews", "review_creation_date"),
        ],
        r"\d+\.\d\d": [
            ("order_items", "price"), ("order_items", "freight_value"), ("order_payments", "payment_value"),
        ],
    }  # fmt: skip
    for pattern, columns in checks.items():
        for table, column in columns:
            values = t[table][column].dropna()
            assert len(values) and values.str.fullmatch(pattern).all(), f"{table}.{column} !~ {pattern}"
    assert t["customers"].customer_state.isin(["SP", "RJ", "MG"]).mean() > 0.6
    assert t["customers"].customer_state.value_counts().index[0] == "SP"
    assert t["customers"].customer_state.nunique() >= 20


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
    assert not t["order_items"].duplicated(["order_id", "order_item_id"]).any()
    assert not t["order_payments"].duplicated(["order_id", "payment_sequential"]).any()
    assert not t["order_reviews"].duplicated(["review_id", "order_id"]).any()
    # order_item_id runs 1..n and payment_sequential 1..n within each order
    for table, col in (("order_items", "order_item_id"), ("order_payments", "payment_sequential")):
        seq = t[table][col].astype(int)
        assert (seq.groupby(t[table].order_id).max() == seq.groupby(t[table].order_id).count()).all()


def _uids(orders: pd.DataFrame) -> int:
    return orders.customer_unique_id.nunique()


def _pays(t: Tables, kind: str) -> pd.DataFrame:
    return t["order_payments"][t["order_payments"].payment_type == kind]


def _item_categories(t: Tables) -> pd.Series:
    return t["order_items"].product_id.map(t["products"].set_index("product_id").product_category_name)


def _texts(t: Tables, column: str, needle: str) -> int:
    return int(t["order_reviews"][column].str.contains(needle).sum())


def _status(name: str) -> Callable[[Tables], int]:
    return lambda t: int((t["orders"].order_status == name).sum())


# pitfall of the real data → (how often it occurs in the sample, the minimum the sample must have)
PITFALLS: dict[str, tuple[Callable[[Tables], int], int]] = {
    "repeat buyers (one customer_unique_id, several customer_id)": (
        lambda t: _uids(t["o"][t["o"].n_orders > 1]), 150),
    "customers with 3-6 orders": (lambda t: _uids(t["o"][t["o"].n_orders.between(3, 6)]), 40),
    "VIPs: 5+ orders and 2,000+ paid": (
        lambda t: _uids(t["o"][(t["o"].n_orders >= 5) & (t["o"].spend >= 2000)]), 10),
    "one-time big spenders (1 order, 1,000+ paid)": (
        lambda t: _uids(t["o"][(t["o"].n_orders == 1) & (t["o"].spend >= 1000)]), 50),
    "repeat buyers who moved (another zip prefix)": (
        lambda t: int((t["o"].groupby("customer_unique_id").customer_zip_code_prefix.nunique() > 1).sum()),
        5),
    "orders without any payment row": (lambda t: int(t["o"].paid.isna().sum()), 3),
    "orders paid with several vouchers": (
        lambda t: int((_pays(t, "voucher").groupby("order_id").size() > 1).sum()), 10),
    "orders paid with voucher + credit card": (
        lambda t: len(set(_pays(t, "voucher").order_id) & set(_pays(t, "credit_card").order_id)), 10),
    "credit card in 10+ installments": (
        lambda t: int((_pays(t, "credit_card").payment_installments.astype(int) >= 10).sum()), 20),
    "credit card in 24 installments": (
        lambda t: int((_pays(t, "credit_card").payment_installments == "24").sum()), 1),
    "orders paid more than price + freight (interest)": (
        lambda t: int((t["o"].paid > t["o"].gmv + 0.5).sum()), 30),
    "not_defined payments of 0.00 on canceled orders": (
        lambda t: int(t["o"].query("order_status == 'canceled'").order_id
                      .isin(_pays(t, "not_defined").query("value == 0").order_id).sum()), 3),
    "review_id shared by two orders": (
        lambda t: int((t["order_reviews"].groupby("review_id").order_id.nunique() > 1).sum()), 10),
    "orders with two reviews (other review_id, other date)": (
        lambda t: int((t["order_reviews"].groupby("order_id")[["review_id", "review_creation_date"]]
                       .nunique().min(axis=1) > 1).sum()), 5),
    "orders without a review": (
        lambda t: int((~t["orders"].order_id.isin(t["order_reviews"].order_id)).sum()), 10),
    **{f"status {s}": (_status(s), 3) for s in sample.STATUSES},
    "canceled/unavailable orders of repeat buyers": (
        lambda t: int((t["o"].order_status.isin(INVALID) & (t["o"].n_orders > 1)).sum()), 5),
    "customers whose orders are all canceled/unavailable": (
        lambda t: int(t["o"].groupby("customer_unique_id").order_status
                      .agg(lambda s: s.isin(INVALID).all()).sum()), 10),
    "approved_at empty on orders not in status created": (
        lambda t: int(t["orders"].query("order_status != 'created'").order_approved_at.isna().sum()), 5),
    "delivered orders with an empty timestamp": (
        lambda t: int(t["orders"].query("order_status == 'delivered'").isna().any(axis=1).sum()), 2),
    "canceled orders with a customer delivery date": (
        lambda t: int(t["o"].query("order_status == 'canceled'").order_delivered_customer_date
                      .notna().sum()), 1),
    "late deliveries": (
        lambda t: int((t["o"].order_delivered_customer_date > t["o"].order_estimated_delivery_date).sum()),
        100),
    "deliveries before the estimated date": (
        lambda t: int((t["o"].order_delivered_customer_date < t["o"].order_estimated_delivery_date).sum()),
        1000),
    "customer zip prefixes with a leading zero": (
        lambda t: int(t["customers"].customer_zip_code_prefix.str.startswith("0").sum()), 100),
    "seller zip prefixes with a leading zero": (
        lambda t: int(t["sellers"].seller_zip_code_prefix.str.startswith("0").sum()), 3),
    "products without category (and name/description/photos)": (
        lambda t: int(t["products"].iloc[:, 1:5].isna().all(axis=1).sum()), 5),
    "products without weight and dimensions": (
        lambda t: int(t["products"].iloc[:, 5:].isna().all(axis=1).sum()), 2),
    "items of products without category": (lambda t: int(_item_categories(t).isna().sum()), 5),
    "items of pc_gamer (untranslated)": (lambda t: int((_item_categories(t) == "pc_gamer").sum()), 3),
    "items of portateis_cozinha_e_preparadores_de_alimentos (untranslated)": (
        lambda t: int((_item_categories(t) == "portateis_cozinha_e_preparadores_de_alimentos").sum()), 3),
    "order lines repeating one product (several units)": (
        lambda t: int(t["order_items"].duplicated(["order_id", "product_id"]).sum()), 50),
    "free shipping (freight 0.00)": (lambda t: int((t["order_items"].freight_value == "0.00").sum()), 5),
    "review messages with a comma": (lambda t: _texts(t, "review_comment_message", ","), 20),
    "review messages with a double quote": (lambda t: _texts(t, "review_comment_message", '"'), 20),
    "review messages with an embedded CRLF": (lambda t: _texts(t, "review_comment_message", "\r\n"), 20),
    "review titles with a comma": (lambda t: _texts(t, "review_comment_title", ","), 3),
    "reviews with neither title nor message": (
        lambda t: int(t["order_reviews"].iloc[:, 3:5].isna().all(axis=1).sum()), 1000),
}  # fmt: skip


@pytest.mark.parametrize("pitfall", PITFALLS)
def test_every_pitfall_of_the_real_data_is_in_the_sample(t: Tables, pitfall: str) -> None:
    count, minimum = PITFALLS[pitfall]
    assert count(t) >= minimum, pitfall


def test_untranslated_categories_are_the_real_two(t: Tables) -> None:
    used = set(t["products"].product_category_name.dropna())
    translated = set(t["product_category_name_translation"].product_category_name)
    assert used - translated == {"pc_gamer", "portateis_cozinha_e_preparadores_de_alimentos"}
    assert translated <= used


def test_statuses_have_the_real_empty_timestamps(t: Tables) -> None:
    o = t["orders"]
    assert set(o.order_status) == set(sample.STATUSES)
    undelivered = o[~o.order_status.isin(["delivered", "shipped", "canceled"])]
    assert undelivered[["order_delivered_carrier_date", "order_delivered_customer_date"]].isna().all().all()
    assert o[o.order_status == "created"].order_approved_at.isna().all()
    assert o[o.order_status == "shipped"].order_delivered_customer_date.isna().all()
    assert o[o.order_status == "shipped"].order_delivered_carrier_date.notna().all()
    assert o.order_purchase_timestamp.notna().all() and o.order_estimated_delivery_date.notna().all()
    assert t["o"].order_status.value_counts(normalize=True)["delivered"] > 0.9


def test_installments_follow_the_payment_type(t: Tables) -> None:
    pays = t["order_payments"]
    installments = pays.payment_installments.astype(int)
    card = pays.payment_type == "credit_card"
    assert set(installments[card]) <= set(range(1, 25)) and installments[card].max() == 24
    assert (installments[~card] == 1).all()
    assert set(pays.payment_type) == {"credit_card", "boleto", "voucher", "debit_card", "not_defined"}


def test_customers_have_structure_and_orders_grow_over_time(t: Tables) -> None:
    o = t["o"]
    per_customer = o.groupby("customer_unique_id").agg(n=("order_id", "size"), spend=("spend", "first"))
    assert 2_000 <= len(per_customer) <= 2_600 and 2_600 <= len(o) <= 3_400
    assert 0.7 < (per_customer.n == 1).mean() < 0.9
    assert per_customer.spend.quantile(0.99) > 5 * per_customer.spend.median()
    assert (
        per_customer[per_customer.n >= 5].spend.median()
        > 4 * per_customer[per_customer.n == 1].spend.median()
    )
    when = o.order_purchase_timestamp
    assert when.min().date().isoformat() == "2016-09-04" and when.max().date().isoformat() == "2018-10-17"
    per_year = when.dt.year.value_counts()
    assert per_year[2016] < per_year[2017] / 10 and per_year[2017] < per_year[2018]
    # after 2018-09 nothing but cancellations, as in the real data
    assert set(o[when >= "2018-09-01"].order_status) == {"canceled"}


@pytest.mark.slow
@pytest.mark.parametrize("target", ["mariadb", "mysql"])
def test_dbt_seed_loads_the_sample_with_its_column_types(scratch: settings.Warehouse, target: str) -> None:
    env = {"OLIST_DATA_DIR": "seeds/olist_sample"}
    run_dbt("seed", "--select", *HEADERS, schema=scratch.schema, target=target, env=env)
    csvs = {name: read(COMMITTED, name) for name in HEADERS}
    raw = db.quote_ident(scratch.schema_for("raw"))
    conn = db.connect(scratch)
    cur = conn.cursor()

    def query(sql: str) -> tuple[int, ...]:
        cur.execute(sql)
        return tuple(int(v) for v in cur.fetchone())

    for name, frame in csvs.items():
        assert query(f"select count(*) from {raw}.{name}") == (len(frame),), name
    # zip prefixes keep their leading zeros
    zips = csvs["olist_customers_dataset"].customer_zip_code_prefix
    assert query(
        "select sum(customer_zip_code_prefix like '0%'), min(char_length(customer_zip_code_prefix)) "
        f"from {raw}.olist_customers_dataset"
    ) == (zips.str.startswith("0").sum(), 5)
    # empty timestamps are NULL (never 0000-00-00), as many as in the CSV
    orders = csvs["olist_orders_dataset"]
    for column in orders.columns[4:7]:
        nulls = query(f"select sum({column} is null) from {raw}.olist_orders_dataset")
        assert nulls == (orders[column].isna().sum(),), column
    assert query(f"select count(*) from {raw}.olist_orders_dataset where year(order_approved_at) = 0") == (0,)
    # the BOM is not in the first column's name
    translated = query(f"select count(product_category_name) from {raw}.product_category_name_translation")
    assert translated == (len(csvs["product_category_name_translation"]),)
    # texts keep their quotes and line breaks (dbt opens CSVs in universal-newline mode: CRLF arrives as LF)
    messages = csvs["olist_order_reviews_dataset"].review_comment_message
    assert query(
        "select sum(review_comment_message like '%\"%'), "
        "sum(review_comment_message like concat('%', char(10), '%')) "
        f"from {raw}.olist_order_reviews_dataset"
    ) == (messages.str.contains('"').sum(), messages.str.contains("\r\n").sum())
    conn.close()
