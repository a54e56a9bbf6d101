"""The self-contained HTML report of a run: plotly charts with the plotly library inlined once."""

from __future__ import annotations

import html
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from hftmm.reports.analytics import MARKOUT_HORIZONS_S, InstrumentAnalytics, compute_run_analytics

MAX_POINTS = 6_000  # per trace, so a full day stays a few MB


def _et(ts: np.ndarray) -> pd.DatetimeIndex:
    return pd.to_datetime(ts, utc=True).tz_convert("America/New_York").tz_localize(None)


def _thin(df: pd.DataFrame) -> pd.DataFrame:
    step = max(1, len(df) // MAX_POINTS)
    return df.iloc[::step]


def _div(fig: go.Figure, title: str) -> str:
    fig.update_layout(title=title, height=380, margin={"l": 60, "r": 20, "t": 50, "b": 40}, template="plotly_white")
    return fig.to_html(full_html=False, include_plotlyjs=False)


def _charts(a: InstrumentAnalytics) -> list[str]:
    out = []
    pnl = _thin(a.pnl)
    t = _et(pnl["ts"].to_numpy())
    fig = go.Figure()
    for col, name in (("total", "total"), ("spread", "spread capture"), ("inventory", "inventory"), ("fees", "fees (cost)")):
        y = -pnl[col] if col == "fees" else pnl[col]
        fig.add_trace(go.Scattergl(x=t, y=y, name=name, mode="lines"))
    fig.update_yaxes(title="USD")
    out.append(_div(fig, "Intraday PnL: spread capture, inventory and fees"))

    fig = go.Figure(go.Scattergl(x=t, y=pnl["position"], mode="lines", line_shape="hv", name="position"))
    fig.update_yaxes(title="shares")
    out.append(_div(fig, "Inventory"))

    m = _thin(a.market)
    fig = go.Figure()
    tm = _et(m["ts_event"].to_numpy())
    fig.add_trace(go.Scattergl(x=tm, y=m["bid_price"], name="NBBO bid", mode="lines", line={"color": "#9ecae1"}))
    fig.add_trace(go.Scattergl(x=tm, y=m["ask_price"], name="NBBO ask", mode="lines", line={"color": "#fcae91"}))
    for side, color in (("BUY", "#08519c"), ("SELL", "#a50f15")):
        o = _thin(a.orders[a.orders["side"] == side])
        fig.add_trace(
            go.Scattergl(x=_et(o["ts_init"].to_numpy()), y=o["price"], mode="markers", name=f"our {side.lower()} (latest price)",
                         marker={"size": 4, "color": color}),
        )
    fig.update_yaxes(title="USD")
    out.append(_div(fig, "Our quotes vs the NBBO"))

    fr = a.fill_rates
    fig = go.Figure(
        [go.Bar(x=fr["side"], y=fr["fill_ratio"], name="orders with a fill"),
         go.Bar(x=fr["side"], y=fr["qty_fill_ratio"], name="filled / quoted quantity"),
         go.Bar(x=fr["side"], y=fr["cancel_ratio"], name="cancelled")],
    )
    fig.update_yaxes(title="fraction", range=[0, 1])
    out.append(_div(fig, "Fill rate"))

    fig = go.Figure()
    mk = a.markouts
    for side in ("BUY", "SELL"):
        s = mk[mk["side"] == side]
        means = [s[f"markout_{h}s"].mean() for h in MARKOUT_HORIZONS_S]
        errs = [1.96 * s[f"markout_{h}s"].std() / max(np.sqrt(s[f"markout_{h}s"].count()), 1) for h in MARKOUT_HORIZONS_S]
        fig.add_trace(go.Scatter(x=[f"{h}s" for h in MARKOUT_HORIZONS_S], y=means, name=f"{side.lower()} fills",
                                 error_y={"type": "data", "array": errs}, mode="lines+markers"))
    fig.update_yaxes(title="USD per share (95% CI)")
    out.append(_div(fig, "Markouts of fills" if len(mk) else "Markouts of fills (no fills)"))
    return out


def _stats_table(a: InstrumentAnalytics) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td>{v:,.4f}</td></tr>" if isinstance(v, float) and not np.isnan(v)
        else f"<tr><td>{html.escape(k)}</td><td>n/a</td></tr>"
        for k, v in a.stats.items()
    )
    return f"<table class='stats'><tr><th>statistic</th><th>value</th></tr>{rows}</table>"


def build_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write ``run_dir/report.html`` (or ``out``) and return its path."""
    run = compute_run_analytics(run_dir)
    s = run.summary
    out = out or run_dir / "report.html"
    sections = []
    for a in run.instruments:
        charts = "".join(f"<div class='chart'>{c}</div>" for c in _charts(a))
        sections.append(f"<section><h2>{html.escape(a.instrument_id)}</h2>{_stats_table(a)}{charts}</section>")
    head = (
        f"<h1>hftmm run {html.escape(s['run_id'])}</h1>"
        f"<p>instruments: {html.escape(', '.join(s['instruments']))} &middot; window (UTC): "
        f"{html.escape(' to '.join(w or '' for w in s.get('trading_window', [])))} &middot; "
        f"{s['events']:,} events, {s['orders']:,} orders, {s['fills']:,} fills &middot; total PnL "
        f"{s['total_pnl']:,.2f} {html.escape(s['currency'])} (fees {s['fees']:,.2f}) &middot; "
        f"{s['events_per_second']:,.0f} events/s</p>"
    )
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>hftmm run {html.escape(s['run_id'])}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#222}} table.stats{{border-collapse:collapse;margin:1em 0}}
table.stats td,table.stats th{{border:1px solid #ddd;padding:4px 10px;text-align:left}} td:nth-child(2){{text-align:right}}</style>
<script type="text/javascript">{get_plotlyjs()}</script></head>
<body>{head}{''.join(sections)}</body></html>
"""
    out.write_text(page)
    return out
