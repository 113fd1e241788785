"""SQL table models that are not rebuilt when nothing they read, nor their definition, has changed (opt-in:
dbt var skip_unchanged_tables: true).

A model's *inputs* are the SHA-256 of its definition (compiled SQL, indexes, contract, grants, docs) and of
the state of every relation it reads: a table's content checksum (`CHECKSUM TABLE`, seeds and sources
alike), a view's definition as the server keeps it plus, through it, the state of what the view reads. After
a build the table model's inputs and its own content checksum are recorded in
`<schema>.table_model_inputs`; the next run skips the rebuild when the inputs are the same and the table
still has that checksum (a table changed outside dbt is rebuilt). A Python model is always run, so what
reads its output is rebuilt with it.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from typing import Any

import mysql.connector
from mysql.connector import errorcode
from mysql.connector.abstracts import MySQLConnectionAbstract

from .bulk_load import quote

REGISTRY = "table_model_inputs"


def checksum(conn: MySQLConnectionAbstract, schema: str, table: str) -> int | None:
    """The content checksum of a table, None when there is no such table."""
    cur = conn.cursor()
    try:
        cur.execute(f"checksum table {quote(schema)}.{quote(table)}")
        rows = cur.fetchall()
    finally:
        cur.close()
    value = rows[0][1] if rows else None
    return None if value is None else int(value)  # type: ignore[call-overload]


def relations(graph: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Where each model, seed, snapshot and source of the flat graph lives and what it reads, by unique id."""
    found = {  # a seed depends on macros only: no "nodes"
        node_id: {
            "schema": node["schema"],
            "identifier": node["alias"],
            "reads": node["depends_on"].get("nodes", []),
        }
        for node_id, node in graph["nodes"].items()
        if node["resource_type"] in ("model", "seed", "snapshot")
    }
    for source_id, source in graph["sources"].items():
        found[source_id] = {"schema": source["schema"], "identifier": source["identifier"], "reads": []}
    return found


def inputs(
    conn: MySQLConnectionAbstract, definition: str, reads: list[str], graph: Mapping[str, Mapping[str, Any]]
) -> str:
    """SHA-256 of the definition and the state of every relation read. `graph` maps a node's unique id to
    its `schema`, `identifier` and the ids it `reads`; an id missing from it makes new inputs every time."""
    schemas = sorted({str(node["schema"]) for node in graph.values()}) or [""]
    cur = conn.cursor()
    cur.execute(
        "select table_schema, table_name, view_definition from information_schema.views"
        f" where table_schema in ({', '.join(['%s'] * len(schemas))})",
        tuple(schemas),
    )
    views = {(str(schema), str(name)): str(text) for schema, name, text in cur.fetchall()}
    cur.close()

    def state(node_id: str, path: tuple[str, ...]) -> str:
        node = graph.get(node_id)
        if node is None or node_id in path:
            return f"unknown {uuid.uuid4()}"  # never equal to a recorded state: rebuild
        where = (str(node["schema"]), str(node["identifier"]))
        if where in views:
            read = sorted(node.get("reads") or [])
            return f"view {views[where]} reads " + "; ".join(state(r, (*path, node_id)) for r in read)
        return f"table {checksum(conn, *where)}"

    digest = hashlib.sha256(definition.encode())
    for node_id in sorted(set(reads)):
        digest.update(f"\n{node_id}: {state(node_id, ())}".encode())
    return digest.hexdigest()


def unchanged(conn: MySQLConnectionAbstract, schema: str, table: str, inputs_sha256: str) -> bool:
    """True when `table` was built from these inputs and has not changed since."""
    cur = conn.cursor()
    try:
        cur.execute(
            f"select content_checksum from {quote(schema)}.{REGISTRY}"
            " where model_name = %s and inputs_sha256 = %s",
            (table, inputs_sha256),
        )
        row = cur.fetchone()
    except mysql.connector.Error as exc:
        if exc.errno == errorcode.ER_NO_SUCH_TABLE:  # nothing recorded in this schema yet
            return False
        raise
    finally:
        cur.close()
    if row is None or row[0] is None:
        return False
    return int(row[0]) == checksum(conn, schema, table)  # type: ignore[call-overload]


def record(conn: MySQLConnectionAbstract, schema: str, table: str, inputs_sha256: str) -> None:
    """Remember what `table`, just built, was built from and what it holds."""
    cur = conn.cursor()
    cur.execute(
        f"create table if not exists {quote(schema)}.{REGISTRY} (model_name varchar(64) primary key,"
        " inputs_sha256 char(64) not null, content_checksum bigint unsigned, built_at datetime not null)"
    )
    cur.execute(
        f"replace into {quote(schema)}.{REGISTRY} values (%s, %s, %s, utc_timestamp())",
        (table, inputs_sha256, checksum(conn, schema, table)),
    )
    cur.close()
