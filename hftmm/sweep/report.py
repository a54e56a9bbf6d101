"""The sweep comparison report: one self-contained HTML page built from the sweep's results table.

It reads ``results.parquet`` (and ``sweep.json`` when present) and shows a sortable table of every run
(parameters, symbol, day, PnL, fills, the run statistics, the error of a failed run), the metric by
each parameter, a heatmap of the metric's mean over each pair of parameters (up to three pairs), the
metric by symbol, and Sharpe against PnL. plotly.js is inlined once, as in :mod:`hftmm.reports.html`,
so the file opens offline.
"""

from __future__ import annotations

import html
import itertools
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from hftmm.sweep.results import FAILED, OK, PARAM_PREFIX, read_results

MAX_HEATMAPS = 3
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf")
METRIC_LABELS = {
    "total_pnl": "total PnL (Nautilus, USD)",
    "mtm_pnl": "total PnL mark-to-mid (USD)",
    "sharpe_1min": "Sharpe of 1-min PnL changes",
    "fills": "fills",
}
# Columns of the runs table after the parameters: (column, header, number format).
TABLE_COLUMNS = (
    ("total_pnl", "total PnL", "{:,.2f}"),
    ("mtm_pnl", "PnL mark-to-mid", "{:,.2f}"),
    ("spread_capture", "spread capture", "{:,.2f}"),
    ("inventory_pnl", "inventory PnL", "{:,.2f}"),
    ("fees", "fees", "{:,.2f}"),
    ("fills", "fills", "{:,.0f}"),
    ("orders", "orders", "{:,.0f}"),
    ("sharpe_1min", "Sharpe 1-min", "{:.3f}"),
    ("max_drawdown", "max drawdown", "{:,.2f}"),
    ("pnl_per_share", "PnL/share", "{:.4f}"),
    ("markout_5s_bps", "markout 5 s (bps)", "{:.2f}"),
    ("quote_uptime", "2-sided uptime", "{:.1%}"),
    ("max_abs_inventory", "max |inv|", "{:,.0f}"),
    ("engine_seconds", "engine s", "{:.1f}"),
)
_CSS = """
body { font-family: -apple-system, Segoe UI, Helvetica, Arial, sans-serif; margin: 24px; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 1.6em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.85em; margin: 8px 0 16px; }
th, td { border: 1px solid #ddd; padding: 3px 7px; white-space: nowrap; } th { background: #f3f3f3; }
table.runs th { cursor: pointer; user-select: none; } table.runs th:hover { background: #e4e4e4; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.failed td { background: #fdecea; } tr.cancelled td { background: #fff7e0; }
td.error { max-width: 40em; white-space: pre-wrap; font-family: monospace; font-size: 0.9em; }
caption { text-align: left; font-weight: bold; padding: 4px 0; }
.chart { margin: 12px 0; } .meta { color: #666; }
pre { background: #f7f7f7; padding: 8px; overflow-x: auto; font-size: 0.85em; }
"""
# Click a header to sort by it; again to reverse. Cells carry their raw value in data-v.
_SORT_JS = """
document.querySelectorAll('table.runs').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      var asc = th.dataset.dir !== 'asc';
      table.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
      th.dataset.dir = asc ? 'asc' : 'desc';
      function key(row) { var v = row.cells[col].dataset.v; var n = parseFloat(v);
        return (v !== '' && !isNaN(n) && isFinite(v)) ? n : v; }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === '' || x === 'nan') return 1; if (y === '' || y === 'nan') return -1;
        var c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c; });
      rows.forEach(function (r) { body.appendChild(r); });
    });
  });
});
"""


def param_columns(df: pd.DataFrame) -> list[str]:
    """The results table's parameter columns, in order."""
    return [c for c in df.columns if c.startswith(PARAM_PREFIX)]


def _label(column: str) -> str:
    return column.removeprefix(PARAM_PREFIX)


def _numeric(series: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _finite(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and math.isfinite(value)


def _cell(value: Any, fmt: str | None = None) -> str:
    if _finite(value):
        text = fmt.format(value) if fmt else (f"{value:g}" if isinstance(value, (float, np.floating)) else str(value))
        return f"<td class='num' data-v='{float(value)!r}'>{html.escape(text)}</td>"
    if isinstance(value, (float, np.floating)) or value is None:
        return "<td class='num' data-v=''>n/a</td>"
    return f"<td data-v='{html.escape(str(value))}'>{html.escape(str(value))}</td>"


def runs_table_html(df: pd.DataFrame) -> str:
    """The sortable table of every run.

    Parameters
    ----------
    df : pandas.DataFrame
        The results table.

    Returns
    -------
    str
    """
    params = param_columns(df)
    metrics = [c for c in TABLE_COLUMNS if c[0] in df.columns]
    head = ["run", "status", "symbol", "date", *(_label(p) for p in params), *(h for _, h, _ in metrics), "error"]
    rows = []
    for _, r in df.iterrows():
        run_dir = str(r.get("run_dir") or "")
        run = html.escape(str(r["run_id"]))
        run_cell = (f"<td data-v='{run}'><a href='runs/{run}/'>{run}</a></td>" if run_dir else f"<td data-v='{run}'>{run}</td>")
        error = str(r.get("error") or "")
        tb = str(r.get("traceback") or "")
        error_html = html.escape(error) + (f"<details><summary>traceback</summary><pre>{html.escape(tb)}</pre></details>"
                                           if tb else "")
        note = str(r.get("note") or "")
        if note:
            error_html += html.escape(("\n" if error else "") + note)
        cells = [run_cell, _cell(r["status"]), _cell(r["symbol"]), _cell(r["date"]),
                 *(_cell(r[p]) for p in params), *(_cell(r[c], fmt) for c, _, fmt in metrics),
                 f"<td class='error' data-v='{html.escape(error)}'>{error_html}</td>"]
        rows.append(f"<tr class='{html.escape(str(r['status']))}'>" + "".join(cells) + "</tr>")
    return ("<table class='runs'><caption>Runs (click a column header to sort)</caption><thead><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in head) + "</tr></thead><tbody>" + "".join(rows)
            + "</tbody></table>")


def symbol_colors(df: pd.DataFrame) -> dict[str, str]:
    """One colour per symbol, the same in every chart."""
    return {symbol: PALETTE[i % len(PALETTE)] for i, symbol in enumerate(sorted(df["symbol"].astype(str).unique()))}


def _layout(fig: go.Figure, title: str, height: int = 420) -> None:
    fig.update_layout(title={"text": title}, template="plotly_white", height=height,
                      margin={"l": 70, "r": 20, "t": 60, "b": 50}, legend={"orientation": "h", "y": -0.2})


def _div(fig: go.Figure) -> str:
    return "<div class='chart'>" + fig.to_html(full_html=False, include_plotlyjs=False,
                                               config={"displaylogo": False, "responsive": True}) + "</div>"


def _axis_values(series: pd.Series) -> tuple[list[Any], bool]:
    """Sorted distinct values and whether they are numbers (else shown as categories)."""
    values = series.dropna().unique().tolist()
    numeric = _numeric(series)
    return (sorted(values) if numeric else sorted(values, key=str)), numeric


def metric_by_parameter_figure(df: pd.DataFrame, metric: str) -> go.Figure:
    """The metric of every ok run against each parameter, one panel per parameter, one colour per symbol.

    The line is the mean over the runs at each value (all symbols, days and other parameters).
    """
    ok = df[df["status"] == OK]
    params = param_columns(df)
    label = METRIC_LABELS.get(metric, metric)
    if not params:
        fig = go.Figure()
        _layout(fig, f"{label} by parameter: nothing was varied")
        return fig
    fig = make_subplots(rows=1, cols=len(params), shared_yaxes=True, subplot_titles=[_label(p) for p in params])
    colors = symbol_colors(df)
    for i, p in enumerate(params, start=1):
        values, numeric = _axis_values(ok[p])
        for symbol in sorted(ok["symbol"].unique()):
            sub = ok[ok["symbol"] == symbol]
            fig.add_trace(go.Scatter(
                x=sub[p] if numeric else sub[p].astype(str), y=sub[metric], mode="markers", name=symbol,
                legendgroup=symbol, showlegend=i == 1, marker={"color": colors[symbol], "size": 8, "opacity": 0.75},
                text=sub["run_id"] + " " + sub["date"].astype(str), hovertemplate="%{text}<br>%{x}: %{y:,.2f}<extra></extra>",
            ), row=1, col=i)
        means = ok.groupby(p, sort=True)[metric].mean()
        fig.add_trace(go.Scatter(
            x=list(means.index) if numeric else [str(v) for v in means.index], y=means.to_numpy(), mode="lines+markers",
            name="mean", legendgroup="mean", showlegend=i == 1, line={"color": "#444", "width": 2},
            marker={"symbol": "diamond", "size": 9},
        ), row=1, col=i)
        if numeric and len(values) > 2 and min(values) > 0 and max(values) / min(values) >= 50:
            fig.update_xaxes(type="log", row=1, col=i)
        if numeric and len(values) <= 10:
            # A grid's few values as the ticks, not plotly's round numbers between them.
            fig.update_xaxes(tickvals=values, row=1, col=i)
        if not numeric:
            fig.update_xaxes(type="category", categoryorder="array", categoryarray=[str(v) for v in values], row=1, col=i)
    fig.update_yaxes(title=label, row=1, col=1)
    _layout(fig, f"{label} by parameter ({len(ok)} ok runs)")
    return fig


def heatmap_figure(df: pd.DataFrame, x: str, y: str, metric: str) -> go.Figure:
    """The metric's mean over the ok runs at each (x, y) pair of parameter values, cells annotated with it."""
    ok = df[df["status"] == OK]
    label = METRIC_LABELS.get(metric, metric)
    table = ok.pivot_table(index=y, columns=x, values=metric, aggfunc="mean")
    counts = ok.pivot_table(index=y, columns=x, values=metric, aggfunc="count")
    xs, _ = _axis_values(ok[x])
    ys, _ = _axis_values(ok[y])
    table = table.reindex(index=ys, columns=xs)
    counts = counts.reindex(index=ys, columns=xs).fillna(0)
    z = table.to_numpy(dtype="float64")
    text = [[("n/a" if not math.isfinite(v) else f"{v:,.2f}") + f"<br>n={int(c)}" for v, c in zip(zr, cr, strict=True)]
            for zr, cr in zip(z, counts.to_numpy(), strict=True)]
    bound = float(np.nanmax(np.abs(z))) if np.isfinite(z).any() else 1.0
    fig = go.Figure(go.Heatmap(
        x=[str(v) for v in xs], y=[str(v) for v in ys], z=z, text=text, texttemplate="%{text}",
        colorscale="RdBu", zmid=0, zmin=-bound, zmax=bound, colorbar={"title": {"text": "mean"}},
        hovertemplate=f"{_label(x)}=%{{x}}<br>{_label(y)}=%{{y}}<br>mean %{{z:,.2f}}<extra></extra>",
    ))
    fig.update_xaxes(type="category", title=_label(x))
    fig.update_yaxes(type="category", title=_label(y))
    _layout(fig, f"Mean {label}: {_label(x)} x {_label(y)} (over symbols and days)")
    return fig


def metric_by_symbol_figure(df: pd.DataFrame, metric: str) -> go.Figure:
    """Box plot of the metric per symbol over all ok runs (parameters and days)."""
    ok = df[df["status"] == OK]
    label = METRIC_LABELS.get(metric, metric)
    fig = go.Figure()
    colors = symbol_colors(df)
    for symbol in sorted(ok["symbol"].unique()):
        sub = ok[ok["symbol"] == symbol]
        fig.add_trace(go.Box(y=sub[metric], name=symbol, boxpoints="all", jitter=0.3, text=sub["run_id"],
                             marker={"color": colors[symbol]}, hovertemplate="%{text}: %{y:,.2f}<extra></extra>"))
    fig.update_yaxes(title=label)
    _layout(fig, f"{label} by symbol")
    fig.update_layout(showlegend=False)
    return fig


def sharpe_vs_pnl_figure(df: pd.DataFrame) -> go.Figure:
    """Sharpe of 1-minute PnL changes against total PnL, one point per ok run."""
    ok = df[df["status"] == OK]
    fig = go.Figure()
    colors = symbol_colors(df)
    for symbol in sorted(ok["symbol"].unique()):
        sub = ok[ok["symbol"] == symbol]
        hover = sub["run_id"] + " " + sub[param_columns(df)].astype(str).agg(" ".join, axis=1) if param_columns(df) else sub["run_id"]
        fig.add_trace(go.Scatter(x=sub["total_pnl"], y=sub["sharpe_1min"], mode="markers", name=symbol, text=hover,
                                 marker={"size": 9, "opacity": 0.8, "color": colors[symbol]},
                                 hovertemplate="%{text}<br>PnL %{x:,.2f}<br>Sharpe %{y:.3f}<extra></extra>"))
    fig.update_xaxes(title=METRIC_LABELS["total_pnl"])
    fig.update_yaxes(title="Sharpe of 1-min PnL changes (intraday, not annualised)")
    _layout(fig, "Risk-adjusted: Sharpe vs PnL")
    return fig


def _header(df: pd.DataFrame, meta: dict[str, Any], sweep_dir: Path) -> str:
    counts = df["status"].value_counts()
    items = [
        ("sweep", meta.get("sweep_id", sweep_dir.name)),
        ("sweep file", meta.get("source") or "inline"),
        ("base configuration", meta.get("base_source") or "inline"),
        ("runs", f"{len(df)}: {int(counts.get(OK, 0))} ok, {int(counts.get(FAILED, 0))} failed"
                 + (f", {int(counts.get('cancelled', 0))} cancelled" if counts.get("cancelled", 0) else "")),
        ("parameters", ", ".join(_label(p) for p in param_columns(df)) or "none"),
        ("symbols", ", ".join(sorted(df["symbol"].astype(str).unique()))),
        ("days", ", ".join(sorted(df["date"].astype(str).unique()))),
    ]
    if "backend" in meta:
        where = meta["backend"] + (f" at {meta['ray_address']}" if meta.get("ray_address") else "")
        items.append(("ran on", f"{where}, {meta.get('workers')} worker(s), {meta.get('wall_seconds', math.nan):.1f} s wall"))
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(str(v))}</td></tr>" for k, v in items)
    return f"<h1>hftmm sweep {html.escape(str(meta.get('sweep_id', sweep_dir.name)))}</h1><table>{rows}</table>"


def _best_table(df: pd.DataFrame, metric: str, n: int = 5) -> str:
    """Mean of the metric per parameter point over symbols and days, best first."""
    ok = df[df["status"] == OK]
    params = param_columns(df)
    if not params or ok.empty:
        return ""
    keyed = ok.assign(**{p: ok[p].astype(str) for p in params})
    g = keyed.groupby(params, sort=False).agg(mean=(metric, "mean"), runs=(metric, "size"),
                                              sharpe=("sharpe_1min", "mean"), fills=("fills", "mean"))
    g = g.sort_values("mean", ascending=False).head(n).reset_index()
    head = [*(_label(p) for p in params), f"mean {METRIC_LABELS.get(metric, metric)}", "runs", "mean Sharpe", "mean fills"]
    body = "".join("<tr>" + "".join(_cell(r[p]) for p in params) + _cell(r["mean"], "{:,.2f}") + _cell(r["runs"])
                   + _cell(r["sharpe"], "{:.3f}") + _cell(r["fills"], "{:,.1f}") + "</tr>" for _, r in g.iterrows())
    return (f"<table><caption>Best parameter points (mean over symbols and days)</caption><tr>"
            + "".join(f"<th>{html.escape(h)}</th>" for h in head) + f"</tr>{body}</table>")


def render_sweep_report(df: pd.DataFrame, meta: dict[str, Any], sweep_dir: Path, metric: str = "total_pnl") -> str:
    """The report page of a results table.

    Parameters
    ----------
    df : pandas.DataFrame
        The results table.
    meta : dict
        ``sweep.json`` (may be empty).
    sweep_dir : pathlib.Path
        The sweep folder (for its name and the links to run folders).
    metric : str
        The column charted (default ``total_pnl``).

    Returns
    -------
    str
        A complete HTML document.
    """
    if metric not in df.columns:
        raise ValueError(f"metric {metric!r} is not a column of the results table")
    charts: list[go.Figure] = []
    has_ok = bool((df["status"] == OK).any())
    if has_ok:
        charts.append(metric_by_parameter_figure(df, metric))
        params = [p for p in param_columns(df) if df.loc[df["status"] == OK, p].nunique() > 1]
        for x, y in list(itertools.combinations(params, 2))[:MAX_HEATMAPS]:
            charts.append(heatmap_figure(df, x, y, metric))
        charts.append(metric_by_symbol_figure(df, metric))
        charts.append(sharpe_vs_pnl_figure(df))
    body = (_header(df, meta, sweep_dir) + _best_table(df, metric) + "<h2>Charts</h2>"
            + ("".join(_div(c) for c in charts) if charts else "<p class='meta'>No run succeeded: nothing to chart.</p>")
            + "<h2>Runs</h2>" + runs_table_html(df))
    title = html.escape(str(meta.get("sweep_id", sweep_dir.name)))
    return ("<!doctype html>\n<html lang='en'><head><meta charset='utf-8'>"
            f"<title>hftmm sweep {title}</title><style>{_CSS}</style>"
            f"<script type='text/javascript'>{get_plotlyjs()}</script></head>"
            f"<body>{body}<script>{_SORT_JS}</script></body></html>\n")


def build_sweep_report(sweep_dir: Path, out: Path | None = None, metric: str = "total_pnl") -> Path:
    """Write the comparison report of a sweep folder.

    Parameters
    ----------
    sweep_dir : pathlib.Path
        ``runs/sweep-<id>/`` with ``results.parquet``.
    out : pathlib.Path, optional
        Default ``sweep_dir/report.html``.
    metric : str
        The results column charted.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    sweep_dir = Path(sweep_dir)
    df = read_results(sweep_dir)
    meta_path = sweep_dir / "sweep.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    target = Path(out) if out is not None else sweep_dir / "report.html"
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(render_sweep_report(df, meta, sweep_dir, metric), encoding="utf-8")
    tmp.replace(target)
    return target
