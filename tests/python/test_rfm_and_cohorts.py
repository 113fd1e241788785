"""customer_rfm, segment_rfm_crosswalk, dim_customers.rfm_segment and cohort_retention, against pandas.

One `dbt build` of the whole project (seeds, models, the segmentation model, tests) on the bundled sample into
a fresh base schema; the marts are read back and compared with expectations computed independently in pandas:
the RFM scores and segments from customer_features (read back from the warehouse) and the rules CSV, the
crosswalk from customer_segments and those expectations, the cohorts from fct_orders. Then the singular tests
are shown to fail on corrupted tables (and to pass again once the tables are restored): the RFM, crosswalk and
cohort tests, and the guards of fct_orders, customer_features, segment_summary and segment_transitions, each
on a corruption that only it catches. The real-data test builds the Kaggle files the same way and checks that
the RFM segments are sane there.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from olist_segments import db, settings
from projectkit import REAL_DATA, ROOT, drop_base_schema, new_base_schema, requires_real_data, run_dbt

SAMPLE = ROOT / "seeds" / "olist_sample"
RULES = ROOT / "seeds" / "reference" / "rfm_segments.csv"
SEGMENT_ORDER = [
    "Champions", "Loyal", "Potential loyalist", "New", "Promising", "Need attention", "About to sleep",
    "Can't lose them", "At risk", "Hibernating", "Lost",
]  # fmt: skip
FIRST_MATCH = "assert_customer_rfm_first_matching_segment"
COVER = "assert_rfm_segments_cover_every_score"
ADDS_UP = "assert_segment_rfm_crosswalk_adds_up_to_segment_summary"
SHARES = "assert_segment_rfm_crosswalk_shares_sum_to_one"
COHORTS = "assert_cohort_retention_partitions_customer_features"
# Singular tests guarding the marts, and a corruption of one built table that only that test catches.
GUARDS: dict[str, tuple[str, str, str]] = {
    # the customer totals no longer add up to the valid orders' (one customer paid 1 BRL more)
    "assert_customer_features_totals_match_fct_orders": (
        "customer_features",
        "update {table} set monetary = monetary + 1 order by customer_unique_id limit 1",
        "one customer's monetary is off by 1",
    ),
    # one customer is missing and an unknown one appears (the totals still add up)
    "assert_customer_features_covers_customers_with_valid_orders": (
        "customer_features",
        "update {table} set customer_unique_id = repeat('f', 32) order by customer_unique_id limit 1",
        "one customer_unique_id replaced by an id without orders",
    ),
    # two as_of_dates in one table
    "assert_customer_features_as_of_date": (
        "customer_features",
        "update {table} set as_of_date = as_of_date + interval 1 day order by customer_unique_id limit 1",
        "one row's as_of_date a day later",
    ),
    # fct_orders counts an item that staging does not have (payments, gmv and orders still add up)
    "assert_fct_orders_totals_match_staging": (
        "fct_orders",
        "update {table} set item_count = item_count + 1 order by order_id limit 1",
        "one order's item_count off by 1",
    ),
    # an empty table while its parent is not: these two used to pass vacuously
    "assert_segment_summary_shares_sum_to_one": (
        "segment_summary",
        "delete from {table}",
        "segment_summary emptied while dim_customers has segmented customers",
    ),
    "assert_segment_transitions_add_up": (
        "segment_transitions",
        "delete from {table}",
        "segment_transitions emptied while the snapshot has current versions",
    ),
}


# ----------------------------------------------------------------------------------------------------
# The warehouse
# ----------------------------------------------------------------------------------------------------


@dataclass
class Built:
    wh: settings.Warehouse
    conn: MySQLConnectionAbstract
    target_path: Path

    def table(self, layer: str, name: str) -> str:
        return db.qualified(self.wh.schema_for(layer), name)

    def read(self, layer: str, name: str, columns: str = "*") -> pd.DataFrame:
        cur = self.conn.cursor()
        cur.execute(f"select {columns} from {self.table(layer, name)}")
        names = [c[0].lower() for c in cur.description]
        rows = cur.fetchall()
        cur.close()
        return pd.DataFrame(rows, columns=names)

    def execute(self, *statements: str) -> None:
        cur = self.conn.cursor()
        for sql in statements:
            cur.execute(sql)
        cur.close()
        self.conn.commit()

    def dbt_test(self, *names: str) -> dict[str, str]:
        """`dbt test` of these tests → status by test name ('pass', 'fail', 'error')."""
        run_dbt("test", "--select", *names, schema=self.wh.schema, check=False)
        results = json.loads((self.target_path / "run_results.json").read_text())["results"]
        return {r["unique_id"].split(".")[-1]: r["status"] for r in results}


@contextmanager
def build_project(base_warehouse: settings.Warehouse, data_dir: Path, prefix: str) -> Iterator[Built]:
    """`dbt build` of everything on `data_dir` into a fresh base schema, dropped afterwards."""
    wh = replace(base_warehouse, schema=new_base_schema(prefix))
    target_path = ROOT / "target" / f"pytest_{wh.schema}"
    try:
        run_dbt("build", schema=wh.schema, env={"OLIST_DATA_DIR": str(data_dir)})
        conn = db.connect(wh)
        try:
            yield Built(wh, conn, target_path)
        finally:
            conn.close()
    finally:
        drop_base_schema(wh)
        shutil.rmtree(target_path, ignore_errors=True)


@pytest.fixture(scope="module")
def built(base_warehouse: settings.Warehouse) -> Iterator[Built]:
    with build_project(base_warehouse, SAMPLE, "t_rfm") as b:
        yield b


def customer_features(b: Built) -> pd.DataFrame:
    features = b.read("marts", "customer_features", "customer_unique_id, recency_days, frequency, monetary")
    features["monetary_cents"] = to_cents(features["monetary"])
    return features.set_index("customer_unique_id")


def to_cents(values: pd.Series) -> pd.Series:
    return values.map(lambda v: int(Decimal(v) * 100)).astype("int64")


# ----------------------------------------------------------------------------------------------------
# Independent expectations (pandas)
# ----------------------------------------------------------------------------------------------------


def quintile(values: pd.Series, higher_is_better: bool) -> pd.Series:
    """Score 1..5: s when the share of customers whose value is as bad or worse (ties included) is in
    ((s-1)/5, s/5]. Counted with searchsorted on the sorted values, compared in integers."""
    n = len(values)
    keys = values.to_numpy() if higher_is_better else -values.to_numpy()
    at_or_below = np.searchsorted(np.sort(keys), keys, side="right")  # customers as bad or worse
    score = 1 + sum((5 * at_or_below > k * n).astype(int) for k in (1, 2, 3, 4))
    return pd.Series(score, index=values.index)


def expected_rfm(features: pd.DataFrame) -> pd.DataFrame:
    out = pd.DataFrame(index=features.index)
    out["r_score"] = quintile(features["recency_days"], higher_is_better=False)
    out["m_score"] = quintile(features["monetary_cents"], higher_is_better=True)
    out["f_score"] = pd.cut(features["frequency"], [0, 1, 2, 3, 5, np.inf], labels=[1, 2, 3, 4, 5]).astype(
        int
    )
    out["rfm_score"] = out["r_score"].astype(str) + out["f_score"].astype(str) + out["m_score"].astype(str)
    out["rfm_cell"] = 100 * out["r_score"] + 10 * out["f_score"] + out["m_score"]
    out["rfm_segment"] = None
    out["rfm_segment_priority"] = 0
    for rule in pd.read_csv(RULES).sort_values("priority").itertuples():
        match = (
            out["rfm_segment"].isna()
            & out["r_score"].between(rule.r_min, rule.r_max)
            & out["f_score"].between(rule.f_min, rule.f_max)
            & out["m_score"].between(rule.m_min, rule.m_max)
        )
        out.loc[match, "rfm_segment"] = rule.rfm_segment
        out.loc[match, "rfm_segment_priority"] = rule.priority
    return out.join(features[["recency_days", "frequency", "monetary_cents"]])


def expected_crosswalk(segments: pd.DataFrame, rfm: pd.DataFrame) -> pd.DataFrame:
    joined = segments.set_index("customer_unique_id").join(rfm, how="inner")
    out = joined.groupby(["segment_id", "segment_name", "rfm_segment"]).agg(
        customers=("rfm_score", "size"),
        revenue_cents=("monetary_cents", "sum"),
        mean_recency_days=("recency_days", "mean"),
        mean_frequency=("frequency", "mean"),
        mean_monetary_cents=("monetary_cents", "mean"),
    )
    out["segment_share"] = out["customers"] / out.groupby(level="segment_id")["customers"].transform("sum")
    out["rfm_segment_share"] = out["customers"] / out.groupby(level="rfm_segment")["customers"].transform(
        "sum"
    )
    return out.reset_index(level="segment_name")


def month_start(index: int) -> dt.date:
    """Month index 12 * year + month (January = 1) → the first day of that month."""
    return dt.date((index - 1) // 12, (index - 1) % 12 + 1, 1)


def expected_cohorts(orders: pd.DataFrame) -> pd.DataFrame:
    """cohort_retention from fct_orders' rows: (cohort_month, months_since_first) → the mart's columns."""
    valid = orders[orders["is_valid_purchase"] == 1].copy()
    valid["paid_cents"] = to_cents(valid["paid_amount"])
    valid["month"] = valid["purchased_at"].dt.year * 12 + valid["purchased_at"].dt.month
    valid["cohort"] = valid.groupby("customer_unique_id")["month"].transform("min")
    valid["m"] = valid["month"] - valid["cohort"]
    as_of = valid["purchased_at"].max().date() + dt.timedelta(days=1)  # the as_of_date default
    last_day = as_of - dt.timedelta(days=1)
    last_month = max(last_day.year * 12 + last_day.month, int(valid["month"].max()))

    by_time = valid.sort_values(["customer_unique_id", "purchased_at", "order_id"])
    second = by_time.groupby("customer_unique_id").nth(1)  # the second valid order of repeat buyers
    cohort_size = valid.groupby("cohort")["customer_unique_id"].nunique()
    activity = valid.groupby(["cohort", "m"]).agg(
        active_customers=("customer_unique_id", "nunique"),
        orders=("order_id", "size"),
        revenue_cents=("paid_cents", "sum"),
    )
    new_repeaters = second.groupby(["cohort", "m"]).size()

    grid = pd.MultiIndex.from_tuples(
        [(c, m) for c in cohort_size.index for m in range(last_month - c + 1)], names=["cohort", "m"]
    )
    out = activity.reindex(grid, fill_value=0)
    out["new_repeaters"] = new_repeaters.reindex(grid, fill_value=0)
    out["cohort_customers"] = cohort_size.reindex(grid.get_level_values("cohort")).to_numpy()
    out["repeat_customers"] = out.groupby(level="cohort")["new_repeaters"].cumsum()
    out["cumulative_revenue_cents"] = out.groupby(level="cohort")["revenue_cents"].cumsum()
    out = out.reset_index()
    out["cohort_month"] = out["cohort"].map(month_start)
    out["activity_month"] = (out["cohort"] + out["m"]).map(month_start)
    out["is_complete_month"] = ((out["cohort"] + out["m"] + 1).map(month_start) <= as_of).astype(int)
    out["as_of_date"] = as_of
    return out.rename(columns={"m": "months_since_first"}).set_index(["cohort_month", "months_since_first"])


# ----------------------------------------------------------------------------------------------------
# Comparisons → lists of problems
# ----------------------------------------------------------------------------------------------------


def compare_rfm(actual: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    actual = actual.set_index("customer_unique_id")
    problems = []
    if set(actual.index) != set(expected.index) or len(actual) != len(expected):
        problems.append(f"customers: warehouse {len(actual)}, expected {len(expected)}")
    columns = [
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
        "rfm_cell",
        "rfm_segment",
        "rfm_segment_priority",
    ]
    joined = actual[columns].join(expected[columns].add_suffix("_expected"), how="inner")
    for column in columns:
        wrong = joined[joined[column] != joined[f"{column}_expected"]]
        problems += [
            f"{cid}.{column}: warehouse {row[column]!r}, pandas {row[f'{column}_expected']!r}"
            for cid, row in wrong.head(5).iterrows()
        ]
    return problems


def compare_crosswalk(actual: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    actual = actual.set_index(["segment_id", "rfm_segment"])
    if set(actual.index) != set(expected.index):
        return [f"pairs: warehouse {sorted(actual.index)}, pandas {sorted(expected.index)}"]
    problems = []
    for key, exp in expected.iterrows():
        row = actual.loc[key]
        checks = {
            "segment_name": (row["segment_name"], exp["segment_name"], 0),
            "customers": (row["customers"], exp["customers"], 0),
            "revenue": (int(row["revenue"] * 100), exp["revenue_cents"], 0),
            "segment_share": (row["segment_share"], exp["segment_share"], 1e-12),
            "rfm_segment_share": (row["rfm_segment_share"], exp["rfm_segment_share"], 1e-12),
            "mean_recency_days": (float(row["mean_recency_days"]), exp["mean_recency_days"], 0.05 + 1e-9),
            "mean_frequency": (float(row["mean_frequency"]), exp["mean_frequency"], 0.0005 + 1e-9),
            "mean_monetary": (float(row["mean_monetary"]), exp["mean_monetary_cents"] / 100, 0.005 + 1e-9),
        }
        for name, (got, want, tolerance) in checks.items():
            if (got != want) if tolerance == 0 else abs(got - want) > tolerance:
                problems.append(f"{key}.{name}: warehouse {got!r}, pandas {want!r}")
    return problems


def compare_cohorts(actual: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    actual = actual.set_index(["cohort_month", "months_since_first"])
    if set(actual.index) != set(expected.index) or len(actual) != len(expected):
        return [f"grid: warehouse {len(actual)} rows, pandas {len(expected)}"]
    problems = []
    for key, exp in expected.iterrows():
        row = actual.loc[key]
        customers = exp["cohort_customers"]
        checks = {
            "activity_month": (row["activity_month"], exp["activity_month"], 0),
            "cohort_customers": (row["cohort_customers"], customers, 0),
            "active_customers": (row["active_customers"], exp["active_customers"], 0),
            "repeat_customers": (row["repeat_customers"], exp["repeat_customers"], 0),
            "orders": (row["orders"], exp["orders"], 0),
            "revenue": (int(row["revenue"] * 100), exp["revenue_cents"], 0),
            "cumulative_revenue": (int(row["cumulative_revenue"] * 100), exp["cumulative_revenue_cents"], 0),
            "is_complete_month": (row["is_complete_month"], exp["is_complete_month"], 0),
            "as_of_date": (row["as_of_date"], exp["as_of_date"], 0),
            "retention_rate": (row["retention_rate"], exp["active_customers"] / customers, 1e-12),
            "repeat_rate": (row["repeat_rate"], exp["repeat_customers"] / customers, 1e-12),
            "revenue_per_cohort_customer": (
                float(row["revenue_per_cohort_customer"]),
                exp["cumulative_revenue_cents"] / customers / 100,
                0.005 + 1e-9,
            ),
        }
        for name, (got, want, tolerance) in checks.items():
            if (got != want) if tolerance == 0 else abs(got - want) > tolerance:
                problems.append(f"{key}.{name}: warehouse {got!r}, pandas {want!r}")
        if len(problems) > 20:
            break
    return problems


# ----------------------------------------------------------------------------------------------------
# On the sample
# ----------------------------------------------------------------------------------------------------


def test_build_ran_the_new_models_and_tests(built: Built) -> None:
    results = json.loads((built.target_path / "run_results.json").read_text())["results"]
    status = {r["unique_id"].split(".")[-1]: r["status"] for r in results}
    assert not [name for name, s in status.items() if s in ("error", "fail")], status
    for model in ("customer_rfm", "segment_rfm_crosswalk", "cohort_retention", "dim_customers"):
        assert status[model] == "success", model
    for test in (FIRST_MATCH, COVER, ADDS_UP, SHARES, COHORTS):
        assert status[test] == "pass", test


def test_customer_rfm_matches_pandas(built: Built) -> None:
    features = customer_features(built)
    expected = expected_rfm(features)
    assert expected["rfm_segment"].notna().all()
    assert compare_rfm(built.read("marts", "customer_rfm"), expected) == []
    # the sample exercises the interesting parts: several F buckets, every R and M score, most segments
    assert set(expected["f_score"]) >= {1, 2, 3, 4, 5}
    assert set(expected["r_score"]) == set(expected["m_score"]) == {1, 2, 3, 4, 5}
    assert expected["rfm_segment"].nunique() >= 9


def test_equal_values_share_a_score_and_quintiles_are_fifths(built: Built) -> None:
    rfm = built.read("marts", "customer_rfm", "recency_days, monetary, r_score, m_score")
    n = len(rfm)
    for value, score in (("recency_days", "r_score"), ("monetary", "m_score")):
        assert (rfm.groupby(value)[score].nunique() == 1).all(), f"equal {value}, different {score}"
        ties = rfm[value].value_counts().max()
        sizes = rfm[score].value_counts()
        # a fifth, give or take the group of ties at each of its two boundaries
        assert ((sizes - n / 5).abs() <= 2 * ties + 1).all(), sizes
    # R falls as recency grows, M rises with monetary
    by_recency = rfm.sort_values("recency_days")
    assert by_recency["r_score"].is_monotonic_decreasing
    assert rfm.sort_values("monetary")["m_score"].is_monotonic_increasing


def test_dim_customers_carries_the_rfm_segment(built: Built) -> None:
    dim = built.read("marts", "dim_customers", "customer_unique_id, rfm_segment").set_index(
        "customer_unique_id"
    )
    rfm = built.read("marts", "customer_rfm", "customer_unique_id, rfm_segment").set_index(
        "customer_unique_id"
    )
    assert dim["rfm_segment"].notna().all()
    assert dim["rfm_segment"].sort_index().equals(rfm["rfm_segment"].sort_index())
    cur = built.conn.cursor()
    cur.execute(
        "select data_type, character_maximum_length from information_schema.columns"
        " where table_schema = %s and table_name = 'dim_customers' and column_name = 'rfm_segment'",
        (built.wh.schema_for("marts"),),
    )
    assert cur.fetchall() == [("varchar", 32)]  # the contract's type
    cur.close()


def test_segment_rfm_crosswalk_matches_pandas(built: Built) -> None:
    segments = built.read("ml", "customer_segments", "customer_unique_id, segment_id, segment_name, run_id")
    expected = expected_crosswalk(segments, expected_rfm(customer_features(built)))
    crosswalk = built.read("marts", "segment_rfm_crosswalk")
    assert compare_crosswalk(crosswalk, expected) == []
    assert set(crosswalk["run_id"]) == set(segments["run_id"])
    summary = built.read("marts", "segment_summary", "segment_id, customers").set_index("segment_id")
    assert (
        crosswalk.groupby("segment_id")["customers"]
        .sum()
        .sort_index()
        .equals(summary["customers"].sort_index())
    )


def test_cohort_retention_matches_pandas(built: Built) -> None:
    orders = built.read(
        "marts", "fct_orders", "customer_unique_id, order_id, purchased_at, paid_amount, is_valid_purchase"
    )
    expected = expected_cohorts(orders)
    cohorts = built.read("marts", "cohort_retention")
    assert compare_cohorts(cohorts, expected) == []
    month_0 = expected.xs(0, level="months_since_first")
    assert month_0["cohort_customers"].sum() == len(customer_features(built))
    # the sample has repeat buyers in later months and months without any activity in some cohort
    assert (expected["repeat_customers"] > 0).any() and (expected["active_customers"] == 0).any()


# ----------------------------------------------------------------------------------------------------
# The singular tests fail on broken tables
# ----------------------------------------------------------------------------------------------------


def backup(b: Built, layer: str, name: str) -> str:
    copy = b.table(layer, f"{name}__pytest_backup")
    b.execute(f"drop table if exists {copy}", f"create table {copy} as select * from {b.table(layer, name)}")
    return copy


def restore(b: Built, layer: str, name: str) -> None:
    copy = b.table(layer, f"{name}__pytest_backup")
    table = b.table(layer, name)
    b.execute(f"delete from {table}", f"insert into {table} select * from {copy}", f"drop table {copy}")


def test_singular_tests_fail_on_corrupted_marts(built: Built) -> None:
    """A customer with the wrong RFM segment, an empty crosswalk (while customer_segments has rows) and a
    cohort whose size is off each fail their singular test; restored, the tests pass again."""
    rfm, crosswalk, cohorts = (
        built.table("marts", "customer_rfm"),
        built.table("marts", "segment_rfm_crosswalk"),
        built.table("marts", "cohort_retention"),
    )
    tables = (("marts", "customer_rfm"), ("marts", "segment_rfm_crosswalk"), ("marts", "cohort_retention"))
    for layer, name in tables:
        backup(built, layer, name)
    try:
        built.execute(
            f"update {rfm} set rfm_segment = case when rfm_segment = 'Lost' then 'Champions' else 'Lost' end"
            " order by customer_unique_id limit 1",
            f"delete from {crosswalk}",
            f"update {cohorts} set cohort_customers = cohort_customers + 1"
            " where months_since_first = 1 order by cohort_month limit 1",
        )
        status = built.dbt_test(FIRST_MATCH, ADDS_UP, SHARES, COHORTS)
        assert status == {FIRST_MATCH: "fail", ADDS_UP: "fail", SHARES: "fail", COHORTS: "fail"}
    finally:
        for layer, name in tables:
            restore(built, layer, name)
    assert set(built.dbt_test(FIRST_MATCH, ADDS_UP, SHARES, COHORTS).values()) == {"pass"}


def test_singular_tests_fail_on_a_rule_hole_and_a_miscounted_pair(built: Built) -> None:
    """Without the catch-all rule some score combinations have no segment: the seed test fails (and so does
    the per-customer check). A crosswalk pair with one customer too many fails the add-up test only."""
    seed, crosswalk = built.table("raw", "rfm_segments"), built.table("marts", "segment_rfm_crosswalk")
    backup(built, "raw", "rfm_segments")
    backup(built, "marts", "segment_rfm_crosswalk")
    try:
        built.execute(
            f"delete from {seed} order by priority desc limit 1",  # the catch-all
            f"update {crosswalk} set customers = customers + 1 order by segment_id, rfm_segment limit 1",
        )
        status = built.dbt_test(COVER, FIRST_MATCH, ADDS_UP, SHARES)
        assert status == {COVER: "fail", FIRST_MATCH: "fail", ADDS_UP: "fail", SHARES: "pass"}
    finally:
        restore(built, "raw", "rfm_segments")
        restore(built, "marts", "segment_rfm_crosswalk")
    assert set(built.dbt_test(COVER, FIRST_MATCH, ADDS_UP, SHARES).values()) == {"pass"}


@pytest.mark.parametrize("guard", list(GUARDS))
def test_guarding_singular_test_fails_on_its_corruption_only(built: Built, guard: str) -> None:
    """Each guard fails on its corruption of a built mart, the other guards pass; the table is restored."""
    table, statement, what = GUARDS[guard]
    backup(built, "marts", table)
    try:
        built.execute(statement.format(table=built.table("marts", table)))
        status = built.dbt_test(*GUARDS)
    finally:
        restore(built, "marts", table)
    assert status == {name: "fail" if name == guard else "pass" for name in GUARDS}, what


# ----------------------------------------------------------------------------------------------------
# On the real Kaggle files
# ----------------------------------------------------------------------------------------------------


@pytest.mark.real_data
@pytest.mark.slow
@requires_real_data()
def test_rfm_segments_on_real_data(base_warehouse: settings.Warehouse) -> None:
    with build_project(base_warehouse, REAL_DATA, "t_rfm_real") as b:
        features = customer_features(b)
        expected = expected_rfm(features)
        rfm = b.read("marts", "customer_rfm")
        assert compare_rfm(rfm, expected) == []
        counts = rfm["rfm_segment"].value_counts().reindex(SEGMENT_ORDER, fill_value=0)
        crosswalk = b.read("marts", "segment_rfm_crosswalk")
        print("\nRFM segments on the real data:")
        print(counts.to_frame("customers").assign(share=lambda t: (t["customers"] / len(rfm)).round(4)))
        print("\nKMeans segment x RFM segment (customers):")
        print(
            crosswalk.pivot_table(
                "customers", "rfm_segment", ["segment_id", "segment_name"], aggfunc="sum", fill_value=0
            ).reindex(SEGMENT_ORDER)
        )

        n = len(features)
        assert n > 90_000 and len(rfm) == n and rfm["customer_unique_id"].is_unique
        assert rfm["rfm_segment"].notna().all() and set(rfm["rfm_segment"]) == set(SEGMENT_ORDER)
        assert (counts > 0).all(), counts  # every rule matches somebody on Olist
        assert 0 < counts["Champions"] / n < 0.03, counts  # the best customers are few
        assert (rfm["f_score"] == 1).mean() > 0.95  # why F is absolute: most customers buy once
        for score in ("r_score", "m_score"):
            assert (rfm[score].value_counts(normalize=True) - 0.2).abs().max() < 0.01, score
        summary = b.read("marts", "segment_summary", "segment_id, customers").set_index("segment_id")
        assert (
            crosswalk.groupby("segment_id")["customers"]
            .sum()
            .sort_index()
            .equals(summary["customers"].sort_index())
        )
        orders = b.read(
            "marts",
            "fct_orders",
            "customer_unique_id, order_id, purchased_at, paid_amount, is_valid_purchase",
        )
        assert compare_cohorts(b.read("marts", "cohort_retention"), expected_cohorts(orders)) == []
