"""The KPI picture: what a call-center manager pins up, as one PNG, with its figures beside it as JSON.

Top: the daily trend of service level, abandonment rate and ASA per provider over inbound offered
calls. Middle: the outcome mix of the window, one panel per direction. Bottom: the window's KPIs per
provider. Reads only the serving snapshot (read-only), so it never contends with a warehouse build;
the figures come from `uc_pipeline.report_data`, which the demo's terminal summary reads too.
"""

from __future__ import annotations

import json
from datetime import date
from math import ceil
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure, SubFigure  # noqa: E402

from uc_pipeline.report_data import (  # noqa: E402
    NA,
    OUTCOMES,
    WindowFigures,
    kpi_cells,
    kpi_headers,
    threshold_text,
    window_figures,
)

DAYS = 30
OUTCOME_COLOURS = {
    "ANSWERED": "#2e7d32",
    "MISSED": "#c62828",
    "VOICEMAIL": "#8e24aa",
    "ABANDONED": "#ef6c00",
    "BUSY": "#6d4c41",
    "FAILED": "#546e7a",
    "BLOCKED": "#212121",
    "UNKNOWN": "#bdbdbd",
}
PROVIDER_COLOURS = ("#1565c0", "#f9a825", "#6a1b9a", "#00897b", "#d81b60", "#5d4037")
DIRECTION_TITLES = {"INBOUND": "Inbound calls", "OUTBOUND": "Outbound calls", "INTERNAL": "Internal calls"}


def figures_path(picture: str | Path) -> Path:
    """Where the figures of a picture are written: beside it, same name, `.json`."""
    return Path(picture).with_suffix(".json")


def render_kpi_picture(
    serving: str | Path, out: str | Path, days: int = DAYS, last_day: date | None = None
) -> Path:
    """Draw the picture of `days` days ending `last_day` (default: the newest day with calls) from
    `serving` into `out` (PNG), and its figures into `figures_path(out)`; returns the PNG's path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        figures = window_figures(con, days=days, last_day=last_day)
    finally:
        con.close()
    fig = draw(figures)
    fig.savefig(out, dpi=100)
    plt.close(fig)
    figures_path(out).write_text(json.dumps(figures.to_json(), indent=1) + "\n", encoding="utf-8")
    return out


def draw(figures: WindowFigures) -> Figure:
    """The picture of `figures` as a matplotlib figure."""
    directions = list(figures.outcomes) or ["INBOUND"]
    fig = plt.figure(figsize=(15, 10.5), layout="constrained")
    # One sub-figure per row, so that the long provider names of the bar charts do not push the
    # trend charts apart.
    top, middle, bottom = fig.subfigures(3, 1, height_ratios=[3.3, 2.5, 1.5])
    window = f"{figures.first_day:%a %d %b %Y} – {figures.last_day:%a %d %b %Y}"
    fig.suptitle(f"Call center KPIs, {window} (days in {figures.reporting_timezone})", fontsize=16, fontweight="bold")
    colours = {p: PROVIDER_COLOURS[i % len(PROVIDER_COLOURS)] for i, p in enumerate(figures.providers)}
    trends = [
        ("service_level_pct", f"Service level: offered calls answered within {threshold_text(figures)}", "%"),
        ("abandonment_pct", "Abandonment rate: offered calls abandoned", "%"),
        ("asa_s", "Average speed of answer (ASA)", "s"),
    ]
    for ax, (attr, title, unit) in zip(top.subplots(1, 3), trends, strict=True):
        _trend(ax, figures, attr, title, unit, colours)
    _shared_legend(top, top.axes, fontsize=10, order=[figures.names[p] for p in figures.providers])
    axes = middle.subplots(1, len(directions), squeeze=False)[0]
    for ax, direction in zip(axes, directions, strict=True):
        _outcome_mix(ax, figures, direction)
    _shared_legend(middle, axes, fontsize=9, order=[o.lower() for o in OUTCOMES])
    _kpi_table(bottom.subplots(), figures)
    return fig


def _shared_legend(sub: SubFigure, axes: list[Axes], fontsize: int, order: list[str]) -> None:
    """One legend below a row of charts (the colours mean the same in each), its entries in `order`."""
    handles: dict[str, Artist] = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(label, handle)
    labels = sorted(handles, key=lambda label: order.index(label) if label in order else len(order))
    if labels:
        handles_in_order = [handles[x] for x in labels]
        sub.legend(handles_in_order, labels, loc="outside lower center", ncols=len(labels), fontsize=fontsize)


def _trend(ax: Axes, figures: WindowFigures, attr: str, title: str, unit: str, colours: dict[str, str]) -> None:
    unmeasured = []
    for provider in figures.providers:
        points = sorted((d, getattr(k, attr)) for d, k in figures.daily.get(provider, {}).items())
        points = [(d, v) for d, v in points if v is not None]
        if not points:
            unmeasured.append(figures.names[provider])
            continue
        ax.plot(
            [d for d, _ in points], [v for _, v in points], marker="o", markersize=4, linewidth=1.8,
            color=colours[provider], label=figures.names[provider],
        )
    ax.set_title(title, fontsize=11, loc="left")
    ax.set_ylabel("% of offered calls" if unit == "%" else "seconds")
    if attr == "service_level_pct":
        ax.set_ylim(0, 100)
    elif unit == "%":  # abandonment is usually a few per cent: a 0-100 axis would flatten it
        top = max((v for line in ax.get_lines() for v in line.get_ydata()), default=0)
        ax.set_ylim(0, min(100, max(10, 10 * ceil(top * 1.2 / 10))))
    if unit == "%":
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:.0f} %")
    else:
        ax.set_ylim(bottom=0)
    # half a day of margin, so that the first and last points are not cut by the frame
    ax.set_xlim(mdates.date2num(figures.first_day) - 0.5, mdates.date2num(figures.last_day) + 0.5)
    ax.xaxis.set_major_locator(mdates.AutoDateLocator(minticks=2, maxticks=8))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%d %b"))
    ax.grid(alpha=0.3)
    if unmeasured:
        ax.set_xlabel(f"{NA}: {', '.join(unmeasured)} (not measured)", fontsize=9, color="#616161")


def _outcome_mix(ax: Axes, figures: WindowFigures, direction: str) -> None:
    by_provider = figures.outcomes.get(direction, {})
    providers = [p for p in figures.providers if p in by_provider][::-1]  # first provider on top
    labels = [figures.names[p] for p in providers]
    totals = [sum(by_provider[p].values()) for p in providers]
    left = [0] * len(providers)
    for outcome in OUTCOMES:
        values = [by_provider[p].get(outcome, 0) for p in providers]
        if not any(values):
            continue
        bars = ax.barh(labels, values, left=left, color=OUTCOME_COLOURS[outcome], label=outcome.lower())
        shares = [f"{100 * v / t:.0f} %" if t and v / t >= 0.12 else "" for v, t in zip(values, totals, strict=True)]
        ax.bar_label(bars, labels=shares, label_type="center", fontsize=7, color="white")
        left = [a + b for a, b in zip(left, values, strict=True)]
    for y, total in enumerate(totals):
        ax.text(total, y, f" {total:,}", va="center", fontsize=8)
    ax.set_xlim(0, max(totals, default=1) * 1.15)
    ax.set_title(f"{DIRECTION_TITLES.get(direction, direction)} by outcome", fontsize=11, loc="left")
    ax.set_xlabel("calls")
    ax.tick_params(axis="y", labelsize=9)
    ax.spines[["top", "right"]].set_visible(False)


def _kpi_table(ax: Axes, figures: WindowFigures) -> None:
    ax.axis("off")
    providers = [p for p in figures.providers if p in figures.totals]
    if not providers:
        ax.text(0.5, 0.5, "no inbound calls in this window", ha="center", va="center")
        return
    rows = [[figures.names[p], *kpi_cells(figures.totals[p])] for p in providers]
    table = ax.table(
        cellText=rows, colLabels=["provider", *kpi_headers(figures)], loc="upper center", cellLoc="right",
        colLoc="right", colWidths=[0.24, 0.1, 0.1, 0.12, 0.16, 0.1, 0.1],
    )
    table.auto_set_font_size(False)
    table.set_fontsize(10)
    table.scale(1, 1.5)
    for (row, col), cell in table.get_celld().items():
        cell.set_edgecolor("#cfd8dc")
        if row == 0:
            cell.set_text_props(fontweight="bold")
            cell.set_facecolor("#eceff1")
        if col == 0:
            cell.set_text_props(ha="left")
    ax.set_title(
        f"Inbound KPIs of the window (offered = inbound calls answered, missed, sent to voicemail, abandoned or "
        f"busy; {NA} = the provider does not report what the KPI needs)",
        fontsize=10, loc="left",
    )
