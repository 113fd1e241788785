"""The product's one way to talk to MySQL/MariaDB: connections, statements, identifier quoting.

(A dbt Python model talks to the warehouse through the adapter's session instead: adapters/mysql_python.)"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import mysql.connector
from mysql.connector.abstracts import MySQLConnectionAbstract

from .settings import Warehouse

_IDENTIFIER = re.compile(r"^[A-Za-z0-9_$]{1,64}$")


class IdentifierError(ValueError):
    """A schema, table or column name that is not a plain MySQL identifier."""


def quote_ident(name: str) -> str:
    """Validate a schema/table/column name and quote it with backticks.

    Only [A-Za-z0-9_$], 1-64 characters, are accepted: anything else (quotes, backticks, spaces, `;`) is
    refused rather than escaped, so a hostile setting can never change the statement.
    """
    if not isinstance(name, str) or not _IDENTIFIER.match(name):
        raise IdentifierError(f"invalid MySQL identifier {name!r}: use letters, digits, _ or $ (at most 64)")
    return f"`{name}`"


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def query(conn: MySQLConnectionAbstract, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    """All rows of one parameterised statement (none for a statement without a result)."""
    cur = conn.cursor()
    cur.execute(sql, tuple(params))
    rows = list(cur.fetchall()) if cur.with_rows else []
    cur.close()
    return rows


def table_exists(conn: MySQLConnectionAbstract, schema: str, table: str) -> bool:
    sql = "select count(*) from information_schema.tables where table_schema = %s and table_name = %s"
    return bool(query(conn, sql, (schema, table))[0][0])


def create_schema(conn: MySQLConnectionAbstract, wh: Warehouse, name: str) -> None:
    """Create schema `name` if missing, as dbt does here (the adapter's create_schema): with the profile's
    character set and collation, so keys compare across the project's schemas whatever the server default."""
    if not (_IDENTIFIER.match(wh.charset) and _IDENTIFIER.match(wh.collation)):
        raise IdentifierError(f"invalid character set or collation {wh.charset!r} / {wh.collation!r}")
    options = f"character set {wh.charset} collate {wh.collation}"
    query(conn, f"create database if not exists {quote_ident(name)} {options}")


def drop_base(conn: MySQLConnectionAbstract, base: str) -> list[str]:
    """Drop the base schema and every <base>_<name> database dbt and the pipeline make (only those)."""
    pattern = re.compile(rf"^{re.escape(base)}(_[a-z]+)?$")
    cur = conn.cursor()
    cur.execute("show databases")
    dropped = [str(name) for (name,) in cur.fetchall() if pattern.match(str(name))]
    for name in dropped:
        cur.execute(f"drop database {quote_ident(name)}")
    cur.close()
    return dropped


def connect(wh: Warehouse, *, local_infile: bool = False, autocommit: bool = True) -> MySQLConnectionAbstract:
    """Open a connection with an explicit charset/collation (MariaDB lacks MySQL 8's default collation)."""
    kwargs: dict[str, object] = {
        "user": wh.user,
        "password": wh.password,
        "charset": wh.charset,
        "collation": wh.collation,
        "autocommit": autocommit,
        "allow_local_infile": local_infile,
        "use_pure": False,
        "connection_timeout": 10,
    }
    if wh.unix_socket:
        kwargs["unix_socket"] = wh.unix_socket
    else:
        kwargs["host"], kwargs["port"] = wh.host, wh.port
    return mysql.connector.connect(**kwargs)


def implementation(conn: MySQLConnectionAbstract) -> str:
    """'C extension' or 'pure Python': which connector implementation this connection uses."""
    from mysql.connector.connection_cext import CMySQLConnection

    return "C extension" if isinstance(conn, CMySQLConnection) else "pure Python"
