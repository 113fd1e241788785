"""Loading a Python model's DataFrames into its new table in bulk, never row by row.

`infile`: LOAD DATA LOCAL INFILE from a temporary tab-separated file per chunk, loaded on a thread of its own
while the caller makes the next chunk (the server inserts while the client reads and scores). `insert`:
multi-row INSERTs (the connector's executemany batches an INSERT … VALUES), each under half of
@@max_allowed_packet. `auto`: infile when the server's @@local_infile is on, switching to insert for good at
the first refusal.
"""

from __future__ import annotations

import datetime
import logging
import tempfile
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from pathlib import Path
from typing import Any

import mysql.connector
import numpy as np
import pandas as pd
from mysql.connector.abstracts import MySQLConnectionAbstract

log = logging.getLogger(__name__)

METHODS = ("auto", "infile", "insert")
# Errors meaning "LOAD DATA LOCAL is not allowed here" (MySQL server/client, MariaDB); anything else, such as
# a lost connection, is a real failure and must not be retried as INSERTs.
LOCAL_INFILE_REFUSED = frozenset({1148, 2068, 3948, 4166})
NULL = "\\N"
_ESCAPE = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


class LoadError(RuntimeError):
    """A chunk did not load completely; the new table is not fit to publish."""


def quote(name: str) -> str:
    if not name or "`" in name or len(name) > 64:
        raise LoadError(f"invalid column or table name {name!r}")
    return f"`{name}`"


def column_type(series: pd.Series) -> str:
    """A MySQL column type for a DataFrame column (models without a contract; declare one for exact types)."""
    kind = series.dtype.kind
    if kind == "b":
        return "boolean"
    if kind in "iu":
        return "bigint"
    if kind == "f":
        return "double"
    if kind == "M":
        return "datetime(6)"
    first = series.dropna().head(1).tolist()
    if first and isinstance(first[0], datetime.date) and not isinstance(first[0], datetime.datetime):
        return "date"
    return "text"


def _text(series: pd.Series) -> list[str]:
    """LOAD DATA's text for each value: \\N for missing, escapes only where a value needs them."""
    kind, values = series.dtype.kind, series.to_numpy()
    missing = pd.isna(series).to_numpy()
    if kind == "f":
        if np.isinf(values).any():
            raise LoadError(f"column {series.name!r} has infinite values, which MySQL cannot store")
        out = [repr(float(v)) for v in values.tolist()]
    elif kind == "M":
        whole = bool((series.dropna().dt.microsecond == 0).all())
        out = series.dt.strftime("%Y-%m-%d %H:%M:%S" if whole else "%Y-%m-%d %H:%M:%S.%f").tolist()
    elif kind == "b":
        out = ["1" if v else "0" for v in values.tolist()]
    elif kind in "iu":
        out = [str(v) for v in values.tolist()]
    else:
        out = ["1" if v is True else "0" if v is False else str(v) for v in values.tolist()]
        joined = "".join(v for v, m in zip(out, missing, strict=True) if not m)
        if "\\" in joined or "\t" in joined or "\n" in joined or "\r" in joined:
            out = [v.translate(_ESCAPE) for v in out]
    if missing.any():
        out = [NULL if m else v for v, m in zip(out, missing, strict=True)]
    return out


def _python(series: pd.Series) -> list[Any]:
    """Values for INSERT parameters: plain Python objects, None for missing."""
    values = series.astype(object).where(series.notna(), None).tolist()
    return [v.item() if isinstance(v, np.generic) else v for v in values]


class TableWriter:
    """Appends DataFrames to an existing table whose columns they must match by name.

    LOAD DATA: at most one chunk's load is in flight, on the writer's thread, from write() until the next
    write(), flush() or close(): the connection is the writer's alone. flush() waits for it and raises its
    error; `rows` counts the rows loaded so far. close() waits too (quietly: call it in a `finally`) and
    removes the temporary files.
    """

    def __init__(
        self, conn: MySQLConnectionAbstract, table: str, columns: Sequence[str], method: str = "auto"
    ):
        if method not in METHODS:
            raise LoadError(f"bulk load method must be one of {', '.join(METHODS)}, got {method!r}")
        self.conn, self.table, self.columns = conn, table, list(columns)
        self.requested, self.rows = method, 0
        cur = conn.cursor()
        cur.execute("select @@local_infile, @@max_allowed_packet")
        server_infile, packet = cur.fetchone()
        cur.close()
        self.max_statement = int(packet) // 2
        self.method = method
        if method == "auto":
            self.method = "infile" if int(server_infile) else "insert"
            if self.method == "insert":
                log.info("server has local_infile=OFF: loading with multi-row INSERTs")
        self._tmp = tempfile.TemporaryDirectory(prefix="dbt_mysql_python_")
        self._files = 0
        self._loader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-data")
        self._pending: Future[None] | None = None
        self._infile_accepted = method == "infile"  # auto: the first load runs here, to fall back if refused

    def write(self, df: pd.DataFrame) -> None:
        self._check_columns(df)
        if df.empty:
            return
        df = df[self.columns]
        if self.method == "infile":
            path = self._tsv(df)
            self.flush()
            if self._infile_accepted:
                self._pending = self._loader.submit(self._load, path, len(df))
                return
            try:
                self._load(path, len(df))
                self._infile_accepted = True
                return
            except mysql.connector.Error as exc:
                if exc.errno not in LOCAL_INFILE_REFUSED:
                    raise
                log.warning("LOAD DATA LOCAL INFILE refused (%s): falling back to multi-row INSERTs", exc.msg)
                self.method = "insert"
        self._insert(df)
        self.rows += len(df)

    def flush(self) -> None:
        """Wait for the load in flight; its error, if it failed."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def _check_columns(self, df: pd.DataFrame) -> None:
        got = [str(c) for c in df.columns]
        missing = [c for c in self.columns if c not in got]
        extra = [c for c in got if c not in self.columns]
        if missing or extra or len(set(got)) != len(got):
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not in the table {', '.join(extra)}" if extra else "",
                    "a column name appears twice" if len(set(got)) != len(got) else "",
                )
                if part
            )
            raise LoadError(f"the model's DataFrame does not match the columns of {self.table}: {detail}")

    def _tsv(self, df: pd.DataFrame) -> Path:
        self._files += 1
        path = Path(self._tmp.name) / f"chunk-{self._files}.tsv"
        columns = [_text(df[c]) for c in self.columns]
        with path.open("w", encoding="utf-8", newline="\n") as f:
            f.writelines("\t".join(row) + "\n" for row in zip(*columns, strict=True))
        return path

    def _load(self, path: Path, rows: int) -> None:
        cur = self.conn.cursor()
        cur.execute(
            f"load data local infile %s into table {self.table} character set utf8mb4"
            " fields terminated by '\\t' escaped by '\\\\' lines terminated by '\\n'"
            f" ({', '.join(quote(c) for c in self.columns)})",
            (str(path),),
        )
        loaded = cur.rowcount
        cur.execute("show warnings limit 3")
        warnings = cur.fetchall()
        cur.close()
        path.unlink()
        # With LOCAL the server turns data errors into warnings and goes on: treat any as a failure.
        if warnings or loaded != rows:
            detail = "; ".join(str(w[2]) for w in warnings) or "no warning"
            raise LoadError(f"LOAD DATA into {self.table} loaded {loaded:,} of {rows:,} rows: {detail}")
        self.rows += rows

    def _insert(self, df: pd.DataFrame) -> None:
        marks = ", ".join(["%s"] * len(self.columns))
        sql = f"insert into {self.table} ({', '.join(quote(c) for c in self.columns)}) values ({marks})"
        rows = list(zip(*(_python(df[c]) for c in self.columns), strict=True))
        # Escaping at most doubles a value's bytes; quotes, commas and parentheses add a few per value.
        texts = [_text(df[c]) for c in self.columns]
        sizes = [len("\t".join(row).encode()) for row in zip(*texts, strict=True)]
        per_row = max(sizes) * 2 + 4 * len(self.columns) + 3
        batch = max(1, (self.max_statement - len(sql)) // per_row)
        cur = self.conn.cursor()
        for start in range(0, len(rows), batch):
            part = rows[start : start + batch]
            cur.executemany(sql, part)
            if cur.rowcount != len(part):
                raise LoadError(f"INSERT into {self.table} wrote {cur.rowcount:,} of {len(part):,} rows")
        cur.close()

    def close(self) -> None:
        if self._pending is not None:
            wait([self._pending])
        self._loader.shutdown()
        self._tmp.cleanup()
