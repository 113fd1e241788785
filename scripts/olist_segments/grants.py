"""`olist-segments grants`: least-privilege users for the pipeline and for BI, on the project's schemas only.

The pipeline user gets ALL on `<base>` and `<base>_{raw,staging,marts,ml,snapshots}` (what dbt and the
Python step need: create/drop/alter schemas, tables, views and indexes, load and read data); the BI user gets
SELECT on `<base>_marts` and `<base>_snapshots`. Nothing global: LOAD DATA LOCAL and GET_LOCK need none.

Names are validated before any SQL (IdentifierError); user and host are passed as parameters, passwords only
from the environment, as parameters, and never printed. `_` is a wildcard in GRANT's database names, so it is
escaped (`olist\\_raw`): the grants never reach a schema such as `olistXraw` or another base's.
Re-running resets both users to exactly these grants and sets their passwords again from the environment.
"""

from __future__ import annotations

import argparse
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mysql.connector.abstracts import MySQLConnectionAbstract

from . import db, settings

PIPELINE_PASSWORD_ENV = "OLIST_PIPELINE_PASSWORD"
BI_PASSWORD_ENV = "OLIST_BI_PASSWORD"
PIPELINE_SCHEMAS = ("", "raw", "staging", "marts", "ml", "snapshots")  # "" = the base schema itself
BI_SCHEMAS = ("marts", "snapshots")
RESERVED_USERS = frozenset({"root", "mysql", "mariadb.sys", "mysql.sys", "mysql.session", "mysql.infoschema"})

_USER = re.compile(r"[A-Za-z0-9_]{1,32}")  # 32: MySQL 8's limit
_HOST = re.compile(r"[A-Za-z0-9.%_:/-]{1,255}")  # a host name, IP, netmask or pattern such as % or 10.0.%


@dataclass(frozen=True)
class Secret:
    """A statement parameter whose value is read from an environment variable at apply time."""

    env: str


@dataclass(frozen=True)
class Statement:
    sql: str  # with %s placeholders, filled client-side (escaped) by the connector
    params: tuple[str | Secret, ...] = ()

    def render(self) -> str:
        """The statement for people: literals quoted, passwords shown only as the variable they come from."""
        shown = iter(f"<from ${p.env}>" if isinstance(p, Secret) else f"'{p}'" for p in self.params)
        return re.sub("%s", lambda _: next(shown), self.sql) + ";"

    def values(self, env: Mapping[str, str]) -> tuple[str, ...]:
        return tuple(env[p.env] if isinstance(p, Secret) else p for p in self.params)


def validate_account(user: str, host: str) -> None:
    if not isinstance(user, str) or not _USER.fullmatch(user) or user.lower() in RESERVED_USERS:
        raise db.IdentifierError(
            f"invalid user name {user!r}: use 1-32 letters, digits or _ (and not a system account)"
        )
    if not isinstance(host, str) or not _HOST.fullmatch(host):
        raise db.IdentifierError(f"invalid host {host!r}: a host name, an IP address or a pattern such as %")


def grant_target(schema: str) -> str:
    """`schema`.* for GRANT, validated, with the `_` wildcard escaped so it matches this schema only."""
    return db.quote_ident(schema).replace("_", "\\_") + ".*"


def _user_statements(
    user: str, host: str, password_env: str, privileges: str, schemas: list[str]
) -> list[Statement]:
    account = (user, host)
    secret = Secret(password_env)
    return [
        Statement("CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s", (*account, secret)),
        Statement("ALTER USER %s@%s IDENTIFIED BY %s", (*account, secret)),  # the user may exist already
        Statement("REVOKE ALL PRIVILEGES, GRANT OPTION FROM %s@%s", account),
        *(Statement(f"GRANT {privileges} ON {grant_target(s)} TO %s@%s", account) for s in schemas),
    ]


def plan(base: str, pipeline_user: str, bi_user: str, host: str = "%") -> list[Statement]:
    """The statements creating both users; raises IdentifierError before anything runs."""
    validate_account(pipeline_user, host)
    validate_account(bi_user, host)
    if pipeline_user == bi_user:
        raise db.IdentifierError("the pipeline and BI users must be two different users")
    schemas = {suffix: f"{base}_{suffix}" if suffix else base for suffix in PIPELINE_SCHEMAS}
    for schema in schemas.values():
        db.quote_ident(schema)
    return [
        *_user_statements(
            pipeline_user, host, PIPELINE_PASSWORD_ENV, "ALL PRIVILEGES", list(schemas.values())
        ),
        *_user_statements(bi_user, host, BI_PASSWORD_ENV, "SELECT", [schemas[s] for s in BI_SCHEMAS]),
    ]


class GrantError(RuntimeError):
    """The users cannot be (re)created safely."""


def apply(conn: MySQLConnectionAbstract, statements: list[Statement], env: Mapping[str, str]) -> None:
    """Run the statements as the current (admin) connection, passwords taken from `env`."""
    needed = sorted({p.env for s in statements for p in s.params if isinstance(p, Secret)})
    if missing := [name for name in needed if not env.get(name)]:
        raise GrantError(f"set {' and '.join(missing)} (the passwords are read from the environment only)")
    cur = conn.cursor()
    accounts = sorted({s.params[:2] for s in statements if s.sql.startswith("CREATE USER")})
    for user, host in accounts:  # never strip an existing powerful account (REVOKE ALL below)
        cur.execute(
            "SELECT privilege_type FROM information_schema.user_privileges"
            " WHERE grantee = %s AND privilege_type <> 'USAGE'",
            (f"'{user}'@'{host}'",),
        )
        if found := sorted({row[0] for row in cur.fetchall()}):
            raise GrantError(
                f"'{user}'@'{host}' already exists with global privileges ({', '.join(found)}): "
                "choose another user name"
            )
    for statement in statements:
        cur.execute(statement.sql, statement.values(env))
    cur.close()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pipeline-user", required=True, help="user that runs dbt and the segmentation")
    parser.add_argument("--bi-user", required=True, help="read-only user for dashboards")
    parser.add_argument("--host", default="%", help="host part of both accounts (default: %%, any host)")
    parser.add_argument("--schema", help="base schema (default: the profile's, i.e. DBT_SCHEMA)")
    parser.add_argument("--target", help="dbt target to connect with (default: DBT_TARGET or the profile's)")
    parser.add_argument(
        "--apply",
        action="store_true",
        help=f"execute the SQL as the profile's (admin) user; passwords from ${PIPELINE_PASSWORD_ENV} "
        f"and ${BI_PASSWORD_ENV}. Without it the SQL is only printed",
    )


def main(args: argparse.Namespace) -> int:
    wh = settings.load(args.target)
    base = args.schema or wh.schema
    try:
        statements = plan(base, args.pipeline_user, args.bi_user, args.host)
    except db.IdentifierError as exc:
        raise GrantError(f"{exc}; nothing was run") from exc
    print(f"-- least-privilege users for base schema {base} (run as an administrator)")
    print("\n".join(s.render() for s in statements))
    if not args.apply:
        return 0
    conn = db.connect(wh)
    try:
        apply(conn, statements, os.environ)
    except GrantError as exc:
        raise GrantError(f"{exc}; nothing was run") from exc
    finally:
        conn.close()
    print(f"-- applied on {wh.host}:{wh.port} as {wh.user}")
    return 0
