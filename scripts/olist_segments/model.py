"""Choosing k, fitting KMeans and turning arbitrary cluster ids into stable, named segments."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from kneed import KneeLocator
from sklearn.cluster import KMeans
from sklearn.utils import check_random_state
from threadpoolctl import threadpool_limits

log = logging.getLogger(__name__)

# One thread for the numeric work. KMeans adds up per-thread partial centres in whatever order the threads
# finish, so with several threads the centres (and customers on a boundary) can differ in the last bit
# between reruns and between machines with different core counts; flapping assignments would show up as
# fake segment transitions downstream. One thread is also faster on a busy machine (3x, measured on 2 cores
# shared with dbt), at the cost of leaving spare cores idle on a quiet one.
THREADS = 1
WORKERS = min(2, os.cpu_count() or 1)  # fits of different k run side by side, one thread each


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
    scores: tuple[KScore, ...]  # of the k-search rows
    model: KMeans  # the chosen k, fitted on all rows
    search_rows: int  # the rows k was chosen on

    @property
    def silhouette(self) -> float | None:
        return next(s.silhouette for s in self.scores if s.k == self.k)


def fit_kmeans(z: np.ndarray, k: int, *, random_state: int, n_init: int, max_iter: int = 300) -> KMeans:
    with threadpool_limits(limits=THREADS):
        model = KMeans(n_clusters=k, n_init=n_init, max_iter=max_iter, random_state=random_state)
        return model.fit(z)


def silhouettes(
    z: np.ndarray, labels: dict[int, np.ndarray], *, sample_size: int, random_state: int, block: int = 256
) -> dict[int, float | None]:
    """The silhouette of every labelling of `z`, on ONE seeded sample of `sample_size` points (all when fewer;
    the sample sklearn's silhouette_score draws for this random_state). The sample's pairwise distances are
    computed once, block by block, and multiplied by the one-hot cluster membership of every k side by side
    (one product per block: 5x faster than one per k on the real data); None where the silhouette is
    undefined. Blocks are independent, one thread each: the number of workers changes nothing but time."""
    n = len(z)
    index = check_random_state(random_state).permutation(n)[:sample_size] if sample_size < n else np.arange(n)
    x = z[index]
    cut = {k: lab[index] for k, lab in labels.items()}
    widths = [int(lab.max()) + 1 for lab in cut.values()]
    offsets = dict(zip(cut, np.cumsum([0, *widths[:-1]]), strict=True))
    onehot = np.zeros((len(x), sum(widths)))  # sample x (clusters of every k)
    for k, lab in cut.items():
        onehot[np.arange(len(x)), offsets[k] + lab] = 1.0
    sums = np.empty_like(onehot)  # distance from each point to all points of each cluster
    squared = (x * x).sum(axis=1)

    def distance_sums(start: int) -> None:
        rows = slice(start, start + block)
        with threadpool_limits(limits=THREADS):
            d = np.sqrt(np.maximum(squared[rows, None] + squared[None, :] - 2 * x[rows] @ x.T, 0.0))
            sums[rows] = d @ onehot

    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="silhouette") as pool:
        list(pool.map(distance_sums, range(0, len(x), block)))
    out: dict[int, float | None] = {}
    for (k, lab), width in zip(cut.items(), widths, strict=True):
        member = onehot[:, offsets[k] : offsets[k] + width]
        total = sums[:, offsets[k] : offsets[k] + width]
        sizes = member.sum(axis=0)
        if (sizes > 0).sum() < 2 or len(x) < 3:
            out[k] = None
            continue
        own = sizes[lab]
        a = total[np.arange(len(x)), lab] / np.maximum(own - 1, 1)
        other = np.where(member > 0, np.inf, total / np.where(sizes > 0, sizes, 1))
        other[:, sizes == 0] = np.inf
        b = other.min(axis=1)
        s = np.where(own > 1, (b - a) / np.maximum(a, b), 0.0)
        out[k] = float(np.nan_to_num(s).mean())
    return out


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
    search_rows: int | None = None,
    previous_k: int | None = None,
    k_switch_margin: float = 0.05,
) -> ModelFit:
    """Fit every k in `ks`; pick the elbow of inertia, else (no elbow) the best silhouette. k does not flap:
    with a published k among `ks`, a different k is taken only if its silhouette beats the published k's by
    at least `k_switch_margin`. Above `search_rows` rows, k is chosen on a seeded uniform sample of that
    many (the scores are that sample's) and the chosen k is then fitted on all of `z`."""
    search = z
    if search_rows is not None and len(z) > search_rows:
        index = np.sort(check_random_state(random_state).permutation(len(z))[:search_rows])
        search = z[index]
        log.info("choosing k on %s of the %s fit rows (k_search_rows)", f"{search_rows:,}", f"{len(z):,}")
    seconds: dict[int, float] = {}

    def fit(k: int) -> KMeans:
        start = time.monotonic()
        fitted = fit_kmeans(search, k, random_state=random_state, n_init=n_init, max_iter=max_iter)
        seconds[k] = time.monotonic() - start
        log.info("k=%d: inertia %.1f (%.1f s)", k, fitted.inertia_, seconds[k])
        return fitted

    # One fit per worker thread, each on one thread of its own (fit_kmeans): parallel, yet every fit is
    # exactly what it is alone, so the results do not depend on the number of workers. Largest k first: the
    # slowest fits start early and the workers finish together.
    largest_first = sorted(ks, reverse=True)
    with ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="kmeans") as pool:
        fitted = dict(zip(largest_first, pool.map(fit, largest_first), strict=True))
    models = {k: fitted[k] for k in ks}
    sil = silhouettes(
        search,
        {k: m.labels_ for k, m in models.items()},
        sample_size=silhouette_sample,
        random_state=random_state,
    )
    scores = [KScore(k, float(models[k].inertia_), sil[k], seconds[k]) for k in ks]
    log.info("silhouettes: %s", ", ".join(f"k={k} {_fmt(v)}" for k, v in sil.items()))
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
    if previous_k in sil and previous_k != k and len(ks) > 1:
        new, old = sil[k], sil[previous_k]
        if new is None or old is None or new < old + k_switch_margin:
            rule = (
                f"kept the published k={previous_k}: k={k} ({rule}) is not clearly better"
                f" (silhouette {_fmt(new)} vs {_fmt(old)}; a switch needs +{k_switch_margin})"
            )
            k = previous_k
        else:
            rule += f"; switched from the published k={previous_k} (silhouette {_fmt(new)} vs {_fmt(old)})"
    log.info("chose k=%d (%s)", k, rule)
    chosen = models[k]
    if search is not z:
        start = time.monotonic()
        chosen = fit_kmeans(z, k, random_state=random_state, n_init=n_init, max_iter=max_iter)
        log.info("k=%d on all %s fit rows: inertia %.1f (%.1f s)", k, f"{len(z):,}", chosen.inertia_,
                 time.monotonic() - start)  # fmt: skip
    return ModelFit(k, "fixed" if len(ks) == 1 else "auto", rule, knee, tuple(scores), chosen, len(search))


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def assign(centers: np.ndarray, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest centre (KMeans label) and the exact euclidean distance to it, in model (scaled) space."""
    distances = np.sqrt(((z[:, None, :] - centers[None, :, :]) ** 2).sum(axis=2))
    labels = distances.argmin(axis=1)
    return labels, distances[np.arange(len(z)), labels]
