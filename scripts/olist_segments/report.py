"""`olist-segments report`: PNG plots and an HTML page for the published segments.

Everything is read back from the warehouse: the live customer_segments table, its run's row in
segment_model_runs, customer_features for the spend/frequency picture and segment_definitions for the actions.
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
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter
from mysql.connector.abstracts import MySQLConnectionAbstract

from . import db, settings
from .features import KEY, MART, SegmentError
from .registry import RUNS
from .segmentation import SEGMENTS
from .settings import Warehouse

log = logging.getLogger(__name__)

SCATTER_POINTS = 20_000
COLORS = (
    "#4C72B0",
    "#55A868",
    "#C44E52",
    "#8172B2",
    "#CCB974",
    "#64B5CD",
    "#DD8452",
    "#937860",
    "#DA8BC3",
    "#8C8C8C",
)
FREQUENCY_TICKS = (1, 2, 3, 4, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500, 1000)
DEFINITIONS = "segment_definitions"
PLOTS = ("elbow.png", "silhouette.png", "segments.png", "profile.png")


@dataclass(frozen=True)
class Segment:
    segment_id: int
    name: str
    customers: int
    mean_monetary: float
    mean_frequency: float
    revenue: float
    action: str


@dataclass(frozen=True)
class Published:
    run: dict[str, Any]  # the segment_model_runs row, JSON columns decoded
    segments: tuple[Segment, ...]
    points: np.ndarray  # sampled (segment_id, monetary, frequency)

    @property
    def customers(self) -> int:
        return sum(s.customers for s in self.segments)

    @property
    def revenue(self) -> float:
        return sum(s.revenue for s in self.segments)


def load(conn: MySQLConnectionAbstract, wh: Warehouse, sample: int = SCATTER_POINTS) -> Published:
    """The live segments, their run and a deterministic sample of customers (CRC32 of the key)."""
    ml, marts = wh.schema_for("ml"), wh.schema_for("marts")
    if not db.table_exists(conn, ml, SEGMENTS):
        raise SegmentError(f"no published segments: {ml}.{SEGMENTS} not found (run olist-segments segment)")
    segments_t, mart_t = db.qualified(ml, SEGMENTS), db.qualified(marts, MART)
    (run_id,) = db.query(conn, f"select max(run_id) from {segments_t}")[0]
    cur = conn.cursor(dictionary=True)
    cur.execute(f"select * from {db.qualified(ml, RUNS)} where run_id = %s", (run_id,))
    run = cur.fetchone()
    cur.close()
    if not isinstance(run, dict):
        raise SegmentError(f"run {run_id} of {ml}.{SEGMENTS} has no row in {ml}.{RUNS}")
    for column in ("features", "params", "metrics", "centroids", "scaler", "library_versions"):
        run[column] = json.loads(str(run[column])) if run[column] is not None else None
    if not db.table_exists(conn, marts, MART):
        raise SegmentError(f"table {marts}.{MART} not found: the report needs it for spend and frequency")
    actions: dict[int, str] = {}
    raw = wh.schema_for("raw")
    if db.table_exists(conn, raw, DEFINITIONS):
        sql = f"select segment_id, suggested_action from {db.qualified(raw, DEFINITIONS)} where k = %s"
        actions = {int(sid): str(action) for sid, action in db.query(conn, sql, (run["k"],))}
    key = db.quote_ident(KEY)
    profile = db.query(
        conn,
        "select s.segment_id, max(s.segment_name), count(*), coalesce(avg(f.monetary), 0),"
        " coalesce(avg(f.frequency), 0), coalesce(sum(f.monetary), 0)"
        f" from {segments_t} s left join {mart_t} f on f.{key} = s.{key} group by s.segment_id order by 1",
    )
    segments = tuple(
        Segment(int(sid), str(name), int(n), float(m), float(f), float(rev), actions.get(int(sid), ""))
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
    return Published(run, segments, np.array(points, dtype=np.float64).reshape(-1, 3))


def _figure(width: float, height: float) -> tuple[Figure, FigureCanvasAgg]:
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return fig, FigureCanvasAgg(fig)


def _style(ax: Axes) -> None:
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def _curve(pub: Published, metric: str, ylabel: str, title: str, fmt: str, path: Path) -> None:
    """inertia or silhouette per k, the chosen k marked."""
    per_k = [p for p in pub.run["metrics"]["per_k"] if p[metric] is not None]
    ks, values = [p["k"] for p in per_k], [p[metric] for p in per_k]
    fig, canvas = _figure(7, 4.2)
    ax = fig.add_subplot()
    ax.plot(ks, values, marker="o", color=COLORS[0])
    chosen = pub.run["k"]
    if chosen in ks:
        y = values[ks.index(chosen)]
        ax.axvline(chosen, color=COLORS[2], linestyle="--", linewidth=1)
        ax.plot([chosen], [y], marker="o", markersize=11, color=COLORS[2], zorder=3)
        ax.annotate(
            f"chosen k = {chosen}",
            (chosen, y),
            xytext=(10, 10),
            textcoords="offset points",
            color=COLORS[2],
            fontweight="bold",
        )
    ax.set_xticks(ks)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt.format(v)))
    ax.set_xlabel("number of segments k")
    ax.set_ylabel(ylabel)
    ax.set_title(f"{title}\nk chosen by: {pub.run['metrics']['rule']}", fontsize=11)
    _style(ax)
    canvas.print_png(str(path))


def _scatter(pub: Published, path: Path) -> None:
    """Customers on monetary x frequency (log scales), coloured by segment, centroids marked."""
    rng = np.random.default_rng(0)
    fig, canvas = _figure(10, 5.5)
    ax = fig.add_subplot()
    points = pub.points
    monetary = np.maximum(points[:, 1], 1.0)  # log scale: customers who paid under 1 BRL are drawn at 1
    frequency = points[:, 2] * np.exp(rng.uniform(-0.08, 0.08, len(points)))  # jitter: frequency is whole
    handles = []
    for s in pub.segments:
        color = COLORS[(s.segment_id - 1) % len(COLORS)]
        mask = points[:, 0] == s.segment_id
        ax.scatter(monetary[mask], frequency[mask], s=6, alpha=0.45, linewidths=0, color=color)
        handles.append(
            Line2D([], [], marker="o", linestyle="", color=color, label=f"{s.segment_id} · {s.name}")
        )
    for c in pub.run["centroids"]:
        center = c["center"]
        ax.scatter(
            center["monetary"], center["frequency"], marker="X", s=140, color="black", edgecolors="white"
        )
    handles.append(Line2D([], [], marker="X", linestyle="", color="black", label="segment centre"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}" if v >= 1 else f"{v:g}"))
    top = max(float(points[:, 2].max()) if len(points) else 1.0, 1.0)
    ax.yaxis.set_major_locator(FixedLocator([v for v in FREQUENCY_TICKS if v <= top * 1.2]))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())
    below = " (under 1 BRL drawn at 1)" if (points[:, 1] < 1).any() else ""
    ax.set_xlabel(f"monetary: total paid (BRL, log scale){below}")
    ax.set_ylabel("frequency: orders (log scale, jittered)")
    n, total = len(points), pub.customers
    shown = f"sample of {n:,} of {total:,}" if n < total else f"{total:,}"
    ax.set_title(f"Customers by segment ({shown} customers)", fontsize=11)
    ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=9, frameon=False)
    _style(ax)
    canvas.print_png(str(path))


def _profile(pub: Published, path: Path) -> None:
    """Per segment: customers, mean monetary, mean frequency, share of revenue."""
    segs = pub.segments
    labels = [f"{s.segment_id} · {s.name}" for s in segs]
    colors = [COLORS[(s.segment_id - 1) % len(COLORS)] for s in segs]
    revenue = pub.revenue or 1.0
    panels = (
        ("customers", [float(s.customers) for s in segs], "{:,.0f}"),
        ("mean monetary (BRL)", [s.mean_monetary for s in segs], "{:,.2f}"),
        ("mean frequency (orders)", [s.mean_frequency for s in segs], "{:.2f}"),
        ("share of revenue (%)", [100 * s.revenue / revenue for s in segs], "{:.1f} %"),
    )
    fig, canvas = _figure(11, 1.8 + 0.9 * len(segs))
    axes = fig.subplots(2, 2, sharey=True)
    y = np.arange(len(segs))
    for ax, (title, values, fmt) in zip(axes.flat, panels, strict=True):
        ax.barh(y, values, color=colors)
        ax.set_yticks(y, labels)
        ax.set_title(title, fontsize=10)
        ax.margins(x=0.22)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _p: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
        for yi, v in zip(y, values, strict=True):
            ax.annotate(
                fmt.format(v), (v, yi), xytext=(3, 0), textcoords="offset points", va="center", fontsize=8
            )
        _style(ax)
        ax.grid(False, axis="y")
    axes[0, 0].invert_yaxis()  # shared y: segment 1 on top in every panel
    fig.suptitle(f"Segment profile ({pub.customers:,} customers, run {pub.run['run_id'][:8]})", fontsize=11)
    canvas.print_png(str(path))


def _html(pub: Published) -> str:
    e = html.escape
    run, revenue = pub.run, pub.revenue or 1.0
    rows = "\n".join(
        f"<tr><td>{s.segment_id}</td><td>{e(s.name)}</td><td>{s.customers:,}</td>"
        f"<td>{100 * s.customers / max(pub.customers, 1):.1f} %</td><td>{s.mean_monetary:,.2f}</td>"
        f"<td>{s.mean_frequency:.2f}</td><td>{100 * s.revenue / revenue:.1f} %</td>"
        f"<td>{e(s.action)}</td></tr>"
        for s in pub.segments
    )
    params = run["params"] or {}
    meta = {
        "run id": run["run_id"],
        "status": run["status"],
        "started / finished (UTC)": f"{run['started_at']} / {run['finished_at']}",
        "k": f"{run['k']} ({run['k_selection']}: {run['metrics']['rule']})",
        "silhouette (sampled)": "n/a" if run["silhouette"] is None else f"{run['silhouette']:.3f}",
        "features": ", ".join(run["features"]) + " (log1p, then standard scaling)",
        "customers": f"{run['n_customers']:,}",
        "data as of": str(run["data_as_of"]),
        "fit": f"KMeans on {params.get('fit_rows', 0):,} rows (sample above {params.get('max_fit_rows', 0):,}"
        f" customers), random_state {params.get('random_state')}, n_init {params.get('n_init')}",
        "libraries": ", ".join(f"{k} {v}" for k, v in (run["library_versions"] or {}).items()),
    }
    meta_rows = "\n".join(f"<tr><th>{e(k)}</th><td>{e(str(v))}</td></tr>" for k, v in meta.items())
    images = "\n".join(f'<img src="{name}" alt="{name[:-4]}">' for name in PLOTS)
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
<p class="note">Segment ids rank clusters by the centre's total spend (monetary, BRL; 1 = lowest).
Frequency is not part of the ranking: read the mean frequency before treating a segment as one-off or
repeat buyers.</p>
<table><tr><th>id</th><th>segment</th><th>customers</th><th>share</th><th>mean monetary (BRL)</th>
<th>mean frequency</th><th>share of revenue</th><th>suggested action</th></tr>
{rows}
</table>
<h2>Run</h2>
<table>{meta_rows}</table>
<h2>Pictures</h2>
{images}
</body></html>
"""


def build(wh: Warehouse, out: Path, sample: int = SCATTER_POINTS) -> Path:
    """Draw the plots and report.html of the live segments into `out`; returns the HTML path."""
    conn = db.connect(wh)
    try:
        pub = load(conn, wh, sample)
    finally:
        conn.close()
    out.mkdir(parents=True, exist_ok=True)
    _curve(
        pub,
        "inertia",
        "inertia (within-cluster sum of squares)",
        "Elbow: inertia per k",
        "{:,.0f}",
        out / PLOTS[0],
    )
    _curve(
        pub,
        "silhouette",
        "silhouette (sampled; higher = better separated)",
        "Silhouette per k",
        "{:.2f}",
        out / PLOTS[1],
    )
    _scatter(pub, out / PLOTS[2])
    _profile(pub, out / PLOTS[3])
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
