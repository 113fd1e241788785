"""`olist-harness reliability`: inject faults into real runs and write docs/reliability.md.

Three groups of scenarios, each in base schemas of its own (random names, dropped at the end):

* bad input, end to end: publish the bundled sample with `olist-segments run` (a second `run` started
  meanwhile must be refused by the schema's run lock), then run again on copies of the sample with one thing
  broken. Each run must exit non-zero naming the file, column and problem and leave the published tables
  as they were; the last, good run must publish again.
* the segmentation step, `dbt run -s customer_segments`, on a synthetic mart of N customers (synth-features):
  dbt killed with SIGKILL while the model loads customer_segments__dbt_tmp, its writer or reader connection
  killed from another session, two runs at once (without and with run_lock_wait_seconds), a BI session idle
  in a transaction on customer_segments while the run publishes (ending after 10 s, or never), and dbt killed
  while its swap waits for that session.
* the server: a throwaway MariaDB of our own (never the shared one) restarted between two runs, and killed
  with SIGKILL while a run writes.

Published state: <base>_marts.{customer_features, fct_orders, dim_customers, segment_summary} and
<base>_ml.customer_segments, each as row count, CHECKSUM TABLE and a content checksum, taken before and after
every failed run. segment_model_runs is compared only across the server restart: a failed run adds its
'failed' row there by design. While runs execute, a BI reader thread polls count(*) and a full-table content
checksum of customer_segments (and dim_customers where it exists); a failed query, or a result that is
neither the state before nor the state after, counts against the scenario.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import mysql.connector
from mysql.connector.abstracts import MySQLConnectionAbstract

from dbt.adapters.mysql_python.locks import run_lock_name
from olist_segments import db, settings
from olist_segments.settings import PROJECT_ROOT, Warehouse

from . import synth
from .bad_input import ACCEPTED, BAD_INPUTS, TOO_FEW_CUSTOMERS, UNKNOWN_STATUS, BadInput

log = logging.getLogger(__name__)

SAMPLE = PROJECT_ROOT / "seeds" / "olist_sample"
Table = tuple[str, str]  # (layer, table): ("marts", "dim_customers") is <base>_marts.dim_customers
PROJECT = "olist_segments"  # dbt_project.yml's name: the run lock is <project>:<base schema>
SEGMENTS_TABLE, RUNS_TABLE = "customer_segments", "segment_model_runs"
NEW = SEGMENTS_TABLE + "__dbt_tmp"  # what the Python model loads before the swap publishes it
SEGMENTS: Table = ("ml", SEGMENTS_TABLE)
RUNS: Table = ("ml", RUNS_TABLE)
CHAIN_TABLES: tuple[Table, ...] = (
    ("marts", "customer_features"),
    ("marts", "fct_orders"),
    ("marts", "dim_customers"),
    ("marts", "segment_summary"),
    SEGMENTS,
)
SEGMENT_TABLES: tuple[Table, ...] = (("marts", "customer_features"), SEGMENTS)
CHAIN_READS: tuple[Table, ...] = (SEGMENTS, ("marts", "dim_customers"))
SEGMENT_READS: tuple[Table, ...] = (SEGMENTS,)
KEYS = {
    "customer_features": "customer_unique_id",
    "fct_orders": "order_id",
    "dim_customers": "customer_unique_id",
    "segment_summary": "segment_id",
    SEGMENTS_TABLE: "customer_unique_id",
    RUNS_TABLE: "run_id",
}
RUN_COLUMNS = frozenset({"run_id", "scored_at"})  # differ between two runs on the same data
DBT = str(Path(sys.executable).with_name("dbt"))
LOCK_MESSAGE = "another run is writing to this schema"
# What the connector says of a connection killed under it: mid-statement, between statements, on reconnect.
LOST_CONNECTION = ("Lost connection", "MySQL Connection not available", "server has gone away")


def lost_connection(output: str) -> bool:
    return any(words in output for words in LOST_CONNECTION)


CUSTOMERS = 100_000
TIMEOUT_S = 900


def segment_args(wait_seconds: int = 0, **dbt_vars: object) -> tuple[str, ...]:
    """The segmentation step as a scheduler runs it, `dbt run -s customer_segments`: small and fast (one
    KMeans fit), loaded in many chunks so that a fault lands while customer_segments__dbt_tmp is loading."""
    fast = {"segment_k": 4, "segment_n_init": 1, "segment_chunk_size": 5000}
    all_vars = fast | {"run_lock_wait_seconds": wait_seconds} | dbt_vars
    return ("dbt", "--no-use-colors", "run", "--select", SEGMENTS_TABLE, "--vars", json.dumps(all_vars))


SEGMENT_ARGS = segment_args()
_RUN_ID = re.compile(r"\brun ([0-9a-f-]{36})\b")
_LOG_PREFIX = re.compile(r"^(?:(?:dbt|segment) \| )?(?:\d\d:\d\d:\d\d(?:\.\d+)?\s+(?:[A-Z]+\s+)?)?")


class ScenarioError(RuntimeError):
    """The harness could not set the scenario up (not a finding about the code under test)."""


def _query(conn: MySQLConnectionAbstract, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    cur = conn.cursor()
    cur.execute(sql, tuple(params))
    rows = list(cur.fetchall()) if cur.with_rows else []
    cur.close()
    return rows


@contextmanager
def connection(wh: Warehouse) -> Iterator[MySQLConnectionAbstract]:
    conn = db.connect(wh)
    try:
        yield conn
    finally:
        conn.close()


def columns(conn: MySQLConnectionAbstract, schema: str, table: str) -> list[str]:
    rows = _query(
        conn,
        "select column_name from information_schema.columns where table_schema = %s and table_name = %s"
        " order by ordinal_position",
        (schema, table),
    )
    return [str(c) for (c,) in rows]


def content_sql(schema: str, table: str, cols: Sequence[str]) -> str:
    """Rows, a checksum of every column but the run metadata, and the number of runs in the table: equal
    for two publications of the same data, different for a partial or mixed table."""
    parts = ", ".join(f"coalesce({db.quote_ident(c)}, '~')" for c in cols if c not in RUN_COLUMNS)
    runs = f"count(distinct {db.quote_ident('run_id')})" if "run_id" in cols else "1"
    return (
        f"select count(*), coalesce(sum(crc32(concat_ws('|', {parts}))), 0), {runs}"
        f" from {db.qualified(schema, table)}"
    )


Content = tuple[int, int, int]  # rows, content checksum, runs


@dataclass(frozen=True)
class TableState:
    rows: int
    checksum: int | None  # CHECKSUM TABLE: every column, run metadata included
    content: Content  # what the reader compares (run metadata left out)
    keys: frozenset[bytes]

    @property
    def fingerprint(self) -> tuple[int, int | None, Content]:
        return self.rows, self.checksum, self.content


State = dict[str, TableState | None]  # "layer.table" → state (None: the table does not exist)


def table_state(conn: MySQLConnectionAbstract, wh: Warehouse, layer: str, table: str) -> TableState | None:
    schema = wh.schema_for(layer)
    cols = columns(conn, schema, table)
    if not cols:
        return None
    name = db.qualified(schema, table)
    ((_, checksum),) = _query(conn, f"checksum table {name}")
    cur = conn.cursor(raw=True)
    cur.execute(f"select {db.quote_ident(KEYS[table])} from {name}")
    keys = frozenset(k for (k,) in cur.fetchall())
    cur.close()
    ((total, sums, runs),) = _query(conn, content_sql(schema, table, cols))
    return TableState(int(total), checksum, (int(total), int(sums), int(runs)), keys)


def published_state(wh: Warehouse, tables: Sequence[Table]) -> State:
    with connection(wh) as conn:
        return {f"{layer}.{table}": table_state(conn, wh, layer, table) for layer, table in tables}


def fingerprint(state: State, name: str) -> tuple[int, int | None, Content] | None:
    table = state.get(name)
    return None if table is None else table.fingerprint


def content(state: State, name: str) -> Content | None:
    table = state.get(name)
    return None if table is None else table.content


def changed(before: State, after: State) -> list[str]:
    """Tables whose rows, CHECKSUM TABLE or content differ (a table that appeared or vanished counts)."""
    return [name for name in before if fingerprint(before, name) != fingerprint(after, name)]


def rows_lost(before: State, after: State) -> int:
    """Keys published before that are gone after (a vanished table loses all of its rows)."""
    lost = 0
    for name, old in before.items():
        if old is not None:
            new = after.get(name)
            lost += len(old.keys - new.keys) if new is not None else old.rows
    return lost


class Reader(threading.Thread):
    """A BI dashboard: polls count(*) and the content checksum of `tables` until stopped.

    Every failed query is recorded, and every result, to compare with the states before and after a run.
    hold() closes the connection and pauses (while the scenario takes the server down); release() resumes.
    """

    def __init__(self, wh: Warehouse, tables: Sequence[Table], pause_s: float = 0.05) -> None:
        super().__init__(daemon=True)
        self.wh, self.tables, self.pause_s = wh, tuple(tables), pause_s
        self.queries = 0
        self.longest_s = 0.0  # the slowest count(*): how long a BI query waited
        self.failures: list[str] = []
        self.counts: dict[str, Counter[int]] = {f"{lay}.{t}": Counter() for lay, t in self.tables}
        self.contents: dict[str, Counter[Content]] = {f"{lay}.{t}": Counter() for lay, t in self.tables}
        self._done, self._held, self._idle = threading.Event(), threading.Event(), threading.Event()

    def run(self) -> None:
        conn: MySQLConnectionAbstract | None = None
        sql: dict[str, str] = {}
        while not self._done.is_set():
            if self._held.is_set():
                if conn is not None:
                    conn.close()
                    conn = None
                self._idle.set()
                time.sleep(0.02)
                continue
            try:
                conn = conn or db.connect(self.wh)
            except mysql.connector.Error as exc:
                self.failures.append(f"connect: {exc}")
                time.sleep(0.2)
                continue
            for layer, table in self.tables:
                conn = self._poll(conn, layer, table, sql)
                if conn is None:
                    break
            time.sleep(self.pause_s)
        if conn is not None:
            conn.close()

    def _poll(
        self, conn: MySQLConnectionAbstract, layer: str, table: str, sql: dict[str, str]
    ) -> MySQLConnectionAbstract | None:
        name, schema = f"{layer}.{table}", self.wh.schema_for(layer)
        try:
            self.queries += 1
            started = time.monotonic()
            ((rows,),) = _query(conn, f"select count(*) from {db.qualified(schema, table)}")
            self.longest_s = max(self.longest_s, time.monotonic() - started)
            self.counts[name][int(rows)] += 1
            if name not in sql:
                cols = columns(conn, schema, table)
                if not cols:
                    raise ScenarioError(f"table {schema}.{table} not found")
                sql[name] = content_sql(schema, table, cols)
            self.queries += 1
            ((total, checksum, runs),) = _query(conn, sql[name])
            self.contents[name][(int(total), int(checksum), int(runs))] += 1
        except (mysql.connector.Error, ScenarioError) as exc:
            self.failures.append(f"{name}: {exc}")
            if not conn.is_connected():
                conn.close()
                return None
        return conn

    def hold(self) -> None:
        self._idle.clear()
        self._held.set()
        self._idle.wait(timeout=60)

    def release(self) -> None:
        self._held.clear()

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=120)

    def partial_reads(self, *states: State) -> list[str]:
        """Results matching none of `states` (the states before and after the runs), or mixing two runs."""
        found = []
        for name in self.contents:
            allowed = {c for s in states if (c := content(s, name)) is not None}
            for (rows, checksum, runs), n in self.contents[name].items():
                if (rows, checksum, runs) not in allowed or runs > 1:
                    found.append(
                        f"{name}: {n} read(s) of {rows:,} rows from {runs} run(s), checksum {checksum}"
                    )
            for rows, n in self.counts[name].items():
                if rows not in {c[0] for c in allowed}:
                    found.append(f"{name}: {n} count(*) read(s) of {rows:,} rows")
        return found


@contextmanager
def reading(wh: Warehouse, tables: Sequence[Table]) -> Iterator[Reader]:
    reader = Reader(wh, tables)
    reader.start()
    try:
        yield reader
    finally:
        reader.stop()


@dataclass
class Cli:
    """A running `olist-segments` subprocess; its output (stdout + stderr) goes to a file, never a pipe."""

    proc: subprocess.Popen[bytes]
    log: Path
    # The Python model's connection ids by role ("reader", "writer"), as first seen in the processlist.
    connections: dict[str, int] = field(default_factory=dict)

    def wait(self, timeout: float = TIMEOUT_S) -> int:
        return self.proc.wait(timeout=timeout)

    @property
    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def cli_env(
    wh: Warehouse, data_dir: Path | None = None, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """The environment of a child `olist-segments`: base schema wh.schema, its own dbt target folder."""
    env = {k: v for k, v in os.environ.items() if k != "OLIST_DATA_DIR"}
    target = PROJECT_ROOT / "target" / f"reliability_{wh.schema}"
    env |= {
        "DBT_SCHEMA": wh.schema,
        "DBT_PROFILES_DIR": str(settings.profiles_dir()),
        "DBT_TARGET_PATH": str(target),
        "DBT_LOG_PATH": str(target),
        "PYTHONUNBUFFERED": "1",
    }
    if data_dir is not None:
        env["OLIST_DATA_DIR"] = str(data_dir)
    return env | (extra or {})


def start_cli(
    wh: Warehouse,
    *args: str,
    logs: Path,
    data_dir: Path | None = None,
    extra_env: dict[str, str] | None = None,
    new_session: bool = False,
) -> Cli:
    """`olist-segments <args>`, or dbt itself when args[0] is "dbt"."""
    path = logs / f"{args[0]}-{uuid.uuid4().hex[:8]}.log"
    argv = [DBT, *args[1:]] if args[0] == "dbt" else [sys.executable, "-m", "olist_segments.cli", *args]
    with path.open("wb") as out:
        proc = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env=cli_env(wh, data_dir, extra_env),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=new_session,
        )
    return Cli(proc, path)


def run_cli(wh: Warehouse, *args: str, logs: Path, **kwargs: Any) -> tuple[int, str]:
    cli = start_cli(wh, *args, logs=logs, **kwargs)
    return cli.wait(), cli.output


def error_line(output: str) -> str:
    """The line that says what went wrong (check-data's first ERROR, dbt's failure, the CLI's error)."""
    lines = [_LOG_PREFIX.sub("", ln).strip() for ln in output.splitlines()]
    patterns = (r"^ERROR \S+\.csv", r"error: ", LOCK_MESSAGE, r"^(Failure|Database Error|Runtime Error) in ")
    for pattern in (*patterns, r"failed"):
        for line in lines:
            if re.search(pattern, line):
                return line
    return next((ln for ln in reversed(lines) if ln), "")


def run_ids(output: str) -> list[str]:
    return list(dict.fromkeys(_RUN_ID.findall(output)))


def new_rows(wh: Warehouse) -> int | None:
    """Rows in <base>_ml.customer_segments__dbt_tmp, None when there is no such table."""
    with connection(wh) as conn:
        try:
            return int(_query(conn, f"select count(*) from {db.qualified(wh.schema_for('ml'), NEW)}")[0][0])
        except mysql.connector.Error as exc:
            if exc.errno == 1146:  # no such table
                return None
            raise


def registry(wh: Warehouse) -> dict[str, tuple[str, datetime, datetime | None]]:
    """run_id → (status, started_at, finished_at) of segment_model_runs."""
    with connection(wh) as conn:
        rows = _query(
            conn,
            "select run_id, status, started_at, finished_at from "
            + db.qualified(wh.schema_for("ml"), RUNS_TABLE),
        )
    return {str(r): (str(s), a, f) for r, s, a, f in rows}


def lock_holder(wh: Warehouse, name: str) -> int | None:
    with connection(wh) as conn:
        (holder,) = _query(conn, "select is_used_lock(%s)", (name,))[0]
    return None if holder is None else int(holder)


def run_lock(wh: Warehouse) -> str:
    """The writer lock every dbt run on base schema wh.schema holds (dbt_project.yml's on-run-start)."""
    return run_lock_name(PROJECT, wh.schema)


def wait_until_writing(wh: Warehouse, cli: Cli, timeout_s: float = 300) -> int:
    """Poll until the run has loaded rows into customer_segments__dbt_tmp; returns how many it had then.

    Meanwhile it notes the model's reader and writer connections in cli.connections: a pass over a small
    mart can end before a later look at the processlist would find its statement.
    """
    table = db.qualified(wh.schema_for("ml"), NEW)
    deadline = time.monotonic() + timeout_s
    with connection(wh) as conn:
        while time.monotonic() < deadline:
            if cli.proc.poll() is not None:
                raise ScenarioError(
                    f"the run ended ({cli.proc.returncode}) before it wrote: {error_line(cli.output)}"
                )
            _note_step_connections(wh, conn, cli.connections)
            try:
                ((rows,),) = _query(conn, f"select count(*) from {table}")
            except mysql.connector.Error as exc:
                if exc.errno != 1146:
                    raise
                rows = 0
            if rows:
                return int(rows)
            time.sleep(0.02)
    raise ScenarioError(f"no rows in {table} after {timeout_s:.0f} s")


def _step_patterns(wh: Warehouse) -> dict[str, str]:
    """What the statements of the model's writer (the rows going into the new table, not its DDL) and mart
    reader connections mention."""
    return {
        "writer": f"%into%{db.qualified(wh.schema_for('ml'), NEW)}%",
        "reader": f"%{db.qualified(wh.schema_for('marts'), 'customer_features')}%",
    }


def _note_step_connections(wh: Warehouse, conn: MySQLConnectionAbstract, seen: dict[str, int]) -> None:
    for which, pattern in _step_patterns(wh).items():
        if which in seen:
            continue
        rows = _query(
            conn,
            "select id from information_schema.processlist where user = %s and command = 'Query'"
            " and info like %s and id <> connection_id()",
            (wh.user, pattern),
        )
        if rows:
            seen[which] = int(rows[0][0])


def step_connection(wh: Warehouse, cli: Cli, which: str) -> int:
    """The Python model's connection that loads customer_segments__dbt_tmp ("writer") or streams
    customer_features to it ("reader"): as noted while waiting for its first rows, else found now."""
    with connection(wh) as conn:
        for _ in range(1500):
            _note_step_connections(wh, conn, cli.connections)
            if which in cli.connections:
                return cli.connections[which]
            time.sleep(0.002)
    raise ScenarioError(f"the segment step's {which} was not found in the processlist")


@dataclass
class Outcome:
    """One scenario: what was done, what the readers saw, and every expectation that was not met."""

    group: str
    case: str
    fault: str
    exit_code: int | None = None
    message: str = ""
    reader_queries: int = 0
    longest_read_s: float = 0.0
    reader_failures: list[str] = field(default_factory=list)
    partial_reads: list[str] = field(default_factory=list)
    rows_lost: int = 0
    result: str = ""
    problems: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)
    skipped: bool = False

    @property
    def passed(self) -> bool:
        return not self.problems

    def read(self, reader: Reader, *states: State) -> None:
        self.reader_queries += reader.queries
        self.longest_read_s = max(self.longest_read_s, reader.longest_s)
        self.reader_failures += reader.failures
        self.partial_reads += reader.partial_reads(*states)
        if reader.failures:
            self.problems.append(f"{len(reader.failures)} failed reader queries, e.g. {reader.failures[0]}")
        if self.partial_reads:
            self.problems.append(f"partial or unknown reads: {'; '.join(self.partial_reads[:3])}")

    def expect(self, ok: bool, problem: str) -> None:
        if not ok:
            self.problems.append(problem)


def names_problem(output: str, case: BadInput) -> bool:
    """Some line names the file, the column (if any) and the problem together."""
    words = [w for w in (case.file, case.column, case.problem) if w]
    return any(all(w in line for w in words) for line in output.splitlines())


def chain_run(
    wh: Warehouse, case: BadInput, folder: Path, logs: Path, *, before: State | None = None
) -> Outcome:
    """`olist-segments run` on `folder` (a broken copy of the sample): refused, published tables unchanged."""
    shutil.copytree(SAMPLE, folder)
    case.damage(folder)
    before = before or published_state(wh, CHAIN_TABLES)
    with reading(wh, CHAIN_READS) as reader:
        code, output = run_cli(wh, "run", logs=logs, data_dir=folder)
    after = published_state(wh, CHAIN_TABLES)
    gone = changed(before, after)
    outcome = Outcome(
        "bad input", case.name, case.fault, code, error_line(output), rows_lost=rows_lost(before, after)
    )
    outcome.read(reader, before, after)
    by_check_data = "step 'check-data' failed" in output
    outcome.facts |= {"output": output, "changed": gone, "refused_by_check_data": by_check_data}
    outcome.expect(code != 0, "the run exited 0")
    outcome.expect(
        names_problem(output, case),
        f"no line names {case.file!r}, {case.column!r} and {case.problem!r} together",
    )
    outcome.expect(not gone, f"published tables changed by the refused run: {', '.join(gone)}")
    where = "check-data, before loading" if by_check_data else "a later step"
    outcome.result = f"refused by {where}; " + (
        "published tables unchanged" if not gone else f"CHANGED: {', '.join(gone)}"
    )
    return outcome


def second_run_refused(wh: Warehouse, first: Cli, lock: str, *args: str, logs: Path) -> Outcome:
    """Wait until `first` holds `lock`, then start `args` alike: it must exit non-zero with the lock message
    while `first` still runs."""
    deadline = time.monotonic() + 300
    while lock_holder(wh, lock) is None:
        if first.proc.poll() is not None or time.monotonic() > deadline:
            raise ScenarioError(f"the first {args[0]} never held {lock!r}: {error_line(first.output)}")
        time.sleep(0.05)
    start = time.monotonic()
    code, output = run_cli(wh, *args, logs=logs)
    outcome = Outcome(
        "concurrency",
        f"two `{args[0]}`s at once",
        f"a second `olist-segments {args[0]}` started while the first holds {lock!r}",
        code,
        error_line(output),
    )
    outcome.facts["seconds"] = time.monotonic() - start
    outcome.expect(code != 0, "the second run exited 0")
    outcome.expect(LOCK_MESSAGE in output, f"the second run did not say {LOCK_MESSAGE!r}")
    outcome.expect(first.proc.poll() is None, "the first run had ended before the second was refused")
    return outcome


def chain_scenarios(wh: Warehouse, work: Path, logs: Path) -> list[Outcome]:
    """Publish the sample (a second `run` meanwhile is refused), every bad input, then a good run again."""
    log.info("chain: publishing the bundled sample into %s_* (olist-segments run)", wh.schema)
    first = start_cli(wh, "run", logs=logs)
    try:
        concurrent = second_run_refused(wh, first, run_lock(wh), "run", logs=logs)
    finally:
        code = first.wait()
    concurrent.expect(code == 0, f"the first run failed ({code}): {error_line(first.output)}")
    concurrent.result = f"second run refused in {concurrent.facts['seconds']:.1f} s; first run exit {code}"
    if code != 0:
        return [concurrent]
    baseline = published_state(wh, CHAIN_TABLES)
    outcomes = [concurrent]
    for i, case in enumerate((*BAD_INPUTS, UNKNOWN_STATUS, TOO_FEW_CUSTOMERS)):
        log.info("chain: bad input %d: %s", i + 1, case.name)
        outcomes.append(chain_run(wh, case, work / f"case{i:02d}", logs))
    outcomes.append(good_chain_run(wh, baseline, logs))
    return outcomes


def good_chain_run(wh: Warehouse, baseline: State, logs: Path) -> Outcome:
    """`olist-segments run` on the bundled sample again: publishes what the first run published."""
    before = published_state(wh, CHAIN_TABLES)
    with reading(wh, CHAIN_READS) as reader:
        code, output = run_cli(wh, "run", logs=logs)
    after = published_state(wh, CHAIN_TABLES)
    outcome = Outcome(
        "bad input", "good data again", "none: the bundled sample", code, error_line(output) if code else ""
    )
    outcome.rows_lost = rows_lost(baseline, after)
    outcome.read(reader, before, after)
    outcome.expect(code == 0, f"the run failed ({code})")
    differs = [n for n in baseline if content(after, n) != content(baseline, n)]
    outcome.expect(not differs, f"published content differs from the first run: {', '.join(differs)}")
    outcome.result = (
        "published; every table equals the first run's" if not differs else "published, but differs"
    )
    return outcome


# --- segmentation step faults ---------------------------------------------------------------------------


def prepare_segments(
    wh: Warehouse, customers: int, logs: Path, extra_env: dict[str, str] | None = None
) -> None:
    """A synthetic mart of `customers` rows and a first published segmentation of it."""
    synth.generate(wh, customers)
    code, output = run_cli(wh, *SEGMENT_ARGS, logs=logs, extra_env=extra_env)
    if code != 0:
        raise ScenarioError(f"the first segment run failed ({code}): {error_line(output)}")


Inject = Callable[[Cli, Reader], int]  # does the harm; returns the rows loaded at that moment


def segment_fault(
    wh: Warehouse,
    logs: Path,
    case: str,
    fault: str,
    inject: Inject,
    *,
    group: str = "segment step",
    extra_env: dict[str, str] | None = None,
) -> Outcome:
    """A segment run hit by `inject` while it loads customer_segments__dbt_tmp, then a plain rerun.

    Expected: the faulted run exits non-zero (or dies); the published mart and segments are unchanged; the
    rerun publishes the same assignments again and leaves no customer_segments__dbt_tmp behind; the readers,
    polling through both runs, never fail and never see a partial table.
    """
    if new_rows(wh) is not None:
        raise ScenarioError(f"{wh.schema_for('ml')}.{NEW} exists before the run")
    before = published_state(wh, SEGMENT_TABLES)
    with reading(wh, SEGMENT_READS) as reader:
        cli = start_cli(wh, *SEGMENT_ARGS, logs=logs, extra_env=extra_env)
        try:
            at = wait_until_writing(wh, cli)
            what = inject(cli, reader)
        except BaseException:
            cli.proc.kill()
            cli.wait()
            raise
        code = cli.wait()
        output = cli.output
        after = published_state(wh, SEGMENT_TABLES)
        leftover = new_rows(wh)
        runs = registry(wh)
        rerun_code, rerun_output = run_cli(wh, *SEGMENT_ARGS, logs=logs, extra_env=extra_env)
    final = published_state(wh, SEGMENT_TABLES)
    segments = "ml.customer_segments"
    run_id = next(iter(run_ids(output)), None)
    rerun_id = next(iter(run_ids(rerun_output)), None)
    total = content(before, segments) or (0, 0, 0)
    message = f"(killed by signal {-code}: no message)" if code < 0 else error_line(output)
    outcome = Outcome(group, case, f"{fault} at {what:,} of {total[0]:,} rows", code, message)
    outcome.rows_lost = rows_lost(before, after) + rows_lost(before, final)
    outcome.read(reader, before, after, final)
    gone = changed(before, after)
    status = runs.get(run_id or "", (None,))[0]
    outcome.facts |= {
        "rows_at_fault": at,
        "changed": gone,
        "leftover_rows": leftover,
        "run_id": run_id,
        "registry_status": status,
        "rerun_exit": rerun_code,
        "rerun_message": error_line(rerun_output) if rerun_code else "",
        "new_after_rerun": new_rows(wh),
        "final_runs": _published_runs(wh),
        "rerun_id": rerun_id,
        "output": output,
    }
    outcome.expect(code != 0, "the faulted run exited 0")
    outcome.expect(not gone, f"published tables changed by the failed run: {', '.join(gone)}")
    outcome.expect(status != "published", "the registry says the failed run was published")
    outcome.expect(rerun_code == 0, f"the rerun failed ({rerun_code}): {outcome.facts['rerun_message']}")
    outcome.expect(outcome.facts["new_after_rerun"] is None, f"{NEW} is still there after the rerun")
    outcome.expect(outcome.facts["final_runs"] == [rerun_id], "customer_segments is not the rerun's alone")
    outcome.expect(
        content(final, segments) == content(before, segments),
        "the rerun's assignments differ from the published ones",
    )
    left = "no leftover table" if leftover is None else f"{leftover:,}-row {NEW} left"
    outcome.result = (
        f"exit {code}; published unchanged; {left}; registry: {status or 'no row'}; rerun exit {rerun_code}"
    )
    return outcome


def _published_runs(wh: Warehouse) -> list[str]:
    with connection(wh) as conn:
        rows = _query(
            conn, f"select distinct run_id from {db.qualified(wh.schema_for('ml'), SEGMENTS_TABLE)}"
        )
    return sorted(str(r) for (r,) in rows)


def kill_client(wh: Warehouse, logs: Path) -> Outcome:
    def inject(cli: Cli, _: Reader) -> int:
        rows = new_rows(wh) or 0
        cli.proc.send_signal(signal.SIGKILL)
        return rows

    fault = "SIGKILL to `dbt run -s customer_segments` mid-write"
    return segment_fault(wh, logs, "process killed", fault, inject)


def kill_connection(wh: Warehouse, logs: Path, which: str) -> Outcome:
    """KILL the step's writer or mart reader connection from another session."""

    def inject(cli: Cli, __: Reader) -> int:
        target = step_connection(wh, cli, which)
        rows = new_rows(wh) or 0
        with connection(wh) as conn:
            _query(conn, f"kill {int(target)}")
        return rows

    what = "writer connection" if which == "writer" else "mart reader connection"
    return segment_fault(wh, logs, f"{which} connection killed", f"`KILL` of the {what}", inject)


def concurrent_segments(wh: Warehouse, logs: Path, *, wait: bool) -> Outcome:
    """Two segment runs started together: without a lock wait one is refused, with one they run in turn."""
    args = segment_args(600) if wait else SEGMENT_ARGS
    before = published_state(wh, SEGMENT_TABLES)
    runs_before = registry(wh)
    with reading(wh, SEGMENT_READS) as reader:
        clis = [start_cli(wh, *args, logs=logs) for _ in range(2)]
        codes = [c.wait() for c in clis]
    after = published_state(wh, SEGMENT_TABLES)
    outputs = [c.output for c in clis]
    new = {r: v for r, v in registry(wh).items() if r not in runs_before}
    case = "two segment runs, lock wait" if wait else "two segment runs"
    fault = "both started at once" + (" with run_lock_wait_seconds 600" if wait else "")
    message = "; ".join(error_line(o) for o, c in zip(outputs, codes, strict=True) if c)
    outcome = Outcome("concurrency", case, fault, max(codes), message)
    outcome.read(reader, before, after)
    outcome.rows_lost = rows_lost(before, after)
    published = _published_runs(wh)
    outcome.facts |= {"codes": codes, "new_runs": new, "published_runs": published, "outputs": outputs}
    segments = "ml.customer_segments"
    outcome.expect(
        content(after, segments) == content(before, segments),
        "customer_segments is not one whole run's assignments",
    )
    ordered = sorted(new.values(), key=lambda v: v[1])
    if wait:
        outcome.expect(codes == [0, 0], f"exit codes {codes}, expected both 0")
        outcome.expect(
            len(new) == 2 and all(v[0] == "published" for v in new.values()), f"registry rows {new}"
        )
        outcome.expect(
            len(ordered) == 2 and ordered[0][2] is not None and ordered[1][1] >= ordered[0][2],
            "the two runs overlapped in time",
        )
        last = max(new, key=lambda r: new[r][1]) if new else None
        outcome.expect(published == [last], "customer_segments is not the later run's")
        outcome.result = f"exit codes {codes}; ran one after the other; the later run is published"
    else:
        outcome.expect(sorted(codes)[0] == 0 < sorted(codes)[1], f"exit codes {codes}, expected one 0")
        loser = outputs[codes.index(max(codes))]
        outcome.expect(LOCK_MESSAGE in loser, f"the refused run did not say {LOCK_MESSAGE!r}")
        outcome.expect(
            list(new) == published and len(new) == 1, f"registry gained {len(new)} rows, expected 1"
        )
        outcome.result = f"exit codes {codes}; one published, the other refused by the lock"
    return outcome


MAX_READ_WAIT_S = 5.0  # the longest an autocommit BI query may wait while a run publishes


def wait_until_swap_blocked(wh: Warehouse, cli: Cli, timeout_s: float = 300) -> None:
    """Poll until the run's RENAME TABLE waits for a metadata lock."""
    deadline = time.monotonic() + timeout_s
    with connection(wh) as conn:
        while time.monotonic() < deadline:
            if cli.proc.poll() is not None:
                raise ScenarioError(f"the run ended ({cli.proc.returncode}) before its swap waited")
            if _query(
                conn,
                "select 1 from information_schema.processlist where info like 'rename table%%'"
                " and state like '%%metadata lock%%' and info like %s",
                (f"%{db.qualified(wh.schema_for('ml'), SEGMENTS_TABLE)}%",),
            ):
                return
            time.sleep(0.05)
    raise ScenarioError(f"the swap never waited for a metadata lock in {timeout_s:.0f} s")


def idle_bi_session(wh: Warehouse) -> MySQLConnectionAbstract:
    """A BI session with autocommit off that has read customer_segments: its open transaction holds the
    table's metadata lock until it commits, rolls back or closes."""
    bi = db.connect(wh)
    bi.autocommit = False
    _query(bi, f"select count(*) from {db.qualified(wh.schema_for('ml'), SEGMENTS_TABLE)}")
    return bi


def idle_bi_transaction(wh: Warehouse, logs: Path, *, ends_after_s: float | None) -> Outcome:
    """A BI session with autocommit off read customer_segments and keeps its transaction (and so its metadata
    lock) open while a segment run publishes. It ends `ends_after_s` after the swap starts waiting — the run
    then publishes — or never: the run fails within swap_timeout_seconds naming that session, unchanged.
    Meanwhile an autocommit reader's queries must never wait long (the swap waits in short attempts)."""
    timeout_s = 300 if ends_after_s is not None else 20
    before = published_state(wh, SEGMENT_TABLES)
    runs_before = registry(wh)
    bi = idle_bi_session(wh)
    ((bi_id,),) = _query(bi, "select connection_id()")
    started = time.monotonic()
    ended: float | None = None
    try:
        with reading(wh, SEGMENT_READS) as reader:
            cli = start_cli(wh, *segment_args(swap_timeout_seconds=timeout_s), logs=logs)
            try:
                if ends_after_s is not None:
                    wait_until_swap_blocked(wh, cli)
                    time.sleep(ends_after_s)
                    bi.rollback()
                    ended = time.monotonic()
                code = cli.wait()
            except BaseException:
                cli.proc.kill()
                cli.wait()
                raise
            finished = time.monotonic()
    finally:
        bi.close()
    after = published_state(wh, SEGMENT_TABLES)
    output = cli.output
    new = {r: v for r, v in registry(wh).items() if r not in runs_before}
    if ends_after_s is None:
        case, fault = (
            "BI transaction never ends",
            f"a BI session idle in a transaction; swap_timeout_seconds {timeout_s}",
        )
    else:
        case, fault = (
            "BI transaction ends",
            f"a BI session idle in a transaction, ended {ends_after_s:.0f} s into the swap",
        )
    outcome = Outcome("open transactions", case, fault, code, error_line(output) if code else "")
    outcome.read(reader, before, after)
    outcome.rows_lost = rows_lost(before, after)
    outcome.facts |= {"output": output, "bi_session": bi_id, "seconds": finished - started, "new_runs": new}
    outcome.expect(
        outcome.longest_read_s <= MAX_READ_WAIT_S,
        f"an autocommit read waited {outcome.longest_read_s:.1f} s (more than {MAX_READ_WAIT_S:.0f} s)",
    )
    if ends_after_s is None:
        outcome.expect(code != 0, "the run exited 0")
        outcome.expect(f"session {bi_id} " in output, f"the failure does not name session {bi_id}")
        outcome.expect(not changed(before, after), "published tables changed by the failed run")
        outcome.expect(finished - started <= timeout_s + 120, f"the run took {finished - started:.0f} s")
        outcome.result = (
            f"failed after {finished - started:.0f} s naming session {bi_id}; published unchanged;"
            f" longest autocommit read {outcome.longest_read_s:.1f} s"
        )
    else:
        assert ended is not None
        outcome.expect(code == 0, f"the run failed ({code})")
        outcome.expect(
            [v[0] for v in new.values()] == ["published"],
            f"registry gained {new}, expected one published run",
        )
        outcome.facts["after_end_s"] = finished - ended
        outcome.result = (
            f"published {finished - ended:.1f} s after the session ended;"
            f" longest autocommit read {outcome.longest_read_s:.1f} s"
        )
    return outcome


def kill_during_swap(wh: Warehouse, logs: Path) -> Outcome:
    """dbt killed with SIGKILL while its RENAME waits (held up by an idle BI transaction): the swap either
    happened whole or not at all, the published tables are intact, and the next run is green."""
    before = published_state(wh, SEGMENT_TABLES)
    bi = idle_bi_session(wh)
    try:
        with reading(wh, SEGMENT_READS) as reader:
            cli = start_cli(wh, *SEGMENT_ARGS, logs=logs)
            try:
                wait_until_swap_blocked(wh, cli)
                cli.proc.send_signal(signal.SIGKILL)
                code = cli.wait()
            finally:
                bi.rollback()
            after = published_state(wh, SEGMENT_TABLES)
            rerun_code, rerun_output = run_cli(wh, *SEGMENT_ARGS, logs=logs)
    finally:
        bi.close()
    final = published_state(wh, SEGMENT_TABLES)
    segments = f"ml.{SEGMENTS_TABLE}"
    outcome = Outcome(
        "dbt killed", "killed during the swap", "SIGKILL to dbt while its RENAME TABLE waits", code
    )
    outcome.read(reader, before, after, final)
    outcome.rows_lost = rows_lost(before, after) + rows_lost(before, final)
    outcome.facts |= {"rerun_exit": rerun_code, "output": rerun_output, "changed": changed(before, after)}
    outcome.expect(code == -signal.SIGKILL, f"dbt exited {code}")
    outcome.expect(content(after, segments) == content(before, segments), "customer_segments changed")
    outcome.expect(rerun_code == 0, f"the next run failed ({rerun_code}): {error_line(rerun_output)}")
    outcome.expect(new_rows(wh) is None, f"{NEW} is still there after the next run")
    outcome.result = f"published intact; next run exit {rerun_code}, leftover dropped"
    return outcome


def segment_scenarios(wh: Warehouse, customers: int, logs: Path) -> list[Outcome]:
    log.info("segment step: %s synthetic customers in %s_marts", f"{customers:,}", wh.schema)
    prepare_segments(wh, customers, logs)
    return [
        kill_client(wh, logs),
        kill_connection(wh, logs, "writer"),
        kill_connection(wh, logs, "reader"),
        concurrent_segments(wh, logs, wait=False),
        concurrent_segments(wh, logs, wait=True),
        idle_bi_transaction(wh, logs, ends_after_s=10),
        idle_bi_transaction(wh, logs, ends_after_s=None),
        kill_during_swap(wh, logs),
    ]


# --- a throwaway server ---------------------------------------------------------------------------------


INSTALL_FLAGS = ("--auth-root-authentication-method=normal", "--skip-test-db")
SERVER_FLAGS = (
    "--bind-address=127.0.0.1",
    "--local-infile=1",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_unicode_ci",
    "--innodb-buffer-pool-size=64M",
)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ThrowawayServer:
    """A private MariaDB in `folder` on a free loopback port, like scripts/warehouse.sh makes (never the
    shared server): root with an empty password, its own socket. As a context manager it is installed and
    started on entry, stopped (killed if it will not stop) and deleted on exit, even after a failure."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.port = folder, _free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @staticmethod
    def binaries() -> tuple[str, str] | None:
        server = shutil.which("mariadbd") or shutil.which("mariadbd", path="/usr/sbin:/usr/local/sbin")
        install = shutil.which("mariadb-install-db")
        return (server, install) if server and install else None

    @staticmethod
    def missing() -> str | None:
        if ThrowawayServer.binaries():
            return None
        return "mariadbd or mariadb-install-db not found (install mariadb-server to run the server scenarios)"

    def __enter__(self) -> ThrowawayServer:
        try:
            self.install()
            self.start()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        try:
            self.stop()
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def install(self) -> None:
        found = self.binaries()
        if not found:
            raise ScenarioError(str(self.missing()))
        self.folder.mkdir(parents=True, exist_ok=True)
        user, data = getpass.getuser(), self.folder / "db"
        command = [found[1], "--no-defaults", f"--user={user}", f"--datadir={data}", *INSTALL_FLAGS]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise ScenarioError(f"mariadb-install-db failed: {result.stdout[-2000:]}{result.stderr[-2000:]}")

    def start(self, timeout_s: float = 120) -> None:
        found = self.binaries()
        assert found
        with (self.folder / "server.out").open("ab") as out:
            self.proc = subprocess.Popen(
                [found[0], "--no-defaults", f"--user={getpass.getuser()}", f"--datadir={self.folder / 'db'}",
                 f"--socket={self.folder / 'mysqld.sock'}", f"--pid-file={self.folder / 'mysqld.pid'}",
                 f"--log-error={self.folder / 'server.log'}", f"--port={self.port}", *SERVER_FLAGS],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout_s
        wh = Warehouse("mariadb", "127.0.0.1", self.port, "root", "", "mysql")
        while True:
            try:
                db.connect(wh).close()
                return
            except mysql.connector.Error:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    raise ScenarioError(f"the throwaway MariaDB did not start: {self.log_tail()}") from None
                time.sleep(0.2)

    def stop(self, timeout_s: float = 120) -> None:
        """A clean shutdown (SIGTERM); SIGKILL if it takes longer than timeout_s."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=60)

    def log_tail(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else "(no log)"

    def warehouse(self, base: Warehouse, schema: str) -> Warehouse:
        return replace(
            base, host="127.0.0.1", port=self.port, user="root", password="", unix_socket=None, schema=schema
        )

    def env(self) -> dict[str, str]:
        """How a child `olist-segments` reaches this server (the profile reads these)."""
        return {
            "MYSQL_HOST": "127.0.0.1",
            "MYSQL_PORT": str(self.port),
            "MYSQL_USER": "root",
            "MYSQL_PASSWORD": "",
        }


def restart_between_runs(server: ThrowawayServer, wh: Warehouse, logs: Path) -> Outcome:
    """Shutdown + start between two runs: everything published survives, the next run publishes."""
    tables = (*SEGMENT_TABLES, RUNS)
    before = published_state(wh, tables)
    with reading(wh, SEGMENT_READS) as reader:
        reader.hold()
        server.stop()
        server.start()
        reader.release()
        restarted = published_state(wh, tables)
        code, output = run_cli(wh, *SEGMENT_ARGS, logs=logs, extra_env=server.env())
    after = published_state(wh, tables)
    outcome = Outcome(
        "server",
        "restart between runs",
        "clean shutdown + start of the server, then a segment run",
        code,
        error_line(output) if code else "",
    )
    outcome.rows_lost = rows_lost(before, restarted) + rows_lost(before, after)
    outcome.read(reader, before, after)
    gone = changed(before, restarted)
    outcome.facts |= {"changed": gone, "published_runs": _published_runs(wh), "run_ids": run_ids(output)}
    outcome.expect(not gone, f"the restart changed {', '.join(gone)}")
    outcome.expect(code == 0, f"the run after the restart failed ({code})")
    outcome.expect(
        outcome.facts["published_runs"] == run_ids(output)[:1], "the new run is not the one published"
    )
    outcome.result = "all published tables (registry too) intact after the restart; next run published"
    return outcome


def kill_server(server: ThrowawayServer, wh: Warehouse, logs: Path) -> Outcome:
    def inject(cli: Cli, reader: Reader) -> int:
        rows = new_rows(wh) or 0
        reader.hold()
        server.kill()
        cli.wait()
        server.start()
        reader.release()
        return rows

    return segment_fault(
        wh,
        logs,
        "server killed mid-write",
        "SIGKILL to the server (then a restart) while the step loads",
        inject,
        group="server",
        extra_env=server.env(),
    )


def server_scenarios(base: Warehouse, folder: Path, customers: int, logs: Path) -> list[Outcome]:
    missing = ThrowawayServer.missing()
    if missing:
        skipped = Outcome("server", "server restart / kill", "-", result=f"skipped: {missing}", skipped=True)
        return [skipped]
    with ThrowawayServer(folder) as server:
        wh = server.warehouse(base, base.schema)
        log.info(
            "server: throwaway MariaDB on port %d, %s synthetic customers", server.port, f"{customers:,}"
        )
        prepare_segments(wh, customers, logs, server.env())
        return [restart_between_runs(server, wh, logs), kill_server(server, wh, logs)]


# --- the command ----------------------------------------------------------------------------------------


def drop_schemas(wh: Warehouse) -> None:
    """Drop <base> and every <base>_<name> database, and the dbt target folder of that base."""
    with connection(wh) as conn:
        db.drop_base(conn, wh.schema)
    shutil.rmtree(PROJECT_ROOT / "target" / f"reliability_{wh.schema}", ignore_errors=True)


EXPLANATION = """
*Published state*: `<base>_marts`.{customer_features, fct_orders, dim_customers, segment_summary} and
`<base>_ml.customer_segments`, each as row count, `CHECKSUM TABLE` and a content checksum (run metadata left
out), compared before and after every failed run; `segment_model_runs` only across the clean restart, since a
failed run adds its `failed` row there by design. *Rows lost*: keys published before a run that are gone after
it or after the next good run. *Reader queries*: a BI thread polling `count(*)` and a full-table checksum of
customer_segments (and dim_customers in the chain) while the runs execute; *longest read* is its slowest
`count(*)`, i.e. how long a BI query waited (at most 5 s allowed, also while a BI session holds a transaction
open); a *partial* read is a result that is neither the state before nor the state after the run.
"""


def _cell(text: object) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def render(
    outcomes: Sequence[Outcome], *, command: str, started: datetime, seconds: float, server: str
) -> str:
    ran = [o for o in outcomes if not o.skipped]
    failed = [o for o in ran if not o.passed]
    lines = [
        "# Reliability: fault injection",
        "",
        f"Generated by `{command}` on {started:%Y-%m-%d %H:%M} UTC against {server}"
        f" in {seconds / 60:.1f} min. Re-run it to refresh this file.",
        "",
        " ".join(EXPLANATION.split()),
        "",
        "| # | group | case | fault injected | exit | reader queries | longest read | failed | partial"
        " | rows lost | outcome |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for i, o in enumerate(outcomes, 1):
        verdict = "skipped" if o.skipped else ("pass" if o.passed else "**FAIL**")
        cells = [
            i,
            o.group,
            o.case,
            o.fault,
            "" if o.exit_code is None else o.exit_code,
            o.reader_queries,
            f"{o.longest_read_s:.2f} s",
            len(o.reader_failures),
            len(o.partial_reads),
            o.rows_lost,
            f"{verdict}: {o.result}",
        ]
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    lines += [
        "",
        f"**{len(ran)} scenarios, {len(ran) - len(failed)} passed.** Reader queries:"
        f" {sum(o.reader_queries for o in ran):,}, failed: {sum(len(o.reader_failures) for o in ran)},"
        f" partial reads: {sum(len(o.partial_reads) for o in ran)};"
        f" rows lost: {sum(o.rows_lost for o in ran):,}.",
        "",
        "## Bad input: refused and accepted",
        "",
        "Refused before anything loads: the *bad input* rows above (file, column and problem named). Accepted"
        " on purpose, with the same marts:",
        "",
        *[f"- {what}" for what in ACCEPTED],
        "",
        "## Messages",
        "",
        "What each refused or failed run said (its first error line):",
        "",
    ]
    lines += [f"- {o.case}: `{o.message}`" for o in ran if o.message]
    if failed:
        lines += ["", "## Failures", ""]
        lines += [f"- {o.case}: " + "; ".join(o.problems) for o in failed]
    return "\n".join(lines) + "\n"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", type=Path, default=Path("docs/reliability.md"), help="report (docs/reliability.md)"
    )
    parser.add_argument(
        "--customers",
        type=int,
        default=CUSTOMERS,
        help=f"synthetic mart size for the step faults ({CUSTOMERS:,})",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=("chain", "segment", "server"),
        help="run only these groups (repeatable)",
    )
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")


def run_group(group: str, base: Warehouse, work: Path, logs: Path, customers: int) -> list[Outcome]:
    """One group of scenarios in base schema `base`, dropped afterwards (its name reads `<base>` in texts)."""
    try:
        if group == "chain":
            outcomes = chain_scenarios(base, work, logs)
        elif group == "segment":
            outcomes = segment_scenarios(base, customers, logs)
        else:
            outcomes = server_scenarios(base, work / "server", customers, logs)
    except ScenarioError as exc:
        outcomes = [Outcome(group, "setup", "-", result=str(exc), problems=[f"scenario failed: {exc}"])]
    finally:
        if group != "server":  # the server group's schemas died with its server
            drop_schemas(base)
    for o in outcomes:
        o.fault, o.message = o.fault.replace(base.schema, "<base>"), o.message.replace(base.schema, "<base>")
    return outcomes


def main(args: argparse.Namespace) -> int:
    if args.target:
        os.environ["DBT_TARGET"] = args.target
    wh = settings.load(args.target)
    started, clock = datetime.now(UTC), time.monotonic()
    with connection(wh) as conn:
        (server,) = _query(conn, "select version()")[0]
    outcomes: list[Outcome] = []
    tag = uuid.uuid4().hex[:6]
    with tempfile.TemporaryDirectory(prefix="olist_reliability_") as tmp:
        (Path(tmp) / "logs").mkdir()
        for group in args.only or ["chain", "segment", "server"]:
            base = replace(wh, schema=f"rel_{group}_{tag}")
            outcomes += run_group(group, base, Path(tmp), Path(tmp) / "logs", args.customers)
    command = "olist-harness reliability" + "".join(f" --only {g}" for g in args.only or [])
    command += f" --customers {args.customers}" if args.customers != CUSTOMERS else ""
    server_name = f"{wh.adapter} {server}"
    text = render(
        outcomes, command=command, started=started, seconds=time.monotonic() - clock, server=server_name
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    failed = [o for o in outcomes if not o.passed]
    print(f"{len(outcomes)} scenarios, {len(failed)} failed: {args.out}")
    for o in failed:
        print(f"FAIL {o.case}: {'; '.join(o.problems)}", file=sys.stderr)
    return 1 if failed else 0
