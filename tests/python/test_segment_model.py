"""The segmentation model as dbt runs it (`dbt run -s customer_segments`) on a synthetic mart, real server:
publish, identical rerun, auto k, the fit sample, failures that publish nothing, the load methods, the CLI."""

from __future__ import annotations

import argparse
import csv
from pathlib import Path

import pytest

import segfixtures as sf
from olist_segments import db, segment
from olist_segments.settings import Warehouse
from projectkit import ROOT, run_dbt


@pytest.fixture
def wh(scratch: Warehouse) -> Warehouse:
    """A scratch warehouse with segment_definitions seeded and a 3,000-customer mart."""
    sf.load_definitions(scratch)
    sf.create_mart(scratch, sf.customers(3000))
    return scratch


def live_run_id(wh: Warehouse) -> str:
    (run_id,) = sf.query(wh, f"select distinct run_id from {sf.segments_table(wh)}")[0]
    return str(run_id)


def test_publish_then_identical_rerun(wh: Warehouse) -> None:
    out = sf.run_model(wh)
    assert "OK created python table model" in out and "OK 3,000 rows (infile" in out
    published = sf.assignments(wh)
    first = live_run_id(wh)
    assert len(published) == 3000
    # Names from each centre's profile (segment_definitions), ids by spend on the first run.
    assert {(r[1], r[2]) for r in published} == {
        (1, "Small one-time buyers"),
        (2, "One-time buyers"),
        (3, "Loyal repeat buyers"),
        (4, "Valuable one-time buyers"),
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
    columns = sf.query(
        wh,
        "select column_name, column_type, is_nullable from information_schema.columns"
        " where table_schema = %s and table_name = 'customer_segments' order by ordinal_position",
        (wh.schema_for("ml"),),
    )
    assert columns == [
        ("customer_unique_id", "char(32)", "NO"),
        ("segment_id", "int(11)", "NO"),
        ("segment_name", "varchar(64)", "NO"),
        ("distance_to_centroid", "double", "NO"),
        ("run_id", "char(36)", "NO"),
        ("scored_at", "datetime", "NO"),
    ]
    keys = sf.query(
        wh,
        "select index_name, column_name from information_schema.statistics"
        " where table_schema = %s and table_name = 'customer_segments'",
        (wh.schema_for("ml"),),
    )
    assert keys == [("PRIMARY", "customer_unique_id")]  # the key only: a second index slows the load

    sf.run_model(wh)
    assert sf.assignments(wh) == published  # every assignment and distance reproduced exactly
    second = live_run_id(wh)
    runs = {r["run_id"]: r for r in sf.registry(wh)}
    assert set(runs) == {first, second} and all(r["status"] == "published" for r in runs.values())
    run = runs[second]
    assert (run["k"], run["k_selection"], run["n_customers"], run["data_as_of"]) == (
        4,
        "frozen",
        3000,
        sf.AS_OF,
    )
    assert run["metrics"]["mode"] == "frozen" and runs[first]["metrics"]["mode"] == "refit"
    assert run["features"] == ["monetary", "frequency"]
    centroids = run["centroids"]
    assert isinstance(centroids, list) and [c["segment_id"] for c in centroids] == [1, 2, 3, 4]
    assert [c["center"]["monetary"] for c in centroids] == sorted(c["center"]["monetary"] for c in centroids)
    assert [c["profile"] for c in centroids] == [
        "one-time, low spend",
        "one-time, mid spend",
        "repeat, high spend",
        "one-time, high spend",
    ]
    assert run["library_versions"]["connector_implementation"] == "C extension"
    assert set(run["library_versions"]) >= {"python", "numpy", "pandas", "scikit-learn", "kneed", "dbt-core"}
    assert len(run["scaler"]["mean"]) == 2 and run["params"]["random_state"] == 42
    assert set(run["metrics"]["timings_s"]) >= {"read", "read_score_load", "compare"}
    assert "choose_k" in runs[first]["metrics"]["timings_s"] and "choose_k" not in run["metrics"]["timings_s"]
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}


def test_auto_k_records_inertia_and_silhouette_for_every_k(wh: Warehouse) -> None:
    sf.run_model(wh, segment_k="auto", segment_k_range="2-6")
    (run,) = sf.registry(wh)
    per_k = run["metrics"]["per_k"]
    assert [p["k"] for p in per_k] == [2, 3, 4, 5, 6]
    assert all(p["inertia"] > 0 and -1 <= p["silhouette"] <= 1 for p in per_k)
    assert run["k_selection"] == "auto" and 2 <= run["k"] <= 6
    assert run["silhouette"] == next(p["silhouette"] for p in per_k if p["k"] == run["k"])
    assert run["metrics"]["rule"]
    assert {r[1] for r in sf.assignments(wh)} == set(range(1, run["k"] + 1))


def test_big_mart_path_fits_on_a_sample_and_labels_every_row(wh: Warehouse) -> None:
    sf.run_model(wh, segment_max_fit_rows=500, segment_chunk_size=700)
    first = sf.assignments(wh)
    assert len(first) == 3000 and {r[1] for r in first} == {1, 2, 3, 4}
    (run,) = sf.registry(wh)
    assert run["metrics"]["fit_rows"] == 500 and run["n_customers"] == 3000
    assert sum(run["metrics"]["fit_sizes"].values()) == 500
    sf.run_model(wh, segment_max_fit_rows=500, segment_chunk_size=700, segment_refit="always")
    assert sf.assignments(wh) == first  # the seeded sample makes the rerun exact too


def test_load_data_and_inserts_publish_identical_tables(wh: Warehouse) -> None:
    assert "(infile," in sf.run_model(wh, segment_bulk_load="infile")
    by_infile = sf.assignments(wh)
    assert "(insert," in sf.run_model(wh, segment_bulk_load="insert")
    assert sf.assignments(wh) == by_infile and len(by_infile) == 3000


def test_a_refused_run_is_recorded_and_publishes_nothing(wh: Warehouse) -> None:
    sf.run_model(wh)
    before = sf.fingerprint(wh)
    sf.execute(wh, f"update {wh.schema_for('marts')}.customer_features set frequency = -2 limit 2")
    out = sf.run_model(wh, check=False)
    assert "GateError: column" in out and "frequency has 2 negative values" in out
    assert 'File "models/ml/customer_segments.py", line' in out  # the model's own traceback lines
    assert sf.fingerprint(wh) == before
    statuses = sorted((r["status"], (r["metrics"] or {}).get("error", "")[:9]) for r in sf.registry(wh))
    assert statuses == [("failed", "GateError"), ("published", "")]
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}


def test_a_failed_swap_publishes_neither_table_and_records_the_run_failed(wh: Warehouse) -> None:
    sf.run_model(wh)
    before = sf.fingerprint(wh), sf.registry(wh)
    # A view where the registry's backup goes: the one RENAME TABLE of both tables fails.
    blocker = db.qualified(wh.schema_for("ml"), "segment_model_runs__dbt_backup")
    sf.execute(wh, f"create view {blocker} as select 1 as x")
    out = sf.run_model(wh, check=False)
    assert "already exists" in out
    assert sf.fingerprint(wh) == before[0]
    runs = sf.registry(wh)
    assert len(runs) == 2 and sorted(r["status"] for r in runs) == ["failed", "published"]
    assert {r["run_id"] for r in before[1]} < {r["run_id"] for r in runs}
    sf.execute(wh, f"drop view {blocker}")
    sf.run_model(wh)
    assert sf.ml_tables(wh) == {"customer_segments", "segment_model_runs"}  # nothing left over


def test_a_failed_first_run_creates_no_table(scratch: Warehouse) -> None:
    sf.load_definitions(scratch)  # but no mart: a wrong DBT_SCHEMA looks like this
    out = sf.run_model(scratch, check=False)
    assert "customer_features not found" in out
    assert sf.ml_tables(scratch) == set()


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="olist-segments segment")
    parser.add_argument("-v", "--verbose", action="store_true")
    segment.add_arguments(parser)
    return parser.parse_args(argv)


@pytest.mark.parametrize(
    "hostile", ["monetary,frequency,`x`", "monetary,frequency; drop table customer_features", "monetary,`"]
)
def test_hostile_features_are_refused_before_any_sql(
    hostile: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse(["--features", hostile])
    assert exit_info.value.code == 2
    assert "unknown feature" in capsys.readouterr().err


@pytest.mark.slow
def test_cli_refits_and_rebuilds_what_depends_on_the_model(
    wh: Warehouse, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run_dbt("build", "--select", "rfm_segments", "customer_rfm", schema=wh.schema)  # what dim_customers joins
    monkeypatch.setenv("DBT_SCHEMA", wh.schema)
    monkeypatch.setenv("DBT_TARGET_PATH", str(ROOT / "target" / f"pytest_{wh.schema}"))
    args = ["--k", "3", "--n-init", "2", "--features", "monetary,frequency,recency_days"]
    assert segment.main(parse([*args, "--out", str(tmp_path / "report")])) == 0
    out = capsys.readouterr().out
    assert "dbt | " in out and "OK created python table model" in out and "dim_customers" in out
    assert (tmp_path / "report" / "report.html").is_file()
    assert sf.registry(wh)[0]["features"] == ["monetary", "frequency", "recency_days"]
    names = {r[2] for r in sf.assignments(wh)}
    with (ROOT / "seeds" / "reference" / "segment_definitions.csv").open(encoding="utf-8") as f:
        defined = {row["segment_name"] for row in csv.DictReader(f)}
    assert len(names) == 3 and names <= defined and any("(" in n for n in names)  # recency names its tier
    dim = db.qualified(wh.schema_for("marts"), "dim_customers")
    assert sf.query(wh, f"select count(*), count(distinct segment_id) from {dim}") == [(3000, 3)]

    sf.execute(wh, f"update {wh.schema_for('marts')}.customer_features set recency_days = -1 limit 1")
    assert segment.main(parse([*args, "--no-report"])) == 1
    lines = capsys.readouterr().out.strip().splitlines()
    assert any("recency_days has 1 negative values" in line for line in lines)
    assert lines[-1].startswith("olist-segments segment: error: dbt build failed")


def test_new_customers_are_scored_with_the_published_model(wh: Warehouse) -> None:
    sf.run_model(wh)
    published = {r[0]: r[1:] for r in sf.assignments(wh)}
    sf.insert_rows(
        wh, db.qualified(wh.schema_for("marts"), "customer_features"), sf.COLUMNS, sf.customers(60, seed=99)
    )
    sf.run_model(wh)
    now = {r[0]: r[1:] for r in sf.assignments(wh)}
    assert len(now) == 3060 and {k: now[k] for k in published} == published  # unchanged customers as before
    first, second = sorted(sf.registry(wh), key=lambda r: r["started_at"])
    assert second["metrics"]["mode"] == "frozen" and "per_k" not in second["metrics"]
    assert second["metrics"]["agreement"] == {"customers": 3000, "same_segment": 1.0, "ari": 1.0}
    assert second["centroids"] == first["centroids"]  # the same model: no refit


def test_a_refit_keeps_every_segments_id_and_name(wh: Warehouse) -> None:
    sf.run_model(wh)
    before = {r[0]: r[1:3] for r in sf.assignments(wh)}
    sf.insert_rows(
        wh, db.qualified(wh.schema_for("marts"), "customer_features"), sf.COLUMNS, sf.customers(30, seed=5)
    )
    sf.run_model(wh, segment_refit="always")
    after = {r[0]: r[1:3] for r in sf.assignments(wh)}
    names = {sid: name for sid, name in before.values()}
    assert {sid: name for sid, name in after.values()} == names
    kept = sum(after[c] == before[c] for c in before) / len(before)
    refit = next(r for r in sf.registry(wh) if r["metrics"]["mode"] == "refit" and "matching" in r["metrics"]
                 and r["metrics"]["matching"]["kept"] and r["metrics"].get("agreement"))  # fmt: skip
    assert sorted(refit["metrics"]["matching"]["kept"]) == ["1", "2", "3", "4"]
    assert refit["metrics"]["agreement"]["same_segment"] == pytest.approx(kept, abs=1e-4) and kept > 0.97


def test_drifted_input_is_refused_with_the_figures_and_nothing_is_published(wh: Warehouse) -> None:
    sf.run_model(wh)
    before = sf.fingerprint(wh)
    sf.execute(wh, f"update {wh.schema_for('marts')}.customer_features set monetary = monetary * 2")
    out = sf.run_model(wh, check=False)
    assert "DriftRefused: input drift: PSI of monetary is" in out and "> max_psi 0.25" in out
    assert sf.fingerprint(wh) == before
    refused = [r for r in sf.registry(wh) if r["status"] == "refused"]
    assert len(refused) == 1 and "PSI of monetary" in refused[0]["metrics"]["error"]
    assert refused[0]["metrics"]["input_psi"]["monetary"] > 0.25
    sf.run_model(wh, segment_accept_drift=True)  # accepted explicitly: published, and the registry says so
    assert sf.fingerprint(wh) != before
    run = next(r for r in sf.registry(wh) if r["status"] == "published" and r["metrics"].get("accepted"))
    assert "max_psi" in run["metrics"]["accepted"]


def test_a_refit_far_from_the_published_assignment_is_refused(wh: Warehouse) -> None:
    sf.run_model(wh)
    before = sf.fingerprint(wh)
    out = sf.run_model(wh, segment_refit="always", segment_k=7, check=False)
    assert "too far from the published one" in out and ("ARI" in out or "share changed" in out)
    assert sf.fingerprint(wh) == before
    assert sorted(r["status"] for r in sf.registry(wh)) == ["published", "refused"]
