"""The segmentation model: customer_features → log1p + scaling → KMeans → stable named segments.

`models/ml/customer_segments.py` (a dbt Python model) calls `segment()`, which returns the scored customers
as a stream of DataFrames; the dbt adapter (adapters/mysql_python) loads them into a new customer_segments
and swaps it in, together with the registry's staged copy holding this run's row, in one RENAME TABLE.

Scale: the mart is streamed twice and never held in memory. Pass 1 reads the feature columns in key order
into a seeded uniform reservoir sample of at most `max_fit_rows` rows (all rows, exact KMeans, when the mart
is smaller: Olist's ~95k customers). The scaler and every KMeans are fitted on that sample. Pass 2 streams
key + features again and assigns each chunk to the nearest centre. Both passes read one consistent snapshot
(the adapter's session), so they see the same rows.

Why a reservoir sample + full KMeans rather than MiniBatchKMeans over chunks: up to `max_fit_rows` (Olist
and far beyond) the fit is exact full KMeans, not an approximation; choosing k takes a fit and a silhouette
per candidate k, cheap on an in-memory sample but a pass over the whole mart per k with mini-batches; the
sample depends only on the rows and the seed (not on the chunk size), so reruns reproduce every assignment;
and for a handful of features a 1M-row uniform sample pins the centres down far more precisely than segment
boundaries matter. Memory stays at the sample plus one chunk.
"""

from __future__ import annotations

import logging
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import db, features, model, registry
from .features import DEFAULT_FEATURES, KEY, GateError, Progress, SegmentError

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Session, Table

log = logging.getLogger(__name__)

SEGMENTS = "customer_segments"
COLUMNS = ("customer_unique_id", "segment_id", "segment_name", "distance_to_centroid", "run_id", "scored_at")


@dataclass(frozen=True)
class SegmentOptions:
    """The model's settings: the dbt vars `segment_<name>` (dbt_project.yml); `segment --<name>` sets them."""

    features: tuple[str, ...] = DEFAULT_FEATURES
    k: int | None = None  # None: choose from k_range
    k_range: tuple[int, int] = (2, 10)
    random_state: int = 42
    n_init: int = 10
    max_iter: int = 300
    chunk_size: int = 50_000
    max_fit_rows: int = 1_000_000
    silhouette_sample: int = 10_000

    def ks(self) -> list[int]:
        return [self.k] if self.k is not None else list(range(self.k_range[0], self.k_range[1] + 1))

    @classmethod
    def from_config(cls, **values: Any) -> SegmentOptions:
        """Options from dbt config values (strings as dbt renders them, or None for the default)."""
        parsers: dict[str, Callable[[str], Any]] = {
            "features": features.parse_features,
            "k": parse_k,
            "k_range": parse_range,
            "random_state": int,
            "n_init": at_least(1),
            "max_iter": at_least(1),
            "chunk_size": at_least(1),
            "max_fit_rows": at_least(2),
            "silhouette_sample": at_least(2),
        }
        unknown = set(values) - set(parsers)
        if unknown:
            raise SegmentError(f"unknown segmentation setting {sorted(unknown)[0]!r}")
        parsed = {}
        for name, value in values.items():
            if value is None or str(value).strip() in ("", "None"):
                continue
            try:
                parsed[name] = parsers[name](str(value).strip())
            except ValueError as exc:
                raise SegmentError(f"segmentation setting {name}: {exc}") from exc
        return cls(**parsed)


def at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        return value

    return parse


def parse_k(text: str) -> int | None:
    return None if text == "auto" else at_least(2)(text)


def parse_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if not sep or not low.isdigit() or not high.isdigit() or not 2 <= int(low) <= int(high):
        raise ValueError(f"expected LO-HI with 2 <= LO <= HI, e.g. 2-10; got {text!r}")
    return int(low), int(high)


@dataclass(frozen=True)
class Scorer:
    """What pass 2 needs: the scaling, the centres, and segment id/name per KMeans label."""

    scaler: features.Scaler
    centers: np.ndarray
    ids: np.ndarray  # segment id of each KMeans label
    names: np.ndarray  # segment name of each segment id - 1

    def score(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels, distance = model.assign(self.centers, self.scaler.transform(values))
        segment_id = self.ids[labels]
        return segment_id, self.names[segment_id - 1], distance


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    timings[name] = timings.get(name, 0.0) + time.monotonic() - start


def library_versions(session: Session) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in (
        "numpy",
        "pandas",
        "scikit-learn",
        "kneed",
        "mysql-connector-python",
        "dbt-core",
        "dbt-mysql",
    ):
        found[dist] = version(dist)
    (server,) = session.query("select version()")[0]
    return {**found, "connector_implementation": db.implementation(session.reader()), "server": str(server)}


def segment(
    customers: Table, definitions: Table, session: Session, opts: SegmentOptions
) -> Iterator[pd.DataFrame]:
    """Fit on customer_features and return the scored customers as DataFrames of `COLUMNS`.

    Everything up to the fit happens now (a failure stops the model before anything is written); the
    returned iterator scores chunk by chunk and, after the last one, writes the run's registry row.
    """
    record = registry.RunRecord(
        run_id=str(uuid.uuid4()),
        started_at=registry.now(),
        features=list(opts.features),
        params={**asdict(opts), "algorithm": "lloyd", "threads": model.THREADS},
    )
    session.on_failure(lambda error: registry.record_failure(session, record, error))
    record.library_versions = library_versions(session)
    timings: dict[str, float] = {}
    k_text = opts.k or f"auto {opts.k_range[0]}-{opts.k_range[1]}"
    log.info("run %s: features %s, k %s", record.run_id, ",".join(opts.features), k_text)

    names_by_k = model.load_definitions(definitions, opts.ks())
    stats = features.check_mart(customers, opts.features)
    record.data_as_of, record.n_customers = stats.data_as_of, stats.rows
    fit_values = _fit_sample(customers, opts, stats, timings)
    with _timed(timings, "choose_k"):
        scaler = features.Scaler(fit_values)
        fit = model.choose_k(
            scaler.transform(fit_values),
            opts.ks(),
            random_state=opts.random_state,
            n_init=opts.n_init,
            max_iter=opts.max_iter,
            silhouette_sample=opts.silhouette_sample,
        )
    centroids = scaler.inverse(fit.model.cluster_centers_)
    ids = model.segment_ids(centroids, opts.features)
    names = names_by_k[fit.k]  # index: segment_id - 1
    sizes = np.bincount(fit.model.labels_, minlength=fit.k)
    record.k, record.k_selection, record.silhouette = fit.k, fit.k_selection, fit.silhouette
    record.params = {**(record.params or {}), "fit_rows": len(fit_values)}
    record.scaler = scaler.params(opts.features)
    record.centroids = [
        {
            "segment_id": int(ids[label]),
            "segment_name": names[ids[label] - 1],
            "kmeans_label": label,
            "fit_rows": int(sizes[label]),
            "center": {f: float(v) for f, v in zip(opts.features, centroids[label], strict=True)},
        }
        for label in np.argsort(ids).tolist()
    ]
    record.metrics = {"per_k": [asdict(s) for s in fit.scores], "rule": fit.rule, "knee": fit.knee}
    # Only once the read-only gates passed: a run refused by them creates nothing.
    staged = session.stage_copy(registry.ensure(session).identifier)
    scorer = Scorer(scaler, fit.model.cluster_centers_, ids, np.array(names, dtype=object))
    return _scores(customers, session, opts, stats, scorer, record, staged, timings)


def _fit_sample(
    customers: Table, opts: SegmentOptions, stats: features.MartStats, timings: dict[str, float]
) -> np.ndarray:
    """Pass 1: the rows KMeans is fitted on (all up to max_fit_rows), past the distinct-points gate."""
    reservoir = features.Reservoir(opts.max_fit_rows, opts.random_state)
    progress = Progress("read for fit", stats.rows)
    for chunk in customers.chunks(list(opts.features), size=opts.chunk_size, order_by=[KEY]):
        values = chunk.to_numpy(np.float64)
        features.check_finite(values, opts.features, stats.table)
        reservoir.add(values)
        progress.add(len(values))
    timings["read"] = progress.finish()
    fit_values = reservoir.sample()
    distinct, k = len(np.unique(fit_values, axis=0)), max(opts.ks())
    if distinct < k:
        where = " in the fit sample" if reservoir.seen > opts.max_fit_rows else ""
        raise GateError(
            f"table {stats.table} has only {distinct} distinct ({','.join(opts.features)}) points{where};"
            f" k={k} needs at least {k} (choose a smaller k or k_range)"
        )
    return fit_values


def _scores(
    customers: Table,
    session: Session,
    opts: SegmentOptions,
    stats: features.MartStats,
    scorer: Scorer,
    record: registry.RunRecord,
    staged: Table,
    timings: dict[str, float],
) -> Iterator[pd.DataFrame]:
    """Pass 2: every customer scored, chunk by chunk; then the run's row in the staged registry."""
    progress = Progress("score + load", stats.rows)
    scored_at, written = registry.now(), 0
    for chunk in customers.chunks([KEY, *opts.features], size=opts.chunk_size, order_by=[KEY]):
        values = chunk[list(opts.features)].to_numpy(np.float64)
        features.check_finite(values, opts.features, stats.table)
        with _timed(timings, "score"):
            segment_id, names, distance = scorer.score(values)
            scored = pd.DataFrame(
                {
                    KEY: chunk[KEY].astype(str),
                    "segment_id": segment_id,
                    "segment_name": names,
                    "distance_to_centroid": distance,
                    "run_id": record.run_id,
                    "scored_at": scored_at,
                }
            )
        with _timed(timings, "load"):  # the adapter writes the chunk before asking for the next one
            yield scored
        written += len(scored)
        progress.add(len(scored))
    timings["read_score_load"] = progress.finish()
    if written != stats.rows:
        raise SegmentError(f"scored {written:,} customers, {stats.table} has {stats.rows:,}: not published")
    record.metrics = {**(record.metrics or {}), "timings_s": {n: round(s, 3) for n, s in timings.items()}}
    record.status, record.finished_at = "published", registry.now()
    registry.insert(session, staged, record)
    log.info(
        "scored %s customers in %d segments (run %s, silhouette %s); %s",
        f"{stats.rows:,}",
        record.k,
        record.run_id,
        "n/a" if record.silhouette is None else f"{record.silhouette:.3f}",
        ", ".join(f"{n} {s:.2f} s" for n, s in timings.items()),
    )
