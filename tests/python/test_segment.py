"""The segment step on the real server: gate, publish, rerun, failures, the sample path, the lock, the CLI."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from olist_segments.publish import PublishError

import segfixtures as sf
from olist_segments import db, publish, segment
from olist_segments.features import GateError, SegmentError
from olist_segments.settings import Warehouse

FAST = segment.SegmentOptions(k=4, n_init=2)


@pytest.fixture
def wh(scratch: Warehouse) -> Warehouse:
    """A scratch warehouse with segment_definitions seeded and a 3,000-customer mart."""
    sf.load_definitions(scratch)
    sf.create_mart(scratch, sf.customers(3000))
    return scratch


def test_publish_then_identical_rerun(wh: Warehouse) -> None:
    first = segment.run(wh, FAST)
    published = sf.assignments(wh)
    assert len(published) == 3000 and first.n_customers == 3000 and first.k == 4
    assert {(r[1], r[2]) for r in published} == {
        (1, "Low spenders"),
        (2, "Mid spenders"),
        (3, "High spenders"),
        (4, "Top spenders"),
    }
    assert all(r[3] >= 0 for r in published)
    # Segment 1 has the lowest centre of spend: a centre is the mean of log1p(monetary) of its members.
    centres = sf.query(
        wh,
        f"select s.segment_id, exp(avg(ln(1 + f.monetary))) - 1 from {sf.segments_table(wh)} s join"
        f" {db.qualified(wh.schema_for('marts'), 'customer_features')} f using (customer_unique_id)"
        " group by s.segment_id order by s.segment_id",
    )
    assert [c for _, c in centres] == sorted(c for _, c in centres)
    keys = sf.query(
        wh,
        "select index_name, column_name from information_schema.statistics"
        " where table_schema = %s and table_name = 'customer_segments'",
        (wh.schema_for("ml"),),
    )
    assert keys == [("PRIMARY", "customer_unique_id")]  # the key only: a second index slows the load

    second = segment.run(wh, FAST)
    assert sf.assignments(wh) == published  # every assignment and distance reproduced exactly
    assert second.run_id != first.run_id
    assert {r[0] for r in sf.query(wh, f"select distinct run_id from {sf.segments_table(wh)}")} == {
        second.run_id
    }
    runs = sf.registry(wh)
    assert {r["run_id"] for r in runs} == {first.run_id, second.run_id}
    assert all(r["status"] == "published" for r in runs)
    run = next(r for r in runs if r["run_id"] == second.run_id)
    assert (run["k"], run["k_selection"], run["n_customers"], run["data_as_of"]) == (
        4,
        "fixed",
        3000,
        sf.AS_OF,
    )
    assert run["features"] == ["monetary", "frequency"]
    centres = run["centroids"]
    assert isinstance(centres, list) and [c["segment_id"] for c in centres] == [1, 2, 3, 4]
    assert [c["center"]["monetary"] for c in centres] == sorted(c["center"]["monetary"] for c in centres)
    assert run["library_versions"]["connector_implementation"] == "C extension"
    assert set(run["library_versions"]) >= {"python", "numpy", "pandas", "scikit-learn", "kneed"}
    assert len(run["scaler"]["mean"]) == 2 and run["params"]["random_state"] == 42
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}


def test_auto_k_records_inertia_and_silhouette_for_every_k(wh: Warehouse) -> None:
    result = segment.run(wh, replace(FAST, k=None, k_range=(2, 6)))
    (run,) = sf.registry(wh)
    per_k = run["metrics"]["per_k"]
    assert [p["k"] for p in per_k] == [2, 3, 4, 5, 6]
    assert all(p["inertia"] > 0 and -1 <= p["silhouette"] <= 1 for p in per_k)
    assert run["k_selection"] == "auto" and run["k"] == result.k
    assert run["silhouette"] == next(p["silhouette"] for p in per_k if p["k"] == result.k)
    assert run["metrics"]["rule"]
    assert {r[1] for r in sf.assignments(wh)} == set(range(1, result.k + 1))


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
def test_gate_refuses_bad_marts_and_keeps_the_published_segments(
    scratch: Warehouse, breakage: Callable[[Warehouse, str], None], message: str
) -> None:
    sf.load_definitions(scratch)
    table = sf.create_mart(scratch, sf.customers(400))
    segment.run(scratch, FAST)
    before = sf.fingerprint(scratch)
    breakage(scratch, table)
    with pytest.raises(GateError, match=message.format(marts=scratch.schema_for("marts"))):
        segment.run(scratch, FAST)
    assert sf.fingerprint(scratch) == before
    statuses = sorted(r["status"] for r in sf.registry(scratch))
    assert statuses == ["failed", "published"]


def test_failure_after_loading_leaves_the_published_table_intact(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    segment.run(wh, FAST)
    before = sf.fingerprint(wh)
    sf.insert_rows(  # the mart changes, so a successful run would publish different content
        wh, db.qualified(wh.schema_for("marts"), "customer_features"), sf.COLUMNS, sf.customers(50, seed=99)
    )
    loaded: list[int] = []

    def injected(conn: object, schema: str, expected_rows: int, k: int) -> None:
        loaded.append(sf.query(wh, f"select count(*) from {db.qualified(schema, publish.NEW)}")[0][0])
        raise PublishError("injected failure after the load")

    monkeypatch.setattr(publish, "validate_new", injected)
    with pytest.raises(PublishError, match="injected"):
        segment.run(wh, FAST)
    assert loaded == [3050]  # the new table was fully loaded when the failure struck
    assert sf.fingerprint(wh) == before
    failed = [r for r in sf.registry(wh) if r["status"] == "failed"]
    assert len(failed) == 1 and "injected failure" in failed[0]["metrics"]["error"]
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}


def test_failed_swap_marks_the_recorded_run_failed(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    segment.run(wh, FAST)
    before = sf.fingerprint(wh)

    def broken_swap(conn: object, schema: str) -> None:
        raise RuntimeError("server went away during RENAME")

    monkeypatch.setattr(publish, "swap", broken_swap)
    with pytest.raises(RuntimeError):
        segment.run(wh, FAST)
    assert sf.fingerprint(wh) == before
    runs = sf.registry(wh)
    assert len(runs) == 2 and sorted(r["status"] for r in runs) == ["failed", "published"]


def test_big_mart_path_fits_on_a_sample_and_labels_every_row(wh: Warehouse) -> None:
    opts = replace(FAST, max_fit_rows=500, chunk_size=700)
    segment.run(wh, opts)
    first = sf.assignments(wh)
    assert len(first) == 3000 and {r[1] for r in first} == {1, 2, 3, 4}
    (run,) = sf.registry(wh)
    assert run["params"]["fit_rows"] == 500 and run["n_customers"] == 3000
    assert sum(c["fit_rows"] for c in run["centroids"]) == 500
    segment.run(wh, opts)
    assert sf.assignments(wh) == first  # the seeded sample makes the rerun exact too


def test_a_second_run_waits_for_the_lock_then_gives_up_clearly(wh: Warehouse) -> None:
    holder = db.connect(wh)
    lock = db.named_lock(holder, f"olist_segments:{wh.schema}")
    with lock, pytest.raises(db.LockTimeout, match="another olist-segments run holds the lock"):
        segment.run(wh, replace(FAST, wait=1))
    holder.close()
    assert sf.ml_tables(wh) == set()  # the run never started


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="olist-segments segment")
    segment.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    "hostile", ["monetary,frequency,`x`", "monetary,frequency; drop table customer_features", "monetary,`"]
)
def test_hostile_features_are_refused_before_any_sql(
    wh: Warehouse, hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(["--features", hostile])
    assert exit_info.value.code == 2
    assert "unknown feature" in capsys.readouterr().err
    assert sf.ml_tables(wh) == set()  # nothing ran
    assert sf.query(wh, f"select count(*) from {wh.schema_for('marts')}.customer_features")[0][0] == 3000


def test_cli_publishes_with_extra_features_and_fails_in_one_line(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.setenv("DBT_SCHEMA", wh.schema)
    args = ["--k", "3", "--n-init", "2", "--features", "monetary,frequency,recency_days"]
    args += ["--no-report", "--out", str(tmp_path / "report")]
    assert segment.main(parse(args)) == 0
    assert not (tmp_path / "report").exists()
    assert "published 3,000 customers in 3 segments" in capsys.readouterr().out
    assert sf.registry(wh)[0]["features"] == ["monetary", "frequency", "recency_days"]
    assert {r[2] for r in sf.assignments(wh)} == {"Low spenders", "Mid spenders", "High spenders"}

    sf.execute(wh, f"update {wh.schema_for('marts')}.customer_features set recency_days = -1 limit 1")
    assert segment.main(parse(args)) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith("olist-segments segment: error: column ") and "recency_days has 1 negative" in err


def test_missing_definitions_for_k_are_a_clear_error(wh: Warehouse) -> None:
    sf.execute(wh, f"delete from {wh.schema_for('raw')}.segment_definitions where k = 4 and segment_id = 3")
    with pytest.raises(SegmentError, match=r"no complete segment definitions for k=4 .* found \[1, 2, 4\]"):
        segment.run(wh, FAST)
    sf.execute(wh, f"update {wh.schema_for('raw')}.segment_definitions set segment_name = repeat('x', 65)")
    with pytest.raises(SegmentError, match=r"segment_name must be 1-64 characters"):
        segment.run(wh, replace(FAST, k=3))
    sf.execute(wh, f"drop table {wh.schema_for('raw')}.segment_definitions")
    with pytest.raises(SegmentError, match=r"segment_definitions .* not found: run dbt seed"):
        segment.run(wh, FAST)


def test_a_failed_first_run_creates_nothing(scratch: Warehouse) -> None:
    sf.load_definitions(scratch)  # but no mart: a wrong DBT_SCHEMA looks like this
    with pytest.raises(GateError, match="customer_features not found"):
        segment.run(scratch, FAST)
    assert sf.query(scratch, "show databases like %s", (scratch.schema_for("ml"),)) == []


def test_split_scoring_assigns_every_customer_as_one_worker_does(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    segment.run(wh, FAST)
    single = sf.assignments(wh)
    streamed: dict[tuple[int, int] | None, int] = {}
    real_stream = segment.features.stream

    def counting_stream(*args: Any, **kwargs: Any) -> Iterator[tuple[list[str], Any]]:
        for keys, values in real_stream(*args, **kwargs):
            if kwargs["with_key"]:
                streamed[kwargs.get("bucket")] = streamed.get(kwargs.get("bucket"), 0) + len(keys)
            yield keys, values

    monkeypatch.setattr(segment.features, "stream", counting_stream)
    split = segment.run(wh, replace(FAST, workers=3))
    assert sf.assignments(wh) == single and split.n_customers == 3000
    assert sorted(streamed) == [(0, 3), (1, 3), (2, 3)]  # three workers, one bucket each
    assert sum(streamed.values()) == 3000 and min(streamed.values()) > 800
    assert next(r for r in sf.registry(wh) if r["run_id"] == split.run_id)["params"]["workers"] == 3


def test_a_failed_scoring_worker_publishes_nothing(wh: Warehouse, monkeypatch: pytest.MonkeyPatch) -> None:
    segment.run(wh, FAST)
    before = sf.fingerprint(wh)
    real_stream = segment.features.stream

    def failing_stream(*args: Any, **kwargs: Any) -> Iterator[tuple[list[str], Any]]:
        with closing(real_stream(*args, **kwargs)) as chunks:
            for chunk in chunks:
                if kwargs.get("bucket") == (1, 2):
                    raise SegmentError("worker 1 lost its reader")
                yield chunk

    monkeypatch.setattr(segment.features, "stream", failing_stream)
    with pytest.raises(SegmentError, match="worker 1 lost its reader"):
        segment.run(wh, replace(FAST, workers=2, chunk_size=100))
    assert sf.fingerprint(wh) == before
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}  # no __new left
    assert [r["status"] for r in sf.registry(wh)].count("failed") == 1
