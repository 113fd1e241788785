"""The report's pictures: elbow and silhouette per k, customers by segment, segment profiles, the cluster x
RFM crosswalk. Each function draws one PNG from the published run's data (report.Published)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FixedLocator, FuncFormatter, NullFormatter

if TYPE_CHECKING:
    from .report import Published

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


def figure(width: float, height: float) -> tuple[Figure, FigureCanvasAgg]:
    fig = Figure(figsize=(width, height), dpi=110, layout="constrained")
    return fig, FigureCanvasAgg(fig)


def style(ax: Axes) -> None:
    ax.grid(True, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)


def curve(pub: Published, metric: str, ylabel: str, title: str, fmt: str, path: Path) -> None:
    """inertia or silhouette per k, the chosen k marked."""
    per_k = [p for p in pub.fit_run["metrics"].get("per_k", []) if p[metric] is not None]
    ks, values = [p["k"] for p in per_k], [p[metric] for p in per_k]
    fig, canvas = figure(7, 4.2)
    ax = fig.add_subplot()
    ax.plot(ks, values, marker="o", color=COLORS[0])
    chosen = pub.fit_run["k"]
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
    fitted = f"fitted by run {pub.fit_run['run_id'][:8]}; " if pub.fit_run is not pub.run else ""
    ax.set_title(f"{title}\n{fitted}k chosen by: {pub.fit_run['metrics'].get('rule', 'n/a')}", fontsize=11)
    style(ax)
    canvas.print_png(str(path))


def scatter(pub: Published, path: Path) -> None:
    """Customers on monetary x frequency (log scales), coloured by segment, centroids marked."""
    rng = np.random.default_rng(0)
    fig, canvas = figure(10, 5.5)
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
    style(ax)
    canvas.print_png(str(path))


def profile(pub: Published, path: Path) -> None:
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
    fig, canvas = figure(11, 1.8 + 0.9 * len(segs))
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
        style(ax)
        ax.grid(False, axis="y")
    axes[0, 0].invert_yaxis()  # shared y: segment 1 on top in every panel
    fig.suptitle(f"Segment profile ({pub.customers:,} customers, run {pub.run['run_id'][:8]})", fontsize=11)
    canvas.print_png(str(path))


def crosswalk(pub: Published, path: Path) -> None:
    """Customers of each KMeans segment (rows) by RFM segment (columns), as shares of the segment."""
    assert pub.crosswalk is not None
    rfm = sorted({r for _, r, _ in pub.crosswalk}, key=lambda r: pub.rfm_order.get(r, 99))
    ids = [s.segment_id for s in pub.segments]
    counts = np.zeros((len(ids), len(rfm)))
    for sid, r, n in pub.crosswalk:
        if sid in ids:
            counts[ids.index(sid), rfm.index(r)] = n
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, canvas = figure(2.2 + 0.95 * len(rfm), 1.6 + 0.55 * len(ids))
    ax = fig.add_subplot()
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1, aspect="auto")
    for i in range(len(ids)):
        for j in range(len(rfm)):
            if counts[i, j]:
                color = "white" if shares[i, j] > 0.5 else "#222"
                ax.text(j, i, f"{shares[i, j]:.0%}\n{int(counts[i, j]):,}", ha="center", va="center",
                        fontsize=7, color=color)  # fmt: skip
    ax.set_xticks(range(len(rfm)), rfm, rotation=35, ha="right", fontsize=8)
    ax.set_yticks(range(len(ids)), [f"{s.segment_id} · {s.name}" for s in pub.segments], fontsize=8)
    ax.set_title("KMeans segments x RFM segments (share of each segment's customers)", fontsize=11)
    canvas.print_png(str(path))
