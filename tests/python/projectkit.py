"""Helpers shared by the tests: paths, new base schemas, queries and the dbt CLI on this project (the fixtures
are in conftest.py; a module of its own because the adapter's tests have a conftest.py too)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path

import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from olist_segments import db, settings

ROOT = settings.PROJECT_ROOT
REAL_DATA = Path(os.environ.get("OLIST_REAL_DATA", ROOT.parent / "shared" / "olist"))
DBT = str(Path(sys.executable).with_name("dbt"))


def requires_real_data() -> pytest.MarkDecorator:
    return pytest.mark.skipif(
        not (REAL_DATA / "olist_orders_dataset.csv").is_file(),
        reason=f"real Olist CSVs not found in {REAL_DATA} (set OLIST_REAL_DATA to run this test)",
    )


def new_base_schema(prefix: str = "t") -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


def query(conn: MySQLConnectionAbstract, sql: str, params: tuple = ()) -> list[tuple]:
    """All rows of one parameterised statement on an open connection."""
    cur = conn.cursor()
    cur.execute(sql, params)
    result = cur.fetchall()
    cur.close()
    return result


def drop_base_schema(wh: settings.Warehouse) -> None:
    with closing(db.connect(wh)) as conn:
        db.drop_base(conn, wh.schema)


def run_dbt(
    *args: str, schema: str, target: str = "mariadb", env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """Run the dbt CLI on this project into base schema `schema`; on failure show dbt's output."""
    full_env = {**os.environ, "DBT_SCHEMA": schema, "DBT_TARGET": target, **(env or {})}
    full_env.setdefault("DBT_PROFILES_DIR", str(ROOT))
    # A target/log folder per schema: parallel dbt invocations never share a manifest.
    full_env.setdefault("DBT_TARGET_PATH", str(ROOT / "target" / f"pytest_{schema}"))
    full_env.setdefault("DBT_LOG_PATH", str(ROOT / "target" / f"pytest_{schema}"))
    proc = subprocess.run(
        [DBT, "--no-use-colors", *args], cwd=ROOT, env=full_env, capture_output=True, text=True
    )
    if check and proc.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr}")
    return proc
