"""Submission method `dask`: a Python model's passes over key ranges (Table.map_ranges) as tasks on a
dask.distributed cluster.

The model itself runs in the dbt process as with `local` — it reads its small inputs, decides, fits,
validates, and the adapter swaps its table in — but every `map_ranges` pass is split into primary-key ranges
(quantiles of the key, the same ranges for every pass of the run) and each range is one task: it opens its
own connections, streams its range from a snapshot of its own and returns the task's result, or loads what
the task yields into the model's new table in one transaction, so a range whose worker dies leaves no rows.
The first failed task fails the run: the others are cancelled and the new table is dropped, unpublished.

The scheduler's address comes from Dask's own configuration (`DASK_SCHEDULER_ADDRESS` or `scheduler-address`
in ~/.config/dask). The tasks carry the profile's host, port, user and charset, never the password: each
worker reads it from its own environment (`MYSQL_PASSWORD`, or the variable named by the model config
`dask_password_env`), so it is in no task graph, dashboard or log.
"""

from __future__ import annotations

import itertools
import logging
import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import dask
import mysql.connector
from dbt.exceptions import DbtRuntimeError
from distributed import Client, as_completed
from mysql.connector.abstracts import MySQLConnectionAbstract

from .bulk_load import quote
from .connections import connect
from .python_models import LocalJobHelper, RangeJob, Session, Table, _Progress

log = logging.getLogger(__name__)

DEFAULT_PASSWORD_ENV = "MYSQL_PASSWORD"
RANGES_PER_THREAD = 2  # default ranges per worker thread: a slow range does not hold up the whole pass


@dataclass(frozen=True)
class ConnectSpec:
    """The profile's connection settings without the password, which a worker reads from `password_env`."""

    server: str | None
    port: int | None
    unix_socket: str | None
    username: str
    charset: str | None
    collation: str | None
    ssl_disabled: bool | None
    password_env: str

    @classmethod
    def from_credentials(cls, credentials: Any, password_env: str) -> ConnectSpec:
        return cls(
            credentials.server,
            credentials.port,
            getattr(credentials, "unix_socket", None),
            credentials.username,
            getattr(credentials, "charset", None),
            getattr(credentials, "collation", None),
            getattr(credentials, "ssl_disabled", None),
            password_env,
        )

    def connect(self, *, local_infile: bool = False) -> MySQLConnectionAbstract:
        settings = {k: v for k, v in vars(self).items() if k != "password_env"}
        credentials = SimpleNamespace(**settings, password=os.environ.get(self.password_env, ""))
        try:
            return connect(credentials, local_infile=local_infile)
        except mysql.connector.Error as exc:
            if exc.errno == 1045:  # access denied
                raise RuntimeError(
                    f"{exc.msg} — a Dask worker reads the database password from its environment variable"
                    f" {self.password_env}: set it where the worker runs"
                ) from exc
            raise


@dataclass(frozen=True)
class KeyRange:
    """The rows with lower < key <= upper (None: unbounded on that side)."""

    index: int
    lower: Any
    upper: Any

    def condition(self, key: str) -> tuple[str, list[Any]]:
        parts, params = [], []
        if self.lower is not None:
            parts.append(f"{quote(key)} > %s")
            params.append(self.lower)
        if self.upper is not None:
            parts.append(f"{quote(key)} <= %s")
            params.append(self.upper)
        return " and ".join(parts), params


def key_ranges(table: Table, key: str, parts: int) -> list[KeyRange]:
    """`parts` consecutive ranges of about equal rows: each boundary is found from the previous one on the
    key's index (`> previous order by key limit 1 offset step-1`), so all of them cost one scan of the key."""
    rows, q = table.count(), quote(key)
    step, bounds = max(1, -(-rows // max(parts, 1))), []
    while len(bounds) < parts - 1:
        where, params = (f" where {q} > %s", [bounds[-1]]) if bounds else ("", [])
        found = table.session.query(
            f"select {q} from {table.name}{where} order by {q} limit 1 offset %s", [*params, step - 1]
        )
        if not found:
            break
        bounds.append(found[0][0])
    edges = [None, *bounds, None]
    return [KeyRange(i, lo, hi) for i, (lo, hi) in enumerate(itertools.pairwise(edges))]


def run_range(
    key_range: KeyRange,
    *,
    spec: ConnectSpec,
    source: tuple[str, str],
    job: RangeJob,
    new_table: tuple[str, str] | None,
    bulk_load: str,
) -> Any:
    """One task, on a worker: the job's task over one key range; with `new_table`, its rows loaded there."""
    session = Session(spec.connect, source[0], bulk_load)
    try:
        where, params = key_range.condition(job.key)
        chunks = Table(session, *source).chunks(
            job.columns, size=job.size, order_by=[job.key], where=where, params=params
        )
        if new_table is None:
            return job.task(chunks, *job.args)
        session.new_table, session.created = Table(session, *new_table), True
        writer = session.table_writer()
        try:
            session.writer().start_transaction()  # all or nothing: a range cut short leaves no rows behind
            for chunk in job.task(chunks, *job.args):
                writer.write(chunk)
            writer.flush()
            session.writer().commit()
        finally:
            writer.close()  # its temporary folder
        return writer.rows
    finally:
        session.close()


class DaskExecutor:
    """Table.map_ranges on a cluster: one task per key range, results in key order."""

    def __init__(self, session: Session, client: Client, spec: ConnectSpec, partitions: int) -> None:
        self.session, self.client, self.spec = session, client, spec
        threads = sum(client.nthreads().values())
        self.partitions = partitions or max(1, RANGES_PER_THREAD * threads)
        self._ranges: dict[tuple[str, str], list[KeyRange]] = {}

    def ranges(self, table: Table, key: str) -> list[KeyRange]:
        """The same ranges for every pass of the run over `table` (found on the session's snapshot)."""
        if (table.name, key) not in self._ranges:
            self._ranges[(table.name, key)] = key_ranges(table, key, self.partitions)
        return self._ranges[(table.name, key)]

    def map_ranges(self, table: Table, job: RangeJob) -> list[Any]:
        ranges = self.ranges(table, job.key)
        new_table = None
        if job.write:
            new = self.session.new_table if self.session.created else self.session.create_new_table()
            assert new is not None
            new_table = (new.schema, new.identifier)
        token = uuid.uuid4().hex[:8]
        futures = [
            self.client.submit(
                run_range,
                r,
                spec=self.spec,
                source=(table.schema, table.identifier),
                job=job,
                new_table=new_table,
                bulk_load=self.session.bulk_load,
                key=f"{job.label}-{token}-{r.index}",
                pure=False,
            )
            for r in ranges
        ]
        results: list[Any] = [None] * len(futures)
        index = {f.key: i for i, f in enumerate(futures)}
        progress, done = _Progress(f"{job.label} (dask)", job.rows if job.write else None), 0
        try:
            for future in as_completed(futures, loop=self.client.loop):
                i = index[future.key]
                try:
                    results[i] = future.result()
                except Exception as exc:
                    r = ranges[i]
                    raise DbtRuntimeError(
                        f"{job.label}: the task of key range {i + 1}/{len(ranges)} ({job.key} > {r.lower!r}"
                        f" and <= {r.upper!r}) failed on the Dask cluster: {type(exc).__name__}: {exc}"
                    ) from exc
                done += 1
                progress.add(results[i] if job.write else 0, f", {done}/{len(ranges)} ranges")
        except BaseException:
            self.client.cancel(futures)
            raise
        progress.finish("" if job.write else f"{len(ranges)} key ranges")
        if job.write:
            self.session.loaded_rows += sum(results)
            self.session.load_method = f"dask: {len(ranges)} ranges"
        return results


class DaskJobHelper(LocalJobHelper):
    """Runs the model in the dbt process; its Table.map_ranges passes run on the configured Dask cluster."""

    @contextmanager
    def executor(self, session: Session) -> Iterator[DaskExecutor]:
        address = dask.config.get("scheduler-address", None)
        if not address:
            raise DbtRuntimeError(
                "submission_method dask: no Dask scheduler configured; set DASK_SCHEDULER_ADDRESS (e.g."
                " tcp://scheduler:8786) or dask's scheduler-address, or use submission_method local"
            )
        config = self.model["config"]
        password_env = str(config.get("dask_password_env") or DEFAULT_PASSWORD_ENV)
        partitions = int(config.get("dask_partitions") or 0)
        try:
            client = Client(address, set_as_default=False, timeout="30s")
        except OSError as exc:
            raise DbtRuntimeError(f"cannot reach the Dask scheduler at {address}: {exc}") from exc
        with client:
            spec = ConnectSpec.from_credentials(self.credentials, password_env)
            executor = DaskExecutor(session, client, spec, partitions)
            workers = client.nthreads()
            log.info(
                "dask: scheduler %s, %d workers, %d threads, %d key ranges per pass",
                address,
                len(workers),
                sum(workers.values()),
                executor.partitions,
            )
            yield executor
