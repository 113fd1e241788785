"""`olist-segments report`: PNG plots and an HTML page for the published segments.

Everything is read back from the warehouse: the live customer_segments table and its run's row in
segment_model_runs (names, profiles, actions, how the run compares with the one before), the run that fitted
the model (its elbow and silhouette), customer_features for the spend/frequency picture and, when built, the
cluster x RFM crosswalk mart.
"""

from __future__ import annotations

import argparse
import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from mysql.connector.abstracts import MySQLConnectionAbstract

from . import db, report_plots, settings
from .features import KEY, MART, SegmentError
from .registry import JSON_COLUMNS, RUNS
from .segmentation import SEGMENTS
from .settings import Warehouse

log = logging.getLogger(__name__)

SCATTER_POINTS = 20_000
CROSSWALK = "segment_rfm_crosswalk"
PLOTS = ("elbow.png", "silhouette.png", "segments.png", "profile.png")


@dataclass(frozen=True)
class Segment:
    segment_id: int
    name: str
    profile: str
    customers: int
    mean_monetary: float
    mean_frequency: float
    revenue: float
    action: str


@dataclass(frozen=True)
class Published:
    run: dict[str, Any]  # the live run's segment_model_runs row, JSON columns decoded
    fit_run: dict[str, Any]  # the run that fitted its model (the same row after a refit)
    segments: tuple[Segment, ...]
    points: np.ndarray  # sampled (segment_id, monetary, frequency)
    crosswalk: list[tuple[int, str, int]] | None  # (segment_id, rfm_segment, customers)
    rfm_order: dict[str, int]  # rfm_segment → its rule's priority

    @property
    def customers(self) -> int:
        return sum(s.customers for s in self.segments)

    @property
    def revenue(self) -> float:
        return sum(s.revenue for s in self.segments)


def _run_row(conn: MySQLConnectionAbstract, ml: str, run_id: str) -> dict[str, Any] | None:
    cur = conn.cursor(dictionary=True)
    cur.execute(f"select * from {db.qualified(ml, RUNS)} where run_id = %s", (run_id,))
    row = cur.fetchone()
    cur.close()
    if not isinstance(row, dict):
        return None
    return {k: (json.loads(str(v)) if k in JSON_COLUMNS and v is not None else v) for k, v in row.items()}


def load(conn: MySQLConnectionAbstract, wh: Warehouse, sample: int = SCATTER_POINTS) -> Published:
    """The live segments, their run and a deterministic sample of customers (CRC32 of the key)."""
    ml, marts = wh.schema_for("ml"), wh.schema_for("marts")
    if not db.table_exists(conn, ml, SEGMENTS):
        raise SegmentError(f"no published segments: {ml}.{SEGMENTS} not found (run olist-segments segment)")
    segments_t, mart_t = db.qualified(ml, SEGMENTS), db.qualified(marts, MART)
    (run_id,) = db.query(conn, f"select max(run_id) from {segments_t}")[0]
    run = _run_row(conn, ml, str(run_id))
    if run is None:
        raise SegmentError(f"run {run_id} of {ml}.{SEGMENTS} has no row in {ml}.{RUNS}")
    fitted_by = (run["metrics"] or {}).get("fitted_by_run") or run["run_id"]
    fit_run = run if fitted_by == run["run_id"] else (_run_row(conn, ml, fitted_by) or run)
    if not db.table_exists(conn, marts, MART):
        raise SegmentError(f"table {marts}.{MART} not found: the report needs it for spend and frequency")
    catalogue = {int(c["segment_id"]): c for c in run["centroids"] or []}
    key = db.quote_ident(KEY)
    profile = db.query(
        conn,
        "select s.segment_id, max(s.segment_name), count(*), coalesce(avg(f.monetary), 0),"
        " coalesce(avg(f.frequency), 0), coalesce(sum(f.monetary), 0)"
        f" from {segments_t} s left join {mart_t} f on f.{key} = s.{key} group by s.segment_id order by 1",
    )
    segments = tuple(
        Segment(
            int(sid),
            str(name),
            str(catalogue.get(int(sid), {}).get("profile", "")),
            int(n),
            float(m),
            float(f),
            float(rev),
            str(catalogue.get(int(sid), {}).get("suggested_action", "")),
        )
        for sid, name, n, m, f, rev in profile
    )
    total = sum(s.customers for s in segments)
    threshold = min(2**32, int(2**32 * sample / max(total, 1)))
    points = db.query(
        conn,
        "select s.segment_id, cast(f.monetary as double), cast(f.frequency as double)"
        f" from {segments_t} s join {mart_t} f on f.{key} = s.{key} where crc32(s.{key}) < %s",
        (threshold,),
    )
    crosswalk, rfm_order = None, {}
    if db.table_exists(conn, marts, CROSSWALK):
        rows = db.query(
            conn,
            "select segment_id, rfm_segment, customers"
            f" from {db.qualified(marts, CROSSWALK)} where run_id = %s",
            (run["run_id"],),
        )
        crosswalk = [(int(s), str(r), int(n)) for s, r, n in rows] or None
        if db.table_exists(conn, wh.schema_for("raw"), "rfm_segments"):
            sql = f"select rfm_segment, priority from {db.qualified(wh.schema_for('raw'), 'rfm_segments')}"
            rfm_order = {str(r): int(p) for r, p in db.query(conn, sql)}
    return Published(
        run, fit_run, segments, np.array(points, dtype=np.float64).reshape(-1, 3), crosswalk, rfm_order
    )


def _stability(run: dict[str, Any]) -> dict[str, str]:
    """How this run relates to the one it replaced, for the report's table."""
    m = run["metrics"] or {}
    out = {"mode": f"{m.get('mode', 'refit')}: {m.get('mode_reason', '')}"}
    if agreement := m.get("agreement"):
        out["agreement with the previous run"] = (
            f"{100 * agreement['same_segment']:.2f} % of {agreement['customers']:,} common customers kept"
            f" their segment; adjusted Rand index {agreement['ari']:.4f}"
        )
    if psi := m.get("input_psi"):
        out["input drift (PSI per feature)"] = ", ".join(f"{f} {v:.3f}" for f, v in psi.items())
    if changes := m.get("size_changes"):
        out["segment size changes"] = ", ".join(f"{sid}: {100 * v:+.2f} pt" for sid, v in changes.items())
    if matching := m.get("matching"):
        new, vanished = (", ".join(map(str, matching[k])) or "none" for k in ("new", "vanished"))
        out["identities"] = f"kept {', '.join(matching['kept']) or 'none'}; new {new}; vanished {vanished}"
    if accepted := m.get("accepted"):
        out["accepted beyond the gate"] = str(accepted)
    return out


def _html(pub: Published) -> str:
    e = html.escape
    run, fit, revenue = pub.run, pub.fit_run, pub.revenue or 1.0
    rows = "\n".join(
        f"<tr><td>{s.segment_id}</td><td>{e(s.name)}</td><td>{e(s.profile)}</td><td>{s.customers:,}</td>"
        f"<td>{100 * s.customers / max(pub.customers, 1):.1f} %</td><td>{s.mean_monetary:,.2f}</td>"
        f"<td>{s.mean_frequency:.2f}</td><td>{100 * s.revenue / revenue:.1f} %</td>"
        f"<td>{e(s.action)}</td></tr>"
        for s in pub.segments
    )
    params = fit["params"] or {}
    fit_rows = (fit["metrics"] or {}).get("fit_rows") or params.get("fit_rows", 0)
    meta = {
        "run id": run["run_id"],
        "status": run["status"],
        "started / finished (UTC)": f"{run['started_at']} / {run['finished_at']}",
        **_stability(run),
        "k": f"{run['k']} ({run['k_selection']}; fitted by run {fit['run_id']}: {fit['metrics'].get('rule')})"
        if fit is not run
        else f"{run['k']} ({run['k_selection']}: {run['metrics'].get('rule')})",
        "silhouette (sampled)": "n/a" if run["silhouette"] is None else f"{run['silhouette']:.3f}",
        "features": ", ".join(run["features"]) + " (log1p, then standard scaling)",
        "customers": f"{run['n_customers']:,}",
        "data as of": str(run["data_as_of"]),
        "fit": f"KMeans on {fit_rows:,} rows (sample above {params.get('max_fit_rows', 0):,}"
        f" customers), random_state {params.get('random_state')}, n_init {params.get('n_init')}",
        "libraries": ", ".join(f"{k} {v}" for k, v in (run["library_versions"] or {}).items()),
    }
    meta_rows = "\n".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in meta.items())
    images = "\n".join(f'<img src="{name}" alt="{name[:-4]}">' for name in _plots(pub))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Customer segments — run {e(run["run_id"])}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2em auto; max-width: 1100px; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
th, td {{ padding: 4px 10px; border-bottom: 1px solid #ddd; }}
th {{ text-align: left; background: #f5f5f5; }} td {{ vertical-align: top; }}
img {{ max-width: 100%; margin: 1em 0; display: block; }} .note {{ color: #555; font-size: 0.9em; }}
</style></head><body>
<h1>Customer segments</h1>
<p class="note">Each segment is named from its centre's profile against all customers: one-time or repeat
buyers, spend tier (low below the 33rd percentile, mid to the 75th, high to the 90th, top above), and recency
when it is a clustering feature. A segment keeps its id and name from run to run.</p>
<table><tr><th>id</th><th>segment</th><th>profile</th><th>customers</th><th>share</th>
<th>mean monetary (BRL)</th><th>mean frequency</th><th>share of revenue</th><th>suggested action</th></tr>
{rows}
</table>
<h2>Run</h2>
<table>{meta_rows}</table>
<h2>Pictures</h2>
{images}
</body></html>
"""


def _plots(pub: Published) -> tuple[str, ...]:
    return (*PLOTS, "crosswalk.png") if pub.crosswalk else PLOTS


def build(wh: Warehouse, out: Path, sample: int = SCATTER_POINTS) -> Path:
    """Draw the plots and report.html of the live segments into `out`; returns the HTML path."""
    conn = db.connect(wh)
    try:
        pub = load(conn, wh, sample)
    finally:
        conn.close()
    out.mkdir(parents=True, exist_ok=True)
    report_plots.curve(
        pub,
        "inertia",
        "inertia (within-cluster sum of squares)",
        "Elbow: inertia per k",
        "{:,.0f}",
        out / PLOTS[0],
    )
    report_plots.curve(
        pub,
        "silhouette",
        "silhouette (sampled; higher = better separated)",
        "Silhouette per k",
        "{:.2f}",
        out / PLOTS[1],
    )
    report_plots.scatter(pub, out / PLOTS[2])
    report_plots.profile(pub, out / PLOTS[3])
    if pub.crosswalk:
        report_plots.crosswalk(pub, out / "crosswalk.png")
    page = out / "report.html"
    page.write_text(_html(pub), encoding="utf-8")
    log.info("report of run %s written to %s", pub.run["run_id"], page)
    return page


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--target", help="dbt target (default: DBT_TARGET or the profile's default)")
    parser.add_argument("--out", type=Path, default=Path("reports"), help="output folder (reports/)")
    parser.add_argument("--sample", type=int, default=SCATTER_POINTS, help="points in the scatter plot")


def main(args: argparse.Namespace) -> int:
    page = build(settings.load(args.target), args.out, args.sample)
    print(f"report: {page}")
    return 0
