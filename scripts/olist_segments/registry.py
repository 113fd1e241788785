"""The model run registry `<base>_ml.segment_model_runs`: one row per segmentation run, published or failed.

A published run's row is written into a staged copy of the registry that the adapter swaps in with the new
customer_segments in ONE `RENAME TABLE`: readers see both old or both new, and every run_id in
customer_segments has its row. A failed run's row goes straight into the live registry (nothing else changes).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Session, Table

log = logging.getLogger(__name__)

RUNS = "segment_model_runs"
JSON_COLUMNS = ("features", "params", "metrics", "centroids", "scaler", "library_versions")
DDL = """(
    run_id char(36) not null,
    started_at datetime not null,
    finished_at datetime null,
    status varchar(16) not null,
    k int null,
    k_selection varchar(16) null,
    features longtext null,
    params longtext null,
    metrics longtext null,
    centroids longtext null,
    scaler longtext null,
    library_versions longtext null,
    n_customers int null,
    data_as_of date null,
    silhouette double null,
    primary key (run_id)
) engine = InnoDB"""


def now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


@dataclass
class RunRecord:
    """One row of segment_model_runs (dicts and lists are stored as JSON text)."""

    run_id: str
    started_at: datetime
    finished_at: datetime | None = None
    status: str = "failed"
    k: int | None = None
    k_selection: str | None = None
    features: list[str] | None = None
    params: dict[str, Any] | None = None
    metrics: dict[str, Any] | None = None
    centroids: list[dict[str, Any]] | None = None
    scaler: dict[str, Any] | None = None
    library_versions: dict[str, str] | None = None
    n_customers: int | None = None
    data_as_of: date | None = None
    silhouette: float | None = None

    def values(self) -> dict[str, Any]:
        return {
            name: json.dumps(value, allow_nan=False) if isinstance(value, dict | list) else value
            for name, value in vars(self).items()
        }


def ensure(session: Session) -> Table:
    """The registry table of the model's schema, created if missing."""
    table = session.table(RUNS)
    session.execute(f"create table if not exists {table.name} {DDL}")
    return table


def insert(session: Session, table: Table, record: RunRecord) -> None:
    values = record.values()
    columns = ", ".join(f"`{c}`" for c in values)
    marks = ", ".join(["%s"] * len(values))
    session.execute(f"insert into {table.name} ({columns}) values ({marks})", list(values.values()))


def published_row(session: Session, segments: Table) -> dict[str, Any] | None:
    """The registry row of the run now in `segments` (customer_segments), JSON decoded; None at first."""
    runs = session.table(segments.schema, RUNS)
    if not segments.exists() or not runs.exists():
        return None
    rows = session.query(f"select run_id from {segments.name} limit 1")
    if not rows:
        return None
    columns = list(runs.columns())
    found = session.query(f"select * from {runs.name} where run_id = %s", (rows[0][0],))
    if not found:
        return None
    row = dict(zip(columns, found[0], strict=True))
    for name in JSON_COLUMNS:
        row[name] = None if row.get(name) is None else json.loads(str(row[name]))
    return row


def record_failure(session: Session, record: RunRecord, error: BaseException) -> None:
    """Record a failed run in the live registry, if there is one (a first run that fails creates nothing).
    A run the drift gate stopped is `refused`, any other `failed`."""
    record.status = "refused" if getattr(error, "refused", False) else "failed"
    record.finished_at = now()
    record.metrics = {
        **(record.metrics or {}),
        "error": f"{type(error).__name__}: {' '.join(str(error).split())}",
    }
    live = session.table(RUNS)
    if not session.columns(live.schema, live.identifier, writer=True):
        log.warning("run %s failed before %s existed: not recorded", record.run_id, live)
        return
    session.execute(f"delete from {live.name} where run_id = %s", (record.run_id,))
    insert(session, live, record)
