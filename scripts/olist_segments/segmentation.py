"""The segmentation model: customer_features → log1p + scaling → KMeans → segments that keep their meaning.

`models/ml/customer_segments.py` (a dbt Python model) calls `segment()`, which loads the scored customers into
the model's new table; the dbt adapter (adapters/mysql_python) swaps it in, together with the registry's
staged copy holding this run's row, in one RENAME TABLE.

A run either scores with the approved model — the published run's scaler, centres, ids and names, stored in
its registry row (`frozen`: the daily run; new customers get a segment the day they appear) — or refits
(`refit`): on request (refit: always), on the first run, when the model is older than refit_after_days, or
when the input drifted from the model's fit sample (refit: auto). A refit keeps the published k unless
another is clearly better, matches its centres to the published ones so segments keep their ids and names
(identity.py), and names new segments from their profile (naming.py). Every run is compared with the
published one (drift.py): input drift, agreement on the common customers, segment sizes; beyond the
thresholds it is refused — nothing is published — unless accepted.

Scale: the mart is streamed twice and never held in memory, each pass a task over key ranges of the mart
(`Table.map_ranges`: one range in the dbt process with submission_method local, many on a Dask cluster with
dask). Pass 1 (`read_range`) keeps a seeded uniform sample of at most `max_fit_rows` rows (all rows, exact
KMeans, when the mart is smaller), the same whatever the ranges, and counts the rows into the approved
model's drift bins; the fit runs once, here; pass 2 (`score_range`) scores chunk by chunk and the adapter
loads the rows. The agreement with the published assignment is one SQL aggregate over the loaded table and
the live one.
"""

from __future__ import annotations

import logging
import platform
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from importlib.metadata import version
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from . import db, drift, features, identity, model, naming, registry
from .features import KEY, GateError, SegmentError
from .scoring import Model
from .segment_options import SegmentOptions

if TYPE_CHECKING:
    from dbt.adapters.mysql_python.python_models import Session, Table

log = logging.getLogger(__name__)

SEGMENTS = "customer_segments"
COLUMNS = ("customer_unique_id", "segment_id", "segment_name", "distance_to_centroid", "run_id", "scored_at")


class DriftRefused(GateError):
    """The run is too far from the published one: it is not published (registry status `refused`)."""

    refused = True


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
) -> Table:
    """Score customer_features (`customers`) into the model's new table (rows of `COLUMNS`) and return it.

    `published` is the live customer_segments (the model's own table). The gates and the model come first
    — a failure there stops the run before anything is written; then every customer is scored and loaded,
    compared with the published assignment, and the run's registry row is staged.
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
    run.record.metrics = run.metrics  # a refused or failed run records the figures it had
    session.on_failure(lambda error: registry.record_failure(session, run.record, error))
    run.record.library_versions = library_versions(session)
    definitions_by_profile = naming.load_definitions(definitions)
    stats = features.check_mart(customers, opts.features)
    run.record.data_as_of, run.record.n_customers = stats.data_as_of, stats.rows
    row = registry.published_row(session, published)
    approved = Model.from_registry(row, opts) if row else None
    fit_values, binned, range_rows = _pass_one(customers, opts, stats, approved, run)
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
    _pass_two(customers, stats, scoring, run, range_rows)
    with run.timed("compare"):
        _compare(session, published, run)
    _stage_record(session, staged, stats, run)
    assert session.new_table is not None
    return session.new_table


@dataclass
class RangeRead:
    """What pass 1 learned from one key range of the mart."""

    sample: features.Sample
    binner: drift.Binner | None
    rows: int


def read_range(
    chunks: Iterator[pd.DataFrame], opts: SegmentOptions, table: str, approved: Model | None
) -> RangeRead:
    """Pass 1 over one key range: the fit sample, the rows counted into the approved model's drift bins."""
    sample = features.Sample(opts.max_fit_rows, opts.random_state)
    binner = drift.Binner(approved.reference, opts.features) if approved and approved.reference else None
    rows = 0
    for chunk in chunks:
        values = chunk[list(opts.features)].to_numpy(np.float64)
        features.check_finite(values, opts.features, table)
        sample.add(chunk[KEY].to_numpy(object), values)
        if binner is not None and approved is not None:
            binner.add(approved.scaler.transform(values))
        rows += len(values)
    return RangeRead(sample, binner, rows)


def score_range(
    chunks: Iterator[pd.DataFrame],
    scoring: Model,
    opts: SegmentOptions,
    table: str,
    run_id: str,
    scored_at: Any,
) -> Iterator[pd.DataFrame]:
    """Pass 2 over one key range: every customer's segment, chunk by chunk, as rows of `COLUMNS`."""
    for chunk in chunks:
        values = chunk[list(opts.features)].to_numpy(np.float64)
        features.check_finite(values, opts.features, table)
        segment_id, names, distance = scoring.score(values)
        yield pd.DataFrame(
            {
                KEY: chunk[KEY].astype(str),
                "segment_id": segment_id,
                "segment_name": names,
                "distance_to_centroid": distance,
                "run_id": run_id,
                "scored_at": scored_at,
            }
        )


def _pass_one(
    customers: Table, opts: SegmentOptions, stats: features.MartStats, approved: Model | None, run: Run
) -> tuple[np.ndarray, drift.Binner | None, list[int]]:
    """The rows KMeans would be fitted on (all up to max_fit_rows, past the distinct-points gate), the
    customers counted into the approved model's drift bins, and the rows of each key range."""
    with run.timed("read"):
        reads: list[RangeRead] = customers.map_ranges(
            read_range, opts, stats.table, approved, columns=[KEY, *opts.features], key=KEY,
            size=opts.chunk_size, label="read", rows=stats.rows,
        )  # fmt: skip
    sample = features.Sample.merge([r.sample for r in reads])
    binners = [r.binner for r in reads if r.binner is not None]
    binner = drift.Binner.merge(binners) if binners else None
    fit_values = sample.sample()
    distinct, k = len(np.unique(fit_values, axis=0)), max(opts.ks())
    if distinct < k:
        where = " in the fit sample" if sample.seen > opts.max_fit_rows else ""
        raise GateError(
            f"table {stats.table} has only {distinct} distinct ({','.join(opts.features)}) points{where};"
            f" k={k} needs at least {k} (choose a smaller k or k_range)"
        )
    run.metrics["fit_rows"] = len(fit_values)
    return fit_values, binner, [r.rows for r in reads]


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
            search_rows=opts.k_search_rows,
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
        "k_search_rows": fit.search_rows,
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


def _pass_two(
    customers: Table, stats: features.MartStats, scoring: Model, run: Run, range_rows: list[int]
) -> None:
    """Every customer scored and loaded into the new table, range by range; the mart must not have changed."""
    opts = run.options
    with run.timed("read_score_load"):
        loaded = customers.map_ranges(
            score_range, scoring, opts, stats.table, run.record.run_id, registry.now(),
            columns=[KEY, *opts.features], key=KEY, size=opts.chunk_size, write=True, label="score + load",
            rows=stats.rows,
        )  # fmt: skip
    if loaded != range_rows or sum(loaded) != stats.rows:
        raise SegmentError(
            f"scored {sum(loaded):,} customers, {stats.table} has {stats.rows:,} (per key range: read"
            f" {range_rows}, scored {loaded}): the mart changed during the run; not published"
        )


def _stage_record(session: Session, staged: Table, stats: features.MartStats, run: Run) -> None:
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


def _compare(session: Session, published: Table, run: Run) -> None:
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
