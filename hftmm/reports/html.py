"""The self-contained HTML report of a run: plotly charts, with plotly.js inlined exactly once.

Every chart is a plotly figure serialised with ``include_plotlyjs=False``; the library itself is one
``<script>`` in the page head, so the file opens offline and carries no external references. Times are
shown in US/Eastern wall-clock time: the x values are milliseconds of the Eastern wall clock on a plotly
date axis (plotly.js draws date axes without time-zone conversion), which also keeps them in plotly's
compact binary array encoding instead of ISO strings.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from hftmm.reports.analytics import (
    MARKOUT_HORIZONS_S,
    SIDES,
    TOTAL,
    RunAnalytics,
    SectionAnalytics,
    Stat,
    compute_run_analytics,
    order_lifetimes,
    position_limit,
)

EASTERN = "America/New_York"
# Time buckets for the min/max envelope of long series (about 23 s each over a 6.5 h session, finer
# than a screen pixel); each keeps at most six points, so a full day of NBBO stays a few hundred kB per
# instrument while spikes stay visible.
ENVELOPE_BUCKETS = 1_000
MAX_QUOTE_SEGMENTS = 2_000  # per side and instrument
MAX_FILL_MARKERS = 5_000  # per side and instrument

CHART_PNL = "Intraday PnL decomposition"
CHART_INVENTORY = "Inventory"
CHART_QUOTES = "Our quotes vs NBBO"
CHART_FILL_RATE = "Fill rate by side"
CHART_MARKOUTS = "Markouts by side"
CHART_TITLES = (CHART_PNL, CHART_INVENTORY, CHART_QUOTES, CHART_FILL_RATE, CHART_MARKOUTS)

SIDE_COLORS = {"ALL": "#444444", "BUY": "#1f77b4", "SELL": "#d62728"}


def eastern_ms(ts_ns: np.ndarray | pd.Series) -> np.ndarray:
    """UTC nanoseconds to milliseconds of the US/Eastern wall clock, for a plotly date axis.

    Parameters
    ----------
    ts_ns : numpy.ndarray or pandas.Series
        int64 UTC nanoseconds.

    Returns
    -------
    numpy.ndarray
        float64 milliseconds (sub-millisecond precision kept).
    """
    ts = np.asarray(ts_ns, dtype="int64")
    if ts.size == 0:
        return np.array([], dtype="float64")
    local = pd.DatetimeIndex(pd.to_datetime(ts, utc=True)).tz_convert(EASTERN).tz_localize(None)
    return local.as_unit("ns").asi8 / 1e6


def _eastern_str(value: Any) -> str:
    if not value:
        return "n/a"
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return ts.tz_convert(EASTERN).strftime("%Y-%m-%d %H:%M:%S %Z")


def envelope_indices(ts: np.ndarray, values: Iterable[np.ndarray], buckets: int = ENVELOPE_BUCKETS) -> np.ndarray:
    """Row positions that keep the shape of long series: per time bucket, first, last, min and max rows.

    Parameters
    ----------
    ts : numpy.ndarray
        Sorted int64 times.
    values : iterable of numpy.ndarray
        Series whose extremes must survive (NaNs are ignored).
    buckets : int
        Number of equal time buckets over the span.

    Returns
    -------
    numpy.ndarray
        Sorted unique positions; all positions when the series is already short.
    """
    n = len(ts)
    cols = [np.asarray(v, dtype="float64") for v in values]
    if n <= 4 * buckets:
        return np.arange(n)
    ts = np.asarray(ts, dtype="int64")
    span = max(int(ts[-1] - ts[0]), 1)
    bucket = ((ts - ts[0]).astype("float64") * buckets / span).astype("int64").clip(0, buckets - 1)
    frame = pd.DataFrame({"b": bucket, **{f"v{i}": c for i, c in enumerate(cols)}})
    groups = frame.groupby("b", sort=False)
    keep = [np.flatnonzero(np.r_[True, bucket[1:] != bucket[:-1]]), np.flatnonzero(np.r_[bucket[1:] != bucket[:-1], True])]
    for i in range(len(cols)):
        col = groups[f"v{i}"]
        keep += [col.idxmin().dropna().to_numpy(dtype="int64"), col.idxmax().dropna().to_numpy(dtype="int64")]
    return np.unique(np.concatenate(keep))


def _even_sample(n: int, limit: int) -> np.ndarray:
    return np.arange(n) if n <= limit else np.unique(np.linspace(0, n - 1, limit).round().astype("int64"))


def _layout(fig: go.Figure, title: str, *, time_axis: bool = True, y_title: str = "") -> None:
    fig.update_layout(
        title={"text": title}, template="plotly_white", margin={"l": 70, "r": 20, "t": 60, "b": 50},
        legend={"orientation": "h", "y": -0.18}, hovermode="x unified" if time_axis else "closest",
    )
    if time_axis:
        fig.update_xaxes(type="date", title="time (US/Eastern)")
    fig.update_yaxes(title=y_title)


def _no_data(fig: go.Figure, text: str) -> None:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5, font={"size": 18})


def _div(fig: go.Figure) -> str:
    return "<div class='chart'>" + fig.to_html(
        full_html=False, include_plotlyjs=False, default_height="400px", config={"displaylogo": False, "responsive": True},
    ) + "</div>"


def _title(section: SectionAnalytics, chart: str, *, no_fills: bool) -> str:
    label = "all instruments" if section.name == TOTAL else section.name
    return f"{chart}: {label}" + (" (no fills)" if no_fills else "")


def pnl_figure(section: SectionAnalytics) -> go.Figure:
    """Total PnL and its split into spread capture, inventory PnL and fees over the day.

    Parameters
    ----------
    section : SectionAnalytics
        An instrument or the total.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    no_fills = section.fills.empty
    fig = go.Figure()
    pnl = section.pnl
    if len(pnl):
        # The envelope follows the total only: the parts are drawn at the same instants, which keeps the
        # total's extremes (drawdowns) exact and the page small.
        idx = envelope_indices(pnl["ts"].to_numpy(), [pnl["total"].to_numpy()])
        p = pnl.iloc[idx]
        x = eastern_ms(p["ts"])
        for col, name, color in (("total", "total", "#000000"), ("spread", "spread capture", "#2ca02c"),
                                 ("inventory", "inventory PnL", "#1f77b4")):
            fig.add_trace(go.Scatter(x=x, y=p[col].to_numpy(), name=name, mode="lines", line={"shape": "hv", "color": color}))
        # Plotted as a PnL contribution (-sum of commissions), so the three parts add up to the total.
        fig.add_trace(go.Scatter(x=x, y=-p["fees"].to_numpy(), name="fees and rebates (−Σ commission)", mode="lines",
                                 line={"shape": "hv", "color": "#ff7f0e"}))
    if no_fills:
        _no_data(fig, "no fills")
    _layout(fig, _title(section, CHART_PNL, no_fills=no_fills), y_title="USD (mark-to-mid)")
    return fig


def inventory_figure(section: SectionAnalytics, limit: float | None = None) -> go.Figure:
    """Signed position over time, one line per instrument.

    Parameters
    ----------
    section : SectionAnalytics
        An instrument or the total.
    limit : float, optional
        Position limit to draw as dotted lines.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    no_fills = section.fills.empty
    fig = go.Figure()
    for iid, path in section.inventory.groupby("instrument_id", sort=False):
        idx = envelope_indices(path["ts"].to_numpy(), [path["position"].to_numpy()])
        p = path.iloc[idx]
        fig.add_trace(go.Scatter(x=eastern_ms(p["ts"]), y=p["position"].to_numpy(), name=str(iid), mode="lines",
                                 line={"shape": "hv"}))
    if limit is not None:
        for y in (limit, -limit):
            fig.add_hline(y=y, line={"dash": "dot", "color": "#999999"})
    if no_fills:
        _no_data(fig, "no fills")
    _layout(fig, _title(section, CHART_INVENTORY, no_fills=no_fills), y_title="position (shares)")
    return fig


def _segments(start: np.ndarray, end: np.ndarray, price: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    # One trace of many horizontal segments: (start, p), (end, p), gap.
    x = np.column_stack([eastern_ms(start), eastern_ms(end), np.full(len(start), np.nan)]).ravel()
    y = np.column_stack([price, price, np.full(len(start), np.nan)]).ravel()
    return x, y


def quotes_figure(section: SectionAnalytics) -> go.Figure:
    """Our order prices and fills against the NBBO bid and ask.

    An unamended order is a segment at its price over its life. ``orders.parquet`` keeps only the last
    price of an amended order, which is known to hold only at the order's last event, so such an order is
    a marker at ``(ts_last, last price)`` instead of a segment that would misplace its earlier prices.

    Parameters
    ----------
    section : SectionAnalytics
        One instrument.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fig = go.Figure()
    q = section.quotes
    notes = []
    if len(q):
        idx = envelope_indices(q["ts_event"].to_numpy(), [q["bid_price"].to_numpy(), q["ask_price"].to_numpy()])
        if len(idx) < len(q):
            notes.append(f"NBBO: {len(idx):,} of {len(q):,} rows (per-bucket min/max envelope)")
        nb = q.iloc[idx]
        x = eastern_ms(nb["ts_event"])
        fig.add_trace(go.Scatter(x=x, y=nb["bid_price"].to_numpy(), name="NBBO bid", mode="lines",
                                 line={"shape": "hv", "color": "#9ecae1"}))
        fig.add_trace(go.Scatter(x=x, y=nb["ask_price"].to_numpy(), name="NBBO ask", mode="lines",
                                 line={"shape": "hv", "color": "#fcae91"}))
    end_ns = int(q["ts_event"].max()) if len(q) else 0
    resting = section.quote_versions if section.quote_versions is not None else section.orders
    life = order_lifetimes(resting, end_ns)
    for side, color in (("BUY", "#08519c"), ("SELL", "#a50f15")):
        s = life[life["side"] == side]
        amended = s[s["amended"].to_numpy(dtype=bool)]
        s = s[~s["amended"].to_numpy(dtype=bool)]
        keep = _even_sample(len(s), MAX_QUOTE_SEGMENTS)
        if len(keep) < len(s):
            notes.append(f"{side.lower()} orders: {len(keep):,} of {len(s):,}")
        s = s.iloc[keep]
        x, y = _segments(s["start"].to_numpy(), s["end"].to_numpy(), s["price"].to_numpy())
        fig.add_trace(go.Scatter(x=x, y=y, name=f"our {side.lower()} orders", mode="lines",
                                 line={"color": color, "width": 2}, connectgaps=False))
        if len(amended):
            keep = _even_sample(len(amended), MAX_QUOTE_SEGMENTS)
            amended = amended.iloc[keep]
            fig.add_trace(go.Scatter(
                x=eastern_ms(amended["end"]), y=amended["price"].to_numpy(), mode="markers",
                name=f"amended {side.lower()} orders: last price at their end",
                marker={"symbol": "line-ew-open", "size": 10, "color": color, "line": {"width": 2, "color": color}},
            ))
        f = section.fills[section.fills["side"] == side]
        keep = _even_sample(len(f), MAX_FILL_MARKERS)
        f = f.iloc[keep]
        fig.add_trace(go.Scatter(
            x=eastern_ms(f["ts_event"]), y=f["price"].to_numpy(), name=f"{side.lower()} fills", mode="markers",
            marker={"symbol": "triangle-up" if side == "BUY" else "triangle-down", "size": 8, "color": color,
                    "line": {"width": 1, "color": "white"}},
        ))
    if section.fills.empty:
        _no_data(fig, "no fills")
    title = _title(section, CHART_QUOTES, no_fills=section.fills.empty)
    n_amended = int(life["amended"].sum())
    if n_amended:
        title += (f"<br><sup>{n_amended:,} of {len(life):,} orders were amended: orders.parquet keeps only their last "
                  "price, drawn at their last event</sup>")
    if notes:
        title += "<br><sup>downsampled: " + html.escape("; ".join(notes)) + "</sup>"
    _layout(fig, title, y_title="price (USD)")
    fig.update_layout(hovermode="closest")
    return fig


def fill_rate_figure(section: SectionAnalytics) -> go.Figure:
    """Fill, cancel and touch ratios by side as grouped bars.

    Parameters
    ----------
    section : SectionAnalytics
        An instrument or the total.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    fr = section.fill_rates
    sides = ["ALL", *SIDES]
    fig = go.Figure()
    for col, name in (("orders_filled_ratio", "orders with a fill / orders"), ("fills_per_order", "fills / orders"),
                      ("qty_fill_ratio", "filled / quoted quantity"), ("cancel_ratio", "canceled / orders")):
        fig.add_trace(go.Bar(x=sides, y=[fr.loc[s, col] for s in sides], name=name))
    pres = section.presence
    fig.add_trace(go.Bar(x=sides, y=[pres.loc["BOTH" if s == "ALL" else s, "time_at_touch"] for s in sides],
                         name="time at touch / resting time (orders at a known price)"))
    fig.add_trace(go.Bar(x=sides, y=[pres.loc["BOTH" if s == "ALL" else s, "uptime"] for s in sides],
                         name="quote uptime (ALL: both sides at once)"))
    fig.update_layout(barmode="group")
    counts = ", ".join(f"{s}: {int(fr.loc[s, 'orders']):,} orders, {int(fr.loc[s, 'fills']):,} fills" for s in sides)
    no_fills = section.fills.empty
    if no_fills:
        _no_data(fig, "no fills")
    _layout(fig, _title(section, CHART_FILL_RATE, no_fills=no_fills) + f"<br><sup>{html.escape(counts)}</sup>",
            time_axis=False, y_title="fraction")
    return fig


def markout_figure(section: SectionAnalytics, horizons_s: tuple[int, ...] = MARKOUT_HORIZONS_S) -> go.Figure:
    """Mean markout curve with 95 % confidence bars, by side; 0 s is the realised half-spread.

    Per instrument the unit is USD per share; for the total, bps of the fill price (prices differ
    across instruments).

    Parameters
    ----------
    section : SectionAnalytics
        An instrument or the total.
    horizons_s : tuple of int
        The horizons of ``section.markout_summary``.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    bps = section.name == TOTAL
    mean_col, ci_col = ("mean_bps", "ci95_bps") if bps else ("mean", "ci95")
    mk, ms = section.markouts, section.markout_summary
    fig = go.Figure()
    if len(mk):
        for side in ("ALL", *SIDES):
            s = mk if side == "ALL" else mk[mk["side"] == side]
            h0 = s["half_spread_bps" if bps else "half_spread"].dropna()
            rows = ms[ms["side"] == side].set_index("horizon_s").loc[list(horizons_s)]
            y = np.r_[h0.mean() if len(h0) else np.nan, rows[mean_col].to_numpy()]
            ci0 = 1.96 * h0.std(ddof=1) / math.sqrt(len(h0)) if len(h0) >= 2 else np.nan
            err = np.r_[ci0, rows[ci_col].to_numpy()]
            text = [f"n={len(h0)}"] + [
                f"n={int(n)}, excluded={int(e)}" for n, e in zip(rows["n"], rows["n_excluded"], strict=True)
            ]
            fig.add_trace(go.Scatter(
                x=[f"{h} s" for h in (0, *horizons_s)], y=y, error_y={"type": "data", "array": err, "visible": True},
                name=f"{side.lower()} fills", mode="lines+markers", text=text, hovertemplate="%{x}: %{y:.4f} ± %{error_y.array:.4f}<br>%{text}",
                line={"color": SIDE_COLORS[side]},
            ))
        fig.add_hline(y=0, line={"color": "#999999", "width": 1})
    else:
        _no_data(fig, "no fills")
    title = _title(section, CHART_MARKOUTS, no_fills=mk.empty)
    excluded = ms[ms["side"] == "ALL"].set_index("horizon_s")["n_excluded"]
    if len(mk) and excluded.sum():
        title += "<br><sup>excluded (horizon past the end of the market data): " + ", ".join(
            f"{h} s: {int(n)}" for h, n in excluded.items()) + "</sup>"
    _layout(fig, title, time_axis=False,
            y_title="bps of fill price (mean ± 95% CI)" if bps else "USD per share (mean ± 95% CI)")
    # Categorical: the horizons are spread geometrically, a linear axis would squash the short ones.
    fig.update_xaxes(title="time after the fill (0 s = realised half-spread)", type="category")
    return fig


# -- tables ------------------------------------------------------------------------------------------


def _fmt(value: Any, unit: str = "") -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    if isinstance(value, (float, np.floating)):
        if not math.isfinite(float(value)):
            return "n/a"
        if float(value).is_integer() and unit != "fraction" and abs(float(value)) < 1e15:
            return f"{int(value):,}"
        if unit == "fraction":
            return f"{100 * float(value):.2f} %"
        return f"{float(value):,.4f}" if abs(float(value)) < 1e6 else f"{float(value):,.0f}"
    return str(value)


def stats_table_html(stats: Mapping[str, Stat]) -> str:
    """The statistics of one section as an HTML table (name, value, unit, definition).

    Parameters
    ----------
    stats : mapping of str to Stat

    Returns
    -------
    str
    """
    rows = "".join(
        f"<tr><td>{html.escape(k)}</td><td class='num'>{html.escape(_fmt(v.value, v.unit))}</td><td>{html.escape(v.unit)}</td>"
        f"<td class='note'>{html.escape(v.note)}</td></tr>"
        for k, v in stats.items()
    )
    return ("<table class='stats'><caption>Statistics</caption><tr><th>statistic</th><th>value</th><th>unit</th>"
            f"<th>definition</th></tr>{rows}</table>")


def frame_table_html(df: pd.DataFrame, caption: str, *, index: bool = True) -> str:
    """A small DataFrame as an HTML table with formatted numbers.

    Parameters
    ----------
    df : pandas.DataFrame
    caption : str
    index : bool
        Show the index as the first column.

    Returns
    -------
    str
    """
    head = ([html.escape(str(df.index.name or ""))] if index else []) + [html.escape(str(c)) for c in df.columns]
    body = []
    for key, row in df.iterrows():
        cells = ([f"<td>{html.escape(str(key))}</td>"] if index else []) + [
            f"<td class='num'>{_fmt(v)}</td>" if isinstance(v, (int, float, np.number)) else f"<td>{html.escape(str(v))}</td>"
            for v in row.to_numpy()
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (f"<table class='stats'><caption>{html.escape(caption)}</caption><tr>"
            + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(body) + "</table>")


def _flatten(d: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, Mapping):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v
    return out


def config_highlights(config: Mapping[str, Any]) -> dict[str, str]:
    """The configuration keys worth seeing next to the results: strategy parameters, fees, latency, book.

    Parameters
    ----------
    config : mapping
        ``config.json``.

    Returns
    -------
    dict of str to str
    """
    flat = _flatten(config)
    prefixes = ("strategy.", "venue.fees.", "venue.latency.", "venue.book_type", "venue.queue_position", "backtest.date",
                "backtest.trading_start", "backtest.trading_end", "backtest.seed")
    skip = {"strategy.config_path"}
    return {k: json.dumps(v) if not isinstance(v, str) else v for k, v in flat.items()
            if k.startswith(prefixes) and k not in skip}


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;margin:1.5em 2em;color:#222;max-width:1400px}
h1{margin-bottom:.2em} h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table.stats{border-collapse:collapse;margin:.8em 1.5em .8em 0;font-size:13px;display:inline-table;vertical-align:top}
table.stats caption{text-align:left;font-weight:600;padding:.3em 0}
table.stats td,table.stats th{border:1px solid #ddd;padding:3px 8px;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums} td.note{color:#666;font-size:12px}
.chart{margin:.5em 0 1.5em 0} .meta{color:#444} nav a{margin-right:1em}
details{margin:1em 0} code{background:#f4f4f4;padding:0 3px}
"""

_DEFINITIONS = """
<details><summary>Definitions and sign conventions</summary><ul>
<li><code>d</code> = +1 for a buy fill, −1 for a sell; <code>q</code> shares; <code>p</code> fill price;
<code>M<sub>t</sub></code> the NBBO mid prevailing at <code>t</code> (last two-sided quote at or before <code>t</code>).</li>
<li>Spread capture <code>Σ d q (M<sub>fill</sub> − p)</code>;
inventory PnL <code>Σ d q (M<sub>t</sub> − M<sub>fill</sub>)</code>;
fees <code>Σ commission</code> (positive = cost, negative = rebate, plotted as −Σ commission);
total = spread capture + inventory PnL − fees = cash + position × mid (mark-to-mid).</li>
<li>Markout at <code>h</code>: <code>d (M<sub>t+h</sub> − p)</code> per share = realised half-spread
<code>d (M<sub>t</sub> − p)</code> + adverse move <code>d (M<sub>t+h</sub> − M<sub>t</sub>)</code>; in bps: ÷ p × 10⁴.
Simple mean over fills; fills whose horizon passes the end of the market data are excluded and counted.</li>
<li>Quote placement: <code>d (order price − same-side NBBO at creation)</code> in ticks (&gt; 0 improves the touch);
orders.parquet holds only an order's latest price, so amended orders are left out of placement and time at
touch (they count for uptime).</li>
<li>Sharpe: mean / sample std of 1-minute changes of the total PnL, intraday and not annualised.</li>
<li>Realized / unrealized PnL come from summary.json (NautilusTrader: net of fees, its own marks); the
mark-to-mid total above is this report's own.</li>
</ul></details>
"""


def _header(run: RunAnalytics) -> str:
    s = run.summary
    instruments = ", ".join(run.instruments) or "none"
    start = s.get("backtest_start") or (s.get("trading_window") or [None])[0]
    end = s.get("backtest_end") or (s.get("trading_window") or [None, None])[-1]
    items = [
        ("instruments", instruments),
        ("backtest (US/Eastern)", f"{_eastern_str(start)} → {_eastern_str(end)}"),
        ("trading window (US/Eastern)", " → ".join(_eastern_str(t) for t in s.get("trading_window") or []) or "n/a"),
        ("created", _eastern_str(s.get("created_at"))),
        ("events", _fmt(s.get("events", math.nan), "count")),
        ("events/s", _fmt(s.get("events_per_second", math.nan))),
        ("wall time (s)", _fmt(s.get("wall_seconds", math.nan))),
        ("orders / fills", f"{_fmt(s.get('orders', math.nan), 'count')} / {_fmt(s.get('fills', math.nan), 'count')}"),
        ("total PnL (Nautilus)", f"{_fmt(s.get('total_pnl', math.nan))} {s.get('currency', 'USD')}"),
        ("fees", f"{_fmt(s.get('fees', math.nan))} {s.get('currency', 'USD')}"),
    ]
    meta = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in items)
    cfg = config_highlights(run.config)
    cfg_rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>" for k, v in cfg.items())
    cfg_table = (f"<table class='stats'><caption>Configuration highlights</caption>{cfg_rows}</table>" if cfg_rows
                 else "<p class='meta'>config.json: not found or no strategy parameters.</p>")
    risk = s.get("risk")
    if risk:
        rows = "".join(
            f"<tr><td>{html.escape(_eastern_str(dt.datetime.fromtimestamp(a['ts_ns'] / 1e9, dt.UTC).isoformat()))}</td>"
            f"<td>{html.escape(a['mode'])}</td><td>{html.escape(a['plugin'])}</td><td>{html.escape(a['reason'])}</td></tr>"
            for a in risk.get("actions", []))
        cfg_table += (f"<table class='stats'><caption>Risk chain: {_fmt(risk.get('checked', 0), 'count')} messages checked, "
                      f"{_fmt(risk.get('vetoed', 0), 'count')} vetoed; plugins: {html.escape(', '.join(risk.get('plugins', [])) or 'none')}"
                      f"</caption>{rows}</table>" if not rows else
                      f"<table class='stats'><caption>Risk mode changes ({_fmt(risk.get('checked', 0), 'count')} messages checked, "
                      f"{_fmt(risk.get('vetoed', 0), 'count')} vetoed)</caption><tr><th>time (US/Eastern)</th><th>mode</th>"
                      f"<th>by</th><th>reason</th></tr>{rows}</table>")
    nav = "".join(f"<a href='#{html.escape(_anchor(n))}'>{html.escape(n)}</a>" for n in [TOTAL, *run.instruments])
    return (f"<h1>hftmm run {html.escape(run.run_id)}</h1><nav>{nav}</nav>"
            f"<table class='stats'><caption>Run</caption>{meta}</table>{cfg_table}{_DEFINITIONS}")


def _anchor(name: str) -> str:
    return "section-" + "".join(ch if ch.isalnum() else "-" for ch in name)


def _section(run: RunAnalytics, section: SectionAnalytics) -> str:
    title = "All instruments" if section.name == TOTAL else section.name
    limit = position_limit(run.config) if section.name != TOTAL else None
    charts = [pnl_figure(section), inventory_figure(section, limit)]
    if section.name != TOTAL:
        charts.append(quotes_figure(section))
    charts += [fill_rate_figure(section), markout_figure(section, run.horizons_s)]
    presence = section.presence.rename(index={"BOTH": "ALL"})
    placement = section.placement_summary.join(presence[["time_at_touch", "uptime"]], how="left")
    tables = [
        stats_table_html(section.stats),
        frame_table_html(section.fill_rates, "Fill rate, order-to-trade and cancel ratios"),
        frame_table_html(placement, "Quote placement vs same-side NBBO at creation (ticks), time at touch, uptime "
                                    "(ALL: both sides at once)"),
        frame_table_html(section.markout_summary, "Markouts (USD/share and bps; half_spread and adverse over the same fills)",
                         index=False),
    ]
    if section.name == TOTAL and run.vetoes is not None:
        tables.append(frame_table_html(run.vetoes, "Vetoes by plugin and reason", index=False) if len(run.vetoes)
                      else "<p class='meta'>vetoes.parquet: no vetoes.</p>")
    return (f"<section id='{html.escape(_anchor(section.name))}'><h2>{html.escape(title)}</h2>"
            f"<div>{''.join(tables)}</div>{''.join(_div(c) for c in charts)}</section>")


def render_report(run: RunAnalytics) -> str:
    """The report page of computed analytics.

    Parameters
    ----------
    run : RunAnalytics

    Returns
    -------
    str
        A complete HTML document with plotly.js inlined once.
    """
    sections = [_section(run, run.total)] + [_section(run, s) for s in run.instruments.values()]
    return (
        "<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>hftmm run {html.escape(run.run_id)}</title><style>{_CSS}</style>"
        f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
        f"<body>{_header(run)}{''.join(sections)}</body></html>\n"
    )


def build_report(run_dir: Path, out: Path | None = None) -> Path:
    """Write the self-contained HTML report of a run folder.

    Parameters
    ----------
    run_dir : pathlib.Path
        ``runs/<run-id>/``.
    out : pathlib.Path, optional
        Where to write; default ``run_dir/report.html``.

    Returns
    -------
    pathlib.Path
        The written file.

    Raises
    ------
    ReportError
        When the run folder is incomplete (naming the missing file or column).
    """
    run_dir = Path(run_dir)
    run = compute_run_analytics(run_dir)
    target = Path(out) if out is not None else run_dir / "report.html"
    target.parent.mkdir(parents=True, exist_ok=True)
    # Write beside the target then rename, so a reader never sees a half-written report.
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(render_report(run), encoding="utf-8")
    tmp.replace(target)
    return target
