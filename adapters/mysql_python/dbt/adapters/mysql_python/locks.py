"""Metadata locks: DDL that never stalls readers, and one writer per schema.

A RENAME TABLE (or CREATE OR REPLACE VIEW) needs an exclusive metadata lock, and a session whose transaction
read the table holds a shared one until the transaction ends — an idle BI client with autocommit off can hold
it for hours. While the DDL waits, every new reader queues behind it. So each attempt waits a short, bounded
time (session `lock_wait_timeout`), then gives way to the readers and retries with backoff, up to a total
budget, logging the sessions that block it — the cut-over of gh-ost and pt-online-schema-change. Past the
budget it fails with those sessions named; nothing has changed. Opt-in: kill the blocking sessions of one
named (BI) user.

The run lock is MySQL's GET_LOCK on a connection of its own that lives for the dbt run: a killed run's
connection closes and the lock is released with it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import dbt.exceptions
from dbt.events import AdapterLogger
from mysql.connector.abstracts import MySQLConnectionAbstract

log = AdapterLogger("mysql_python")

LOCK_WAIT_TIMEOUT = 1205  # ER_LOCK_WAIT_TIMEOUT
MAX_LOCK_NAME = 64
Query = Callable[[str], list[tuple[Any, ...]]]


class LockBusyError(dbt.exceptions.Exception):
    """The schema's run lock is held by another run. A dbt exception, so dbt prints the message alone, but
    deliberately not a DbtRuntimeError: dbt 1.7 carries on with every node after an on-run-start hook fails
    with one of those."""


class BlockedError(RuntimeError):
    """DDL that could not get its metadata lock within the budget; the message names the blocking sessions."""


@dataclass(frozen=True)
class WaitPolicy:
    """How long DDL waits for metadata locks: per attempt, in all, and whose sessions it may kill."""

    lock_wait_seconds: int = 1
    timeout_seconds: int = 300
    kill_blockers_of_user: str | None = None

    @classmethod
    def from_settings(cls, settings: dict[str, Any] | None) -> WaitPolicy:
        s = settings or {}
        user = s.get("kill_blockers_of_user")
        return cls(
            lock_wait_seconds=max(1, int(s.get("lock_wait_seconds") or cls.lock_wait_seconds)),
            timeout_seconds=max(0, int(s.get("timeout_seconds", cls.timeout_seconds))),
            kill_blockers_of_user=str(user) if user else None,
        )


@dataclass(frozen=True)
class Blocker:
    """A session that may hold a metadata lock a DDL statement waits for."""

    id: int
    user: str
    host: str
    command: str
    seconds: int
    transaction_since: Any  # datetime of its open transaction, or None
    statement: str | None

    def __str__(self) -> str:
        trx = f", transaction open since {self.transaction_since}" if self.transaction_since else ""
        running = f", running {self.statement!r}" if self.statement else ""
        return (
            f"session {self.id} ({self.user}@{self.host}, {self.command} for {self.seconds} s{trx}{running})"
        )


def is_lock_wait_timeout(exc: BaseException) -> bool:
    errno = getattr(exc, "errno", None)
    return errno == LOCK_WAIT_TIMEOUT or f"{LOCK_WAIT_TIMEOUT} (HY000)" in str(exc)


def blockers(query: Query, tables: Sequence[tuple[str, str]]) -> list[Blocker]:
    """The other sessions that may hold a lock on `tables`: those holding a metadata lock on them where the
    server says so (MySQL 8's performance_schema.metadata_locks), else every session with an open
    transaction, idle ones first (MariaDB shows no metadata locks without performance_schema or its
    metadata_lock_info plugin); sessions that are themselves waiting for a metadata lock are victims."""
    columns = (
        "p.id, p.user, p.host, p.command, p.time, t.trx_started, left(p.info, 120)"
        " from information_schema.processlist p"
        " left join information_schema.innodb_trx t on t.trx_mysql_thread_id = p.id"
        " where p.id <> connection_id() and coalesce(p.state, '') not like 'Waiting for%metadata lock%'"
    )
    try:
        pairs = " or ".join(
            f"(m.object_schema = {_literal(s)} and m.object_name = {_literal(n)})" for s, n in tables
        )
        rows = query(
            f"select distinct {columns} and p.id in (select th.processlist_id"
            " from performance_schema.metadata_locks m join performance_schema.threads th"
            f" on th.thread_id = m.owner_thread_id where m.lock_status = 'GRANTED' and ({pairs}))"
        )
    except Exception:  # no performance_schema.metadata_locks here
        rows = []
    if not rows:  # MariaDB has the table, empty unless performance_schema is on
        # Sessions idle in an open transaction first: the usual culprit (a BI client with autocommit off).
        rows = query(
            f"select {columns} and t.trx_id is not null order by p.command = 'Sleep' desc, t.trx_started"
        )
    return [Blocker(int(i), str(u), str(h), str(c), int(s or 0), trx, q) for i, u, h, c, s, trx, q in rows]


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def run_ddl(
    execute: Callable[[str], Any],
    query: Query,
    sql: str,
    tables: Sequence[tuple[str, str]],
    policy: WaitPolicy,
) -> None:
    """Run `sql` waiting at most policy.lock_wait_seconds per attempt for its metadata locks, retrying with
    backoff until policy.timeout_seconds have passed; then raise BlockedError naming the blockers."""
    execute(f"set session lock_wait_timeout = {policy.lock_wait_seconds}")
    started, attempt, seen = time.monotonic(), 0, ""
    try:
        while True:
            attempt += 1
            try:
                execute(sql)
                if attempt > 1:
                    log.info(
                        f"{_names(tables)}: went through at attempt {attempt} after {_since(started):.0f} s"
                    )
                return
            except Exception as exc:
                if not is_lock_wait_timeout(exc):
                    raise
            found = blockers(query, tables)
            listed = "; ".join(map(str, found)) or "no session found (it may have just ended)"
            if listed != seen:
                log.warning(f"{_names(tables)} waits for metadata locks held by: {listed}")
                seen = listed
            _kill(execute, found, policy.kill_blockers_of_user)
            elapsed = _since(started)
            if elapsed >= policy.timeout_seconds:
                raise BlockedError(
                    f"gave up after {elapsed:.0f} s and {attempt} attempts to get the metadata lock on"
                    f" {_names(tables)} (lock_wait_seconds {policy.lock_wait_seconds}, timeout_seconds"
                    f" {policy.timeout_seconds}): blocked by {listed}. Nothing was changed: the published"
                    " tables are as they were. End or kill those sessions (or set swap_kill_blockers_of_user)"
                    " and run again."
                )
            time.sleep(min(0.25 * 2**attempt, 5.0, max(policy.timeout_seconds - elapsed, 0.0)))
    finally:
        execute("set session lock_wait_timeout = @@global.lock_wait_timeout")


def _kill(execute: Callable[[str], Any], found: list[Blocker], user: str | None) -> None:
    for session in found:
        if user and session.user == user:
            log.warning(f"killing {session} (swap_kill_blockers_of_user={user})")
            try:
                execute(f"kill {int(session.id)}")
            except Exception as exc:  # it may have ended by itself
                log.warning(f"could not kill session {session.id}: {exc}")


def _since(started: float) -> float:
    return time.monotonic() - started


def _names(tables: Sequence[tuple[str, str]]) -> str:
    return ", ".join(f"{s}.{n}" for s, n in tables)


def run_lock_name(project: str, schema: str) -> str:
    name = f"{project}:{schema}"
    return name if len(name) <= MAX_LOCK_NAME else f"{project[:20]}:{hashlib.sha1(name.encode()).hexdigest()}"


class RunLocks:
    """Named locks held for the length of a dbt run, each on a connection of its own."""

    def __init__(self) -> None:
        self._held: dict[str, MySQLConnectionAbstract] = {}
        self._mutex = threading.Lock()

    def acquire(self, connect: Callable[[], MySQLConnectionAbstract], name: str, wait_seconds: int) -> None:
        with self._mutex:
            if name in self._held:
                return
            conn = connect()
            cur = conn.cursor()
            cur.execute("select get_lock(%s, %s)", (name, int(wait_seconds)))
            (got,) = cur.fetchone()
            if got != 1:
                cur.execute(
                    "select id, user, host, command, time, left(info, 120)"
                    " from information_schema.processlist where id = is_used_lock(%s)",
                    (name,),
                )
                row = cur.fetchone()
                conn.close()
                holder = (
                    "a session that has just ended" if row is None else str(Blocker(*row[:5], None, row[5]))
                )
                raise LockBusyError(
                    f"another run is writing to this schema: the lock {name!r} is held by {holder}"
                    f" (waited {int(wait_seconds)} s). Wait for it to finish, or pass"
                    " --vars '{run_lock_wait_seconds: N}' to wait N seconds for it."
                )
            cur.close()
            self._held[name] = conn

    def release(self, name: str) -> None:
        with self._mutex:
            conn = self._held.pop(name, None)
        if conn is not None:
            try:
                cur = conn.cursor()
                cur.execute("select release_lock(%s)", (name,))
                cur.fetchall()
            finally:
                conn.close()
