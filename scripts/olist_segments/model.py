"""Choosing k, fitting KMeans and turning arbitrary cluster ids into stable, named segments."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import sklearn
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

from .features import SegmentError

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Table

log = logging.getLogger(__name__)

# One thread for the numeric work. KMeans adds up per-thread partial centres in whatever order the threads
# finish, so with several threads the centres (and customers on a boundary) can differ in the last bit
# between reruns and between machines with different core counts; flapping assignments would show up as
# fake segment transitions downstream. One thread is also faster on a busy machine (3x, measured on 2 cores
# shared with dbt), at the cost of leaving spare cores idle on a quiet one.
THREADS = 1


@dataclass(frozen=True)
class KScore:
    k: int
    inertia: float
    silhouette: float | None
    seconds: float


@dataclass(frozen=True)
class ModelFit:
    k: int
    k_selection: str  # 'auto' | 'fixed'
    rule: str  # how k was chosen
    knee: int | None
    scores: tuple[KScore, ...]
    model: KMeans

    @property
    def silhouette(self) -> float | None:
        return next(s.silhouette for s in self.scores if s.k == self.k)


def fit_kmeans(z: np.ndarray, k: int, *, random_state: int, n_init: int, max_iter: int = 300) -> KMeans:
    with threadpool_limits(limits=THREADS):
        model = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=random_state)
        return model.fit(z)


def silhouette(z: np.ndarray, labels: np.ndarray, *, sample_size: int, random_state: int) -> float | None:
    """Silhouette on a seeded sample of `sample_size` points (all when fewer); None where undefined."""
    if not 2 <= len(np.unique(labels)) <= len(z) - 1:
        return None
    size = sample_size if sample_size < len(z) else None
    try:
        # Distances in 64 MiB blocks: sklearn's default (1 GiB) would hold a 10k x 10k matrix at once.
        with sklearn.config_context(working_memory=64), threadpool_limits(limits=THREADS):
            return float(silhouette_score(z, labels, sample_size=size, random_state=random_state))
    except ValueError:  # the sample happened to hold a single cluster
        return None


def find_knee(ks: Sequence[int], inertias: Sequence[float]) -> int | None:
    """The elbow of a convex, decreasing inertia curve (kneedle); None when there is none."""
    if len(ks) < 3:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # kneed warns when it finds no knee
        knee = KneeLocator(list(ks), list(inertias), curve="convex", direction="decreasing").knee
    return None if knee is None else int(knee)


def choose_k(
    z: np.ndarray,
    ks: Sequence[int],
    *,
    random_state: int,
    n_init: int,
    max_iter: int = 300,
    silhouette_sample: int = 10_000,
) -> ModelFit:
    """Fit every k in `ks`; pick the elbow of inertia, else (no elbow) the best silhouette."""
    scores: list[KScore] = []
    models: dict[int, KMeans] = {}
    began = time.monotonic()
    for i, k in enumerate(ks, 1):
        start = time.monotonic()
        models[k] = fit_kmeans(z, k, random_state=random_state, n_init=n_init, max_iter=max_iter)
        sil = silhouette(z, models[k].labels_, sample_size=silhouette_sample, random_state=random_state)
        scores.append(KScore(k, float(models[k].inertia_), sil, time.monotonic() - start))
        eta = (time.monotonic() - began) / i * (len(ks) - i)
        log.info(
            "k=%d (%d of %d): inertia %.1f, silhouette %s (%.1f s, ETA %.0f s)",
            k,
            i,
            len(ks),
            scores[-1].inertia,
            _fmt(sil),
            scores[-1].seconds,
            eta,
        )
    knee = find_knee(ks, [s.inertia for s in scores])
    if len(ks) == 1:
        k, rule = ks[0], "fixed"
    elif knee is not None:
        k, rule = knee, "elbow of inertia (kneedle)"
    elif any(s.silhouette is not None for s in scores):
        k = max(scores, key=lambda s: -2.0 if s.silhouette is None else s.silhouette).k
        rule = "no elbow found: best silhouette"
    else:
        k, rule = ks[0], "no elbow and no silhouette: smallest k"
    log.info("chose k=%d (%s)", k, rule)
    return ModelFit(k, "fixed" if len(ks) == 1 else "auto", rule, knee, tuple(scores), models[k])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def segment_ids(centroids: np.ndarray, features: Sequence[str]) -> np.ndarray:
    """Segment id (1..k) of each KMeans label: 1 = lowest centroid monetary value, ties broken by frequency,
    then by the other features in order. `centroids` are in original units; KMeans' own ids play no part."""
    m, f = features.index("monetary"), features.index("frequency")
    others = [i for i in range(len(features)) if i not in (m, f)]
    # np.lexsort sorts by the last key first.
    order = np.lexsort([centroids[:, i] for i in reversed(others)] + [centroids[:, f], centroids[:, m]])
    ids = np.empty(len(centroids), dtype=np.int64)
    ids[order] = np.arange(1, len(centroids) + 1)
    return ids


def assign(centers: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre (KMeans label) and the exact euclidean distance to it, in model (scaled) space."""
    distances = np.sqrt(((z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    labels = distances.argmin(axis=1)
    return labels, distances[np.arange(len(z)), labels]


def load_definitions(table: Table, ks: Sequence[int]) -> dict[int, list[str]]:
    """Segment names (index: segment_id - 1) for every k in `ks` from the segment_definitions seed."""
    where = f"{table.schema}.{table.identifier} (seeds/reference/segment_definitions.csv, loaded by dbt seed)"
    if not table.exists():
        raise SegmentError(f"table {where} not found: run dbt seed --select segment_definitions")
    frame = table.to_pandas(["k", "segment_id", "segment_name"], order_by=["k", "segment_id"])
    found: dict[int, list[tuple[int, str]]] = {}
    for k, sid, name in frame.itertuples(index=False):
        if int(k) in ks:
            found.setdefault(int(k), []).append((int(sid), str(name)))
    for k in ks:
        got = [sid for sid, _ in found.get(k, [])]
        if got != list(range(1, k + 1)):
            raise SegmentError(
                f"no complete segment definitions for k={k} in {where}: need segment_id 1..{k}, found {got}"
            )
        bad = [name for _, name in found[k] if not 0 < len(name) <= 64]
        if bad:
            raise SegmentError(f"segment_name must be 1-64 characters in {where}: {bad[0]!r} (k={k})")
    return {k: [name for _, name in rows] for k, rows in found.items()}
