"""Shared fixtures: every test talks to the real MySQL/MariaDB server, in schemas of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from dataclasses import replace

import pytest

from olist_segments import db, settings
from projectkit import ROOT, drop_base_schema, new_base_schema


@pytest.fixture(scope="session")
def base_warehouse() -> settings.Warehouse:
    os.environ.setdefault("DBT_PROFILES_DIR", str(ROOT))
    return settings.load()


@pytest.fixture
def scratch(base_warehouse: settings.Warehouse) -> Iterator[settings.Warehouse]:
    """A warehouse whose base schema is new and is dropped (with all <base>_* schemas) afterwards."""
    wh = replace(base_warehouse, schema=new_base_schema())
    with closing(db.connect(wh)) as conn:
        db.create_schema(conn, wh, wh.schema)
    yield wh
    drop_base_schema(wh)
