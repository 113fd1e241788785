"""`olist-segments doctor`: what this machine would use, without changing anything."""

from __future__ import annotations

import argparse

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
    conn.close()
    return 0
