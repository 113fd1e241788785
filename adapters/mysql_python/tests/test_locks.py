"""Metadata locks on the real server: swaps that wait a bounded time for open transactions without stalling
readers, that give up naming the blocker, that may kill a named user's sessions; one dbt run per schema."""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import mysql.connector
import pytest
from mysql.connector.abstracts import MySQLConnectionAbstract

from fixturekit import DBT, FIXTURE, connect, query, run_dbt, tables, target_path


def checksum(schema: str, table: str) -> int:
    return int(query(f"checksum table `{schema}`.`{table}`")[0][1])


@contextmanager
def open_transaction(schema: str, *tables_read: str, user: tuple[str, str] | None = None) -> Iterator[int]:
    """A BI client with autocommit off that read `tables_read` and keeps its transaction open; its id."""
    conn = connect() if user is None else connect_as(*user)
    conn.autocommit = False
    cur = conn.cursor()
    for table in tables_read:
        cur.execute(f"select count(*) from `{schema}`.`{table}`")
        cur.fetchall()
    try:
        yield conn.connection_id
    finally:
        try:
            conn.rollback()
            conn.close()
        except Exception:  # killed: the connection is gone
            pass


def connect_as(user: str, password: str) -> MySQLConnectionAbstract:
    return mysql.connector.connect(
        host=os.environ.get("MYSQL_HOST", "127.0.0.1"),
        port=int(os.environ.get("MYSQL_PORT", "3306")),
        user=user,
        password=password,
        autocommit=True,
    )


class Reader(threading.Thread):
    """An autocommit dashboard query in a loop; records the longest a single query took."""

    def __init__(self, schema: str, table: str) -> None:
        super().__init__(daemon=True)
        self.sql, self.stop = f"select count(*) from `{schema}`.`{table}`", threading.Event()
        self.longest, self.queries, self.errors = 0.0, 0, []

    def run(self) -> None:
        conn = connect()
        cur = conn.cursor()
        while not self.stop.is_set():
            start = time.monotonic()
            try:
                cur.execute(self.sql)
                cur.fetchall()
            except mysql.connector.Error as exc:
                self.errors.append(str(exc))
            self.longest = max(self.longest, time.monotonic() - start)
            self.queries += 1
            time.sleep(0.05)
        conn.close()


def dbt_in_background(schema: str, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "DBT_SCHEMA": schema,
        "DBT_PROFILES_DIR": str(FIXTURE),
        "DBT_TARGET_PATH": str(target_path(schema)),
        "DBT_LOG_PATH": str(target_path(schema)),
    }
    cmd = [DBT, "--no-use-colors", *args, "--project-dir", str(FIXTURE)]
    return subprocess.Popen(
        cmd, cwd=FIXTURE, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )


@pytest.fixture
def built(schema: str) -> str:
    run_dbt("run", "--select", "numbers", "py_logged", schema=schema)
    return schema


@pytest.mark.slow
def test_a_swap_waits_for_an_open_transaction_without_stalling_readers(built: str) -> None:
    reader = Reader(built, "numbers")
    with open_transaction(built, "numbers") as blocker:
        reader.start()
        rebuild = dbt_in_background(
            built, "run", "--select", "numbers", "--vars", "{swap_lock_wait_seconds: 2}"
        )
        time.sleep(12)  # the rebuild reached the swap and retried a few times
        assert rebuild.poll() is None, "the swap did not wait for the open transaction"
    out, _ = rebuild.communicate(timeout=120)  # the transaction ended: the swap goes through
    reader.stop.set()
    reader.join()
    assert rebuild.returncode == 0, out
    assert "waits for metadata locks held by: session" in out
    assert f"session {blocker} (root@" in out and "Sleep for" in out and "transaction open since" in out
    assert "went through at attempt" in out
    assert reader.errors == [] and reader.queries > 50
    assert reader.longest < 5, f"a reader waited {reader.longest:.1f} s behind the pending swap"


@pytest.mark.slow
def test_a_transaction_that_never_ends_fails_the_swap_within_the_bound(built: str) -> None:
    before = checksum(built, "numbers")
    reader = Reader(built, "numbers")
    reader.start()
    with open_transaction(built, "numbers") as blocker:
        started = time.monotonic()
        proc = run_dbt(
            "run", "--select", "numbers", "--vars", "{swap_timeout_seconds: 8}", schema=built, check=False
        )
        took = time.monotonic() - started
    reader.stop.set()
    reader.join()
    assert proc.returncode == 1 and took < 60
    assert "gave up after" in proc.stdout and f"blocked by session {blocker} (" in proc.stdout
    assert "Nothing was changed" in proc.stdout
    assert checksum(built, "numbers") == before and reader.errors == [] and reader.longest < 5
    assert tables(built) == {"numbers", "py_logged", "py_log", "py_failures"}  # the new table was dropped


@pytest.mark.slow
def test_a_python_models_failed_swap_tells_the_model_and_publishes_no_staged_copy(built: str) -> None:
    log_before = query(f"select run from `{built}`.`py_log` order by run")
    with open_transaction(built, "py_logged"):
        proc = run_dbt(
            "run", "--select", "py_logged", "--vars", "{swap_timeout_seconds: 4}", schema=built, check=False
        )
    assert proc.returncode == 1 and "gave up after" in proc.stdout
    assert query(f"select run from `{built}`.`py_log` order by run") == log_before
    (error,) = query(f"select error from `{built}`.`py_failures`")[0]
    assert "gave up after" in error
    assert not {"py_log__dbt_tmp", "py_log__dbt_backup", "py_logged__dbt_tmp"} & tables(built)


@pytest.fixture
def bi_user(built: str) -> Iterator[tuple[str, str]]:
    user, password = f"bi_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    query(f"create user '{user}'@'%' identified by '{password}'")
    query(f"grant select on `{built}`.* to '{user}'@'%'")
    yield user, password
    query(f"drop user '{user}'@'%'")


@pytest.mark.slow
def test_blocking_sessions_of_a_named_user_can_be_killed(built: str, bi_user: tuple[str, str]) -> None:
    with open_transaction(built, "numbers", user=bi_user) as blocker:
        started = time.monotonic()
        wait = f"{{swap_timeout_seconds: 60, swap_kill_blockers_of_user: {bi_user[0]}}}"
        proc = run_dbt("run", "--select", "numbers", "--vars", wait, schema=built)
        took = time.monotonic() - started
    assert f"killing session {blocker} ({bi_user[0]}@" in proc.stdout
    assert took < 40


def test_one_dbt_run_per_schema(built: str) -> None:
    holder = connect()
    cur = holder.cursor()
    cur.execute("select get_lock(%s, 0)", (f"adapter_fixture:{built}",))
    assert cur.fetchall() == [(1,)]
    refused = run_dbt("run", "--select", "numbers", schema=built, check=False)
    assert refused.returncode == 2
    assert (
        f"another run is writing to this schema: the lock 'adapter_fixture:{built}' is held by session"
        in (refused.stdout)
    )
    assert "Traceback" not in refused.stdout and "OK created" not in refused.stdout
    releaser = threading.Timer(3, holder.close)
    releaser.start()
    waited = run_dbt("run", "--select", "numbers", "--vars", "{run_lock_wait_seconds: 60}", schema=built)
    releaser.join()
    assert "OK created sql table model" in waited.stdout


@pytest.mark.slow
def test_a_killed_run_releases_the_lock(built: str) -> None:
    slow = dbt_in_background(
        built, "run", "--select", "py_doubled", "--vars", "{py_chunk: 1}"
    )  # ~1,000 loads
    deadline = time.monotonic() + 60
    while not query("select is_used_lock(%s)", (f"adapter_fixture:{built}",))[0][0]:
        assert time.monotonic() < deadline and slow.poll() is None, "the run never took its lock"
        time.sleep(0.2)
    slow.send_signal(signal.SIGKILL)
    slow.wait(timeout=30)
    run_dbt("run", "--select", "numbers", schema=built)  # not refused: the lock went with the process
