"""Connection settings of the `mysql_python` / `mariadb_python` profile types and the connections the Python
models open with them (the same profile as dbt's own connection: host or socket, port, user, charset,
collation)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import mysql.connector
from dbt.adapters.mariadb import MariaDBConnectionManager, MariaDBCredentials
from dbt.adapters.mysql import MySQLConnectionManager, MySQLCredentials
from mysql.connector.abstracts import MySQLConnectionAbstract

_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


@dataclass(init=False)
class MySQLPythonCredentials(MySQLCredentials):
    @property
    def type(self) -> str:
        return "mysql_python"


@dataclass(init=False)
class MariaDBPythonCredentials(MariaDBCredentials):
    @property
    def type(self) -> str:
        return "mariadb_python"


class MySQLPythonConnectionManager(MySQLConnectionManager):
    TYPE = "mysql_python"


class MariaDBPythonConnectionManager(MariaDBConnectionManager):
    TYPE = "mariadb_python"


def connect(credentials: Any, *, local_infile: bool = False) -> MySQLConnectionAbstract:
    """A new autocommit connection with the profile's settings (what dbt-mysql's connection manager uses,
    plus LOAD DATA LOCAL when asked). Cursors are unbuffered unless asked: results can be streamed."""
    kwargs: dict[str, Any] = {
        "user": credentials.username,
        "password": credentials.password or "",
        "autocommit": True,
        "allow_local_infile": local_infile,
    }
    if credentials.server:
        kwargs["host"] = credentials.server
    elif credentials.unix_socket:
        kwargs["unix_socket"] = credentials.unix_socket
    if credentials.port:
        kwargs["port"] = credentials.port
    for name in ("charset", "collation", "ssl_disabled"):
        if getattr(credentials, name, None) is not None:
            kwargs[name] = getattr(credentials, name)
    return mysql.connector.connect(**kwargs)


def schema_options(credentials: Any) -> str:
    """`character set … collate …` for new schemas: the profile's, so that every table, cast and literal of
    the project compares keys with one collation (the server default may differ from the connection's)."""
    parts = []
    for clause, value in (("character set", credentials.charset), ("collate", credentials.collation)):
        if value:
            if not _NAME.match(value):
                raise ValueError(f"profile {clause.split()[-1]} {value!r} is not a plain name")
            parts.append(f"{clause} {value}")
    return " ".join(parts)
