"""The segmentation library without dbt: its gate, definitions and scoring stream, read through the adapter's
session on the real server (nothing is published: the adapter does that, see test_segment_model.py)."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from dataclasses import replace

import pandas as pd
import pytest

import segfixtures as sf
from dbt.adapters.mysql_python.python_models import Session
from olist_segments import db, segmentation
from olist_segments.features import GateError, SegmentError
from olist_segments.segment_options import SegmentOptions
from olist_segments.settings import Warehouse

FAST = SegmentOptions(k=4, n_init=2)


@pytest.fixture
def wh(scratch: Warehouse) -> Warehouse:
    """A scratch warehouse with segment_definitions seeded and a 400-customer mart."""
    sf.load_definitions(scratch)
    sf.create_mart(scratch, sf.customers(400))
    return scratch


NEW = "customer_segments__dbt_tmp"


def run(wh: Warehouse, opts: SegmentOptions = FAST) -> pd.DataFrame:
    """The model's work as the adapter runs it (one session a run): the new table it loaded, unpublished."""
    ml = wh.schema_for("ml")
    with closing(db.connect(wh)) as conn:
        db.create_schema(conn, wh, ml)
    session = Session(lambda **kw: db.connect(wh, **kw), ml)
    session.new_table = session.table(ml, NEW)
    try:
        customers = session.table(wh.schema_for("marts"), "customer_features")
        definitions = session.table(wh.schema_for("raw"), "segment_definitions")
        published = session.table(ml, "customer_segments")
        loaded = segmentation.segment(customers, definitions, published, session, opts)
        assert loaded is session.new_table
    finally:
        session.close()
    rows = sf.query(wh, f"select * from {db.qualified(ml, NEW)} order by customer_unique_id")
    assert len(rows) == session.loaded_rows
    return pd.DataFrame(rows, columns=list(segmentation.COLUMNS))


def test_the_stream_scores_every_customer_and_stages_the_run(wh: Warehouse) -> None:
    scored = run(wh, replace(FAST, chunk_size=150))
    assert list(scored.columns) == list(segmentation.COLUMNS)
    assert scored["customer_unique_id"].is_unique and len(scored) == 400
    assert set(scored["segment_id"]) == {1, 2, 3, 4} and (scored["distance_to_centroid"] >= 0).all()
    assert scored["run_id"].nunique() == 1
    # The run's row waits in the staged copy of the registry; the live registry is still empty.
    ml = wh.schema_for("ml")
    (staged,) = sf.query(
        wh, f"select run_id, status, k from {db.qualified(ml, 'segment_model_runs__dbt_tmp')}"
    )
    assert staged == (scored["run_id"].iloc[0], "published", 4)
    assert sf.query(wh, f"select count(*) from {db.qualified(ml, 'segment_model_runs')}") == [(0,)]


def _missing_table(wh: Warehouse, table: str) -> None:
    sf.execute(wh, f"drop table {table}")


def _empty(wh: Warehouse, table: str) -> None:
    sf.execute(wh, f"delete from {table}")


def _missing_column(wh: Warehouse, table: str) -> None:
    sf.execute(wh, f"alter table {table} drop column frequency")


def _nulls(wh: Warehouse, table: str) -> None:
    sf.execute(
        wh,
        f"alter table {table} modify monetary decimal(14, 2) null",
        f"update {table} set monetary = null order by customer_unique_id limit 3",
    )


def _negative(wh: Warehouse, table: str) -> None:
    sf.execute(wh, f"update {table} set frequency = -2 order by customer_unique_id limit 2")


def _few_points(wh: Warehouse, table: str) -> None:
    sf.execute(
        wh,
        f"update {table} set monetary = 10, frequency = 1",
        f"update {table} set monetary = 99 order by customer_unique_id limit 5",
        f"update {table} set frequency = 3 order by customer_unique_id limit 1",
    )


def _text_column(wh: Warehouse, table: str) -> None:
    sf.execute(wh, f"alter table {table} modify frequency varchar(10) not null")


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        pytest.param(_missing_table, r"table {marts}\.customer_features not found", id="missing-table"),
        pytest.param(_empty, r"table {marts}\.customer_features is empty", id="empty"),
        pytest.param(
            _missing_column, r"table {marts}\.customer_features has no column frequency", id="no-column"
        ),
        pytest.param(_nulls, r"column {marts}\.customer_features\.monetary has 3 NULL values", id="null"),
        pytest.param(
            _negative,
            r"column {marts}\.customer_features\.frequency has 2 negative values \(min -2\)",
            id="negative",
        ),
        pytest.param(
            _few_points,
            r"has only 3 distinct \(monetary,frequency\) points; k=4 needs at least 4",
            id="few-points",
        ),
        pytest.param(
            _text_column, r"column {marts}\.customer_features\.frequency is varchar, not numeric", id="text"
        ),
    ],
)
def test_the_gate_refuses_bad_marts_before_writing_anything(
    wh: Warehouse, breakage: Callable[[Warehouse, str], None], message: str
) -> None:
    breakage(wh, db.qualified(wh.schema_for("marts"), "customer_features"))
    with pytest.raises(GateError, match=message.format(marts=wh.schema_for("marts"))):
        run(wh)
    assert sf.ml_tables(wh) == set()  # not even the new table


def test_bad_definitions_are_a_clear_error(wh: Warehouse) -> None:
    raw = f"{wh.schema_for('raw')}.segment_definitions"
    sf.execute(wh, f"delete from {raw} where buying = 'repeat' and spend = 'low' and recency = 'any'")
    with pytest.raises(SegmentError, match=r"has no row with recency 'any' for repeat/low"):
        run(wh)
    sf.execute(wh, f"update {raw} set segment_name = repeat('x', 61)")
    with pytest.raises(SegmentError, match=r"segment_name must be 1-60 characters"):
        run(wh)
    sf.execute(wh, f"update {raw} set spend = 'huge'")
    with pytest.raises(SegmentError, match=r"spend 'huge' is not one of low, mid, high, top"):
        run(wh)
    sf.execute(wh, f"drop table {raw}")
    with pytest.raises(SegmentError, match=r"segment_definitions .* not found: run dbt seed"):
        run(wh)


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        ({}, SegmentOptions()),
        ({"k": "auto", "k_range": "3-6", "random_state": 0}, SegmentOptions(k_range=(3, 6), random_state=0)),
        ({"k": 5, "features": "monetary,frequency,recency_days"}, None),
        ({"k": None, "n_init": "None", "chunk_size": ""}, SegmentOptions()),
    ],
)
def test_options_come_from_dbt_config_values(
    settings: dict[str, object], expected: SegmentOptions | None
) -> None:
    options = SegmentOptions.from_config(**settings)
    if expected is None:
        assert (options.k, options.features) == (5, ("monetary", "frequency", "recency_days"))
    else:
        assert options == expected


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"k": "1"}, "segmentation setting k: must be at least 2"),
        ({"k_range": "10-2"}, "expected LO-HI"),
        ({"features": "monetary,frequency,`x`"}, "unknown feature '`x`'"),
        ({"n_init": "many"}, "segmentation setting n_init: invalid literal"),
        ({"seed": 1}, "unknown segmentation setting 'seed'"),
    ],
)
def test_bad_options_are_refused_naming_the_setting(settings: dict[str, object], message: str) -> None:
    with pytest.raises(SegmentError, match=message):
        SegmentOptions.from_config(**settings)
