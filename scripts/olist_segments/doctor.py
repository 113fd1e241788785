"""`olist-segments doctor`: what this machine would use, without changing anything."""

from __future__ import annotations

import argparse
import re
from typing import Any

import mysql.connector

from . import db, settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")


def main(args: argparse.Namespace) -> int:
    wh = settings.load(args.target)
    print(f"profile      {settings.profiles_dir() / 'profiles.yml'}")
    print(f"warehouse    {wh!r}")
    conn = db.connect(wh, local_infile=True)
    cur = conn.cursor()
    cur.execute("SELECT VERSION(), @@local_infile, @@max_allowed_packet")
    version, local_infile, packet = cur.fetchone()
    print(f"server       {version}")
    print(f"connector    mysql-connector-python {mysql.connector.__version__} ({db.implementation(conn)})")
    print(f"local_infile {'ON' if local_infile else 'OFF'}; max_allowed_packet {int(packet) // 2**20} MiB")
    print(buffer_pool_advice(cur, wh.schema))
    conn.close()
    return 0


def buffer_pool_advice(cur: Any, base: str) -> str:
    """The InnoDB buffer pool against the size of the project's tables: joins that look rows up by key read
    from disk once the tables outgrow it (10x Olist, cold, 2-core AMD EPYC: 767 s at 128 MiB, 426 s at 1 GiB,
    348 s at 2 GiB)."""
    cur.execute("SELECT @@innodb_buffer_pool_size")
    pool = int(cur.fetchone()[0])
    used = tables_bytes(cur, base)
    line = f"buffer pool  {pool // 2**20:,} MiB; the tables of {base} and {base}_* take {used // 2**20:,} MiB"
    if used > pool:
        line += (
            "\n             smaller than the tables: set innodb_buffer_pool_size to at least their size"
            " (the project's own server: OLIST_WAREHOUSE_BUFFER_POOL)"
        )
    return line


def tables_bytes(cur: Any, base: str) -> int:
    """Data and indexes of the tables in schema `base` and its custom schemas `base_*`."""
    like = re.sub(r"([\\%_])", r"\\\1", base) + r"\_%"
    cur.execute(
        "SELECT COALESCE(SUM(data_length + index_length), 0) FROM information_schema.tables"
        " WHERE table_schema = %s OR table_schema LIKE %s",
        (base, like),
    )
    return int(cur.fetchone()[0])
