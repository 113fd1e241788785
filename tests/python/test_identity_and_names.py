"""Segment identity, names and drift as unit tests: matching centres, profiles, PSI, agreement."""

from __future__ import annotations

import numpy as np
import pytest

from olist_segments import drift, identity, naming
from olist_segments.naming import Definition, Population, Profile

FEATURES = ["monetary", "frequency"]


def definitions() -> dict[Profile, Definition]:
    found = {
        Profile(b, s): Definition(f"{b} {s}", f"{b} and {s} spend", "act")
        for b in naming.DIMENSIONS["buying"]
        for s in naming.DIMENSIONS["spend"]
    }
    found[Profile("repeat", "high", "recent")] = Definition("recent loyal", "", "")
    return found


def olist_like(n: int = 20_000, seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    frequency = np.where(rng.random(n) < 0.97, 1, rng.integers(2, 6, n))
    return np.column_stack([rng.lognormal(4.7, 0.8, n) * frequency, frequency, rng.integers(1, 700, n)])


def test_names_follow_the_profile_not_the_rank() -> None:
    population = Population(olist_like()[:, :2], FEATURES)
    centers = [
        {"monetary": 50.0, "frequency": 1.0},
        {"monetary": 140.0, "frequency": 1.0},
        {"monetary": 240.0, "frequency": 2.1},
        {"monetary": 900.0, "frequency": 1.0},
    ]
    named = naming.describe(centers, population, definitions())
    assert [str(p) for p, _ in named] == [
        "one-time, low spend",
        "one-time, mid spend",
        "repeat, high spend",
        "one-time, top spend",
    ]
    assert named[2][1].segment_name == "repeat high"  # the repeat buyers' name says they come back
    assert naming.describe(centers, population, definitions()) == named  # deterministic


def test_recency_counts_when_it_is_a_feature_and_duplicates_are_numbered() -> None:
    values = olist_like()
    population = Population(values, [*FEATURES, "recency_days"])
    centers = [
        {"monetary": 240.0, "frequency": 2.1, "recency_days": 20.0},
        {"monetary": 140.0, "frequency": 1.0, "recency_days": 350.0},
        {"monetary": 150.0, "frequency": 1.0, "recency_days": 360.0},
    ]
    named = naming.describe(centers, population, definitions())
    assert named[0][1].segment_name == "recent loyal"  # the specific row wins over `any`
    assert [d.segment_name for _, d in named[1:]] == [
        "one-time mid (2)",
        "one-time mid",
    ]  # higher spend first


def test_matching_keeps_ids_and_reports_new_and_vanished_segments() -> None:
    previous = np.array([[0.0, 0.0], [5.0, 0.0], [0.0, 5.0]])
    moved = previous[[2, 0, 1]] + 0.1  # the same three clusters, in another KMeans label order
    same = identity.match(moved, previous, [7, 8, 9], max_distance=1.0, next_id=10)
    assert same.ids == [9, 7, 8] and same.new == [] and same.vanished == []
    assert all(d == pytest.approx(0.1 * 2**0.5) for d in same.kept.values())
    changed = identity.match(np.array([[0.1, 0.0], [9.0, 9.0]]), previous, [7, 8, 9], 1.0, next_id=10)
    assert changed.ids == [7, 10] and changed.new == [10] and changed.vanished == [8, 9]


def test_first_run_ids_rank_centres_by_spend() -> None:
    centers = [{"monetary": m, "frequency": f} for m, f in ((100, 2), (100, 1), (50, 3))]
    assert identity.rank_by_spend(centers, FEATURES) == [3, 2, 1]


def test_psi_is_zero_for_the_same_distribution_and_large_for_doubled_spend() -> None:
    values = np.log1p(olist_like()[:, :2])
    reference = drift.reference_bins(values, FEATURES)
    same, doubled = drift.Binner(reference, FEATURES), drift.Binner(reference, FEATURES)
    same.add(np.log1p(olist_like(seed=4)[:, :2]))
    doubled.add(np.log1p(olist_like(seed=4)[:, :2] * [2.0, 1.0]))
    assert max(same.psi(reference).values()) < 0.02
    psi = doubled.psi(reference)
    assert psi["monetary"] > 0.25 and psi["frequency"] < 0.02


def test_agreement_from_the_contingency_table() -> None:
    assert drift.agreement(np.diag([50.0, 30.0, 20.0])) == (1.0, 1.0)
    same, ari = drift.agreement(np.array([[45.0, 5.0], [5.0, 45.0]]))
    assert same == pytest.approx(0.9) and 0.5 < ari < 0.7
    changes = drift.size_changes(np.array([[40.0, 10.0], [0.0, 50.0]]), [1, 2])
    assert changes == {"1": pytest.approx(-0.1), "2": pytest.approx(0.1)}
