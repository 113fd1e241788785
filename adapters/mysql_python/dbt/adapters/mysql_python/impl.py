"""The `mysql_python` and `mariadb_python` adapters: dbt-mysql's adapters plus Python models (run in the dbt
process, their passes over key ranges there or on Dask), the atomic table swap that every materialization of
this package uses, and the run lock."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from dbt.adapters.base.meta import AdapterMeta, available
from dbt.adapters.base.relation import BaseRelation
from dbt.adapters.mariadb import MariaDBAdapter
from dbt.adapters.mysql import MySQLAdapter
from dbt.contracts.connection import AdapterResponse
from dbt.events.functions import fire_event
from dbt.events.types import Note
from dbt.exceptions import DbtRuntimeError

from . import connections, locks, seeds, unchanged
from .python_models import BACKUP_SUFFIX, STAGE_SUFFIX, LoadResult, LocalJobHelper, take_pending


class PythonModelsMixin(metaclass=AdapterMeta):
    """Python submission hooks (dbt-core 1.7) and the swap; mixed into both dbt-mysql adapters."""

    config: Any

    @property
    def python_submission_helpers(self) -> dict[str, Callable[[dict[str, Any], Any], LocalJobHelper]]:
        return {"local": LocalJobHelper, "dask": _dask_job_helper}

    @property
    def default_python_submission_method(self) -> str:
        return "local"

    def generate_python_submission_response(self, submission_result: LoadResult) -> AdapterResponse:
        r = submission_result
        return AdapterResponse(
            _message=f"OK {r.rows:,} rows ({r.method}, {r.seconds:.1f} s)", code="OK", rows_affected=r.rows
        )

    @available
    def schema_options(self) -> str:
        """`character set … collate …` of the profile, for new schemas (macros/adapters/schemas.sql)."""
        return connections.schema_options(self.config.credentials)

    @available
    def swap_relations(
        self,
        new_relation: BaseRelation,
        target_relation: BaseRelation,
        existing_relation: BaseRelation | None,
        backup_relation: BaseRelation,
        wait: dict[str, Any] | None = None,
    ) -> None:
        """Put `new_relation` in place of `target_relation` with ONE `RENAME TABLE`, which MySQL and MariaDB
        perform atomically: readers see the old table or the new one, never none. The replaced table moves to
        `backup_relation`. A Python model's staged copies (Session.stage_copy) move in the same statement. The
        rename waits for metadata locks as `wait` says (locks.run_ddl); if it fails, the model's failure
        callbacks are told and its staged copies are dropped."""
        quote = self.quote
        schema = quote(target_relation.schema)
        moves = [(target_relation, backup_relation)] if existing_relation is not None else []
        moves.append((new_relation, target_relation))
        pending = take_pending(new_relation.schema, new_relation.identifier)
        staged = pending.staged if pending is not None else []
        names = [f"{a} to {b}" for a, b in moves]
        locked = [(target_relation.schema, target_relation.identifier)]
        for identifier in staged:
            live, tmp, old = (f"{schema}.{quote(identifier + s)}" for s in ("", STAGE_SUFFIX, BACKUP_SUFFIX))
            self.execute(f"drop table if exists {old}")
            names += [f"{live} to {old}", f"{tmp} to {live}"]
            locked.append((target_relation.schema, identifier))
        try:
            self._run_ddl("rename table " + ", ".join(names), locked, wait)
        except BaseException as exc:
            kind = "view" if new_relation.is_view else "table"
            self.execute(f"drop {kind} if exists {new_relation}")  # never published: the next run rebuilds it
            if pending is not None:
                pending.fail(exc)
            raise
        if existing_relation is not None:
            self.cache_renamed(existing_relation, backup_relation)
        self.cache_renamed(new_relation, target_relation)
        for identifier in staged:
            self.execute(f"drop table if exists {schema}.{quote(identifier + BACKUP_SUFFIX)}")
        if pending is not None:
            pending.close()

    @available
    def run_ddl(self, sql: str, relation: BaseRelation, wait: dict[str, Any] | None = None) -> None:
        """One DDL statement on `relation` (e.g. CREATE OR REPLACE VIEW) with bounded metadata-lock waits."""
        self._run_ddl(sql, [(relation.schema, relation.identifier)], wait)

    def _run_ddl(self, sql: str, tables: list[tuple[str, str]], wait: dict[str, Any] | None) -> None:
        """On dbt's own connection (so it never waits for itself), through the driver: a lock wait timeout
        that is retried must not look like a failed statement to dbt's transaction handling."""
        handle = self.connections.get_thread_connection().handle

        def execute(statement: str) -> list[tuple[Any, ...]]:
            cur = handle.cursor()
            try:
                cur.execute(statement)
                return list(cur.fetchall()) if cur.with_rows else []
            finally:
                cur.close()

        try:
            locks.run_ddl(execute, execute, sql, tables, locks.WaitPolicy.from_settings(wait))
        except locks.BlockedError as exc:
            raise DbtRuntimeError(str(exc)) from exc

    @available
    def seed_file(
        self, root_path: str, file_path: str, delimiter: str, column_types: dict[str, str]
    ) -> seeds.SeedFile | None:
        """The seed's file when the server can load it (every column typed, local_infile on), else None:
        dbt's agate loader then does it (macros/seeds/seed.sql)."""
        try:
            seed = seeds.inspect(Path(root_path) / file_path, delimiter)  # an absolute file_path wins
        except (OSError, seeds.SeedFileError) as exc:
            raise DbtRuntimeError(str(exc)) from exc
        untyped = [c for c in seed.columns if c not in column_types]
        if untyped:
            fire_event(Note(msg=f"{file_path}: no column_types for {untyped}: loading through agate"))
            return None
        with closing(connections.connect(self.config.credentials)) as conn:
            if not seeds.local_infile_enabled(conn):
                fire_event(Note(msg=f"{file_path}: server has local_infile=OFF: loading through agate"))
                return None
        return seed

    @available
    def table_inputs(self, definition: str, reads: list[str], graph: dict[str, Any]) -> str:
        """SHA-256 of a table model's definition and the state of what it reads (unchanged.py); `graph` is
        dbt's flat graph (the Jinja context's `graph`)."""
        with closing(connections.connect(self.config.credentials)) as conn:
            return unchanged.inputs(conn, definition, reads, unchanged.relations(graph))

    @available
    def table_unchanged(self, relation: BaseRelation, inputs: str) -> bool:
        with closing(connections.connect(self.config.credentials)) as conn:
            return unchanged.unchanged(conn, relation.schema, relation.identifier, inputs)

    @available
    def record_table_inputs(self, relation: BaseRelation, inputs: str) -> str:
        with closing(connections.connect(self.config.credentials)) as conn:
            unchanged.record(conn, relation.schema, relation.identifier, inputs)
        return ""

    @available
    def seed_unchanged(self, relation: BaseRelation, seed: seeds.SeedFile, definition: str) -> bool:
        with closing(connections.connect(self.config.credentials)) as conn:
            return seeds.unchanged(conn, relation.schema, relation.identifier, seed.sha256, definition)

    @available
    def load_seed_file(self, relation: BaseRelation, seed: seeds.SeedFile, delimiter: str) -> int:
        try:
            with closing(connections.connect(self.config.credentials, local_infile=True)) as conn:
                return seeds.load(conn, relation.schema, relation.identifier, seed, delimiter)
        except seeds.SeedFileError as exc:
            raise DbtRuntimeError(str(exc)) from exc

    @available
    def record_seed_file(
        self, relation: BaseRelation, seed: seeds.SeedFile, definition: str, rows: int
    ) -> str:
        with closing(connections.connect(self.config.credentials)) as conn:
            seeds.record(conn, relation.schema, relation.identifier, seed.sha256, definition, rows)
        return ""

    @available
    def acquire_run_lock(self, project: str, wait_seconds: int = 0) -> str:
        """Hold the writer lock of the target's schema until release_run_lock (renders an empty hook)."""
        credentials = self.config.credentials
        name = locks.run_lock_name(project, credentials.schema)
        _RUN_LOCKS.acquire(lambda: connections.connect(credentials), name, int(wait_seconds or 0))
        return ""

    @available
    def release_run_lock(self, project: str) -> str:
        _RUN_LOCKS.release(locks.run_lock_name(project, self.config.credentials.schema))
        return ""


_RUN_LOCKS = locks.RunLocks()


def _dask_job_helper(parsed_model: dict[str, Any], credentials: Any) -> LocalJobHelper:
    from .dask_jobs import DaskJobHelper  # dask.distributed is imported only by the runs that use it

    return DaskJobHelper(parsed_model, credentials)


class MySQLPythonAdapter(PythonModelsMixin, MySQLAdapter):
    ConnectionManager = connections.MySQLPythonConnectionManager


class MariaDBPythonAdapter(PythonModelsMixin, MariaDBAdapter):
    ConnectionManager = connections.MariaDBPythonConnectionManager
