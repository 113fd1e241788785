"""Reading customer_features for the model: the validation gate, sampling and scaling.

The mart is never held in memory: rows arrive in chunks (the adapter's `Table.chunks`). Pass 1 keeps a
seeded uniform reservoir sample of at most `max_fit_rows` rows (all rows, in key order, when the mart is
smaller: exact KMeans); pass 2 scores chunk by chunk (see segmentation.py).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
from sklearn.preprocessing import StandardScaler

from . import contract, db

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Table

log = logging.getLogger(__name__)

MART = "customer_features"
KEY = "customer_unique_id"
AS_OF = "as_of_date"
DEFAULT_FEATURES: tuple[str, ...] = ("monetary", "frequency")
_NUMERIC_TYPES = {"tinyint", "smallint", "mediumint", "int", "bigint", "decimal", "float", "double"}


class SegmentError(RuntimeError):
    """A problem the user can act on; the CLI prints it as one line."""


class GateError(SegmentError):
    """customer_features is not fit for segmentation; nothing was published."""


def allowed_features() -> tuple[str, ...]:
    """The numeric columns of customer_features' contract (its YAML); any other name is refused before SQL."""
    return contract.numeric_columns(MART)


def parse_features(text: str) -> tuple[str, ...]:
    """`monetary,frequency,recency_days` → validated names (monetary and frequency are required)."""
    names = tuple(part.strip() for part in text.split(","))
    allowed = allowed_features()
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise SegmentError(
            f"unknown feature {unknown[0]!r}: choose from {', '.join(allowed)} (comma-separated)"
        )
    if len(set(names)) != len(names):
        raise SegmentError(f"feature listed twice in {text!r}")
    if not {"monetary", "frequency"} <= set(names):
        raise SegmentError("features must include monetary and frequency (segments are ranked by them)")
    return names


class Progress:
    """Logs `label: done/total rows (rate, ETA)` at most every `every_s` seconds on long phases."""

    def __init__(self, label: str, total: int | None, every_s: float = 5.0) -> None:
        self.label, self.total, self.every_s = label, total, every_s
        self.done = 0
        self.start = self._last = time.monotonic()
        self._lock = threading.Lock()  # scoring workers share one

    def add(self, n: int) -> None:
        with self._lock:
            self.done += n
            now = time.monotonic()
            if now - self._last < self.every_s:
                return
            self._last = now
            rate = self.done / max(now - self.start, 1e-9)
            eta = f", ETA {(self.total - self.done) / rate:.0f} s" if self.total and rate else ""
            total = f"/{self.total:,}" if self.total else ""
            log.info("%s: %s%s rows (%s rows/s%s)", self.label, f"{self.done:,}", total, f"{rate:,.0f}", eta)

    def finish(self) -> float:
        seconds = time.monotonic() - self.start
        log.info("%s: %s rows in %.1f s", self.label, f"{self.done:,}", seconds)
        return seconds


@dataclass(frozen=True)
class MartStats:
    table: str  # display name, e.g. olist_marts.customer_features
    rows: int
    data_as_of: date | None


def check_mart(table: Table, features: Sequence[str]) -> MartStats:
    """The validation gate, in SQL: table and columns exist, not empty, no NULL or negative feature values."""
    name = f"{table.schema}.{table.identifier}"
    columns = table.columns()
    if not columns:
        raise GateError(f"table {name} not found: build it first (dbt build --select +customer_features)")
    missing = [c for c in (KEY, AS_OF, *features) if c not in columns]
    if missing:
        raise GateError(f"table {name} has no column {', '.join(missing)}")
    for f in features:
        if columns[f].data_type not in _NUMERIC_TYPES:
            raise GateError(f"column {name}.{f} is {columns[f].data_type}, not numeric")
    q = [db.quote_ident(f) for f in features]
    checks = ", ".join(f"sum({c} is null), sum({c} < 0), min({c})" for c in q)
    row = table.session.query(f"select count(*), max({db.quote_ident(AS_OF)}), {checks} from {table.name}")[0]
    rows, as_of = int(row[0]), row[1]
    if rows == 0:
        raise GateError(f"table {name} is empty: no customers to segment")
    for i, f in enumerate(features):
        nulls, negatives, minimum = row[2 + 3 * i : 5 + 3 * i]
        if nulls:
            raise GateError(f"column {name}.{f} has {int(nulls):,} NULL values; every customer needs a value")
        if negatives:
            raise GateError(
                f"column {name}.{f} has {int(negatives):,} negative values (min {minimum}); log1p needs >= 0"
            )
    return MartStats(name, rows, as_of)


def check_finite(x: np.ndarray, features: Sequence[str], table: str) -> None:
    bad = ~np.isfinite(x)
    if bad.any():
        column = features[int(np.flatnonzero(bad.any(axis=0))[0])]
        raise GateError(f"column {table}.{column} has {int(bad.sum()):,} non-finite values (inf or NaN)")


class Reservoir:
    """A seeded uniform sample of at most `size` rows of a stream (Algorithm R, vectorised per chunk).

    While fewer than `size` rows were seen it holds all of them in stream order, so a mart that fits is
    modelled exactly. Afterwards row i (0-based) replaces a random slot with probability size / (i + 1).
    The sample depends on the rows and the seed only, not on the chunk size.
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seen = size, 0
        self.rng = np.random.default_rng(seed)
        self._parts: list[np.ndarray] = []
        self._rows: np.ndarray | None = None

    def add(self, chunk: np.ndarray) -> None:
        fill = max(0, min(len(chunk), self.size - self.seen))
        if fill:
            self._parts.append(chunk[:fill].copy())
        rest = chunk[fill:]
        if len(rest):
            if self._rows is None:
                self._rows = np.concatenate(self._parts)
                self._parts = []
            index = np.arange(self.seen + fill, self.seen + len(chunk))
            # One uniform double per row, whatever the chunking: the same rows give the same sample.
            slots = np.floor(self.rng.random(len(index)) * (index + 1)).astype(np.int64)
            keep = slots < self.size
            slots, rows = slots[keep], rest[keep]
            # A later row taking the same slot wins: keep the last occurrence of each slot.
            _, first_from_end = np.unique(slots[::-1], return_index=True)
            last = len(slots) - 1 - first_from_end
            self._rows[slots[last]] = rows[last]
        self.seen += len(chunk)

    def sample(self) -> np.ndarray:
        if self._rows is not None:
            return self._rows
        return np.concatenate(self._parts) if self._parts else np.empty((0, 0))


class Scaler:
    """log1p, then standard scaling (fitted by sklearn's StandardScaler, or the stored mean and scale of a
    published model); `inverse` maps model space back to original units."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean, self.scale = np.asarray(mean, dtype=np.float64), np.asarray(scale, dtype=np.float64)

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        standard = StandardScaler().fit(np.log1p(values))
        return cls(standard.mean_, standard.scale_)

    def transform(self, values: np.ndarray) -> np.ndarray:
        return (np.log1p(values) - self.mean) / self.scale

    def inverse(self, scaled: np.ndarray) -> np.ndarray:
        return np.expm1(np.asarray(scaled) * self.scale + self.mean)

    def params(self, features: Sequence[str]) -> dict[str, object]:
        return {
            "transform": "log1p then StandardScaler",
            "features": list(features),
            "mean": [float(v) for v in self.mean],
            "scale": [float(v) for v in self.scale],
        }
