"""The feature contract has one source, customer_features' YAML: the Python side derives from it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from olist_harness import synth
from olist_segments import contract, features
from olist_segments.features import SegmentError


def test_allowed_features_are_the_numeric_columns_of_the_contract() -> None:
    assert features.allowed_features() == (
        "frequency",
        "monetary",
        "gmv",
        "avg_order_value",
        "recency_days",
        "tenure_days",
        "avg_review_score",
        "late_delivery_share",
        "distinct_categories",
    )
    assert contract.ddl("customer_features") == synth.DDL
    assert (
        "`customer_unique_id` char(32) not null" in synth.DDL
        and "primary key (`customer_unique_id`)" in synth.DDL
    )


def test_a_new_numeric_column_in_the_yaml_is_a_feature_with_no_python_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What adding a feature column takes: customer_features.sql (not needed here) and its YAML entry."""
    models = tmp_path / "models"
    for path in contract.MODELS.rglob("*.yml"):
        target = models / path.relative_to(contract.MODELS)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(path.read_text(encoding="utf-8"), encoding="utf-8")
    (yml,) = [p for p in models.rglob("*.yml") if "name: customer_features" in p.read_text(encoding="utf-8")]
    doc = yaml.safe_load(yml.read_text(encoding="utf-8"))
    node = next(m for m in doc["models"] if m["name"] == "customer_features")
    node["columns"].append(
        {"name": "review_count", "data_type": "integer", "constraints": [{"type": "not_null"}]}
    )
    yml.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    monkeypatch.setattr(contract, "MODELS", models)
    contract.columns.cache_clear()
    try:
        assert features.parse_features("monetary,frequency,review_count")[-1] == "review_count"
        assert "`review_count` integer not null" in contract.ddl("customer_features")
    finally:
        monkeypatch.undo()
        contract.columns.cache_clear()
    with pytest.raises(SegmentError, match="unknown feature 'review_count'"):
        features.parse_features("monetary,frequency,review_count")


def test_a_column_without_a_type_is_a_contract_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "m.yml").write_text("models:\n  - name: x\n    columns:\n      - name: a\n", encoding="utf-8")
    monkeypatch.setattr(contract, "MODELS", tmp_path)
    with pytest.raises(contract.ContractError, match=r"m\.yml: x\.a has no data_type"):
        contract.columns("x")
    contract.columns.cache_clear()
