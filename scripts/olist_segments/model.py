"""Choosing k, fitting KMeans and turning arbitrary cluster ids into stable, named segments."""

from __future__ import annotations

import logging
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import sklearn
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score
from threadpoolctl import threadpool_limits

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
    previous_k: int | None = None,
    k_switch_margin: float = 0.05,
) -> ModelFit:
    """Fit every k in `ks`; pick the elbow of inertia, else (no elbow) the best silhouette. k does not flap:
    with a published k among `ks`, a different k is taken only if its silhouette beats the published k's by
    at least `k_switch_margin`."""
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
    silhouettes = {s.k: s.silhouette for s in scores}
    if previous_k in silhouettes and previous_k != k and len(ks) > 1:
        new, old = silhouettes[k], silhouettes[previous_k]
        if new is None or old is None or new < old + k_switch_margin:
            rule = (
                f"kept the published k={previous_k}: k={k} ({rule}) is not clearly better"
                f" (silhouette {_fmt(new)} vs {_fmt(old)}; a switch needs +{k_switch_margin})"
            )
            k = previous_k
        else:
            rule += f"; switched from the published k={previous_k} (silhouette {_fmt(new)} vs {_fmt(old)})"
    log.info("chose k=%d (%s)", k, rule)
    return ModelFit(k, "fixed" if len(ks) == 1 else "auto", rule, knee, tuple(scores), models[k])


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def assign(centers: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre (KMeans label) and the exact euclidean distance to it, in model (scaled) space."""
    distances = np.sqrt(((z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    labels = distances.argmin(axis=1)
    return labels, distances[np.arange(len(z)), labels]
