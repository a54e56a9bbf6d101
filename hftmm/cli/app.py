"""The ``hftmm`` command line.

Heavy imports (NautilusTrader, pyarrow, plotly) happen inside the commands so that ``--help`` and
shell completion stay instant. Every expected failure ends as one ``error: ...`` line on stderr with
exit code 1 (usage errors: 2); ``--debug`` or ``HFTMM_DEBUG=1`` shows the traceback instead.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

import hftmm

app = typer.Typer(
    name="hftmm",
    help="Event-sourced market making for US equities: ingest TAQ, backtest, report.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
ingest_app = typer.Typer(help="Load market data into a Parquet catalog.", no_args_is_help=True)
sample_app = typer.Typer(help="Write sample market-data files.", no_args_is_help=True)
config_app = typer.Typer(help="Work with configuration files.", no_args_is_help=True)
app.add_typer(ingest_app, name="ingest")
app.add_typer(sample_app, name="sample")
audit_app = typer.Typer(help="Check compliance audit trails.", no_args_is_help=True)
app.add_typer(config_app, name="config")
app.add_typer(audit_app, name="audit")

out = Console()
err = Console(stderr=True)

DEFAULT_CATALOG = Path("catalog")
DEFAULT_CONFIG = Path("configs/backtest.json")
DEFAULT_SWEEP = Path("configs/sweep.json")
DEFAULT_SAMPLE_DIR = Path("sample/taq")
# The demo day's generator seed (hftmm demo, hftmm demo-live).
DEMO_SEED = 20240311


class CliError(Exception):
    """An error to show the user as one line."""


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Error types that mean bad input or a failed run, not a bug: shown as one line."""
    from hftmm.config import ConfigError

    types: list[type[BaseException]] = [CliError, ConfigError, FileNotFoundError, PermissionError]
    try:
        from hftmm.engine.calibration import CalibrationError
        from hftmm.eventlog.log import EventLogError
        from hftmm.eventlog.projection import ProjectionError
        from hftmm.eventlog.replay import ReplayError
        from hftmm.models.toxicity import ToxicityModelError

        types += [CalibrationError, ToxicityModelError, ReplayError, ProjectionError, EventLogError]
    except ImportError:
        pass
    try:
        from hftmm.engine.backtest import BacktestError

        types.append(BacktestError)
    except ImportError:
        pass
    try:
        from adapters.taq import TaqFormatError

        types.append(TaqFormatError)
    except ImportError:
        pass
    try:
        from adapters.polygon.errors import PolygonError

        types.append(PolygonError)
    except ImportError:
        pass
    try:
        from hftmm.reports import ReportError

        types.append(ReportError)
    except ImportError:
        pass
    try:
        from hftmm.sweep import SweepError

        types.append(SweepError)
    except ImportError:
        pass
    try:
        from hftmm.venue.catalog_feed import CatalogFeedError
        from hftmm.venue.server import VenueStateError

        types += [CatalogFeedError, VenueStateError]
    except ImportError:
        pass
    return tuple(types)


def _progress() -> Progress:
    return Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err,
        transient=True,
    )


def _parse_symbols(symbols: str | None) -> list[str] | None:
    if symbols is None:
        return None
    parsed = [s.strip().upper() for s in symbols.split(",") if s.strip()]
    if not parsed:
        raise CliError("--symbols is empty")
    return parsed


# -- ingest ----------------------------------------------------------------------------------


def _run_ingest_taq(
    *,
    catalog: Path,
    master: Path,
    trades: list[Path],
    quotes: list[Path],
    nbbo: Path | None,
    symbols: list[str] | None,
    date: dt.date | None,
    strict: bool,
) -> Any:
    from adapters.taq import ingest_taq

    with _progress() as progress:
        task = progress.add_task("ingesting TAQ", total=None)

        def report(stage: str, done: int, total: int | None) -> None:
            progress.update(task, description=stage, completed=done, total=total)

        return ingest_taq(
            catalog,
            master=master,
            trades=trades,
            quotes=quotes,
            nbbo=nbbo,
            symbols=symbols,
            date=date,
            strict=strict,
            progress=report,
        )


def _print_ingest_report(report: Any) -> None:
    data = report.to_builtins() if hasattr(report, "to_builtins") else dict(report)
    table = Table(title="TAQ ingest", show_lines=False)
    table.add_column("instrument")
    table.add_column("deltas", justify="right")
    table.add_column("quote ticks", justify="right")
    table.add_column("trade ticks", justify="right")
    for iid, counts in sorted((data.get("instruments") or {}).items()):
        table.add_row(
            iid,
            f"{counts.get('deltas', 0):,}",
            f"{counts.get('quote_ticks', 0):,}",
            f"{counts.get('trade_ticks', 0):,}",
        )
    out.print(table)
    malformed = data.get("malformed_count", 0)
    if malformed:
        err.print(f"[yellow]warning:[/] {malformed} malformed row(s) skipped; first ones:")
        for ex in (data.get("malformed_examples") or [])[:5]:
            err.print(f"  {ex.get('path')}:{ex.get('line')}: {ex.get('field')}: {ex.get('reason')}")
    for warning in data.get("warnings") or []:
        err.print(f"[yellow]warning:[/] {warning}")


@ingest_app.command("taq")
def ingest_taq_cmd(
    master: Annotated[Path, typer.Option(help="EQY_US_ALL_REF_MASTER_* file (plain or .gz).", exists=True, dir_okay=False)],
    trades: Annotated[list[Path], typer.Option(help="EQY_US_ALL_TRADE_* file.", exists=True, dir_okay=False)] = [],  # noqa: B006
    quotes: Annotated[
        list[Path],
        typer.Option(help="SPLITS_US_ALL_BBO_* shard or EQY_US_ALL_BBO_* file; repeat for several.", exists=True, dir_okay=False),
    ] = [],  # noqa: B006
    nbbo: Annotated[Path | None, typer.Option(help="EQY_US_ALL_NBBO_* file.", exists=True, dir_okay=False)] = None,
    symbols: Annotated[str | None, typer.Option(help="Comma-separated symbols to keep, e.g. AAPL,MSFT.")] = None,
    catalog: Annotated[Path, typer.Option(help="Catalog root directory.")] = DEFAULT_CATALOG,
    date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y%m%d"], help="Trade date (default: from file names).")] = None,
    strict: Annotated[bool, typer.Option(help="Stop at the first malformed row instead of counting it.")] = False,
) -> None:
    """Ingest NYSE Daily TAQ files into the Parquet catalog (instruments, L2 deltas, NBBO, trades).

    Re-ingesting a day replaces it; nothing is written to the catalog unless the whole ingest succeeds.
    """
    if not trades and not quotes:
        raise CliError("give at least one of --trades or --quotes")
    report = _run_ingest_taq(
        catalog=catalog,
        master=master,
        trades=trades,
        quotes=quotes,
        nbbo=nbbo,
        symbols=_parse_symbols(symbols),
        date=date.date() if date else None,
        strict=strict,
    )
    _print_ingest_report(report)
    out.print(f"catalog: {catalog}")


@ingest_app.command("polygon")
def ingest_polygon_cmd(
    symbols: Annotated[str, typer.Option(help="Comma-separated Polygon tickers, e.g. AAPL,BRK.B.")],
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d", "%Y%m%d"], help="Trade date (ET).")],
    catalog: Annotated[Path, typer.Option(help="Catalog root directory.")] = DEFAULT_CATALOG,
    rest_url: Annotated[str | None, typer.Option(help="REST base URL (default https://api.massive.com).")] = None,
    quote_size_unit: Annotated[str, typer.Option(help="Quote sizes in: auto, lots or shares.")] = "auto",
    trades_file: Annotated[Path | None, typer.Option(help="Flat file trades_v1 (daily CSV, .gz or plain) instead of downloading trades.", exists=True, dir_okay=False)] = None,
    quotes_file: Annotated[Path | None, typer.Option(help="Flat file quotes_v1 (daily CSV, .gz or plain) instead of downloading quotes.", exists=True, dir_okay=False)] = None,
) -> None:
    """Download a day of Polygon/Massive trades and quotes (REST v3, or flat files) into the Parquet catalog.

    The API key comes from MASSIVE_API_KEY / POLYGON_API_KEY, or a file named by MASSIVE_API_KEY_FILE. An interrupted download resumes where it stopped; re-ingesting a day replaces it.
    """
    from adapters.polygon.config import PolygonIngestConfig
    from adapters.polygon.ingest import ingest_polygon

    if quote_size_unit not in ("auto", "lots", "shares"):
        raise CliError(f"--quote-size-unit must be auto, lots or shares, not {quote_size_unit!r}")
    config = PolygonIngestConfig(quote_size_unit=quote_size_unit, **({"rest_url": rest_url} if rest_url else {}))  # type: ignore[arg-type]
    with _progress() as progress:
        task = progress.add_task("ingesting Polygon", total=None)
        report = ingest_polygon(
            catalog,
            symbols=_parse_symbols(symbols) or [],
            date=date.date(),
            config=config,
            progress=lambda stage, done, total: progress.update(task, description=stage, completed=done, total=total),
            trades_file=trades_file,
            quotes_file=quotes_file,
        )
    table = Table(title=f"Polygon ingest {report.date}")
    for col in ("instrument", "deltas", "quote ticks", "trade ticks", "trades dropped", "quote sizes"):
        table.add_column(col, justify="left" if col in ("instrument", "quote sizes") else "right")
    for iid, c in sorted(report.instruments.items()):
        table.add_row(iid, f"{c.deltas:,}", f"{c.quote_ticks:,}", f"{c.trade_ticks:,}",
                      f"{sum(c.trades_dropped.values()):,}", c.quote_size_unit)
    out.print(table)
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}")
    out.print(f"catalog: {catalog}")


# -- feed ------------------------------------------------------------------------------------


@app.command()
def feed(
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d", "%Y%m%d"], help="Trade date to replay.")],
    catalog: Annotated[Path, typer.Option(help="Catalog root.", exists=True, file_okay=False)] = DEFAULT_CATALOG,
    port: Annotated[int, typer.Option(min=0, max=65535, help="Port to listen on.")] = 8765,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    speed: Annotated[float, typer.Option(min=0.0, help="Replay speed, multiple of real time (0: as fast as possible).")] = 1.0,
    symbols: Annotated[str | None, typer.Option(help="Only these tickers, e.g. AAPL,MSFT.")] = None,
    quote_size_unit: Annotated[int, typer.Option(min=1, help="Shares per unit of the quote sizes sent (100: round lots).")] = 100,
    hold_when_idle: Annotated[bool, typer.Option(help="Hold the replay clock while no client is subscribed.")] = False,
    start: Annotated[str | None, typer.Option(help="HH:MM (Eastern) of the day at the clock origin (pins the market clock; needs --clock-origin or means now).")] = None,
    clock_origin: Annotated[float | None, typer.Option(help="Unix seconds at which the market is at --start (as given to hftmm venue).")] = None,
) -> None:
    """Serve a catalog day over Polygon's stocks WebSocket protocol (auth, subscribe, batched T/Q frames).

    Clients connect to ws://HOST:PORT. If MASSIVE_API_KEY / POLYGON_API_KEY (or *_FILE) is set, clients must send that key; otherwise any key is accepted. Ctrl-C stops the server.
    """
    import asyncio

    from adapters.polygon.credentials import load_api_key
    from adapters.polygon.errors import PolygonAuthError
    from adapters.polygon.feed_server import PolygonFeedServer, events_from_catalog

    with err.status("loading the day"):
        events = events_from_catalog(catalog, date.date(), _parse_symbols(symbols), quote_size_unit)
    if not events:
        raise CliError(f"no quotes or trades for {date.date()} in {catalog}")
    try:
        key: str | None = load_api_key().reveal()
    except PolygonAuthError:
        key = None
    origin: dict[str, Any] = {}
    if start is not None or clock_origin is not None:
        import time as _time

        # The venue's mapping (hftmm.venue.clock), so the same arguments give the same market.
        from hftmm.venue.clock import origin_catalog_ns

        try:
            market0 = origin_catalog_ns(date.date(), start, events[0].ts)
        except ValueError as e:
            raise CliError(f"--start: {e}") from e
        origin = {"market_origin_ns": market0, "wall_origin": clock_origin if clock_origin is not None else _time.time()}
    server = PolygonFeedServer(events, speed=speed, api_key=key, pause_when_idle=hold_when_idle, **origin)
    out.print(f"replaying {len(events):,} events of {date.date()} at {speed:g}x on ws://{host}:{port} "
              f"({'the API key from the environment is required' if key else 'any API key accepted'})")
    try:
        asyncio.run(server.serve_forever(host, port))
    except KeyboardInterrupt:
        out.print(f"stopped: {server.stats.delivered:,} messages delivered, {server.stats.connections} connection(s)")


# -- venue -----------------------------------------------------------------------------------


@app.command()
def venue(
    catalog: Annotated[Path | None, typer.Option(help="Catalog root (the feed server's).", file_okay=False)] = None,
    date: Annotated[dt.datetime | None, typer.Option(formats=["%Y-%m-%d", "%Y%m%d"], help="Trading day replayed.")] = None,
    instruments: Annotated[str | None, typer.Option(help="Instrument ids traded, e.g. ACME.XNYS,MSFT.XNAS.")] = None,
    port: Annotated[int | None, typer.Option(min=0, max=65535, help="FIX port to listen on (default 9878).")] = None,
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default 127.0.0.1).")] = None,
    speed: Annotated[float | None, typer.Option(help="Replay speed, catalog seconds per wall second (default 1).")] = None,
    start: Annotated[str | None, typer.Option(help="HH:MM (Eastern) of the day at the clock origin (default: first event).")] = None,
    clock_origin: Annotated[float | None, typer.Option(help="Unix seconds at which the market is at --start (default: now).")] = None,
    state_dir: Annotated[Path | None, typer.Option(help="FIX stores, engine snapshot and record (default runs/venue).")] = None,
    participants: Annotated[str | None, typer.Option(help="SenderCompIDs allowed to trade, e.g. HFTMM,MM2 (default HFTMM).")] = None,
    config: Annotated[Path | None, typer.Option("--config", "-c", help="Venue configuration file (JSON/TOML/YAML); options override it.", exists=True, dir_okay=False)] = None,
) -> None:
    """Run the venue simulator: a FIX 4.4 acceptor exchange matching against the replayed catalog day.

    Ctrl-C (SIGINT) or SIGTERM logs the sessions out and saves the state; starting again with the same --state-dir continues sequences, open orders and the record.
    """
    import asyncio
    import signal

    from hftmm.venue.config import load_venue_config
    from hftmm.venue.server import RECORD_FILE, VenueServer

    overrides: dict[str, Any] = {
        "catalog": str(catalog) if catalog else None, "date": date.date().isoformat() if date else None,
        "instruments": instruments.split(",") if instruments else None, "port": port, "host": host, "speed": speed,
        "start": start, "clock_origin": clock_origin, "state_dir": str(state_dir) if state_dir else None,
        "participants": participants.split(",") if participants else None,
    }
    cfg = load_venue_config(config, overrides)
    with err.status("loading the day"):
        server = VenueServer(cfg)

    async def serve() -> None:
        await server.start()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        out.print(f"venue listening on {cfg.host}:{server.port} as {cfg.venue_comp_id}: {', '.join(cfg.participants)}"
                  f"{' + drop copy ' + cfg.drop_copy_comp_id if cfg.drop_copy_comp_id else ''}; "
                  f"{len(server.events):,} market events of {cfg.date} at {cfg.speed:g}x; "
                  f"record {Path(cfg.state_dir) / RECORD_FILE}", soft_wrap=True)
        try:
            await stop.wait()
        finally:
            await server.stop()

    asyncio.run(serve())
    out.print(f"venue stopped; state saved in {cfg.state_dir}")


# -- sample ----------------------------------------------------------------------------------


@sample_app.command("taq")
def sample_taq_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the files into.")] = DEFAULT_SAMPLE_DIR,
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Trade date.")] = dt.datetime(2024, 3, 11),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = DEMO_SEED,
    scale: Annotated[float, typer.Option(min=0.01, help="Multiplier on the number of events.")] = 1.0,
    gzip: Annotated[bool, typer.Option(help="Write .gz files like NYSE does.")] = False,
) -> None:
    """Write a deterministic, realistic TAQ-format day (trades, quote shards, NBBO, master)."""
    files = _generate_sample(out_dir, date.date(), seed, scale, gzip)
    for path in (files.trades, *files.quotes, files.nbbo, files.master):
        out.print(str(path))


def _ingest_sample(files: Any, catalog: Path) -> Any:
    """Ingest a generated sample day, strictly (a malformed row in our own sample is a bug)."""
    return _run_ingest_taq(catalog=catalog, master=files.master, trades=[files.trades], quotes=list(files.quotes),
                           nbbo=files.nbbo, symbols=None, date=files.date, strict=True)


def _generate_sample(out_dir: Path, date: dt.date, seed: int, scale: float, gzip: bool) -> Any:
    from hftmm.sample.taq_day import generate_taq_day

    with err.status("generating the sample TAQ day"):
        return generate_taq_day(out_dir, date=date, seed=seed, scale=scale, gzip=gzip)


# -- backtest --------------------------------------------------------------------------------


def _run_backtest(config_path: Path, catalog: Path | None, runs_dir: Path | None) -> Any:
    from hftmm.config import load_config
    from hftmm.engine.backtest import run_backtest

    config = load_config(config_path)
    catalog_path = catalog or Path(config.catalog.path)
    runs = runs_dir or Path(config.backtest.runs_dir)
    with err.status("backtest") as status:
        return run_backtest(
            config,
            catalog_path=catalog_path,
            runs_dir=runs,
            progress=lambda msg: status.update(f"backtest: {msg}"),
        )


def _print_summary(summary: dict[str, Any]) -> None:
    # A compact layout that fits an 80-column terminal without truncating numbers.
    table = Table(title=f"run {summary['run_id']} (USD)", box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("instrument", no_wrap=True)
    for col in ("orders", "fills", "realized", "unreal.", "fees", "max|inv|", "pos"):
        table.add_column(col, justify="right", no_wrap=True)
    for iid, v in summary["per_instrument"].items():
        table.add_row(
            iid,
            f"{v['orders']:,}",
            f"{v['fills']:,}",
            f"{v['realized_pnl']:,.2f}",
            f"{v['unrealized_pnl']:,.2f}",
            f"{v['fees']:,.2f}",
            f"{v['max_abs_inventory']:,.0f}",
            f"{v['final_position']:,.0f}",
        )
    table.add_row(
        "[bold]total",
        f"{summary['orders']:,}",
        f"{summary['fills']:,}",
        f"{summary['realized_pnl']:,.2f}",
        f"{summary['unrealized_pnl']:,.2f}",
        f"{summary['fees']:,.2f}",
        f"{summary['max_abs_inventory']:,.0f}",
        "",
    )
    out.print(table)
    out.print(
        f"total PnL {summary['total_pnl']:,.2f} {summary['currency']} (fees included; negative fees are rebates) | "
        f"{summary['events']:,} events in {summary['wall_seconds']:.1f} s ({summary['events_per_second']:,.0f}/s)",
    )


@app.command()
def backtest(
    config: Annotated[Path, typer.Option("--config", "-c", help="Run configuration (.json, .toml or .yaml).", dir_okay=False)] = DEFAULT_CONFIG,
    catalog: Annotated[Path | None, typer.Option(help="Catalog root (overrides catalog.path).")] = None,
    runs_dir: Annotated[Path | None, typer.Option(help="Where run folders go (overrides backtest.runs_dir).")] = None,
    report: Annotated[bool, typer.Option(help="Also write the HTML report into the run folder.")] = False,
) -> None:
    """Run a market-making backtest over the catalog and write runs/<run-id>/."""
    outcome = _run_backtest(config, catalog, runs_dir)
    _print_summary(outcome.summary)
    if report:
        out.print(f"report: {_build_report(outcome.run_dir, None)}")
    out.print(f"run folder: {outcome.run_dir}")


# -- report ----------------------------------------------------------------------------------


def _build_report(run_dir: Path, out_path: Path | None) -> Path:
    from hftmm.reports import build_report

    with err.status("writing the report"):
        return build_report(run_dir, out_path)


@app.command()
def report(
    run_dir: Annotated[Path, typer.Argument(help="A run folder, runs/<run-id>.", exists=True, file_okay=False)],
    out_path: Annotated[Path | None, typer.Option("--out", help="HTML file to write (default: RUN_DIR/report.html).")] = None,
) -> None:
    """Write a self-contained HTML report of a run: PnL split, inventory, quotes vs NBBO, fill rate, markouts."""
    out.print(f"report: {_build_report(run_dir, out_path)}")


# -- sweep -----------------------------------------------------------------------------------


def _print_plan(prepared: Any) -> None:
    plan = prepared.plan
    table = Table(title=f"{len(plan.runs)} run(s) planned", box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("run", "symbol", "date", *plan.param_names):
        table.add_column(col, no_wrap=True)
    for r in plan.runs:
        table.add_row(r.run_id, r.symbol, r.date, *(str(r.params[n]) for n in plan.param_names))
    out.print(table)


def _print_sweep_results(outcome: Any, limit: int = 20) -> None:
    df = outcome.results
    params = [c for c in df.columns if c.startswith("param.")]
    # Columns that would be the same on every row are left out to fit an 80-column terminal.
    keys = [c for c in ("symbol", "date") if df[c].nunique() > 1]
    ok = df[df["status"] == "ok"].sort_values("total_pnl", ascending=False, kind="stable")
    table = Table(title=f"sweep {outcome.sweep_id}: best {min(limit, len(ok))} of {len(ok)} ok run(s) by total PnL (USD)",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    for col in ("run", *keys, *(p.removeprefix("param.") for p in params)):
        table.add_column(col, no_wrap=True)
    for col in ("PnL", "fills", "Sharpe"):
        table.add_column(col, justify="right", no_wrap=True)
    for _, r in ok.head(limit).iterrows():
        table.add_row(r["run_id"], *(str(r[k]) for k in keys), *(str(r[p]) for p in params),
                      f"{r['total_pnl']:,.2f}", f"{r['fills']:,.0f}", f"{r['sharpe_1min']:.3f}")
    out.print(table)
    for _, r in df[df["status"] != "ok"].iterrows():
        err.print(f"[yellow]{r['status']}:[/] {r['run_id']} {r['symbol']} {r['date']}: {r['error']}", highlight=False,
                  soft_wrap=True)


@app.command()
def sweep(
    config: Annotated[Path, typer.Option("--config", "-c", help="Sweep file (.json, .toml or .yaml).", dir_okay=False)] = DEFAULT_SWEEP,
    workers: Annotated[int | None, typer.Option(min=1, help="Runs at a time (default: the file's workers, else the CPUs).")] = None,
    ray: Annotated[str | None, typer.Option(
        "--ray", metavar="ADDRESS",
        help="Run on a Ray cluster: its address ('auto', 'ray://head:10001'), or 'local' to start one here.")] = None,
    catalog: Annotated[Path | None, typer.Option(help="Catalog root (overrides the base config's catalog.path).")] = None,
    runs_dir: Annotated[Path | None, typer.Option(help="Where the sweep folder goes (overrides the file's runs_dir).")] = None,
    report: Annotated[bool, typer.Option(help="Write the HTML comparison report into the sweep folder.")] = True,
    dry_run: Annotated[bool, typer.Option(help="Validate and list the runs; run nothing.")] = False,
) -> None:
    """Grid or random search over strategy parameters x symbols x days, one fresh process per run.

    Writes runs/sweep-<id>/ (plan.json, each run's folder, results.parquet/.csv, report.html). A failed run is
    recorded with its error and the others go on; the exit code is 1 if any run failed.
    """
    from hftmm.sweep import prepare_sweep, run_sweep

    prepared = prepare_sweep(config, catalog=catalog, runs_dir=runs_dir)
    if dry_run:
        _print_plan(prepared)
        return
    total = len(prepared.plan.runs)
    with Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
    ) as progress:
        task = progress.add_task(f"sweep on {'Ray' if ray else 'process pool'}", total=total, failed=0)
        failed = 0

        def advance(row: dict[str, Any]) -> None:
            nonlocal failed
            failed += row["status"] != "ok"
            progress.update(task, advance=1, failed=failed)

        outcome = run_sweep(prepared, backend="ray" if ray else "pool", workers=workers, ray_address=ray, on_row=advance,
                            report=report)
    _print_sweep_results(outcome)
    counts = outcome.counts
    out.print(f"{total} run(s): {counts['ok']} ok, {counts['failed']} failed, in {outcome.info.wall_seconds:.1f} s "
              f"on {outcome.info.backend} with {outcome.info.workers} worker(s)")
    out.print(f"results: {outcome.sweep_dir / 'results.parquet'} (+ results.csv)")
    if outcome.report is not None:
        out.print(f"report: {outcome.report}")
    if counts["failed"] or counts["cancelled"]:
        raise CliError(f"{counts['failed'] + counts['cancelled']} of {total} run(s) failed; their errors are in the results table")


# -- calibrate -------------------------------------------------------------------------------


@app.command()
def calibrate(
    symbol: Annotated[str, typer.Option(help="Instrument id, e.g. ACME.XNYS.")],
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Trade date.")],
    catalog: Annotated[Path, typer.Option(help="Catalog root.")] = DEFAULT_CATALOG,
    start: Annotated[str, typer.Option(help="Window start, ET.")] = "09:30",
    end: Annotated[str, typer.Option(help="Window end, ET.")] = "16:00",
    out_path: Annotated[Path | None, typer.Option("--out", help="JSON to write (default: CATALOG/calibration/SYMBOL/DATE.json).")] = None,
) -> None:
    """Fit sigma (GARCH, EWMA fallback), intraday seasonality and fill intensity (A, k) per side."""
    from hftmm.engine.calibration import calibrate as run_calibration
    from hftmm.engine.calibration import calibration_path, save_calibration

    with err.status(f"calibrating {symbol}"):
        result = run_calibration(catalog, symbol, date.date(), start, end)
    path = save_calibration(result, out_path or calibration_path(catalog, symbol, date.date()))
    vol = result["volatility"]
    table = Table(title=f"{symbol} {result['date']} {start}-{end} ET", box=box.SIMPLE_HEAD)
    for col in ("parameter", "value", "unit", "method / fit"):
        table.add_column(col)
    table.add_row("sigma", f"{vol['sigma']:.6f}", "$/sqrt(s)", f"{vol['method']} {vol['reason']}".strip())
    for side in ("bid", "ask"):
        fit = result["intensity"][side]
        how = f"{fit['method']}, R^2 {fit['r2']:.3f}" + (f" ({fit['reason']})" if fit["reason"] else "")
        table.add_row(f"A {side}", f"{fit['a']:.4f}", "per second", how)
        table.add_row(f"k {side}", f"{fit['k']:.4f}", "per tick", f"= {fit['k_per_dollar']:.1f} per dollar" if fit["k_per_dollar"] else "")
    out.print(table)
    out.print(f"saved: {path}")


@app.command("train-toxicity")
def train_toxicity(
    run_dir: Annotated[Path, typer.Argument(help="A run folder with fill_features.parquet.", exists=True, file_okay=False)],
    horizon: Annotated[float, typer.Option(min=0.001, help="Markout horizon of the label, seconds.")] = 5.0,
    out_path: Annotated[Path | None, typer.Option("--out", help="Model file (default: RUN_DIR/toxicity_model.pkl).")] = None,
) -> None:
    """Train the adverse-selection model on a run's fills: P(markout at HORIZON < 0 | features)."""
    from hftmm.models.toxicity import train_from_run

    with err.status("training"):
        model = train_from_run(run_dir, horizon)
    path = model.save(out_path or run_dir / "toxicity_model.pkl")
    m = model.metadata
    out.print(f"{m['fills']:,} labelled fills, {m['toxic_share']:.1%} adverse at {horizon:g} s; "
              f"held-out AUC {m['holdout_auc']:.3f}; features: {', '.join(model.features)}")
    out.print(f"saved: {path} (+ {path.with_suffix('.json').name})")


# -- config ----------------------------------------------------------------------------------


@config_app.command("validate")
def config_validate(path: Annotated[Path, typer.Argument(help="Configuration file.", dir_okay=False)]) -> None:
    """Validate a configuration file (types, ranges, unknown keys, strategy parameters)."""
    from hftmm.config import load_config

    load_config(path)
    out.print(f"{path}: ok")


# -- live ------------------------------------------------------------------------------------

DEFAULT_LIVE_CONFIG = Path("configs/live.json")


def _live_overrides(config: Path, **overrides: Any) -> Any:
    """Load a live config and apply command-line overrides (dotted keys into the raw file)."""
    from hftmm.config.loader import parse_live_config, read_config_file

    raw = read_config_file(config)
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = raw
        keys = dotted.split(".")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    return parse_live_config(raw, source=str(config))


def _print_live_summary(summary: dict[str, Any]) -> None:
    table = Table("instrument", "orders", "fills", "realized", "unreal.", "fees", "pos", box=box.SIMPLE_HEAD,
                  title=f"live run {summary['run_id']} ({summary['wall_seconds']:.0f} s)")
    for iid, v in summary["per_instrument"].items():
        table.add_row(iid, f"{v['orders']:,}", f"{v['fills']:,}", f"{v['realized_pnl']:,.2f}", f"{v['unrealized_pnl']:,.2f}",
                      f"{v['fees']:,.2f}", f"{v['final_position']:+,.0f}")
    out.print(table)
    for client, lat in summary.get("latency", {}).items():
        t2t, rt = lat["tick_to_trade_us"], lat["fix_round_trip_us"]
        if t2t:
            out.print(f"{client}: tick-to-trade p50 {t2t['p50']:,.0f} µs, p99 {t2t['p99']:,.0f} µs "
                      f"({lat['tick_to_trade_samples']} orders); FIX round trip p50 {rt.get('p50', float('nan')):,.0f} µs")


@app.command()
def live(
    config: Annotated[Path, typer.Option("--config", "-c", help="Live configuration.", dir_okay=False, exists=True)] = DEFAULT_LIVE_CONFIG,
    duration: Annotated[float | None, typer.Option(help="Stop after this many seconds (default: live.duration_s, or run until Ctrl-C).")] = None,
    feed_url: Annotated[str | None, typer.Option(help="Override live.feed.ws_url.")] = None,
    fix_port: Annotated[int | None, typer.Option(help="Override live.fix.port.")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Override live.metrics_port (0: any free port).")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help="Override live.redis_url (state, control channel).")] = None,
    standby: Annotated[bool, typer.Option("--standby", help="Start passive: wait for the leadership lease, then take over (needs live.failover.enabled).")] = False,
) -> None:
    """Run a live trading node: Polygon market data, the strategy and risk chain, FIX orders to the venue.

    With live.failover.enabled the node trades only while it holds the leadership lease in Redis;
    it exits with status 3 if it loses the lease (after halting and cancelling its orders)."""
    import asyncio

    from hftmm.live.leadership import LeadershipError
    from hftmm.live.runner import run_live

    cfg = _live_overrides(config, **{"live.feed.ws_url": feed_url, "live.fix.port": fix_port,
                                     "live.metrics_port": metrics_port, "live.redis_url": redis_url})
    if standby and not cfg.live.failover.enabled:
        raise CliError("--standby needs live.failover.enabled in the config (and live.redis_url)")
    role = " (standby: waiting for the leadership lease)" if standby else ""
    out.print(f"live node {cfg.live.trader_id}{role}: feed {cfg.live.feed.ws_url}, venue {cfg.live.fix.host}:{cfg.live.fix.port}"
              + (f", metrics http://127.0.0.1:{cfg.live.metrics_port}/metrics" if cfg.live.metrics_port else ""))
    try:
        outcome = asyncio.run(run_live(cfg, duration_s=duration, standby=standby))
    except LeadershipError as e:
        raise CliError(str(e)) from e
    outcome.dispose()
    failover = outcome.summary.get("failover")
    if outcome.run_dir is None:
        out.print("stopped as a standby: this node never led")
        return
    _print_live_summary(outcome.summary)
    out.print(f"run folder: {outcome.run_dir}")
    if failover is not None and failover["demoted"]:
        err.print(f"[bold red]lost leadership (epoch {failover['epoch']}): {failover['demoted']}; halted and stopped")
        raise typer.Exit(3)


@app.command("demo-live")
def demo_live(
    duration: Annotated[float, typer.Option(help="Seconds of trading.")] = 60.0,
    speed: Annotated[float, typer.Option(min=0.01, help="Replay speed of the recorded day.")] = 1.0,
    start: Annotated[str, typer.Option(help="HH:MM (Eastern) of the recorded day to start at.")] = "09:30",
    config: Annotated[Path, typer.Option("--config", "-c", help="Live configuration.", dir_okay=False, exists=True)] = DEFAULT_LIVE_CONFIG,
    catalog: Annotated[Path, typer.Option(help="Catalog root (the demo day is built into it when missing).")] = DEFAULT_CATALOG,
    sample_dir: Annotated[Path, typer.Option(help="Where the sample TAQ files are written if needed.")] = DEFAULT_SAMPLE_DIR,
) -> None:
    """Live mode end to end on one machine: hftmm feed + hftmm venue + a live node, trading the demo day for a minute."""
    import asyncio

    from hftmm.live.demo import run_demo_live

    cfg = _live_overrides(config, **{"catalog.path": str(catalog)})
    date = dt.date(2024, 3, 11)
    if not any((catalog / "data" / "quote_tick").glob("*/*.parquet")):
        out.rule("building the demo day")
        _print_ingest_report(_ingest_sample(_generate_sample(sample_dir, date, DEMO_SEED, 1.0, False), catalog))
    out.rule(f"trading {date} from {start} ET at {speed:g}x for {duration:g} s")
    outcome = asyncio.run(run_demo_live(cfg, catalog=catalog, date=date, duration_s=duration, speed=speed, start=start,
                                        work_dir=Path(cfg.live.runs_dir)))
    outcome.live.dispose()
    _print_live_summary(outcome.summary)
    rec = outcome.reconciliation
    table = Table("symbol", "node position", "venue position", box=box.SIMPLE_HEAD,
                  title=f"node vs venue record: {rec.node_fills} / {rec.venue_fills} fills")
    for sym in sorted(set(rec.node_positions) | set(rec.venue_positions)):
        table.add_row(sym, f"{rec.node_positions.get(sym, 0):+,.0f}", f"{rec.venue_positions.get(sym, 0):+,.0f}")
    out.print(table)
    out.print(f"run folder: {outcome.run_dir}; venue record: {outcome.venue_record}")
    if not rec.matches:
        raise CliError(f"the node disagrees with the venue's record (fills reported twice: {rec.duplicate_exec_ids[:5]}, "
                       f"venue fills the node lacks: {rec.missing_fills[:5]}, node fills the venue never made: "
                       f"{rec.unknown_fills[:5]})")
    out.print("[bold green]node and venue agree")


# -- runtime parameters ----------------------------------------------------------------------

_REDIS_HELP = "Redis of the live node (default: $HFTMM_REDIS_URL or redis://127.0.0.1:6379/0)."


def _control_redis(redis_url: str | None) -> Any:
    import redis

    url = redis_url or os.environ.get("HFTMM_REDIS_URL", "redis://127.0.0.1:6379/0")
    return redis.Redis.from_url(url, socket_timeout=2.0)


def _send_control(request: dict[str, Any], redis_url: str | None, trader: str, wait: float) -> dict[str, Any] | None:
    import getpass
    import json
    import socket
    import time
    import uuid

    r = _control_redis(redis_url)
    request = {"id": uuid.uuid4().hex, "by": f"{getpass.getuser()}@{socket.gethostname()}", **request}
    prefix = f"hftmm:{trader}"
    try:
        r.lpush(f"{prefix}:control:requests", json.dumps(request))
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            raw = r.hget(f"{prefix}:control:results", request["id"])
            if raw is not None:
                return json.loads(raw)
            time.sleep(0.05)
    except Exception as e:  # redis.ConnectionError and friends
        raise CliError(f"control channel: {e}") from e
    return None


def _print_control_result(result: dict[str, Any] | None, wait: float) -> None:
    if result is None:
        raise CliError(f"no answer from the node within {wait:g} s (is it running with live.redis_url?)")
    if result["status"] == "applied":
        out.print(f"applied as version {result['version']}"
                  + (f"; watched for {result['grace_s']:g} s, rolled back automatically if it breaks" if result.get("grace_s") else ""))
        return
    raise CliError(f"{result['status']}: {result.get('reason', '')}")


@app.command("set")
def set_param(
    path: Annotated[str, typer.Argument(help="strategy.<key>, risk.<Plugin>.<key> or risk.plugins.")],
    value: Annotated[str, typer.Argument(help="JSON value (0.05, true, \"text\", [..]); plain text is a string.")],
    redis_url: Annotated[str | None, typer.Option("--redis", help=_REDIS_HELP)] = None,
    trader: Annotated[str, typer.Option(help="Trader id of the node.")] = "HFTMM-001",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the node's answer.")] = 10.0,
) -> None:
    """Change a strategy or risk parameter on a running node (validated, applied atomically, rolled back if it breaks)."""
    from hftmm.control.changes import parse_value

    _print_control_result(_send_control({"set": {path: parse_value(value)}}, redis_url, trader, wait), wait)


def _mode_command(command: str, reason: str, redis_url: str | None, trader: str, wait: float) -> None:
    """Send ``halt`` or ``resume`` with its reason; raise unless the node answers it did."""
    result = _send_control({command: True, "reason": reason}, redis_url, trader, wait)
    if result is None:
        raise CliError(f"no answer from the node within {wait:g} s (is it running with live.redis_url?)")
    expected = {"halt": "halted", "resume": "resumed"}[command]
    if result["status"] != expected:
        raise CliError(f"{result['status']}: {result.get('reason', '')}")


@app.command()
def halt(
    reason: Annotated[str, typer.Option(help="Why trading stops (kept in the audit trail).")],
    redis_url: Annotated[str | None, typer.Option("--redis", help=_REDIS_HELP)] = None,
    trader: Annotated[str, typer.Option(help="Trader id of the node.")] = "HFTMM-001",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the node's answer.")] = 10.0,
) -> None:
    """Halt a running node (the operator's kill switch): every strategy cancels its orders and no new
    order goes out until `hftmm resume`; the halt survives a restart or a failover."""
    _mode_command("halt", reason, redis_url, trader, wait)
    out.print("trading halted; `hftmm resume --reason ...` lifts it")


@app.command()
def resume(
    reason: Annotated[str, typer.Option(help="Why trading may resume (kept in the audit trail).")],
    redis_url: Annotated[str | None, typer.Option("--redis", help=_REDIS_HELP)] = None,
    trader: Annotated[str, typer.Option(help="Trader id of the node.")] = "HFTMM-001",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the node's answer.")] = 10.0,
) -> None:
    """Lift a risk halt (kill switch) or reduce-only mode on a running node: the explicit command a halt needs."""
    _mode_command("resume", reason, redis_url, trader, wait)
    out.print("trading resumed")


@config_app.command("rollback")
def config_rollback(
    to: Annotated[int | None, typer.Option(help="Version to return to (default: the previous good one).")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help=_REDIS_HELP)] = None,
    trader: Annotated[str, typer.Option(help="Trader id of the node.")] = "HFTMM-001",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the node's answer.")] = 10.0,
) -> None:
    """Return a running node to an earlier parameter version."""
    _print_control_result(_send_control({"rollback": True if to is None else to}, redis_url, trader, wait), wait)


@config_app.command("history")
def config_history(
    run_dir: Annotated[Path | None, typer.Option("--run", help="A run folder (its config_history.jsonl) instead of Redis.")] = None,
    redis_url: Annotated[str | None, typer.Option("--redis", help=_REDIS_HELP)] = None,
    trader: Annotated[str, typer.Option(help="Trader id of the node.")] = "HFTMM-001",
) -> None:
    """The parameter versions of a node or a run: who changed what, and what became of it."""
    import datetime as _dt
    import json

    if run_dir is not None:
        path = run_dir / "config_history.jsonl"
        if not path.is_file():
            raise CliError(f"{path}: no parameter history (the run had no runtime updates)")
        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    else:
        try:
            rows = [json.loads(x) for x in _control_redis(redis_url).lrange(f"hftmm:{trader}:config:history", 0, -1)]
        except Exception as e:
            raise CliError(f"control channel: {e}") from e
    # A version appears again when its status changes (e.g. rolled back): keep the last word. Each
    # node (a restart, a failover successor) numbers its versions from 0: a version is (run, number),
    # shown in the order the versions first appeared.
    latest: dict[tuple[str, int], dict[str, Any]] = {}
    for row in rows:
        latest[(row.get("run", ""), row["version"])] = row
    runs = len({run for run, _ in latest})
    table = Table(*(["run"] if runs > 1 else []), "version", "time (UTC)", "by", "changes", "status", "reason",
                  box=box.SIMPLE_HEAD)
    for (run, v), row in latest.items():
        when = _dt.datetime.fromtimestamp(row["ts"] / 1e9, _dt.UTC).strftime("%H:%M:%S") if row["ts"] else ""
        table.add_row(*([run] if runs > 1 else []), str(v), when, row["by"], json.dumps(row["changes"]), row["status"],
                      row.get("reason", ""))
    out.print(table)


@app.command()
def status(
    redis_url: Annotated[str | None, typer.Option("--redis", help=_REDIS_HELP)] = None,
    trader: Annotated[str, typer.Option(help="Trader id of the nodes.")] = "HFTMM-001",
) -> None:
    """Who leads: the holder of the leadership lease, its remaining life and the fencing epoch."""
    from hftmm.failover.lease import Lease

    from hftmm.live.leadership import lease_name, read_nodes

    client = _control_redis(redis_url)
    try:
        state = Lease(client, lease_name(trader), "status").state()
        nodes = read_nodes(client, trader)
    except Exception as e:
        raise CliError(f"cannot read the lease: {e}") from e
    if state.owner is None:
        out.print(f"{trader}: no leader (epoch {state.epoch}); a standby takes over within its poll interval")
    else:
        out.print(f"{trader}: leader {state.owner}, lease {state.ttl_ms} ms left, epoch {state.epoch}")
    if nodes:
        table = Table("node", "role", "epoch", "pid", "run", box=box.SIMPLE_HEAD)
        for n in nodes:
            table.add_row(n.get("owner", "?"), n.get("role", "?"), str(n.get("epoch", "")), str(n.get("pid", "")),
                          n.get("run_id") or "")
        out.print(table)


# -- replay ----------------------------------------------------------------------------------


@app.command()
def replay(
    run_dir: Annotated[Path, typer.Argument(help="A run folder, runs/<run-id>.", exists=True, file_okay=False)],
    project: Annotated[str | None, typer.Option(help="Instead of re-running: 'positions' rebuilds positions and PnL from the events and checks them.")] = None,
    out_dir: Annotated[Path | None, typer.Option("--out", help="Where the replay's run folder goes (default RUN_DIR/replays).")] = None,
) -> None:
    """Re-run a recorded run and compare commands, orders and fills.

    A backtest must reproduce itself exactly (exit 1 if not). A live run is backtested over the market data it recorded; the first divergence of each sequence is printed with its cause (exit 0: a live run is not expected to reproduce exactly).
    """
    if project is not None:
        _replay_project(run_dir, project)
        return
    from hftmm.eventlog.replay import replay_run

    with err.status("replaying"):
        report = replay_run(run_dir, out_dir)
    table = Table("sequence", "recorded", "replayed", "result", box=box.SIMPLE_HEAD)
    diverged = {d.sequence: d for d in report.divergences}
    for name, (a, b) in report.counts.items():
        if name not in diverged:
            result = "[green]identical"
        elif report.mode == "live":
            result = f"[yellow]#{diverged[name].index}"  # where the first divergence is
        else:
            result = "[red]diverges"
        table.add_row(name, f"{a:,}", f"{b:,}", result)
    if report.mode == "live":
        table.columns[-1].header = "first divergence"
    out.print(table)
    if report.market_data:
        out.print("recorded market data replayed: " + ", ".join(f"{n:,} {k}" for k, n in report.market_data.items()))
    out.print(f"replay run folder: {report.replay_dir}")
    from rich.markup import escape

    for note in report.notes:
        out.print(f"note: {escape(note)}", highlight=False, soft_wrap=True)
    for d in report.divergences:
        if report.mode == "live":
            out.print(f"[bold]{d.sequence}[/] diverge first at #{d.index}:\n  recorded {escape(str(d.recorded))}\n"
                      f"  replayed {escape(str(d.replayed))}\n  cause: {escape(d.cause)}", highlight=False, soft_wrap=True)
        else:
            err.print(f"[red]{d.sequence}[/] differ first at #{d.index}:\n  recorded {d.recorded}\n  replayed {d.replayed}", highlight=False)
    if not report.identical and report.mode != "live":
        raise typer.Exit(1)


def _replay_project(run_dir: Path, project: str) -> None:
    from hftmm.eventlog.projection import project_positions

    if project != "positions":
        raise CliError(f"--project: unknown projection {project!r} (known: positions)")
    rows = project_positions(run_dir)
    table = Table("instrument", "fills", "position", "realized", "fees", "unrealized", "vs recorded", box=box.SIMPLE_HEAD)
    for r in rows:
        table.add_row(
            r.instrument_id, f"{r.fills:,}", f"{r.quantity:+,.0f}", f"{r.realized:,.2f}", f"{r.fees:,.2f}", f"{r.unrealized:,.2f}",
            "[green]match" if r.matches else f"[red]recorded {r.recorded_quantity:+,.0f} / {r.recorded_realized:,.2f} / "
            f"{r.recorded_fees:,.2f} / {r.recorded_unrealized:,.2f}")
    out.print(table)
    if not all(r.matches for r in rows):
        raise typer.Exit(1)


# -- audit -----------------------------------------------------------------------------------


@audit_app.command("verify")
def audit_verify(path: Annotated[Path, typer.Argument(help="An audit trail, e.g. runs/<run-id>/audit.jsonl.", exists=True, dir_okay=False)]) -> None:
    """Check an audit trail's hash chain: a changed, removed, reordered or cut record fails (exit 1)."""
    from hftmm.risk.audit import verify_trail

    report = verify_trail(path)
    if report.ok:
        out.print(f"{path}: {report.records} records, hash chain intact, closed")
        return
    for problem in report.problems:
        err.print(f"[red]{path}:[/] {problem}", highlight=False, soft_wrap=True)
    err.print(f"{report.records} records read, {len(report.problems)} problem(s)")
    raise typer.Exit(1)


# -- demo ------------------------------------------------------------------------------------


@app.command()
def demo(
    config: Annotated[Path, typer.Option("--config", "-c", help="Backtest configuration of the demo.", dir_okay=False)] = DEFAULT_CONFIG,
    sample_dir: Annotated[Path, typer.Option(help="Where the sample TAQ files are written.")] = DEFAULT_SAMPLE_DIR,
    catalog: Annotated[Path, typer.Option(help="Catalog root.")] = DEFAULT_CATALOG,
) -> None:
    """The main job on the embedded default day: generate TAQ files, ingest, backtest, report."""
    from hftmm.config import load_config

    cfg = load_config(config)
    out.rule("1/4 sample TAQ day")
    files = _generate_sample(sample_dir, cfg.backtest.date, DEMO_SEED, 1.0, False)
    out.print(f"{len(files.quotes)} quote shard(s), trades, NBBO and master in {sample_dir}")
    out.rule("2/4 ingest")
    _print_ingest_report(_ingest_sample(files, catalog))
    out.rule("3/4 backtest")
    outcome = _run_backtest(config, catalog, None)
    _print_summary(outcome.summary)
    out.rule("4/4 report")
    path = _build_report(outcome.run_dir, None)
    out.print(f"run folder: {outcome.run_dir}")
    out.print(f"[bold green]report: {path}")


@app.command()
def version() -> None:
    """Print the versions of hftmm, NautilusTrader and Python."""
    from importlib.metadata import version as dist_version

    out.print(f"hftmm {hftmm.__version__}")
    out.print(f"nautilus_trader {dist_version('nautilus_trader')}")
    out.print(f"python {platform.python_version()}")


def main() -> None:
    """Console-script entry point: run the app, turning expected failures into one-line errors."""
    debug = os.environ.get("HFTMM_DEBUG") == "1"
    if "--debug" in sys.argv:
        sys.argv.remove("--debug")
        debug = True
    try:
        # Standalone mode: usage errors print Typer's message and exit 2 by themselves.
        app()
    except Exception as e:  # noqa: BLE001 - the one place that decides how errors look
        if debug:
            raise
        expected = isinstance(e, _expected_errors())
        message = str(e) if expected else f"{type(e).__name__}: {e}"
        err.print(f"[red]error:[/] {message}", highlight=False, soft_wrap=True)
        if not expected:
            err.print("(unexpected; run again with --debug for the traceback)")
        sys.exit(1)
