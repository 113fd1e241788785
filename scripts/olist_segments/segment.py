"""`olist-segments segment`: customer_features → log1p + scaling → KMeans → stable named segments, published
atomically to <base>_ml.customer_segments with a row in <base>_ml.segment_model_runs.

Scale: the mart is streamed twice and never held in memory. Pass 1 reads the feature columns in key order
into a seeded uniform reservoir sample of at most --max-fit-rows rows (all rows, exact KMeans, when the mart
is smaller: Olist's ~95k customers). The scaler and every KMeans are fitted on that sample. Pass 2 streams
key + features again, assigns each chunk to the nearest centre and bulk-loads it into the new table. Both
passes read one consistent snapshot, so they see the same rows.

Why a reservoir sample + full KMeans rather than MiniBatchKMeans over chunks: up to --max-fit-rows (Olist
and far beyond) the fit is exact full KMeans, not an approximation; choosing k takes a fit and a silhouette
per candidate k, cheap on an in-memory sample but a pass over the whole mart per k (or nine models at once)
with mini-batches; the sample depends only on the rows and the seed (not on --chunk-size), so reruns
reproduce every assignment; and for a handful of features a 1M-row uniform sample pins the centres down far
more precisely than segment boundaries matter. Memory stays at the sample plus one chunk.
"""

from __future__ import annotations

import argparse
import functools
import logging
import platform
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import closing, contextmanager, suppress
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mysql.connector
import numpy as np
from mysql.connector.abstracts import MySQLConnectionAbstract

from . import db, features, model, publish, settings
from .features import DEFAULT_FEATURES, GateError, Progress, SegmentError
from .settings import Warehouse

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SegmentOptions:
    features: tuple[str, ...] = DEFAULT_FEATURES
    k: int | None = None  # None: choose from k_range
    k_range: tuple[int, int] = (2, 10)
    random_state: int = 42
    n_init: int = 10
    max_iter: int = 300
    chunk_size: int = 50_000
    max_fit_rows: int = 1_000_000
    silhouette_sample: int = 10_000
    bulk: str = "auto"  # auto | infile | insert
    wait: int = 0  # seconds to wait for the pipeline lock
    workers: int = 1  # pass 2 split by crc32(customer_unique_id) % workers

    def ks(self) -> list[int]:
        return [self.k] if self.k is not None else list(range(self.k_range[0], self.k_range[1] + 1))


@dataclass
class RunResult:
    run_id: str
    k: int
    n_customers: int
    silhouette: float | None
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Scorer:
    """What pass 2 needs: the scaling, the centres, and segment id/name per KMeans label."""

    scaler: features.Scaler
    centers: np.ndarray
    ids: np.ndarray  # segment id of each KMeans label
    names: np.ndarray  # segment name of each segment id - 1

    def score(self, values: np.ndarray) -> tuple[np.ndarray, list[str], np.ndarray]:
        labels, distance = model.assign(self.centers, self.scaler.transform(values))
        segment_id = self.ids[labels]
        return segment_id, self.names[segment_id - 1].tolist(), distance


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None, microsecond=0)


def library_versions(conn: MySQLConnectionAbstract, server: str) -> dict[str, str]:
    found = {"python": platform.python_version()}
    for dist in ("numpy", "pandas", "scikit-learn", "kneed", "mysql-connector-python", "matplotlib"):
        found[dist] = version(dist)
    return {**found, "connector_implementation": db.implementation(conn), "server": server}


@contextmanager
def _timed(timings: dict[str, float], name: str) -> Iterator[None]:
    start = time.monotonic()
    yield
    timings[name] = timings.get(name, 0.0) + time.monotonic() - start


def run(wh: Warehouse, opts: SegmentOptions) -> RunResult:
    """Segment and publish under the lock olist_segments:<schema> (waits up to opts.wait seconds for it)."""
    conn = db.connect(wh, local_infile=opts.bulk != "insert")
    try:
        cur = conn.cursor()
        cur.execute("select version()")
        (server,) = cur.fetchone() or ("?",)
        cur.close()
        log.info(
            "warehouse %r, server %s, mysql-connector-python %s (%s)",
            wh,
            server,
            version("mysql-connector-python"),
            db.implementation(conn),
        )
        with db.named_lock(conn, f"olist_segments:{wh.schema}", opts.wait):
            return _segment(conn, wh, opts, str(server))
    finally:
        conn.close()


def _segment(conn: MySQLConnectionAbstract, wh: Warehouse, opts: SegmentOptions, server: str) -> RunResult:
    ml = wh.schema_for("ml")
    record = publish.RunRecord(
        run_id=str(uuid.uuid4()),
        started_at=_now(),
        features=list(opts.features),
        params={**asdict(opts), "algorithm": "lloyd", "threads": model.THREADS},
        library_versions=library_versions(conn, server),
    )
    timings: dict[str, float] = {}
    readers: list[MySQLConnectionAbstract] = []
    k_text = opts.k or f"auto {opts.k_range[0]}-{opts.k_range[1]}"
    log.info("run %s: features %s, k %s", record.run_id, ",".join(opts.features), k_text)
    try:
        definitions = model.load_definitions(conn, wh, opts.ks())
        # Both passes read one snapshot of the mart; extra scoring workers take theirs right after it.
        for _ in range(opts.workers):
            readers.append(_snapshot_reader(wh))
        reader = readers[0]
        stats = features.check_mart(reader, wh, opts.features)
        record.data_as_of, record.n_customers = stats.data_as_of, stats.rows
        fit_values = _fit_sample(reader, wh, opts, stats, timings)
        publish.ensure_ml(conn, ml)  # only once the read-only gates passed: a wrong schema creates nothing
        with _timed(timings, "choose_k"):
            scaler = features.Scaler(fit_values)
            fit = model.choose_k(
                scaler.transform(fit_values),
                opts.ks(),
                random_state=opts.random_state,
                n_init=opts.n_init,
                max_iter=opts.max_iter,
                silhouette_sample=opts.silhouette_sample,
            )
        centroids = scaler.inverse(fit.model.cluster_centers_)
        ids = model.segment_ids(centroids, opts.features)
        names = definitions[fit.k]  # index: segment_id - 1
        scorer = Scorer(scaler, fit.model.cluster_centers_, ids, np.array(names, dtype=object))
        bulk_used = _score_and_load(conn, readers, wh, opts, stats, scorer, record.run_id, timings)
        for r in readers:
            r.commit()
        with _timed(timings, "validate"):
            publish.validate_new(conn, ml, stats.rows, fit.k)

        sizes = np.bincount(fit.model.labels_, minlength=fit.k)
        record.k, record.k_selection, record.silhouette = fit.k, fit.k_selection, fit.silhouette
        record.params = {**(record.params or {}), "fit_rows": len(fit_values), "bulk_used": bulk_used}
        record.scaler = scaler.params(opts.features)
        record.centroids = [
            {
                "segment_id": int(ids[label]),
                "segment_name": names[ids[label] - 1],
                "kmeans_label": label,
                "fit_rows": int(sizes[label]),
                "center": {f: float(v) for f, v in zip(opts.features, centroids[label], strict=True)},
            }
            for label in np.argsort(ids).tolist()
        ]
        record.metrics = {
            "per_k": [asdict(s) for s in fit.scores],
            "rule": fit.rule,
            "knee": fit.knee,
            "timings_s": {name: round(s, 3) for name, s in timings.items()},
        }
        record.status, record.finished_at = "published", _now()
        with _timed(timings, "publish"):
            publish.record_run(conn, ml, record)
            publish.swap(conn, ml)
        log.info(
            "published %s customers in %d segments (run %s, silhouette %s); %s",
            f"{stats.rows:,}",
            fit.k,
            record.run_id,
            "n/a" if fit.silhouette is None else f"{fit.silhouette:.3f}",
            ", ".join(f"{n} {s:.2f} s" for n, s in timings.items()),
        )
        return RunResult(record.run_id, fit.k, stats.rows, fit.silhouette, timings)
    except BaseException as exc:
        _record_failure(wh, conn, ml, record, exc)
        raise
    finally:
        for r in readers:
            with suppress(mysql.connector.Error):  # a reader killed, or left mid-stream by a failure
                r.close()


def _fit_sample(
    reader: MySQLConnectionAbstract,
    wh: Warehouse,
    opts: SegmentOptions,
    stats: features.MartStats,
    timings: dict[str, float],
) -> np.ndarray:
    """Pass 1: the rows KMeans is fitted on (all up to --max-fit-rows), past the distinct-points gate."""
    reservoir = features.Reservoir(opts.max_fit_rows, opts.random_state)
    progress = Progress("read for fit", stats.rows)
    with closing(features.stream(reader, wh, opts.features, opts.chunk_size, with_key=False)) as chunks:
        for _, values in chunks:
            reservoir.add(values)
            progress.add(len(values))
    timings["read"] = progress.finish()
    fit_values = reservoir.sample()
    distinct, k = len(np.unique(fit_values, axis=0)), max(opts.ks())
    if distinct < k:
        where = " in the fit sample" if reservoir.seen > opts.max_fit_rows else ""
        raise GateError(
            f"table {stats.table} has only {distinct} distinct ({','.join(opts.features)}) points{where};"
            f" k={k} needs at least {k} (choose a smaller --k or --k-range)"
        )
    return fit_values


def _snapshot_reader(wh: Warehouse) -> MySQLConnectionAbstract:
    reader = db.connect(wh)
    cur = reader.cursor()
    cur.execute("set session transaction isolation level repeatable read")
    cur.execute("start transaction with consistent snapshot")
    cur.close()
    return reader


def _score_and_load(
    conn: MySQLConnectionAbstract,
    readers: list[MySQLConnectionAbstract],
    wh: Warehouse,
    opts: SegmentOptions,
    stats: features.MartStats,
    scorer: Scorer,
    run_id: str,
    timings: dict[str, float],
) -> str:
    """Pass 2: score every customer, chunk by chunk, into a fresh customer_segments__new; the method used.

    One reader: this process streams the whole mart through the lock holder's connection. W readers: W
    threads, worker w streaming the customers with crc32(customer_unique_id) % W = w on its own snapshot and
    loading them through its own connection (docs/scaling.md); the assignments are the same either way.
    """
    publish.prepare_new(conn, wh.schema_for("ml"), stats.key_charset, stats.key_collation)
    progress = Progress("score + load", stats.rows)
    part = functools.partial(_score_part, wh=wh, opts=opts, scorer=scorer, run_id=run_id, scored_at=_now())
    if len(readers) == 1:
        results = [part(conn, readers[0], progress=progress)]
    else:
        failed = threading.Event()

        def worker(w: int) -> tuple[str, dict[str, float]]:
            try:
                with closing(db.connect(wh, local_infile=opts.bulk != "insert")) as own:
                    return part(own, readers[w], progress, (w, len(readers)), failed)
            except BaseException:
                failed.set()
                raise

        with ThreadPoolExecutor(len(readers), thread_name_prefix="score") as pool:
            futures = [pool.submit(worker, w) for w in range(len(readers))]
            results = [f.result() for f in as_completed(futures)]  # the first failure is the cause
    for _, part_timings in results:
        for name, seconds in part_timings.items():  # summed over workers: busy time, not wall time
            timings[name] = timings.get(name, 0.0) + seconds
    timings["read_score_load"] = progress.finish()
    return ",".join(sorted({method for method, _ in results}))


def _score_part(
    conn: MySQLConnectionAbstract,
    reader: MySQLConnectionAbstract,
    progress: Progress,
    bucket: tuple[int, int] | None = None,
    failed: threading.Event | None = None,
    *,
    wh: Warehouse,
    opts: SegmentOptions,
    scorer: Scorer,
    run_id: str,
    scored_at: datetime,
) -> tuple[str, dict[str, float]]:
    """Score the mart's customers (those of one bucket) into customer_segments__new; (method, timings)."""
    timings: dict[str, float] = {}
    writer = publish.SegmentWriter(conn, wh.schema_for("ml"), run_id, scored_at, opts.bulk)
    chunks = features.stream(reader, wh, opts.features, opts.chunk_size, with_key=True, bucket=bucket)
    with closing(writer), closing(chunks):
        for keys, values in chunks:
            if failed is not None and failed.is_set():
                raise SegmentError("stopped: another scoring worker failed")
            with _timed(timings, "score"):
                segment_id, names, distance = scorer.score(values)
            with _timed(timings, "load"):
                writer.write(keys, segment_id, names, distance)
            progress.add(len(keys))
    return writer.method, timings


def _record_failure(
    wh: Warehouse, conn: MySQLConnectionAbstract, ml: str, record: publish.RunRecord, exc: BaseException
) -> None:
    """Best effort: drop the half-built table and record status 'failed' in an existing registry (the live
    table is untouched). A lost connection is replaced by a fresh one."""
    record.status, record.finished_at = "failed", _now()
    record.metrics = {**(record.metrics or {}), "error": f"{type(exc).__name__}: {exc}"}
    try:
        if not conn.is_connected():
            conn = db.connect(wh)
        if not publish.table_exists(conn, ml, publish.RUNS):
            log.warning("run %s failed before %s.%s existed: not recorded", record.run_id, ml, publish.RUNS)
            return
        publish.drop_new(conn, ml)
        publish.record_run(conn, ml, record)
    except Exception as inner:  # the connection itself may be what failed
        log.warning("could not record the failed run %s: %s", record.run_id, inner)


def _checked(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    def wrapper(text: str) -> Any:
        try:
            return parse(text)
        except (SegmentError, ValueError) as exc:
            raise argparse.ArgumentTypeError(str(exc)) from exc

    return wrapper


def _at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        value = int(text)
        if value < minimum:
            raise ValueError(f"must be at least {minimum}, got {value}")
        return value

    return _checked(parse)


def _parse_k(text: str) -> int | None:
    return None if text == "auto" else _at_least(2)(text)


def _parse_range(text: str) -> tuple[int, int]:
    low, sep, high = text.partition("-")
    if not sep or not low.isdigit() or not high.isdigit() or not 2 <= int(low) <= int(high):
        raise ValueError(f"expected LO-HI with 2 <= LO <= HI, e.g. 2-10; got {text!r}")
    return int(low), int(high)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    d = SegmentOptions()
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")
    parser.add_argument(
        "--features",
        type=_checked(features.parse_features),
        default=d.features,
        help=f"comma-separated customer_features columns (default {','.join(d.features)}; allowed: "
        f"{', '.join(features.NUMERIC_FEATURES)})",
    )
    parser.add_argument(
        "--k", type=_checked(_parse_k), default=None, metavar="auto|N", help="segments (auto)"
    )
    parser.add_argument(
        "--k-range", type=_checked(_parse_range), default=d.k_range, metavar="LO-HI", help="2-10"
    )
    parser.add_argument("--random-state", type=int, default=d.random_state, help="KMeans and sampling seed")
    parser.add_argument("--n-init", type=_at_least(1), default=d.n_init, help="KMeans initialisations per k")
    parser.add_argument("--max-iter", type=_at_least(1), default=d.max_iter, help="KMeans iterations")
    parser.add_argument("--chunk-size", type=_at_least(1), default=d.chunk_size, help="rows per read/write")
    parser.add_argument(
        "--max-fit-rows",
        type=_at_least(2),
        default=d.max_fit_rows,
        help="fit on a sample of this size above it",
    )
    parser.add_argument("--silhouette-sample", type=_at_least(2), default=d.silhouette_sample, help="points")
    parser.add_argument("--bulk", choices=publish.BULK_METHODS, default=d.bulk, help="load method (auto)")
    parser.add_argument("--wait", type=_at_least(0), default=d.wait, help="seconds to wait for a running run")
    parser.add_argument(
        "--workers",
        type=_at_least(1),
        default=d.workers,
        help="scoring workers, each loading the customers with crc32(customer_unique_id) %% W = w (1)",
    )
    parser.add_argument("--out", type=Path, default=Path("reports"), help="report folder (reports/)")
    parser.add_argument("--no-report", action="store_true", help="publish without drawing the report")


def main(args: argparse.Namespace) -> int:
    verbose = bool(getattr(args, "verbose", False))
    opts = SegmentOptions(
        features=args.features,
        k=args.k,
        k_range=args.k_range,
        random_state=args.random_state,
        n_init=args.n_init,
        max_iter=args.max_iter,
        chunk_size=args.chunk_size,
        max_fit_rows=args.max_fit_rows,
        silhouette_sample=args.silhouette_sample,
        bulk=args.bulk,
        wait=args.wait,
        workers=args.workers,
    )
    try:
        wh = settings.load(args.target)
        result = run(wh, opts)
    except Exception as exc:
        return features.cli_error("segment", exc, verbose)
    print(f"published {result.n_customers:,} customers in {result.k} segments (run {result.run_id})")
    if args.no_report:
        return 0
    from . import report  # matplotlib only when drawing

    try:
        html = report.build(wh, args.out)
    except Exception as exc:
        return features.cli_error(f"segment (published run {result.run_id}; the report failed)", exc, verbose)
    print(f"report: {html}")
    return 0
