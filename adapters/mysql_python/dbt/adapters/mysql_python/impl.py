"""The `mysql_python` and `mariadb_python` adapters: dbt-mysql's adapters plus local Python models and the
atomic table swap that every materialization of this package uses."""

from __future__ import annotations

from typing import Any

from dbt.adapters.base.meta import AdapterMeta, available
from dbt.adapters.base.relation import BaseRelation
from dbt.adapters.mariadb import MariaDBAdapter
from dbt.adapters.mysql import MySQLAdapter
from dbt.contracts.connection import AdapterResponse

from . import connections
from .python_models import BACKUP_SUFFIX, STAGE_SUFFIX, LoadResult, LocalJobHelper, take_pending


class PythonModelsMixin(metaclass=AdapterMeta):
    """Python submission hooks (dbt-core 1.7) and the swap; mixed into both dbt-mysql adapters."""

    config: Any

    @property
    def python_submission_helpers(self) -> dict[str, type[LocalJobHelper]]:
        return {"local": LocalJobHelper}

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
    ) -> None:
        """Put `new_relation` in place of `target_relation` with ONE `RENAME TABLE`, which MySQL and MariaDB
        perform atomically: readers see the old table or the new one, never none. The replaced table moves to
        `backup_relation`. A Python model's staged copies (Session.stage_copy) move in the same statement; if
        the rename fails, the model's failure callbacks are told and its staged copies are dropped."""
        quote = self.quote
        schema = quote(target_relation.schema)
        moves = [(target_relation, backup_relation)] if existing_relation is not None else []
        moves.append((new_relation, target_relation))
        pending = take_pending(new_relation.schema, new_relation.identifier)
        staged = pending.staged if pending is not None else []
        names = [f"{a} to {b}" for a, b in moves]
        for identifier in staged:
            live, tmp, old = (f"{schema}.{quote(identifier + s)}" for s in ("", STAGE_SUFFIX, BACKUP_SUFFIX))
            self.execute(f"drop table if exists {old}")
            names += [f"{live} to {old}", f"{tmp} to {live}"]
        try:
            self.execute("rename table " + ", ".join(names))
        except BaseException as exc:
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


class MySQLPythonAdapter(PythonModelsMixin, MySQLAdapter):
    ConnectionManager = connections.MySQLPythonConnectionManager


class MariaDBPythonAdapter(PythonModelsMixin, MariaDBAdapter):
    ConnectionManager = connections.MariaDBPythonConnectionManager
