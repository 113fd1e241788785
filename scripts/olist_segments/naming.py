"""Segment names from each centre's profile against the whole population, not from a rank.

A centre (in original units) is profiled on three dimensions: `buying` — `repeat` when its frequency is at
least REPEAT_FREQUENCY orders, else `one-time`; `spend` — where its monetary value falls among all customers'
(below the 33rd percentile `low`, to the 75th `mid`, to the 90th `high`, above `top`); `recency` — only when
recency_days is a clustering feature: below the 33rd percentile `recent`, to the 67th `lapsing`, above
`dormant` (else `any`). The segment_definitions seed maps a profile to a name, a description and a suggested
action (the most specific row wins: its recency, else `any`), so marketers edit names without code; two
centres with the same profile are told apart by spend ("… (2)" for the lower-spending). Deterministic: the
same centres and population give the same names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .features import SegmentError

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Table

REPEAT_FREQUENCY = 1.5  # orders: a centre at or above it describes customers who come back
SPEND_TIERS = ((0.33, "low"), (0.75, "mid"), (0.90, "high"), (1.0, "top"))  # upper percentile → tier
RECENCY_TIERS = ((0.33, "recent"), (0.67, "lapsing"), (1.0, "dormant"))
DIMENSIONS = {
    "buying": ("one-time", "repeat"),
    "spend": tuple(t for _, t in SPEND_TIERS),
    "recency": ("any", *(t for _, t in RECENCY_TIERS)),
}
COLUMNS = ("buying", "spend", "recency", "segment_name", "description", "suggested_action")


@dataclass(frozen=True)
class Profile:
    buying: str
    spend: str
    recency: str = "any"

    def __str__(self) -> str:
        return ", ".join(v for v in (self.buying, f"{self.spend} spend", self.recency) if v != "any")


@dataclass(frozen=True)
class Definition:
    segment_name: str
    description: str
    suggested_action: str


class Population:
    """Percentiles of the fit sample's features: what a centre is compared with."""

    def __init__(self, values: np.ndarray, features: Sequence[str]) -> None:
        self.features = list(features)
        self.sorted = {f: np.sort(values[:, i]) for i, f in enumerate(features)}

    def percentile(self, feature: str, value: float) -> float:
        column = self.sorted[feature]
        return float(np.searchsorted(column, value, side="right")) / max(len(column), 1)


def _tier(percentile: float, tiers: tuple[tuple[float, str], ...]) -> str:
    return next(name for upper, name in tiers if percentile <= upper or upper == 1.0)


def profile(center: dict[str, float], population: Population) -> Profile:
    recency = "any"
    if "recency_days" in population.features:
        recency = _tier(population.percentile("recency_days", center["recency_days"]), RECENCY_TIERS)
    return Profile(
        buying="repeat" if center["frequency"] >= REPEAT_FREQUENCY else "one-time",
        spend=_tier(population.percentile("monetary", center["monetary"]), SPEND_TIERS),
        recency=recency,
    )


def load_definitions(table: Table) -> dict[Profile, Definition]:
    """The segment_definitions seed, validated: every (buying, spend) needs a row with recency `any`."""
    where = f"{table.schema}.{table.identifier} (seeds/reference/segment_definitions.csv, loaded by dbt seed)"
    if not table.exists():
        raise SegmentError(f"table {where} not found: run dbt seed --select segment_definitions")
    missing_columns = [c for c in COLUMNS if c not in table.columns()]
    if missing_columns:
        raise SegmentError(f"table {where} has no column {', '.join(missing_columns)}")
    found: dict[Profile, Definition] = {}
    for buying, spend, recency, name, description, action in table.to_pandas(list(COLUMNS)).itertuples(
        index=False
    ):
        key = Profile(str(buying).strip().lower(), str(spend).strip().lower(), str(recency).strip().lower())
        for dimension, allowed in DIMENSIONS.items():
            if getattr(key, dimension) not in allowed:
                raise SegmentError(
                    f"{where}: {dimension} {getattr(key, dimension)!r} is not one of {', '.join(allowed)}"
                )
        if not 0 < len(str(name)) <= 60:
            raise SegmentError(f"{where}: segment_name must be 1-60 characters, got {name!r} ({key})")
        if key in found:
            raise SegmentError(f"{where}: two rows for {key}")
        found[key] = Definition(str(name), str(description or ""), str(action or ""))
    gaps = [
        f"{b}/{s}"
        for b in DIMENSIONS["buying"]
        for s in DIMENSIONS["spend"]
        if Profile(b, s, "any") not in found
    ]
    if gaps:
        raise SegmentError(f"{where} has no row with recency 'any' for {', '.join(gaps)}")
    return found


def describe(
    centers: Sequence[dict[str, float]], population: Population, definitions: dict[Profile, Definition]
) -> list[tuple[Profile, Definition]]:
    """Profile and definition of each centre (same order); duplicate names numbered by falling spend."""
    profiles = [profile(c, population) for c in centers]
    named = [(p, definitions.get(p) or definitions[Profile(p.buying, p.spend)]) for p in profiles]
    by_name: dict[str, list[int]] = {}
    for i, (_, d) in enumerate(named):
        by_name.setdefault(d.segment_name, []).append(i)
    for indices in by_name.values():
        for rank, i in enumerate(sorted(indices, key=lambda j: -centers[j]["monetary"])[1:], 2):
            p, d = named[i]
            named[i] = (p, Definition(f"{d.segment_name} ({rank})", d.description, d.suggested_action))
    return named
