"""Helpers of the adapter's tests: the fixture dbt project (fixture_project/) on the real server, each test in
its own schema (a module of its own: the project's tests have a conftest.py too).

The server comes from the environment, as in the fixture's profile: MYSQL_HOST (127.0.0.1), MYSQL_PORT (3306),
MYSQL_USER (root), MYSQL_PASSWORD (empty).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import mysql.connector
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

FIXTURE = Path(__file__).parent / "fixture_project"
DBT = str(Path(sys.executable).with_name("dbt"))
TARGETS = ["mariadb", "mysql"]  # mariadb_python and mysql_python (both run against the server at hand)


def connect(*, local_infile: bool = False) -> MySQLConnectionAbstract:
    return mysql.connector.connect(
        host=os.environ.get("MYSQL_HOST", "127.0.0.1"),
        port=int(os.environ.get("MYSQL_PORT", "3306")),
        user=os.environ.get("MYSQL_USER", "root"),
        password=os.environ.get("MYSQL_PASSWORD", ""),
        charset="utf8mb4",
        collation="utf8mb4_unicode_ci",
        autocommit=True,
        allow_local_infile=local_infile,
    )


def query(sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    conn = connect()
    try:
        cur = conn.cursor()
        cur.execute(sql, params)
        return list(cur.fetchall()) if cur.with_rows else []
    finally:
        conn.close()


def target_path(schema: str) -> Path:
    return FIXTURE / "target" / schema


def run_dbt(
    *args: str, schema: str, target: str = "mariadb", env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    """dbt on the fixture project into `schema`, own target and log folder; shows dbt's output on failure."""
    full_env = {
        **os.environ,
        "DBT_SCHEMA": schema,
        "DBT_PROFILES_DIR": str(FIXTURE),
        "DBT_TARGET_PATH": str(target_path(schema)),
        "DBT_LOG_PATH": str(target_path(schema)),
        **(env or {}),
    }
    cmd = [DBT, "--no-use-colors", *args, "--project-dir", str(FIXTURE), "--target", target]
    proc = subprocess.run(cmd, cwd=FIXTURE, env=full_env, capture_output=True, text=True)
    if check and proc.returncode != 0:
        pytest.fail(f"dbt {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-6000:]}\n{proc.stderr}")
    return proc


def tables(schema: str) -> set[str]:
    rows = query("select table_name from information_schema.tables where table_schema = %s", (schema,))
    return {str(name) for (name,) in rows}
