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


class CliError(Exception):
    """An error to show the user as one line."""


def _expected_errors() -> tuple[type[BaseException], ...]:
    """Error types that mean bad input or a failed run, not a bug: shown as one line."""
    from hftmm.config import ConfigError

    types: list[type[BaseException]] = [CliError, ConfigError, FileNotFoundError, PermissionError]
    try:
        from hftmm.engine.calibration import CalibrationError
        from hftmm.models.toxicity import ToxicityModelError

        types += [CalibrationError, ToxicityModelError]
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
        from hftmm.reports import ReportError

        types.append(ReportError)
    except ImportError:
        pass
    try:
        from hftmm.sweep import SweepError

        types.append(SweepError)
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


# -- sample ----------------------------------------------------------------------------------


@sample_app.command("taq")
def sample_taq_cmd(
    out_dir: Annotated[Path, typer.Option("--out", help="Directory to write the files into.")] = DEFAULT_SAMPLE_DIR,
    date: Annotated[dt.datetime, typer.Option(formats=["%Y-%m-%d"], help="Trade date.")] = dt.datetime(2024, 3, 11),
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same bytes).")] = 20240311,
    scale: Annotated[float, typer.Option(min=0.01, help="Multiplier on the number of events.")] = 1.0,
    gzip: Annotated[bool, typer.Option(help="Write .gz files like NYSE does.")] = False,
) -> None:
    """Write a deterministic, realistic TAQ-format day (trades, quote shards, NBBO, master)."""
    files = _generate_sample(out_dir, date.date(), seed, scale, gzip)
    for path in (files.trades, *files.quotes, files.nbbo, files.master):
        out.print(str(path))


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
    files = _generate_sample(sample_dir, cfg.backtest.date, 20240311, 1.0, False)
    out.print(f"{len(files.quotes)} quote shard(s), trades, NBBO and master in {sample_dir}")
    out.rule("2/4 ingest")
    report_ = _run_ingest_taq(
        catalog=catalog,
        master=files.master,
        trades=[files.trades],
        quotes=list(files.quotes),
        nbbo=files.nbbo,
        symbols=None,
        date=files.date,
        strict=True,
    )
    _print_ingest_report(report_)
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
