"""synth-features: a contract-shaped, deterministic, Olist-like customer_features, made in the warehouse."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import yaml

from olist_harness import cli, synth
from olist_segments import db, settings
from projectkit import ROOT, drop_base_schema, new_base_schema

N = 20_000
Made = tuple[settings.Warehouse, synth.SynthResult]
CONTRACT_YML = ROOT / "models" / "marts" / "customers" / "_customers__models.yml"


def query(wh: settings.Warehouse, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = db.connect(wh)
    cur = conn.cursor()
    cur.execute(sql, params)
    rows = list(cur.fetchall())
    conn.close()
    return rows


def checksum(wh: settings.Warehouse) -> int:
    return int(query(wh, f"checksum table {db.qualified(wh.schema_for('marts'), synth.TABLE)}")[0][1])


def contract() -> list[tuple[str, str, bool]]:
    """(column, type, not null) of customer_features, in order, from dbt's enforced contract."""
    models = yaml.safe_load(CONTRACT_YML.read_text(encoding="utf-8"))["models"]
    (model,) = [m for m in models if m["name"] == "customer_features"]
    return [
        (
            c["name"],
            c["data_type"].replace("integer", "int").replace(" ", ""),
            any(k["type"] in ("not_null", "primary_key") for k in c.get("constraints", [])),
        )
        for c in model["columns"]
    ]


@pytest.fixture(scope="module")
def made(base_warehouse: settings.Warehouse) -> Iterator[Made]:
    """One 20,000-customer table for the read-only checks (a module-scoped scratch schema)."""
    wh = replace(base_warehouse, schema=new_base_schema())
    result = synth.generate(wh, N, seed=7)
    yield wh, result
    drop_base_schema(wh)


def test_rows_keys_and_contract_types(made: Made) -> None:
    wh, result = made
    marts = wh.schema_for("marts")
    assert result.rows == N
    rows, keys, bad_keys = query(
        wh,
        "select count(*), count(distinct customer_unique_id),"
        " sum(customer_unique_id not regexp '^[0-9a-f]{32}$')"
        f" from {db.qualified(marts, synth.TABLE)}",
    )[0]
    assert (rows, keys, int(bad_keys)) == (N, N, 0)
    columns = query(
        wh,
        "select column_name, column_type, is_nullable from information_schema.columns"
        " where table_schema = %s and table_name = %s order by ordinal_position",
        (marts, synth.TABLE),
    )
    # MariaDB shows int(11), MySQL 8 int: compare without the display width.
    found = [(str(c), re.sub(r"^int\(\d+\)$", "int", str(t)), n == "NO") for c, t, n in columns]
    assert found == contract()
    pk = query(
        wh,
        "select column_name from information_schema.key_column_usage"
        " where table_schema = %s and table_name = %s and constraint_name = 'PRIMARY'",
        (marts, synth.TABLE),
    )
    assert pk == [("customer_unique_id",)]


def test_values_are_consistent_and_non_negative(made: Made) -> None:
    wh, _ = made
    table = db.qualified(wh.schema_for("marts"), synth.TABLE)
    (violations,) = query(
        wh,
        f"""select
            sum(frequency < 1), sum(monetary < 0), sum(gmv < 0), sum(avg_order_value < 0),
            sum(avg_order_value <> round(monetary / frequency, 2)), sum(distinct_categories < 0),
            sum(distinct_categories > frequency), sum(recency_days < 1), sum(tenure_days < recency_days),
            sum(recency_days <> datediff(as_of_date, cast(last_purchase_at as date))),
            sum(tenure_days <> datediff(as_of_date, cast(first_purchase_at as date))),
            sum(first_purchase_at > last_purchase_at),
            sum(frequency = 1 and first_purchase_at <> last_purchase_at),
            sum(avg_review_score not between 1 and 5), sum(late_delivery_share not between 0 and 1),
            sum(customer_state is null), sum(customer_city is null)
        from {table}""",
    )
    assert [int(v) for v in violations] == [0] * len(violations)


def test_distributions_are_olist_like(made: Made) -> None:
    """Mostly one-time buyers, a few heavy buyers, a skewed spend, Sao Paulo the largest state."""
    wh, _ = made
    table = db.qualified(wh.schema_for("marts"), synth.TABLE)
    one, heavy, mean, top_state, states, no_review = query(
        wh,
        f"""select avg(frequency = 1), sum(frequency >= 5), avg(monetary),
            (select customer_state from {table} group by customer_state order by count(*) desc limit 1),
            count(distinct customer_state), avg(avg_review_score is null)
        from {table}""",
    )[0]
    assert 0.95 < float(one) < 0.99
    assert heavy >= 1
    # Log-normal: the mean is well above the median.
    median = query(wh, f"select monetary from {table} order by monetary limit 1 offset {N // 2}")[0][0]
    assert 80 < float(median) < 140
    assert float(mean) > 1.2 * float(median)
    assert top_state == "SP" and states >= 20
    assert 0 < float(no_review) < 0.03


def test_deterministic_across_runs_and_parallelism(scratch: settings.Warehouse) -> None:
    synth.generate(scratch, N, seed=7, jobs=2, batch=6_000)
    first = checksum(scratch)
    synth.generate(scratch, N, seed=7, jobs=1, batch=N)
    assert checksum(scratch) == first
    synth.generate(scratch, N, seed=8)
    assert checksum(scratch) != first


def test_seeds_segment_definitions_once(scratch: settings.Warehouse) -> None:
    synth.generate(scratch, 100)
    raw = db.qualified(scratch.schema_for("raw"), "segment_definitions")
    with synth.DEFINITIONS_CSV.open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    loaded = query(scratch, f"select {', '.join(header)} from {raw}")
    assert sorted(loaded) == sorted(tuple(r) for r in rows) and len(rows) == 32
    query(scratch, f"delete from {raw} where recency = 'any'")  # a table already there is left alone
    left = query(scratch, f"select count(*) from {raw}")[0][0]
    assert 0 < left < len(rows)
    synth.generate(scratch, 100)
    assert query(scratch, f"select count(*) from {raw}")[0][0] == left


def test_refuses_to_replace_a_mart_it_did_not_make(scratch: settings.Warehouse) -> None:
    marts = scratch.schema_for("marts")
    table = db.qualified(marts, synth.TABLE)
    query(scratch, f"create database {db.quote_ident(marts)}")
    query(scratch, f"create table {table} (customer_unique_id char(32) primary key)")
    query(scratch, f"insert into {table} values ('0123456789abcdef0123456789abcdef')")
    with pytest.raises(synth.SynthError, match=rf"{marts}\.customer_features exists .* --force"):
        synth.generate(scratch, 100)
    assert query(scratch, f"select count(*) from {table}") == [(1,)]
    synth.generate(scratch, 100, force=True)
    assert query(scratch, f"select count(*) from {table}") == [(100,)]


def test_cli(scratch: settings.Warehouse, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["synth-features", "--customers", "1_000", "--schema-base", scratch.schema]) == 0
    assert (
        f"1,000 synthetic customers in {scratch.schema_for('marts')}.customer_features"
        in capsys.readouterr().out
    )
    assert checksum(scratch) != 0
    assert cli.main(["synth-features", "--customers", "10", "--schema-base", "bad-name;"]) == 1
    assert "invalid MySQL identifier" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["synth-features", "--customers", "0"])
