"""How far a run is from the published one: input drift per feature, agreement, segment sizes — and the gate.

Input drift is the population stability index (PSI) of each feature, in model space, between the approved
model's fit sample (its decile bins are stored with the model) and the customers now. Agreement is on the
customers present in both runs: the share that keeps its segment and the adjusted Rand index (ARI) of the two
assignments, from their contingency table. Size change is the largest change of a segment's share of
customers. A run beyond the thresholds is not published unless accepted (dbt var segment_accept_drift).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BINS = 10
_EPSILON = 1e-4  # share floor: an empty bin must not make the PSI infinite


@dataclass(frozen=True)
class Thresholds:
    max_psi: float = 0.25  # input drift beyond it: refused (0.1-0.25 is "moderate" in the usual PSI reading)
    refit_psi: float = 0.1  # refit: auto refits beyond it
    min_ari: float = 0.8  # agreement of a refit with the published assignment
    max_size_change: float = 0.10  # largest change of a segment's share of customers


def reference_bins(values: np.ndarray, features: Sequence[str]) -> dict[str, dict[str, list[float]]]:
    """Per feature: inner decile edges of the fit sample (model space) and the share of it in each bin."""
    out = {}
    for i, feature in enumerate(features):
        column = values[:, i]
        edges = np.unique(np.quantile(column, np.linspace(0, 1, BINS + 1)[1:-1]))
        out[feature] = {"edges": edges.tolist(), "shares": histogram(column, edges).tolist()}
    return out


def histogram(column: np.ndarray, edges: np.ndarray) -> np.ndarray:
    counts = np.bincount(np.searchsorted(edges, column, side="right"), minlength=len(edges) + 1)
    return counts / max(counts.sum(), 1)


class Binner:
    """Counts a stream of (model-space) rows into the reference bins of each feature."""

    def __init__(self, reference: dict[str, dict[str, list[float]]], features: Sequence[str]) -> None:
        self.features = list(features)
        self.edges = [np.asarray(reference[f]["edges"]) for f in features]
        self.counts = [np.zeros(len(e) + 1) for e in self.edges]

    def add(self, scaled: np.ndarray) -> None:
        for i, edges in enumerate(self.edges):
            self.counts[i] += np.bincount(
                np.searchsorted(edges, scaled[:, i], side="right"), minlength=len(edges) + 1
            )

    @classmethod
    def merge(cls, parts: Sequence[Binner]) -> Binner:
        """One binner holding the counts of `parts` (same reference bins)."""
        merged = cls.__new__(cls)
        merged.features, merged.edges = parts[0].features, parts[0].edges
        merged.counts = [sum(counts) for counts in zip(*(p.counts for p in parts), strict=True)]
        return merged

    def psi(self, reference: dict[str, dict[str, list[float]]]) -> dict[str, float]:
        return {
            f: population_stability(np.asarray(reference[f]["shares"]), counts / max(counts.sum(), 1))
            for f, counts in zip(self.features, self.counts, strict=True)
        }


def population_stability(expected: np.ndarray, actual: np.ndarray) -> float:
    e, a = np.maximum(expected, _EPSILON), np.maximum(actual, _EPSILON)
    return float(((a - e) * np.log(a / e)).sum())


def agreement(contingency: np.ndarray) -> tuple[float, float]:
    """(share of customers in the same segment, ARI) from counts[old id index, new id index] where the ids
    are aligned (same id = same segment on both axes)."""
    n = contingency.sum()
    if n == 0:
        return 1.0, 1.0
    same = float(np.trace(contingency)) / n

    def pairs(x: np.ndarray) -> float:
        return float((x * (x - 1) / 2).sum())

    index, rows, cols, total = (
        pairs(contingency),
        pairs(contingency.sum(1)),
        pairs(contingency.sum(0)),
        n * (n - 1) / 2,
    )
    expected = rows * cols / total if total else 0.0
    maximum = (rows + cols) / 2
    ari = 1.0 if maximum == expected else (index - expected) / (maximum - expected)
    return same, float(ari)


def size_changes(contingency: np.ndarray, ids: Sequence[int]) -> dict[str, float]:
    """Change of each segment's share of the common customers (new - old), by segment id."""
    n = max(contingency.sum(), 1)
    return {
        str(sid): float((contingency[:, j].sum() - contingency[j, :].sum()) / n) for j, sid in enumerate(ids)
    }
