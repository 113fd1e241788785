"""dbt Python models run in the dbt process (submission method `local`; `dask`: dask_jobs.py).

The materialization (macros/materializations/table.sql) submits the model's compiled code: the model file,
dbt's `py_script_postfix` (ref/source/config/this) and a line naming the new table (`dbt_target`, written by
`mysql__py_write_table`). `LocalJobHelper.submit` runs `model(dbt, session)` in the dbt worker thread and
loads what it returns — a DataFrame or an iterator of DataFrames, so a model never needs all its rows in
memory — into that table. The materialization then swaps the table in (`MySQLPythonAdapter.swap_relations`).

`session` is a `Session`: `dbt.ref()` and `dbt.source()` return lazy `Table`s read from one consistent
snapshot, `session.execute` writes on a connection of its own, `session.stage_copy(name)` prepares a table
that is swapped in with the model's in the same RENAME TABLE, and `session.on_failure(callback)` is told
when the run fails before its table went live. `Table.map_ranges(task, …)` runs a task over key ranges of a
table, optionally loading what it yields into the new table: where the ranges run is the submission method's
business (here: one range, the whole table, in this process), so a model is the same on every method.
"""

from __future__ import annotations

import linecache
import logging
import re
import threading
import time
import traceback
import types
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
from dbt.adapters.base.impl import PythonJobHelper
from dbt.events.base_types import EventLevel
from dbt.events.functions import fire_event
from dbt.events.types import Note
from dbt.exceptions import DbtRuntimeError
from mysql.connector.abstracts import MySQLConnectionAbstract

from .bulk_load import TableWriter, column_type, quote
from .connections import connect

log = logging.getLogger(__name__)

DEFAULT_CHUNK_ROWS = 50_000
STAGE_SUFFIX = "__dbt_tmp"
BACKUP_SUFFIX = "__dbt_backup"
_QUOTED = re.compile(r"^`([^`]{1,64})`\.`([^`]{1,64})`$")
_DECIMAL_TYPES = {"decimal", "numeric"}


@dataclass(frozen=True)
class Column:
    name: str
    data_type: str  # information_schema DATA_TYPE, lower case
    column_type: str  # the full type, e.g. char(32)
    nullable: bool
    charset: str | None
    collation: str | None


class Table:
    """A relation as a Python model sees it: nothing is read until asked, then from the session's snapshot.

    DECIMAL columns arrive as float64 (cast in SQL); other types as the connector returns them.
    """

    def __init__(self, session: Session, schema: str, identifier: str) -> None:
        self.session, self.schema, self.identifier = session, schema, identifier
        self.name = f"{quote(schema)}.{quote(identifier)}"

    def __repr__(self) -> str:
        return self.name

    def exists(self) -> bool:
        rows = self.session.query(
            "select count(*) from information_schema.tables where table_schema = %s and table_name = %s",
            (self.schema, self.identifier),
        )
        return bool(rows[0][0])

    def columns(self) -> dict[str, Column]:
        return self.session.columns(self.schema, self.identifier)

    def count(self) -> int:
        return int(self.session.query(f"select count(*) from {self.name}")[0][0])

    def chunks(
        self,
        columns: Sequence[str] | None = None,
        *,
        size: int = DEFAULT_CHUNK_ROWS,
        order_by: Sequence[str] = (),
        where: str = "",
        params: Sequence[Any] = (),
    ) -> Iterator[pd.DataFrame]:
        """The rows in DataFrames of at most `size` rows, streamed from an unbuffered cursor.

        `where` is a SQL condition with %s placeholders for `params`; column names are quoted here.
        """
        known = self.columns()
        if not known:
            raise DbtRuntimeError(f"table {self.name} not found")
        names = list(columns) if columns is not None else list(known)
        unknown = [c for c in [*names, *order_by] if c not in known]
        if unknown:
            raise DbtRuntimeError(f"table {self.name} has no column {', '.join(unknown)}")
        select = ", ".join(
            f"cast({quote(c)} as double) as {quote(c)}" if known[c].data_type in _DECIMAL_TYPES else quote(c)
            for c in names
        )
        sql = f"select {select} from {self.name}"
        if where:
            sql += f" where {where}"
        if order_by:
            sql += " order by " + ", ".join(quote(c) for c in order_by)
        yield from self.session.stream(sql, params, names, size)

    def map_ranges(
        self,
        task: Callable[..., Any],
        *args: Any,
        columns: Sequence[str],
        key: str,
        size: int = DEFAULT_CHUNK_ROWS,
        write: bool = False,
        label: str = "",
        rows: int | None = None,
    ) -> list[Any]:
        """`task(chunks, *args)` for disjoint ranges of the unique column `key` that together cover the table,
        results in key order. `chunks` streams the range's `columns` in `key` order, `size` rows at a time.
        `rows`, the table's rows when the caller knows them, is for the progress log only (write=True counts
        them otherwise).

        write=True: the task yields DataFrames, loaded into the model's new table (created from its contract);
        the results are the rows each range loaded. `local` runs one range, the whole table, on the session's
        snapshot; `dask` runs one task per primary-key range on the cluster, each with its own snapshot.
        """
        known = self.columns()
        unknown = [c for c in [*columns, key] if c not in known]
        if unknown:
            raise DbtRuntimeError(f"table {self.name} has no column {', '.join(unknown)}")
        job = RangeJob(task, tuple(args), list(columns), key, size, write, label or task.__name__, rows)
        return self.session.executor.map_ranges(self, job)

    def to_pandas(self, columns: Sequence[str] | None = None, **kwargs: Any) -> pd.DataFrame:
        parts = list(self.chunks(columns, **kwargs))
        if parts:
            return pd.concat(parts, ignore_index=True)
        return pd.DataFrame(columns=list(columns) if columns is not None else list(self.columns()))


@dataclass(frozen=True)
class RangeJob:
    """What Table.map_ranges runs on each range (plain data and importable functions: it may be pickled)."""

    task: Callable[..., Any]
    args: tuple[Any, ...]
    columns: list[str]
    key: str
    size: int
    write: bool
    label: str
    rows: int | None = None  # for progress


class LocalExecutor:
    """Submission method `local`: the whole table is one range, read from the session's snapshot."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def map_ranges(self, table: Table, job: RangeJob) -> list[Any]:
        total = job.rows if job.rows is not None or not job.write else table.count()
        progress = _Progress(job.label, total)
        chunks = progress.counted(table.chunks(job.columns, size=job.size, order_by=[job.key]))
        result = job.task(chunks, *job.args)
        if job.write:
            result = self.session.load_new_table(result)
        progress.finish()
        return [result]


class _Progress:
    """Logs `label: done/total rows (rate, ETA)` at most every `every_s` seconds of a long pass."""

    def __init__(self, label: str, total: int | None, every_s: float = 5.0) -> None:
        self.label, self.total, self.every_s = label, total, every_s
        self.done = 0
        self.start = self._last = time.monotonic()

    def counted(self, chunks: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for chunk in chunks:
            yield chunk
            self.add(len(chunk))

    def add(self, rows: int, what: str = "") -> None:
        self.done += rows
        now = time.monotonic()
        if now - self._last < self.every_s:
            return
        self._last = now
        rate = self.done / max(now - self.start, 1e-9)
        eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate else ""
        total = f"/{self.total:,}" if self.total else ""
        done, speed = f"{self.done:,}", f"{rate:,.0f}"
        log.info("%s: %s%s rows%s (%s rows/s%s)", self.label, done, total, what, speed, eta)

    def finish(self, what: str = "") -> None:
        what = what or f"{self.done:,} rows"
        log.info("%s: %s in %.1f s", self.label, what, time.monotonic() - self.start)


class Session:
    """Connections of one Python model run.

    Reads (`query`, `Table.chunks`) share one REPEATABLE READ transaction started WITH CONSISTENT SNAPSHOT at
    the first read, so every pass over a table sees the same rows. Writes (`execute`) autocommit on a
    second connection. `connect(local_infile=…)` opens a connection with the profile's settings.
    """

    def __init__(
        self, connect: Callable[..., MySQLConnectionAbstract], schema: str, bulk_load: str = "auto"
    ) -> None:
        self._connect, self.schema, self.bulk_load = connect, schema, bulk_load
        self._reader: MySQLConnectionAbstract | None = None
        self._writer: MySQLConnectionAbstract | None = None
        self._streaming = False
        self.staged: list[str] = []
        self.failure_callbacks: list[Callable[[BaseException], None]] = []
        self.new_table: Table | None = None  # where the adapter loads what the model returns
        self.new_table_columns = ""  # its contract's column definitions, "" without a contract
        self.created = False  # the new table exists (load_new_table or create_new_table)
        self.loaded_rows = 0
        self.load_method = bulk_load  # how the rows were loaded (infile, insert), for dbt's result message
        self.executor: Any = LocalExecutor(self)  # runs Table.map_ranges

    # -- reading ---------------------------------------------------------------------------------------
    def table(self, name: str, identifier: str | None = None) -> Table:
        """`table("`schema`.`name`")` (what dbt.ref() passes), `table(schema, name)` or `table(name)`."""
        if identifier is not None:
            return Table(self, name, identifier)
        if m := _QUOTED.match(name):
            return Table(self, m.group(1), m.group(2))
        return Table(self, self.schema, name)

    def reader(self) -> MySQLConnectionAbstract:
        if self._reader is None:
            self._reader = self._connect()
            cur = self._reader.cursor()
            cur.execute("set session transaction isolation level repeatable read")
            cur.execute("start transaction with consistent snapshot")
            cur.close()
        return self._reader

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        if self._streaming:
            raise DbtRuntimeError("session.query() while a Table.chunks() stream is open: finish it first")
        cur = self.reader().cursor()
        cur.execute(sql, tuple(params))
        rows = list(cur.fetchall()) if cur.with_rows else []
        cur.close()
        return rows

    def stream(
        self, sql: str, params: Sequence[Any], columns: list[str], size: int
    ) -> Iterator[pd.DataFrame]:
        if self._streaming:
            raise DbtRuntimeError("two Table.chunks() streams at once: finish one first")
        cur = self.reader().cursor(buffered=False)
        cur.execute(sql, tuple(params))
        self._streaming = True
        # mysql-connector 9.1's C extension returns the same row forever from an unbuffered fetchmany(1).
        fetch = (lambda: [row] if (row := cur.fetchone()) is not None else []) if size == 1 else None
        try:
            while rows := (fetch() if fetch else cur.fetchmany(size)):
                yield pd.DataFrame.from_records(rows, columns=columns)
        except BaseException:
            # A stream stopped mid-result cannot be closed ("Unread result found"): drop the connection.
            self._drop_reader()
            raise
        finally:
            self._streaming = False
        cur.close()

    def columns(self, schema: str, identifier: str, *, writer: bool = False) -> dict[str, Column]:
        """The columns of a table in order (`writer`: seen from the write connection, e.g. mid-stream)."""
        sql = (
            "select column_name, data_type, column_type, is_nullable, character_set_name, collation_name"
            " from information_schema.columns where table_schema = %s and table_name = %s"
            " order by ordinal_position"
        )
        rows = self.execute(sql, (schema, identifier)) if writer else self.query(sql, (schema, identifier))
        return {
            str(n): Column(str(n), str(t).lower(), str(ct).lower(), nullable == "YES", cs, coll)
            for n, t, ct, nullable, cs, coll in rows
        }

    def end_snapshot(self) -> None:
        """End the read transaction: it holds metadata locks that the table swap would wait for."""
        if self._reader is not None:
            self._reader.commit()

    def _drop_reader(self) -> None:
        if self._reader is not None:
            with suppress(Exception):  # already broken
                self._reader.close()
            self._reader = None

    # -- writing ---------------------------------------------------------------------------------------
    def writer(self) -> MySQLConnectionAbstract:
        if self._writer is None or not self._writer.is_connected():
            self._writer = self._connect(local_infile=True)
        return self._writer

    def execute(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on the write connection (autocommit, outside the snapshot); its rows, if any."""
        cur = self.writer().cursor()
        cur.execute(sql, tuple(params))
        rows = list(cur.fetchall()) if cur.with_rows else []
        cur.close()
        return rows

    def create_new_table(self, first: pd.DataFrame | None = None) -> Table:
        """Create the new table from the model's contract (else from the columns of `first`), empty."""
        table = self.new_table
        if table is None:
            raise DbtRuntimeError("this session has no new table")
        columns_sql = self.new_table_columns
        if not columns_sql and first is None:
            raise DbtRuntimeError(f"{table.name}: declare the model's columns (a contract) to load in ranges")
        if not columns_sql:
            assert first is not None
            types = ", ".join(f"{quote(str(c))} {column_type(first[c])}" for c in first.columns)
            columns_sql = f"({types})"
        self.execute(f"drop table if exists {table.name}")
        self.execute(f"create table {table.name} {columns_sql}")
        self.created = True
        return table

    def load_new_table(self, chunks: Iterable[pd.DataFrame], bulk_load: str | None = None) -> int:
        """Create the new table at the first chunk (once) and load every chunk; returns the rows loaded. The
        chunks load on a connection of their own, busy while the model makes the next chunk (TableWriter)."""
        assert self.new_table is not None
        writer: TableWriter | None = None
        loader: MySQLConnectionAbstract | None = None
        try:
            for chunk in chunks:
                if not isinstance(chunk, pd.DataFrame):
                    raise DbtRuntimeError(f"model() yielded {type(chunk).__name__}, not a pandas DataFrame")
                if writer is None:
                    if not self.created:
                        self.create_new_table(chunk)
                    loader = self._connect(local_infile=True)
                    writer = self.table_writer(loader)
                writer.write(chunk)
            if writer is not None:
                writer.flush()
        finally:
            if isinstance(chunks, Iterator) and hasattr(chunks, "close"):
                chunks.close()  # a generator stopped by an error runs its own clean-up now
            if writer is not None:
                writer.close()
            if loader is not None:
                with suppress(Exception):  # it may be what failed
                    loader.close()
        rows = writer.rows if writer is not None else 0
        self.loaded_rows += rows
        self.load_method = writer.method if writer is not None else self.load_method
        return rows

    def table_writer(self, conn: MySQLConnectionAbstract | None = None) -> TableWriter:
        """A bulk writer into the new table, on the write connection or `conn`."""
        assert self.new_table is not None
        table = self.new_table
        columns = list(self.columns(table.schema, table.identifier, writer=True))
        return TableWriter(conn or self.writer(), table.name, columns, self.bulk_load)

    def stage_copy(self, identifier: str) -> Table:
        """A copy of table `identifier` of the model's schema (`<identifier>__dbt_tmp`), to change freely: it
        replaces `identifier` in the same RENAME TABLE that publishes the model, and not at all if the run
        fails. The table must exist."""
        live, staged = (
            Table(self, self.schema, identifier),
            Table(self, self.schema, identifier + STAGE_SUFFIX),
        )
        self.execute(f"drop table if exists {staged.name}")
        self.execute(f"create table {staged.name} like {live.name}")
        self.execute(f"insert into {staged.name} select * from {live.name}")
        self.staged.append(identifier)
        return staged

    def on_failure(self, callback: Callable[[BaseException], None]) -> None:
        """Call `callback(error)` if the run fails before its table is published (model, load or swap)."""
        self.failure_callbacks.append(callback)

    def fail(self, error: BaseException, new_table: Table | None = None) -> None:
        """Tell the callbacks (a failing callback is logged, never hides `error`); drop the new table and the
        staged copies, which will never be published."""
        self._drop_reader()  # it may be stopped mid-stream, and it holds metadata locks
        for callback in self.failure_callbacks:
            try:
                callback(error)
            except Exception as exc:
                log.warning("a failure callback of the Python model failed: %s", exc)
        leftovers = [Table(self, self.schema, name + STAGE_SUFFIX) for name in self.staged]
        try:
            for table in [*([new_table] if new_table else []), *leftovers]:
                self.execute(f"drop table if exists {table.name}")
        except Exception as exc:  # the connection may be what failed: the next run drops them
            log.warning("could not drop the new tables of the failed run: %s", exc)
        self.close()

    def close(self) -> None:
        self._drop_reader()
        if self._writer is not None:
            with suppress(Exception):
                self._writer.close()
            self._writer = None


# Runs whose table is loaded but not yet swapped in, by (schema, new table): the swap publishes their staged
# copies in the same RENAME and tells their callbacks if it fails.
_PENDING: dict[tuple[str, str], Session] = {}
_PENDING_LOCK = threading.Lock()


def take_pending(schema: str, identifier: str) -> Session | None:
    with _PENDING_LOCK:
        return _PENDING.pop((schema, identifier), None)


@dataclass
class LoadResult:
    rows: int
    seconds: float
    method: str
    staged: list[str] = field(default_factory=list)


class LocalJobHelper(PythonJobHelper):
    """Runs a Python model in the dbt worker thread with its own connections from the profile."""

    def __init__(self, parsed_model: dict[str, Any], credentials: Any) -> None:
        self.model, self.credentials = parsed_model, credentials
        self.bulk_load = str(parsed_model["config"].get("bulk_load") or "auto")

    def submit(self, compiled_code: str) -> LoadResult:
        started = time.monotonic()
        session: Session | None = None
        with _logs_to_dbt(self.model["alias"]):
            try:
                module = self._module(compiled_code)
                target = module.dbt_target
                session = Session(
                    lambda **kw: connect(self.credentials, **kw), target["schema"], self.bulk_load
                )
                session.new_table = Table(session, target["schema"], target["identifier"])
                session.new_table_columns = target.get("columns_sql") or ""
                with self.executor(session) as session.executor:
                    result = module.model(module.dbtObj(session.table), session)
                    rows, method = self._load(session, result)
                session.end_snapshot()
            except BaseException as exc:
                if session is not None:
                    session.fail(exc, Table(session, target["schema"], target["identifier"]))
                raise DbtRuntimeError(
                    f"Python model {self.model['alias']} failed:\n{_traceback(exc)}"
                ) from exc
        with _PENDING_LOCK:
            _PENDING[(target["schema"], target["identifier"])] = session
        return LoadResult(rows, time.monotonic() - started, method, list(session.staged))

    @contextmanager
    def executor(self, session: Session) -> Iterator[Any]:
        """Where Table.map_ranges runs (a subclass's submission method may start a client here)."""
        yield LocalExecutor(session)

    def _module(self, compiled_code: str) -> types.ModuleType:
        """The compiled code as a module whose tracebacks show the model file's own lines (the templates
        indent the code's first line; the model file's own leading blank lines are kept)."""
        raw = str(self.model.get("raw_code") or "")
        blank_lines = raw[: len(raw) - len(raw.lstrip())].count("\n")
        compiled_code = "\n" * blank_lines + compiled_code.lstrip()
        path = str(self.model.get("original_file_path") or self.model["alias"] + ".py")
        linecache.cache[path] = (len(compiled_code), None, compiled_code.splitlines(True), path)
        module = types.ModuleType(self.model["alias"])
        module.__file__ = path
        exec(compile(compiled_code, path, "exec"), module.__dict__)
        return module

    def _load(self, session: Session, result: Any) -> tuple[int, str]:
        """Load what model() returned: a DataFrame, an iterator of them, or the new table itself when the
        model loaded it (Table.map_ranges with write=True)."""
        if result is session.new_table:
            if not session.created:
                raise DbtRuntimeError("model() returned its new table without loading it")
            return session.loaded_rows, session.load_method
        chunks = [result] if isinstance(result, pd.DataFrame) else result
        if not isinstance(chunks, Iterable):
            raise DbtRuntimeError(
                f"model() returned {type(result).__name__}: return a pandas DataFrame or an iterator of them"
            )
        rows = session.load_new_table(chunks)
        if not session.created:
            raise DbtRuntimeError("model() returned no DataFrame: nothing to publish")
        return rows, session.load_method


class _ToDbt(logging.Handler):
    """Python `logging` records of one worker thread, shown as dbt log lines (progress of long models)."""

    def __init__(self, model: str) -> None:
        super().__init__(logging.INFO)
        self.thread, self.model = threading.get_ident(), model

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            level = EventLevel.WARN if record.levelno >= logging.WARNING else EventLevel.INFO
            fire_event(Note(msg=f"{self.model}: {self.format(record)}"), level=level)


@contextmanager
def _logs_to_dbt(model: str) -> Iterator[None]:
    root, handler = logging.getLogger(), _ToDbt(model)
    level = root.level
    root.addHandler(handler)
    root.setLevel(min(level, logging.INFO))
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def _traceback(exc: BaseException) -> str:
    """The traceback from the model's own frames on (the helper's own frames tell the author nothing)."""
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(exc), exc, tb)).rstrip()
