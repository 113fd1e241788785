"""The segmentation model: customer_features → log1p + scaling → KMeans → segments that keep their meaning.

`models/ml/customer_segments.py` (a dbt Python model) calls `segment()`, which returns the scored customers
as a stream of DataFrames; the dbt adapter (adapters/mysql_python) loads them into a new customer_segments
and swaps it in, together with the registry's staged copy holding this run's row, in one RENAME TABLE.

A run either scores with the approved model — the published run's scaler, centres, ids and names, stored in
its registry row (`frozen`: the daily run; new customers get a segment the day they appear) — or refits
(`refit`): on request (refit: always), on the first run, when the model is older than refit_after_days, or
when the input drifted from the model's fit sample (refit: auto). A refit keeps the published k unless
another is clearly better, matches its centres to the published ones so segments keep their ids and names
(identity.py), and names new segments from their profile (naming.py). Every run is compared with the
published one (drift.py): input drift, agreement on the common customers, segment sizes; beyond the
thresholds it is refused — nothing is published — unless accepted.

Scale: the mart is streamed twice and never held in memory. Pass 1 reads the feature columns in key order
into a seeded uniform reservoir sample of at most `max_fit_rows` rows (all rows, exact KMeans, when the mart
is smaller) and counts them into the approved model's drift bins; pass 2 scores chunk by chunk. Both passes
read one consistent snapshot (the adapter's session). The agreement with the published assignment is one SQL
aggregate over the loaded table and the live one.
"""

from __future__ import annotations

import logging
import platform
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import db, drift, features, identity, model, naming, registry
from .features import DEFAULT_FEATURES, KEY, GateError, Progress, SegmentError

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Session, Table

log = logging.getLogger(__name__)

SEGMENTS = "customer_segments"
COLUMNS = ("customer_unique_id", "segment_id", "segment_name", "distance_to_centroid", "run_id", "scored_at")
REFIT = ("never", "auto", "always")


class DriftRefused(GateError):
    """The run is too far from the published one: it is not published (registry status `refused`)."""

    refused = True


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
    refit: str = "auto"  # never | auto | always
    refit_after_days: int = 90  # refit: auto refits a model older than this (0: never for age)
    k_switch_margin: float = 0.05
    match_max_distance: float = 1.0
    max_psi: float = drift.Thresholds.max_psi
    refit_psi: float = drift.Thresholds.refit_psi
    min_ari: float = drift.Thresholds.min_ari
    max_size_change: float = drift.Thresholds.max_size_change
    accept_drift: bool = False

    def ks(self) -> list[int]:
        return [self.k] if self.k is not None else list(range(self.k_range[0], self.k_range[1] + 1))

    @property
    def thresholds(self) -> drift.Thresholds:
        return drift.Thresholds(self.max_psi, self.refit_psi, self.min_ari, self.max_size_change)

    @classmethod
    def from_config(cls, **values: Any) -> SegmentOptions:
        """Options from dbt config values (strings as dbt renders them, or None for the default)."""
        unknown = set(values) - set(PARSERS)
        if unknown:
            raise SegmentError(f"unknown segmentation setting {sorted(unknown)[0]!r}")
        parsed = {}
        for name, value in values.items():
            if value is None or str(value).strip() in ("", "None"):
                continue
            try:
                parsed[name] = PARSERS[name](str(value).strip())
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


def between(low: float, high: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        value = float(text)
        if not low <= value <= high:
            raise ValueError(f"must be between {low} and {high}, got {value}")
        return value

    return parse


def parse_k(text: str) -> int | None:
    return None if text == "auto" else at_least(2)(text)


def parse_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if not sep or not low.isdigit() or not high.isdigit() or not 2 <= int(low) <= int(high):
        raise ValueError(f"expected LO-HI with 2 <= LO <= HI, e.g. 2-10; got {text!r}")
    return int(low), int(high)


def parse_refit(text: str) -> str:
    if text not in REFIT:
        raise ValueError(f"expected one of {', '.join(REFIT)}; got {text!r}")
    return text


def parse_bool(text: str) -> bool:
    if text.lower() not in ("true", "false", "1", "0", "yes", "no"):
        raise ValueError(f"expected true or false; got {text!r}")
    return text.lower() in ("true", "1", "yes")


PARSERS: dict[str, Callable[[str], Any]] = {
    "features": features.parse_features,
    "k": parse_k,
    "k_range": parse_range,
    "random_state": int,
    "n_init": at_least(1),
    "max_iter": at_least(1),
    "chunk_size": at_least(1),
    "max_fit_rows": at_least(2),
    "silhouette_sample": at_least(2),
    "refit": parse_refit,
    "refit_after_days": at_least(0),
    "k_switch_margin": between(0, 1),
    "match_max_distance": between(0, 100),
    "max_psi": between(0, 100),
    "refit_psi": between(0, 100),
    "min_ari": between(-1, 1),
    "max_size_change": between(0, 1),
    "accept_drift": parse_bool,
}


@dataclass
class Model:
    """What scoring needs: the scaling, the centres (model space) with their segments, the drift bins."""

    scaler: features.Scaler
    centers: np.ndarray  # k x features, model space, in segment order
    segments: list[identity.Segment]
    reference: dict[str, dict[str, list[float]]] | None  # None: a run recorded before drift bins existed
    fitted_by_run: str
    fitted_at: datetime
    max_segment_id: int

    @property
    def ids(self) -> np.ndarray:
        return np.array([s.segment_id for s in self.segments])

    def score(self, values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        labels, distance = model.assign(self.centers, self.scaler.transform(values))
        names = np.array([s.segment_name for s in self.segments], dtype=object)
        return self.ids[labels], names[labels], distance

    @classmethod
    def from_registry(cls, row: dict[str, Any], options: SegmentOptions) -> Model | None:
        """The model of a published run, if it was clustered on `options.features`."""
        scaler, metrics = row.get("scaler") or {}, row.get("metrics") or {}
        if list(scaler.get("features") or []) != list(options.features) or not row.get("centroids"):
            return None
        centroids = sorted(row["centroids"], key=lambda c: c["segment_id"])
        standard = features.Scaler(np.array(scaler["mean"]), np.array(scaler["scale"]))
        centers = np.array([[c["center"][f] for f in options.features] for c in centroids])
        segments = [
            identity.Segment(
                int(c["segment_id"]),
                c["segment_name"],
                c.get("description", ""),
                c.get("suggested_action", ""),
                c.get("profile", ""),
                c["center"],
            )
            for c in centroids
        ]
        return cls(
            scaler=standard,
            centers=np.array([c["center_scaled"] for c in centroids])
            if all("center_scaled" in c for c in centroids)
            else standard.transform(centers),
            segments=segments,
            reference=metrics.get("reference"),
            fitted_by_run=str(metrics.get("fitted_by_run") or row["run_id"]),
            fitted_at=datetime.fromisoformat(str(metrics.get("fitted_at") or row["started_at"])),
            max_segment_id=int(metrics.get("max_segment_id") or max(s.segment_id for s in segments)),
        )


@dataclass
class Run:
    """One run's facts as they accrue, for its registry row."""

    record: registry.RunRecord
    options: SegmentOptions
    timings: dict[str, float] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)

    @contextmanager
    def timed(self, name: str) -> Iterator[None]:
        start = time.monotonic()
        yield
        self.timings[name] = self.timings.get(name, 0.0) + time.monotonic() - start


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
    customers: Table, definitions: Table, published: Table, session: Session, opts: SegmentOptions
) -> Iterator[pd.DataFrame]:
    """Score customer_features (`customers`) and return the customers as DataFrames of `COLUMNS`.

    `published` is the live customer_segments (the model's own table). Everything up to the model happens
    now — a failure stops the run before anything is written; the returned iterator scores chunk by chunk
    and, after the last chunk, compares with the published assignment, applies the gate and writes the
    run's registry row.
    """
    run = Run(
        registry.RunRecord(
            run_id=str(uuid.uuid4()),
            started_at=registry.now(),
            features=list(opts.features),
            params={**asdict(opts), "algorithm": "lloyd", "threads": model.THREADS},
        ),
        opts,
    )
    session.on_failure(lambda error: registry.record_failure(session, run.record, error))
    run.record.library_versions = library_versions(session)
    definitions_by_profile = naming.load_definitions(definitions)
    stats = features.check_mart(customers, opts.features)
    run.record.data_as_of, run.record.n_customers = stats.data_as_of, stats.rows
    row = registry.published_row(session, published)
    approved = Model.from_registry(row, opts) if row else None
    fit_values, binned = _pass_one(customers, opts, stats, approved, run)
    mode, why = _mode(opts, approved, binned, row, run)
    log.info("run %s: %s (%s)", run.record.run_id, mode, why)
    run.metrics |= {"mode": mode, "mode_reason": why}
    if mode == "refit":
        scoring = _refit(fit_values, opts, approved, definitions_by_profile, run)
    else:
        assert approved is not None
        scoring, run.record.k, run.record.k_selection = approved, len(approved.segments), "frozen"
        assert scoring.reference is not None
        run.record.silhouette = row.get("silhouette") if row else None
    _describe_model(scoring, opts, run)
    # Only once the read-only gates passed: a run refused by them creates nothing.
    staged = session.stage_copy(registry.ensure(session).identifier)
    return _scores(customers, published, session, stats, scoring, run, staged)


def _pass_one(
    customers: Table, opts: SegmentOptions, stats: features.MartStats, approved: Model | None, run: Run
) -> tuple[np.ndarray, drift.Binner | None]:
    """The rows KMeans would be fitted on (all up to max_fit_rows, past the distinct-points gate) and the
    customers counted into the approved model's drift bins."""
    reservoir = features.Reservoir(opts.max_fit_rows, opts.random_state)
    binner = drift.Binner(approved.reference, opts.features) if approved and approved.reference else None
    progress = Progress("read", stats.rows)
    for chunk in customers.chunks(list(opts.features), size=opts.chunk_size, order_by=[KEY]):
        values = chunk.to_numpy(np.float64)
        features.check_finite(values, opts.features, stats.table)
        reservoir.add(values)
        if binner is not None and approved is not None:
            binner.add(approved.scaler.transform(values))
        progress.add(len(values))
    run.timings["read"] = progress.finish()
    fit_values = reservoir.sample()
    distinct, k = len(np.unique(fit_values, axis=0)), max(opts.ks())
    if distinct < k:
        where = " in the fit sample" if reservoir.seen > opts.max_fit_rows else ""
        raise GateError(
            f"table {stats.table} has only {distinct} distinct ({','.join(opts.features)}) points{where};"
            f" k={k} needs at least {k} (choose a smaller k or k_range)"
        )
    run.metrics["fit_rows"] = len(fit_values)
    return fit_values, binner


def _mode(
    opts: SegmentOptions,
    approved: Model | None,
    binned: drift.Binner | None,
    row: dict[str, Any] | None,
    run: Run,
) -> tuple[str, str]:
    """`refit` or `frozen`, and why; refuses input that drifted beyond max_psi (unless accepted)."""
    if approved is None:
        return "refit", "no published model on these features" if row else "first run"
    if binned is None or approved.reference is None:
        return "refit", f"the model of run {approved.fitted_by_run} has no drift bins (recorded before them)"
    psi = binned.psi(approved.reference)
    run.metrics["input_psi"] = {f: round(v, 4) for f, v in psi.items()}
    worst = max(psi, key=psi.__getitem__)
    run.metrics["max_input_psi"] = round(psi[worst], 4)
    if psi[worst] > opts.max_psi and opts.accept_drift:
        run.metrics["accepted"] = f"input drift PSI of {worst} {psi[worst]:.3f} > max_psi {opts.max_psi}"
    elif psi[worst] > opts.max_psi:
        raise DriftRefused(
            f"input drift: PSI of {worst} is {psi[worst]:.3f} > max_psi {opts.max_psi} against the model of"
            f" run {approved.fitted_by_run} ("
            + ", ".join(f"{f} {v:.3f}" for f, v in psi.items())
            + "); not published: the previous segments stay. Check the data, or accept with"
            " --vars '{segment_accept_drift: true}'"
        )
    age = registry.now() - approved.fitted_at
    if opts.refit == "always":
        return "refit", "refit: always"
    if opts.refit == "never":
        return "frozen", f"refit: never (model of run {approved.fitted_by_run})"
    if psi[worst] > opts.refit_psi:
        return "refit", f"input drift: PSI of {worst} {psi[worst]:.3f} > refit_psi {opts.refit_psi}"
    if opts.refit_after_days and age > timedelta(days=opts.refit_after_days):
        return "refit", f"model of run {approved.fitted_by_run} is {age.days} days old (refit_after_days)"
    return "frozen", f"model of run {approved.fitted_by_run}; input PSI at most {psi[worst]:.3f}"


def _refit(
    fit_values: np.ndarray,
    opts: SegmentOptions,
    approved: Model | None,
    definitions: dict[naming.Profile, naming.Definition],
    run: Run,
) -> Model:
    """Fit, choose k (keeping the published one unless clearly beaten), keep identities, name new segments."""
    with run.timed("choose_k"):
        scaler = features.Scaler.fit(fit_values)
        z = scaler.transform(fit_values)
        fit = model.choose_k(
            z,
            opts.ks(),
            random_state=opts.random_state,
            n_init=opts.n_init,
            max_iter=opts.max_iter,
            silhouette_sample=opts.silhouette_sample,
            previous_k=len(approved.segments) if approved else None,
            k_switch_margin=opts.k_switch_margin,
        )
    centers_scaled = np.asarray(fit.model.cluster_centers_)
    centers = [
        {f: float(v) for f, v in zip(opts.features, c, strict=True)} for c in scaler.inverse(centers_scaled)
    ]
    if approved is None:
        ids = identity.rank_by_spend(centers, opts.features)
        matching = identity.Matching(ids=ids, new=list(ids))
    else:
        previous = scaler.transform(
            np.array([[s.center[f] for f in opts.features] for s in approved.segments])
        )
        matching = identity.match(
            centers_scaled,
            previous,
            approved.ids.tolist(),
            opts.match_max_distance,
            approved.max_segment_id + 1,
        )
    described = naming.describe(centers, naming.Population(fit_values, opts.features), definitions)
    kept = {s.segment_id: s for s in approved.segments} if approved else {}
    segments = []
    for sid, center, (profile, definition) in zip(matching.ids, centers, described, strict=True):
        if (
            sid in kept and kept[sid].profile
        ):  # a matched segment keeps its name (names from rank are renamed)
            old = kept[sid]
            segments.append(identity.Segment(sid, old.segment_name, old.description, old.suggested_action,
                                             str(profile), center))  # fmt: skip
        else:
            segments.append(identity.Segment(sid, definition.segment_name, definition.description,
                                             definition.suggested_action, str(profile), center))  # fmt: skip
    order = np.argsort([s.segment_id for s in segments])
    sizes = np.bincount(fit.model.labels_, minlength=fit.k)
    run.record.k, run.record.k_selection, run.record.silhouette = fit.k, fit.k_selection, fit.silhouette
    run.metrics |= {
        "per_k": [asdict(s) for s in fit.scores],
        "rule": fit.rule,
        "knee": fit.knee,
        "matching": matching.summary(),
        "fit_sizes": {str(segments[i].segment_id): int(sizes[i]) for i in order},
    }
    return Model(
        scaler=scaler,
        centers=centers_scaled[order],
        segments=[segments[i] for i in order],
        reference=drift.reference_bins(z, opts.features),
        fitted_by_run=run.record.run_id,
        fitted_at=run.record.started_at,
        max_segment_id=max(max(matching.ids), approved.max_segment_id if approved else 0),
    )


def _describe_model(scoring: Model, opts: SegmentOptions, run: Run) -> None:
    """The registry's copy of the model: what the next run scores with and matches against."""
    run.record.scaler = scoring.scaler.params(opts.features)
    run.record.centroids = [
        {**asdict(s), "center_scaled": [float(v) for v in c]}
        for s, c in zip(scoring.segments, scoring.centers, strict=True)
    ]
    run.metrics |= {
        "reference": scoring.reference,
        "fitted_by_run": scoring.fitted_by_run,
        "fitted_at": scoring.fitted_at.isoformat(sep=" "),
        "max_segment_id": scoring.max_segment_id,
    }
    names = ", ".join(f"{s.segment_id} {s.segment_name} [{s.profile}]" for s in scoring.segments)
    log.info("segments: %s", names)


def _scores(
    customers: Table,
    published: Table,
    session: Session,
    stats: features.MartStats,
    scoring: Model,
    run: Run,
    staged: Table,
) -> Iterator[pd.DataFrame]:
    """Pass 2: every customer scored, chunk by chunk; then the comparison, the gate, the registry row."""
    opts = run.options
    progress = Progress("score + load", stats.rows)
    scored_at, written = registry.now(), 0
    for chunk in customers.chunks([KEY, *opts.features], size=opts.chunk_size, order_by=[KEY]):
        values = chunk[list(opts.features)].to_numpy(np.float64)
        features.check_finite(values, opts.features, stats.table)
        with run.timed("score"):
            segment_id, names, distance = scoring.score(values)
            scored = pd.DataFrame(
                {
                    KEY: chunk[KEY].astype(str),
                    "segment_id": segment_id,
                    "segment_name": names,
                    "distance_to_centroid": distance,
                    "run_id": run.record.run_id,
                    "scored_at": scored_at,
                }
            )
        with run.timed("load"):  # the adapter writes the chunk before asking for the next one
            yield scored
        written += len(scored)
        progress.add(len(scored))
    run.timings["read_score_load"] = progress.finish()
    if written != stats.rows:
        raise SegmentError(f"scored {written:,} customers, {stats.table} has {stats.rows:,}: not published")
    with run.timed("compare"):
        _compare(session, published, scoring, run)
    record = run.record
    record.metrics = {**run.metrics, "timings_s": {n: round(s, 3) for n, s in run.timings.items()}}
    record.status, record.finished_at = "published", registry.now()
    registry.insert(session, staged, record)
    log.info(
        "scored %s customers in %d segments (run %s, %s); %s",
        f"{stats.rows:,}",
        record.k,
        record.run_id,
        run.metrics["mode"],
        ", ".join(f"{n} {s:.2f} s" for n, s in run.timings.items()),
    )


def _compare(session: Session, published: Table, scoring: Model, run: Run) -> None:
    """Agreement and segment sizes against the published assignment, on the customers in both; the gate."""
    if session.new_table is None or not session.columns(published.schema, published.identifier, writer=True):
        return
    pairs = session.execute(
        f"select old.segment_id, new.segment_id, count(*) from {published.name} old"
        f" join {session.new_table.name} new using ({db.quote_ident(KEY)}) group by 1, 2"
    )
    ids = sorted({int(o) for o, _, _ in pairs} | {int(n) for _, n, _ in pairs})
    position = {sid: i for i, sid in enumerate(ids)}
    contingency = np.zeros((len(ids), len(ids)))
    for old, new, count in pairs:
        contingency[position[int(old)], position[int(new)]] = int(count)
    same, ari = drift.agreement(contingency)
    changes = drift.size_changes(contingency, ids)
    largest = max(changes.values(), key=abs, default=0.0)
    run.metrics |= {
        "agreement": {
            "customers": int(contingency.sum()),
            "same_segment": round(same, 5),
            "ari": round(ari, 5),
        },
        "size_changes": {k: round(v, 5) for k, v in changes.items()},
        "largest_size_change": round(largest, 5),
    }
    log.info(
        "against the published run: %s common customers, %.2f%% keep their segment, ARI %.4f, largest size"
        " change %+.2f%%",
        f"{int(contingency.sum()):,}",
        100 * same,
        ari,
        100 * largest,
    )
    t = run.options.thresholds
    problems = []
    if ari < t.min_ari:
        problems.append(f"ARI {ari:.3f} < min_ari {t.min_ari}")
    if abs(largest) > t.max_size_change:
        problems.append(f"a segment's share changed by {largest:+.3f} > max_size_change {t.max_size_change}")
    if problems and run.options.accept_drift:
        run.metrics["accepted"] = "; ".join(problems)
    elif problems:
        raise DriftRefused(
            f"the new assignment is too far from the published one ({'; '.join(problems)}; "
            f"{100 * same:.2f}% of {int(contingency.sum()):,} common customers keep their segment): not"
            " published, the previous segments stay. Accept with --vars '{segment_accept_drift: true}'"
        )
