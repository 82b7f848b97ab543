"""The KPI picture: the last 30 days of calls by provider and outcome, and the main KPIs, as a PNG.

Reads only the serving snapshot (read-only), so it never contends with a warehouse build.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # no display: render straight to a file
import matplotlib.pyplot as plt  # noqa: E402

OUTCOME_COLOURS = {
    "ANSWERED": "#2e7d32",
    "MISSED": "#c62828",
    "VOICEMAIL": "#6a1b9a",
    "ABANDONED": "#ef6c00",
    "BUSY": "#5d4037",
    "FAILED": "#455a64",
    "BLOCKED": "#000000",
    "UNKNOWN": "#9e9e9e",
}
DAYS = 30


def _calls_by_provider_outcome(con: duckdb.DuckDBPyConnection, since: str) -> dict[str, dict[str, int]]:
    rows = con.execute(
        "select provider, outcome, count(*) from uc.uc_call where start_at >= ?::timestamptz group by 1, 2",
        [since],
    ).fetchall()
    table: dict[str, dict[str, int]] = {}
    for provider, outcome, n in rows:
        table.setdefault(provider, {})[outcome] = n
    return table


def render_kpi_picture(serving: str | Path, out: str | Path, days: int = DAYS) -> Path:
    """Draw the picture from `serving` into `out` (PNG); returns the path."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        latest = con.execute("select max(start_at) from uc.uc_call").fetchone()[0]
        if latest is None:
            raise RuntimeError(f"{serving}: uc.uc_call is empty; nothing to draw yet. Extract some days first.")
        since = (latest - timedelta(days=days)).isoformat()
        calls = _calls_by_provider_outcome(con, since)
        kpis = con.execute(KPI_SQL, [since]).fetchall()
        kpi_columns = [d[0] for d in con.description]
    finally:
        con.close()
    fig, (ax_calls, ax_kpi) = plt.subplots(2, 1, figsize=(10, 8), gridspec_kw={"height_ratios": [3, 2]})
    providers = sorted(calls)
    bottoms = [0] * len(providers)
    for outcome, colour in OUTCOME_COLOURS.items():
        values = [calls[p].get(outcome, 0) for p in providers]
        if any(values):
            ax_calls.bar(providers, values, bottom=bottoms, label=outcome, color=colour)
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax_calls.set_title(f"Calls by provider and outcome, {days} days to {latest:%Y-%m-%d}")
    ax_calls.set_ylabel("calls")
    ax_calls.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    ax_kpi.axis("off")
    cells = [[_fmt(v) for v in row] for row in kpis]
    if cells:
        table = ax_kpi.table(cellText=cells, colLabels=kpi_columns, loc="center")
        table.auto_set_font_size(False)
        table.set_fontsize(8)
        table.scale(1, 1.4)
    ax_kpi.set_title("KPIs (n/a: the provider does not supply the fields a KPI needs)")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _fmt(value: object) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


# The window's KPIs per provider, re-aggregated from reporting.kpi_daily's counts (rates are not averaged
# across days); NULL where the provider does not supply what a KPI needs.
KPI_SQL = """
select
    provider,
    sum(offered_calls) as offered,
    sum(answered_calls) as answered,
    sum(asa_s * answered_calls) / nullif(sum(answered_calls) filter (where asa_s is not null), 0) as asa_s,
    sum(abandoned_calls) filter (where abandonment_rate is not null)
        / nullif(sum(offered_calls) filter (where abandonment_rate is not null), 0) as abandonment,
    (sum(abandoned_calls - short_abandoned_calls) filter (where adjusted_abandonment_rate is not null))
        / nullif(sum(offered_calls - short_abandoned_calls) filter (where adjusted_abandonment_rate is not null), 0)
        as adj_abandonment,
    sum(answered_within_threshold_calls) filter (where service_level is not null)
        / nullif(sum(offered_calls) filter (where service_level is not null), 0) as service_level,
    sum(aht_s * answered_calls) / nullif(sum(answered_calls) filter (where aht_s is not null), 0) as aht_s
from reporting.kpi_daily
where day >= ?::timestamptz::date
group by provider
order by provider
"""
