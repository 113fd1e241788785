"""Test-only helpers for the fault-injection tests. The scenarios, the published-state checksums, the BI
reader thread and the throwaway server live in olist_harness.reliability (`olist-harness reliability`
runs them too)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from olist_harness import reliability
from olist_segments.settings import Warehouse
from projectkit import new_base_schema


@contextmanager
def fresh_base(base: Warehouse, prefix: str) -> Iterator[Warehouse]:
    """A new random base schema; every <base>_* database and its dbt target folder are dropped afterwards."""
    wh = replace(base, schema=new_base_schema(prefix))
    try:
        yield wh
    finally:
        reliability.drop_schemas(wh)


@contextmanager
def throwaway_server(folder: Path) -> Iterator[reliability.ThrowawayServer]:
    """A private MariaDB for the server scenarios; skips the test when mariadb-server is not installed."""
    if missing := reliability.ThrowawayServer.missing():
        pytest.skip(missing)
    with reliability.ThrowawayServer(folder) as server:
        yield server


def explain(outcome: reliability.Outcome) -> str:
    """What a failed assertion on a scenario shows: its problems, message and facts (output tail last)."""
    facts = {k: v for k, v in outcome.facts.items() if k not in ("output", "outputs")}
    output = str(outcome.facts.get("output", outcome.facts.get("outputs", "")))
    return (
        f"{outcome.case}: problems {outcome.problems}\nmessage: {outcome.message}\nfacts: {facts}\n"
        f"reader failures: {outcome.reader_failures[:5]}\npartial reads: {outcome.partial_reads[:5]}\n"
        f"output (tail):\n{output[-4000:]}"
    )
