"""A segment keeps its id and name from run to run: a refit's centres are matched to the published run's.

Matching is a minimum-cost assignment (Hungarian algorithm) on the distance between centres in the new run's
model space (the previous centres, in original units, put through the new scaler). A pair farther apart than
`max_distance` is no match: the new centre is a new segment, the old one vanished. Matched centres keep the
previous segment id and name; new ones get ids never used before and a name from their profile.
The first run (nothing published yet) numbers its segments by ascending centre spend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment


@dataclass(frozen=True)
class Segment:
    """A published segment: what a later run needs to recognise it and to score with it."""

    segment_id: int
    segment_name: str
    description: str
    suggested_action: str
    profile: str
    center: dict[str, float]  # original units


@dataclass
class Matching:
    ids: list[int]  # segment id of each new centre (KMeans label order)
    kept: dict[int, float] = field(default_factory=dict)  # segment id → distance moved (model space)
    new: list[int] = field(default_factory=list)
    vanished: list[int] = field(default_factory=list)

    def summary(self) -> dict[str, object]:
        return {
            "kept": {str(k): round(v, 4) for k, v in sorted(self.kept.items())},
            "new": sorted(self.new),
            "vanished": sorted(self.vanished),
        }


def rank_by_spend(centers: Sequence[dict[str, float]], features: Sequence[str]) -> list[int]:
    """First run: ids 1..k by ascending monetary, ties by frequency, then the other features in order."""
    order = sorted(range(len(centers)), key=lambda i: [centers[i]["monetary"], centers[i]["frequency"]]
                   + [centers[i][f] for f in features if f not in ("monetary", "frequency")])  # fmt: skip
    ids = [0] * len(centers)
    for rank, i in enumerate(order, 1):
        ids[i] = rank
    return ids


def match(
    new_scaled: np.ndarray,
    previous_scaled: np.ndarray,
    previous_ids: Sequence[int],
    max_distance: float,
    next_id: int,
) -> Matching:
    """Ids for the new centres (rows of new_scaled), matched to the previous ones in the same model space;
    unmatched centres get ids from `next_id` on (ids are never reused for another segment)."""
    distances = np.sqrt(((new_scaled[:, None, :] - previous_scaled[None, :, :]) ** 2).sum(axis=2))
    rows, cols = linear_sum_assignment(distances)
    ids: list[int | None] = [None] * len(new_scaled)
    result = Matching(ids=[])
    for r, c in zip(rows.tolist(), cols.tolist(), strict=True):
        if distances[r, c] <= max_distance:
            ids[r] = int(previous_ids[c])
            result.kept[int(previous_ids[c])] = float(distances[r, c])
    for i, sid in enumerate(ids):
        if sid is None:
            ids[i], next_id = next_id, next_id + 1
            result.new.append(ids[i])  # type: ignore[arg-type]
    result.ids = [int(i) for i in ids]  # type: ignore[arg-type]
    result.vanished = [int(p) for p in previous_ids if int(p) not in result.kept]
    return result
