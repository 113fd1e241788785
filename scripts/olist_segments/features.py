"""Reading customer_features for the model: the validation gate, sampling and scaling.

The mart is never held in memory: rows arrive in chunks (the adapter's `Table.map_ranges`). Pass 1 keeps
a seeded uniform sample of at most `max_fit_rows` rows (all rows, in key order, when the mart is smaller:
exact KMeans); pass 2 scores chunk by chunk (see segmentation.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from . import contract, db

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Table


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


class Sample:
    """A seeded uniform sample of at most `size` rows of a keyed stream: the rows whose seeded hash of the key
    is among the `size` smallest (ties: the earlier row), kept in stream order.

    While at most `size` rows were seen it holds all of them, so a mart that fits is modelled exactly. The
    sample depends on the rows, their order and the seed only — not on the chunk size, and not on how the
    stream is cut into consecutive ranges: `merge` of the ranges' samples, in stream order, is the sample
    of the whole stream (the Dask passes rely on it).
    """

    def __init__(self, size: int, seed: int) -> None:
        self.size, self.seed, self.seen = size, seed, 0
        self._hashes: list[np.ndarray] = []
        self._values: list[np.ndarray] = []
        self._held = 0
        self._threshold: np.uint64 | None = None  # once full: only smaller hashes can still enter

    def add(self, keys: Sequence[str] | np.ndarray, values: np.ndarray) -> None:
        keys = np.asarray(keys, dtype=object)
        hashes = pd.util.hash_array(keys, hash_key=self._hash_key(), categorize=False)
        self.seen += len(values)
        if self._threshold is not None:
            keep = hashes < self._threshold
            hashes, values = hashes[keep], values[keep]
        self._append(hashes, values)

    def _hash_key(self) -> str:
        return f"{self.seed % 2**64:016x}"  # siphash-2-4's 16-byte key, from the seed

    def _append(self, hashes: np.ndarray, values: np.ndarray) -> None:
        if len(hashes):
            self._hashes.append(hashes)
            self._values.append(np.asarray(values, dtype=np.float64))
            self._held += len(hashes)
        if self._held > 2 * self.size:
            self._compact()

    def _compact(self) -> None:
        """Keep the `size` rows of smallest (hash, position), in stream order."""
        hashes = np.concatenate(self._hashes) if self._hashes else np.empty(0, np.uint64)
        values = np.concatenate(self._values) if self._values else np.empty((0, 0))
        if len(hashes) > self.size:
            threshold = np.partition(hashes, self.size - 1)[self.size - 1]
            keep = hashes < threshold
            ties = np.flatnonzero(hashes == threshold)[: self.size - int(keep.sum())]
            keep[ties] = True
            hashes, values, self._threshold = hashes[keep], values[keep], threshold
        self._hashes, self._values, self._held = [hashes], [values], len(hashes)

    @classmethod
    def merge(cls, parts: Sequence[Sample]) -> Sample:
        """The sample of the stream made of `parts`' streams one after the other (same size and seed)."""
        merged = cls(parts[0].size, parts[0].seed)
        for part in parts:
            part._compact()
            merged._append(part._hashes[0], part._values[0])
            merged.seen += part.seen
        merged._compact()
        return merged

    def sample(self) -> np.ndarray:
        self._compact()
        return self._values[0]


class Scaler:
    """log1p, then standard scaling (fitted by sklearn's StandardScaler, or the stored mean and scale of a
    published model); `inverse` maps model space back to original units."""

    def __init__(self, mean: np.ndarray, scale: np.ndarray) -> None:
        self.mean, self.scale = np.asarray(mean, dtype=np.float64), np.asarray(scale, dtype=np.float64)

    @classmethod
    def fit(cls, values: np.ndarray) -> Scaler:
        # imported here: the CLI imports this module for SegmentError, and scikit-learn costs ~1.6 s to load
        from sklearn.preprocessing import StandardScaler

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
