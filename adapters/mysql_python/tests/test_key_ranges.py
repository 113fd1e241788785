"""The key ranges of submission_method dask (dask_jobs.key_ranges / KeyRange), on the real server: disjoint,
in key order, covering every row once, for any number of ranges; with the collation's order, not Python's."""

from __future__ import annotations

import pytest

from dbt.adapters.mysql_python.dask_jobs import key_ranges
from dbt.adapters.mysql_python.python_models import Session, Table
from fixturekit import connect, query


@pytest.fixture
def keyed(schema: str) -> Table:
    query(f"create table `{schema}`.`keyed` (k varchar(12) primary key, v int) collate utf8mb4_unicode_ci")
    # Mixed case: the collation orders 'a' < 'B' < 'c', Python's str order would not.
    rows = [(f"{c}{i:04d}", i) for i in range(500) for c in ("a", "B", "c")]
    cur = (conn := connect()).cursor()
    cur.executemany(f"insert into `{schema}`.`keyed` values (%s, %s)", rows)
    conn.close()
    return Table(Session(connect, schema), schema, "keyed")


def keys(table: Table, where: str = "", params: list[object] | None = None) -> list[str]:
    chunks = table.chunks(["k"], order_by=["k"], where=where, params=params or [])
    return [str(k) for chunk in chunks for k in chunk["k"]]


@pytest.mark.parametrize("parts", [1, 2, 7, 1500, 2000])
def test_ranges_cover_every_row_once_in_key_order(keyed: Table, parts: int) -> None:
    ranges = key_ranges(keyed, "k", parts)
    # More ranges than rows: one row each, and an empty last one.
    assert len(ranges) == min(parts, 1501) and [r.index for r in ranges] == list(range(len(ranges)))
    assert ranges[0].lower is None and ranges[-1].upper is None
    seen: list[str] = []
    for r in ranges:
        rows = keys(keyed, *r.condition("k"))
        assert len(rows) == -(-1500 // parts) or r is ranges[-1]  # equal ranges but the last
        seen += rows
    assert seen == keys(keyed) and len(set(seen)) == 1500
    keyed.session.close()
