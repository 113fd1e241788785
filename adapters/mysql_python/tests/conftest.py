"""The adapter tests' fixture: a schema of their own on the real server (helpers: fixturekit.py)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from fixturekit import query


@pytest.fixture
def schema() -> Iterator[str]:
    """A new, empty schema, dropped afterwards."""
    name = f"a_{uuid.uuid4().hex[:8]}"
    query(f"create database `{name}` character set utf8mb4 collate utf8mb4_unicode_ci")  # as dbt creates it
    yield name
    query(f"drop database if exists `{name}`")
