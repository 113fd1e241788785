"""The dbt side downstream of the segmentation model (`customer_segments+`), on hand-made tables.

customer_features, customer_segments and its registry are created here with the contracts' columns and a
few hundred synthetic customers, so each run's assignment is known exactly; dbt then builds what depends on
the model — stg_ml__segment_model_runs, dim_customers, segment_summary, the snapshot and segment_transitions,
with their tests — without running the model itself (`--exclude customer_segments`).
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import uuid
from collections import Counter

import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from olist_harness import synth
from olist_segments import contract, db, registry, settings
from projectkit import ROOT, query, run_dbt

# Everything built on the segmentation model but the model, plus the reference seed it joins.
DOWNSTREAM = ("build", "--select", "customer_segments+", "--exclude", "customer_segments")
# customer_rfm too: dim_customers and the crosswalk read it; built here from the hand-made customer_features.
FIRST_BUILD = ("build", "--select", "segment_definitions", "rfm_segments", "customer_rfm", *DOWNSTREAM[2:])
N_CUSTOMERS = 300
K = 4
STATES = ["SP", "SP", "SP", "RJ", "RJ", "MG", "RS", "PR", "BA", None]


def create_customer_features(
    conn: MySQLConnectionAbstract, wh: settings.Warehouse, n: int
) -> dict[str, float]:
    """customer_features with `n` synthetic customers; returns their monetary value by customer."""
    rng = random.Random(42)
    as_of = dt.date(2018, 9, 1)
    table = db.qualified(wh.schema_for("marts"), "customer_features")
    cur = conn.cursor()
    db.create_schema(conn, wh, wh.schema_for("marts"))
    cur.execute(f"create table {table} {synth.DDL}")
    rows, monetary = [], {}
    for i in range(n):
        customer = uuid.UUID(int=rng.getrandbits(128)).hex
        frequency = rng.choice([1, 1, 1, 2, 3])
        money = round(rng.lognormvariate(4.5, 0.8) * frequency, 2)
        first = dt.datetime(2017, 1, 1) + dt.timedelta(days=rng.randrange(400), seconds=i)
        last = first + dt.timedelta(days=rng.randrange(100)) if frequency > 1 else first
        review = None if i % 9 == 0 else round(rng.uniform(1, 5), 2)
        rows.append(
            (
                customer, rng.choice(STATES), "somewhere", frequency, money, money,
                round(money / frequency, 2), first, last, (as_of - last.date()).days,
                (as_of - first.date()).days, review, None, rng.randint(1, 3), as_of,
            )
        )  # fmt: skip
        monetary[customer] = money
    cur.executemany(f"insert into {table} values ({', '.join(['%s'] * 15)})", rows)
    cur.close()
    return monetary


def create_ml_tables(conn: MySQLConnectionAbstract, wh: settings.Warehouse) -> None:
    cur = conn.cursor()
    db.create_schema(conn, wh, wh.schema_for("ml"))
    segments = db.qualified(wh.schema_for("ml"), "customer_segments")
    cur.execute(f"create table {segments} {contract.ddl('customer_segments')}")
    cur.execute(f"create table {db.qualified(wh.schema_for('ml'), registry.RUNS)} {registry.DDL}")
    cur.close()


def segment_names(k: int) -> dict[int, str]:
    """Segment names for k, each with its suggested action in the run's catalogue (centroids)."""
    with (ROOT / "seeds" / "reference" / "segment_definitions.csv").open(newline="", encoding="utf-8") as f:
        names = [r["segment_name"] for r in csv.DictReader(f) if r["recency"] == "any"]
    return {sid: names[sid - 1] for sid in range(1, k + 1)}


def publish_run(
    conn: MySQLConnectionAbstract,
    wh: settings.Warehouse,
    assignment: dict[str, int],
    k: int,
    scored_at: dt.datetime,
) -> str:
    """What the segmentation model does, by hand: a registry row and a complete customer_segments."""
    names = segment_names(k)
    run_id = str(uuid.uuid4())
    cur = conn.cursor()
    catalogue = [
        {"segment_id": sid, "segment_name": name, "profile": "", "description": f"about {name}",
         "suggested_action": f"act on {name}", "center": {"monetary": 100.0 * sid, "frequency": 1.0}}
        for sid, name in names.items()
    ]  # fmt: skip
    cur.execute(
        f"insert into {db.qualified(wh.schema_for('ml'), 'segment_model_runs')} "
        "(run_id, started_at, finished_at, status, k, k_selection, features, centroids, n_customers,"
        " data_as_of, silhouette)"
        " values (%s, %s, %s, 'published', %s, 'fixed', %s, %s, %s, '2018-09-01', 0.5)",
        (run_id, scored_at, scored_at, k, json.dumps(["monetary", "frequency"]), json.dumps(catalogue),
         len(assignment)),
    )  # fmt: skip
    segments = db.qualified(wh.schema_for("ml"), "customer_segments")
    cur.execute(f"delete from {segments}")
    cur.executemany(
        f"insert into {segments} values (%s, %s, %s, %s, %s, %s)",
        [(c, s, names[s], 0.5, run_id, scored_at) for c, s in assignment.items()],
    )
    cur.close()
    return run_id


def by_monetary(monetary: dict[str, float], k: int) -> dict[str, int]:
    """Segment 1..k by monetary rank (1 = lowest), like the segmentation model's ordering."""
    ranked = sorted(monetary, key=lambda c: (monetary[c], c))
    return {c: 1 + i * k // len(ranked) for i, c in enumerate(ranked)}


def assert_downstream_consistent(
    conn: MySQLConnectionAbstract,
    wh: settings.Warehouse,
    assignment: dict[str, int],
    monetary: dict[str, float],
) -> None:
    """dim_customers = customer_features + one segment each; segment_summary adds up to the totals."""
    marts = wh.schema_for("marts")
    dim = dict(
        query(conn, f"select customer_unique_id, segment_id from {db.qualified(marts, 'dim_customers')}")
    )
    assert dim == assignment
    missing_action = query(
        conn, f"select count(*) from {db.qualified(marts, 'dim_customers')} where suggested_action is null"
    )
    assert missing_action == [(0,)]
    summary = query(
        conn,
        "select segment_id, customers, customer_share, revenue, revenue_share, top_states "
        f"from {db.qualified(marts, 'segment_summary')} order by segment_id",
    )
    counts = Counter(assignment.values())
    assert [(s, n) for s, n, *_ in summary] == sorted(counts.items())
    assert sum(float(r[3]) for r in summary) == pytest.approx(sum(monetary.values()), abs=0.005)
    for segment_id, _, _, revenue, _, _ in summary:
        expected = sum(m for c, m in monetary.items() if assignment[c] == segment_id)
        assert float(revenue) == pytest.approx(expected, abs=0.005)
    assert sum(r[2] for r in summary) == pytest.approx(1, abs=1e-9)
    assert sum(r[4] for r in summary) == pytest.approx(1, abs=1e-9)
    for *_, top_states in summary:
        parts = top_states.split(", ")
        assert 1 <= len(parts) <= 3 and all(p[:2].isalpha() and p.endswith("%") for p in parts), top_states


@pytest.mark.parametrize("target", ["mariadb", "mysql"])
def test_downstream_marts_snapshot_and_transitions(scratch: settings.Warehouse, target: str) -> None:
    conn = db.connect(scratch)
    monetary = create_customer_features(conn, scratch, N_CUSTOMERS)
    create_ml_tables(conn, scratch)
    first = by_monetary(monetary, K)
    first_run = publish_run(conn, scratch, first, K, dt.datetime(2018, 9, 2, 3, 0))

    run_dbt(*FIRST_BUILD, schema=scratch.schema, target=target)
    assert_downstream_consistent(conn, scratch, first, monetary)
    marts, snapshots = scratch.schema_for("marts"), scratch.schema_for("snapshots")
    transitions_sql = (
        "select generation, run_id, previous_run_id, transition_type, from_segment_id, to_segment_id,"
        f" customers from {db.qualified(marts, 'segment_transitions')}"
    )
    rows = query(conn, transitions_sql)
    assert {(t, f, to): n for _, _, _, t, f, to, n in rows} == {
        ("new", None, s): n for s, n in Counter(first.values()).items()
    }
    assert {(g, r, p) for g, r, p, *_ in rows} == {(1, first_run, None)}

    # A second run: every 7th customer moves up one segment (wrapping), the others keep theirs.
    moved = sorted(first)[::7]
    second = {c: (s % K) + 1 if c in moved else s for c, s in first.items()}
    second_run = publish_run(conn, scratch, second, K, dt.datetime(2018, 9, 9, 3, 0))
    run_dbt(*DOWNSTREAM, schema=scratch.schema, target=target)
    assert_downstream_consistent(conn, scratch, second, monetary)

    snapshot = query(
        conn,
        "select customer_unique_id, segment_id, run_id, dbt_valid_to is null "
        f"from {db.qualified(snapshots, 'customer_segments_snapshot')}",
    )
    assert len(snapshot) == N_CUSTOMERS + len(moved)  # identical assignments add no version
    indexes = query(
        conn,
        "select distinct index_name from information_schema.statistics"
        " where table_schema = %s and table_name = 'customer_segments_snapshot'",
        (snapshots,),
    )
    assert sorted(indexes) == [("ix_customer_valid_from",), ("ix_dbt_scd_id",)]  # runs stay linear
    assert {(c, s) for c, s, _, current in snapshot if current} == set(second.items())
    assert {r for c, _, r, current in snapshot if current and c in moved} == {second_run}

    rows = [r for r in query(conn, transitions_sql) if r[0] == 2]
    assert {(g, r, p) for g, r, p, *_ in rows} == {(2, second_run, first_run)}
    moves = Counter((first[c], second[c]) for c in moved)
    stays = Counter(s for c, s in first.items() if c not in moved)
    assert {(f, to): n for *_, t, f, to, n in rows if t == "moved"} == moves
    assert {f: n for *_, t, f, to, n in rows if t == "stayed" and f == to} == stays
    assert sum(n for *_, n in rows) == N_CUSTOMERS
    conn.close()


def test_downstream_build_fails_when_a_customer_has_no_segment(scratch: settings.Warehouse) -> None:
    """A customer_features row without a segment (a stale run) fails the build and names the tests."""
    conn = db.connect(scratch)
    monetary = create_customer_features(conn, scratch, 50)
    create_ml_tables(conn, scratch)
    assignment = by_monetary(monetary, K)
    unscored = sorted(assignment)[0]
    del assignment[unscored]
    publish_run(conn, scratch, assignment, K, dt.datetime(2018, 9, 2))
    conn.close()

    proc = run_dbt(*FIRST_BUILD, schema=scratch.schema, check=False)
    assert proc.returncode != 0
    assert "not_null_dim_customers_segment_id" in proc.stdout
    assert "assert_segment_summary_covers_customer_features" in proc.stdout
