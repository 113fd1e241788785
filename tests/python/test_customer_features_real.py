"""customer_features on the real Kaggle data, compared row by row with an independent pandas computation.

The CSVs are copied to a temporary folder first (dbt reads the seeds from there; the originals are never
touched), seeded into a fresh base schema and built with the upstream models and their tests.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from olist_segments import settings
from projectkit import REAL_DATA, ROOT, drop_base_schema, new_base_schema, requires_real_data, run_dbt
from test_dbt_build import UPSTREAM, compare_row_by_row, customer_features_rows, expected_customer_features

pytestmark = [pytest.mark.real_data, pytest.mark.slow, requires_real_data()]

TABLES = (
    "olist_customers_dataset",
    "olist_orders_dataset",
    "olist_order_items_dataset",
    "olist_order_payments_dataset",
    "olist_order_reviews_dataset",
    "olist_products_dataset",
    "olist_sellers_dataset",
    "product_category_name_translation",
)


def test_customer_features_matches_pandas_on_real_data(
    base_warehouse: settings.Warehouse, tmp_path: Path
) -> None:
    data_dir = tmp_path / "olist"
    data_dir.mkdir()
    for table in TABLES:
        shutil.copyfile(REAL_DATA / f"{table}.csv", data_dir / f"{table}.csv")
    wh = replace(base_warehouse, schema=new_base_schema("t_real"))
    try:
        run_dbt("build", *UPSTREAM, schema=wh.schema, env={"OLIST_DATA_DIR": str(data_dir)})
        expected = expected_customer_features(data_dir)
        actual = customer_features_rows(wh)
        assert len(actual) == len(expected) > 90_000
        assert compare_row_by_row(actual, expected) == []
    finally:
        drop_base_schema(wh)
        shutil.rmtree(ROOT / "target" / f"pytest_{wh.schema}", ignore_errors=True)
