"""The whole chain runs as the least-privilege pipeline user; the BI user reads the marts and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import replace

import mysql.connector
import pytest

from olist_segments import db, grants, settings
from projectkit import ROOT, drop_base_schema, new_base_schema

DENIED = (1044, 1142, 1227)


@pytest.mark.slow
def test_chain_as_pipeline_user_and_bi_user_reads_only_marts(base_warehouse: settings.Warehouse) -> None:
    admin = replace(base_warehouse, schema=new_base_schema("lp"))
    pipeline_user, bi_user = f"tp_{uuid.uuid4().hex[:10]}", f"tb_{uuid.uuid4().hex[:10]}"
    passwords = {
        grants.PIPELINE_PASSWORD_ENV: f"p'{uuid.uuid4().hex}",
        grants.BI_PASSWORD_ENV: uuid.uuid4().hex,
    }
    conn = db.connect(admin)
    try:
        grants.apply(conn, grants.plan(admin.schema, pipeline_user, bi_user), passwords)
        env = {
            **os.environ,
            "MYSQL_USER": pipeline_user,
            "MYSQL_PASSWORD": passwords[grants.PIPELINE_PASSWORD_ENV],
            "DBT_SCHEMA": admin.schema,
            "DBT_TARGET_PATH": str(ROOT / "target" / f"pytest_{admin.schema}"),
            "DBT_LOG_PATH": str(ROOT / "target" / f"pytest_{admin.schema}"),
        }
        env.pop("OLIST_DATA_DIR", None)
        proc = subprocess.run(
            [sys.executable, "-m", "olist_segments.cli", "run"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
        assert passwords[grants.PIPELINE_PASSWORD_ENV] not in proc.stdout + proc.stderr

        bi = db.connect(
            replace(admin, user=bi_user, password=passwords[grants.BI_PASSWORD_ENV], schema=admin.schema)
        )
        cur = bi.cursor()
        cur.execute(f"SELECT count(*) FROM {db.qualified(admin.schema_for('marts'), 'dim_customers')}")
        assert cur.fetchone()[0] > 0
        forbidden = [
            f"SELECT count(*) FROM {db.qualified(admin.schema_for('raw'), 'olist_orders_dataset')}",
            f"SELECT count(*) FROM {db.qualified(admin.schema_for('ml'), 'customer_segments')}",
            f"DELETE FROM {db.qualified(admin.schema_for('marts'), 'dim_customers')}",
            f"CREATE TABLE {db.qualified(admin.schema_for('marts'), 'bi_scratch')} (id int)",
        ]
        for sql in forbidden:
            with pytest.raises(mysql.connector.Error) as denied:
                cur.execute(sql)
                cur.fetchall()
            assert denied.value.errno in DENIED, sql
        bi.close()
    finally:
        cur = conn.cursor()
        for user in (pipeline_user, bi_user):
            cur.execute("DROP USER IF EXISTS %s@'%'", (user,))
        conn.close()
        drop_base_schema(admin)
