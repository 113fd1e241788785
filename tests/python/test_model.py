"""Model unit tests: k selection (that does not flap), sampling, scaling and the in-memory gate checks."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.cluster import KMeans
from sklearn.datasets import make_blobs
from sklearn.metrics import silhouette_score

from olist_segments import features, model
from olist_segments.features import GateError, Sample, Scaler, SegmentError


def blobs(centers: int, n: int = 2000, seed: int = 11) -> np.ndarray:
    x, _ = make_blobs(n_samples=n, centers=centers, cluster_std=0.7, center_box=(-12, 12), random_state=seed)
    return np.asarray(x)


def test_auto_k_finds_the_four_blobs() -> None:
    fit = model.choose_k(blobs(4), range(2, 11), random_state=42, n_init=3, silhouette_sample=1000)
    assert (fit.k, fit.knee, fit.k_selection) == (4, 4, "auto")
    assert fit.rule.startswith("elbow")
    assert [s.k for s in fit.scores] == list(range(2, 11))
    inertias = [s.inertia for s in fit.scores]
    assert inertias == sorted(inertias, reverse=True)
    # the silhouette, reported beside the elbow, agrees on these well-separated blobs
    assert max(fit.scores, key=lambda s: s.silhouette or -1).k == 4
    assert fit.model.n_clusters == 4 and fit.silhouette == fit.scores[2].silhouette


def test_no_elbow_falls_back_to_the_best_silhouette_and_says_so() -> None:
    assert model.find_knee([2, 3, 4, 5, 6], [10.0, 8.0, 6.0, 4.0, 2.0]) is None  # a straight line
    fit = model.choose_k(blobs(3), [2, 3], random_state=42, n_init=2, silhouette_sample=1000)
    assert fit.knee is None and fit.rule == "no elbow found: best silhouette"
    assert fit.k == max(fit.scores, key=lambda s: s.silhouette or -1).k == 3


def test_a_published_k_is_kept_unless_another_is_clearly_better() -> None:
    x = blobs(4)

    def choose(**kw: float) -> model.ModelFit:
        return model.choose_k(x, range(2, 11), random_state=42, n_init=2, silhouette_sample=1000, **kw)

    sil = {s.k: s.silhouette for s in choose().scores}
    assert choose().k == 4 and sil[4] - sil[5] > 0.05
    kept = choose(previous_k=5, k_switch_margin=sil[4] - sil[5] + 0.01)  # not better by the margin
    assert kept.k == 5 and kept.rule.startswith("kept the published k=5: k=4")
    switched = choose(previous_k=5)  # clearly better than the default margin
    assert switched.k == 4 and "switched from the published k=5" in switched.rule


def test_k_is_chosen_on_the_search_sample_and_fitted_on_every_row() -> None:
    def curve(fit: model.ModelFit) -> list[tuple[float, float | None]]:
        return [(s.inertia, s.silhouette) for s in fit.scores]

    x = blobs(4, n=6000)
    full = model.choose_k(x, range(2, 11), random_state=42, n_init=2, silhouette_sample=1000)
    searched = model.choose_k(
        x, range(2, 11), random_state=42, n_init=2, silhouette_sample=1000, search_rows=1500
    )
    assert (full.search_rows, searched.search_rows) == (6000, 1500)
    assert searched.k == full.k == 4
    assert curve(searched) != curve(full)  # the search sample's inertias, not the whole fit sample's
    assert len(searched.model.labels_) == len(x)  # the chosen k refitted on every row: today's model
    assert np.array_equal(searched.model.cluster_centers_, full.model.cluster_centers_)
    again = model.choose_k(
        x, range(2, 11), random_state=42, n_init=2, silhouette_sample=1000, search_rows=1500
    )
    assert curve(again) == curve(searched)  # the same seeded search sample every run
    below = model.choose_k(
        x, range(2, 11), random_state=42, n_init=2, silhouette_sample=1000, search_rows=6000
    )
    assert curve(below) == curve(full)  # no more rows than search_rows: searched on all of them


def test_fixed_k() -> None:
    fit = model.choose_k(blobs(4), [6], random_state=1, n_init=1)
    assert (fit.k, fit.k_selection, fit.rule, fit.model.n_clusters) == (6, "fixed", "fixed", 6)


def test_silhouettes_are_sklearns_on_its_sample_whatever_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    x = blobs(4, n=3000)
    labels = {k: KMeans(n_clusters=k, n_init=1, random_state=0).fit(x).labels_ for k in (2, 4, 7)}
    labels[3] = np.where(labels[4] == 3, 0, labels[4])  # cluster ids 0, 1, 2 of 0..3: one id unused
    labels[1] = np.zeros(len(x), dtype=int)  # one cluster: undefined
    ours = model.silhouettes(x, labels, sample_size=1000, random_state=42, block=300)
    assert ours[1] is None
    for k in (2, 3, 4, 7):
        expected = silhouette_score(x, labels[k], sample_size=1000, random_state=42)
        assert ours[k] == pytest.approx(expected, abs=1e-9)
    monkeypatch.setattr(model, "WORKERS", 1)
    assert model.silhouettes(x, labels, sample_size=1000, random_state=42, block=300) == ours


def test_fits_are_reproducible() -> None:
    x = blobs(5, n=5000)
    first = model.fit_kmeans(x, 5, random_state=42, n_init=4)
    second = model.fit_kmeans(x, 5, random_state=42, n_init=4)
    assert np.array_equal(first.labels_, second.labels_)
    assert np.array_equal(first.cluster_centers_, second.cluster_centers_)


def test_assign_is_the_nearest_centre_with_its_exact_distance() -> None:
    x = blobs(4, n=500)
    km = KMeans(n_clusters=4, n_init=1, random_state=0).fit(x)
    labels, distance = model.assign(km.cluster_centers_, x)
    assert np.array_equal(labels, km.predict(x))
    assert np.allclose(distance, np.linalg.norm(x - km.cluster_centers_[labels], axis=1), rtol=0, atol=1e-12)


def _keys(start: int, stop: int) -> np.ndarray:
    return np.array([f"{i:032x}" for i in range(start, stop)], dtype=object)


def _stream(sample: Sample, start: int, stop: int, chunk: int) -> Sample:
    for lo in range(start, stop, chunk):
        hi = min(lo + chunk, stop)
        sample.add(_keys(lo, hi), np.arange(lo, hi, dtype=float).reshape(-1, 1))
    return sample


def test_sample_keeps_every_row_in_order_when_the_stream_is_small() -> None:
    assert _stream(Sample(size=100, seed=1), 0, 90, 7).sample()[:, 0].tolist() == list(range(90))


def test_sample_is_a_seeded_uniform_sample_in_stream_order() -> None:
    def draw(seed: int, chunk: int = 777) -> np.ndarray:
        sample = _stream(Sample(size=2000, seed=seed), 0, 50_000, chunk)
        assert sample.seen == 50_000
        return sample.sample()[:, 0]

    sample = draw(5)
    assert len(sample) == 2000 and len(np.unique(sample)) == 2000
    assert np.all(np.diff(sample) > 0)  # stream order
    assert np.array_equal(sample, draw(5)) and not np.array_equal(sample, draw(6))
    assert np.array_equal(sample, draw(5, chunk=5000))  # the chunk size does not matter
    per_tenth = np.bincount((sample // 5000).astype(int), minlength=10)
    assert per_tenth.min() > 140 and per_tenth.max() < 260  # expected 200 each


def test_merged_range_samples_are_the_sample_of_the_whole_stream() -> None:
    whole = _stream(Sample(size=2000, seed=7), 0, 50_000, 1000).sample()
    for cuts in ([0, 25_000, 50_000], [0, 1_000, 1_500, 30_000, 49_999, 50_000], [0, 10, 50_000]):
        parts = [_stream(Sample(2000, 7), lo, hi, 333) for lo, hi in itertools.pairwise(cuts)]
        merged = Sample.merge(parts)
        assert merged.seen == 50_000 and np.array_equal(merged.sample(), whole)
    small = [_stream(Sample(100, 7), lo, hi, 9) for lo, hi in ((0, 40), (40, 41), (41, 90))]
    assert Sample.merge(small).sample()[:, 0].tolist() == list(range(90))


def test_scaler_is_log1p_then_standard_and_inverts() -> None:
    values = np.array([[0.0, 1.0], [99.0, 3.0], [999.0, 1.0]])
    scaler = Scaler.fit(values)
    z = scaler.transform(values)
    assert np.allclose(z.mean(axis=0), 0) and np.allclose(z.std(axis=0), 1)
    assert np.allclose(scaler.inverse(z), values)
    params = scaler.params(["monetary", "frequency"])
    assert params["mean"] == pytest.approx(np.log1p(values).mean(axis=0).tolist())


@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
def test_non_finite_values_are_refused_with_the_column_name(bad: float) -> None:
    # MySQL/MariaDB cannot store inf or NaN in DECIMAL/INT/DOUBLE columns, so this gate is tested in memory.
    values = np.array([[10.0, 1.0], [20.0, bad], [30.0, bad]])
    with pytest.raises(GateError, match=r"column m\.customer_features\.frequency has 2 non-finite values"):
        features.check_finite(values, ["monetary", "frequency"], "m.customer_features")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("monetary,frequency,`x`", "unknown feature '`x`'"),
        ("monetary,frequency; drop table customer_features", "unknown feature 'frequency; drop table"),
        ("monetary,frequency,customer_city", "unknown feature 'customer_city'"),
        ("monetary", "must include monetary and frequency"),
        ("monetary,frequency,monetary", "listed twice"),
    ],
)
def test_feature_lists_are_validated(text: str, message: str) -> None:
    with pytest.raises(SegmentError, match=message.replace("(", r"\(")):
        features.parse_features(text)


def test_feature_list_accepts_other_numeric_columns() -> None:
    assert features.parse_features(" monetary, frequency ,recency_days") == (
        "monetary",
        "frequency",
        "recency_days",
    )
