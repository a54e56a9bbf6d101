"""Assemble and run a Nautilus BacktestNode from an hftmm configuration, and write the run folder.

The venue settings follow what makes an L2 market-making backtest honest on NautilusTrader 1.231:
the matching book comes only from diff deltas, trades drive fills, queue position and liquidity
consumption are on, bar execution is off, and latency and fees are always explicit.
"""

from __future__ import annotations

import datetime as dt
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.node import BacktestNode
from nautilus_trader.config import (
    BacktestDataConfig,
    BacktestEngineConfig,
    BacktestRunConfig,
    ImportableActorConfig,
    LoggingConfig,
    RiskEngineConfig,
    StreamingConfig,
)
from nautilus_trader.model.data import OrderBookDelta, QuoteTick, TradeTick
from nautilus_trader.model.events import (
    AccountState,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderModifyRejected,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderUpdated,
    PositionChanged,
    PositionClosed,
    PositionOpened,
)
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog import ParquetDataCatalog

from hftmm.config import HftmmConfig, config_to_builtins
from hftmm.engine import run_folder
from hftmm.engine.components import backtest_venue_configs, control_actor_config, risk_actor_config, strategy_configs
from hftmm.engine.event_recorder import EventRecorder
from hftmm.engine.session import day_bounds_utc_ns, et_to_utc_ns
from hftmm.risk.actor import RiskActor

_DATA_CLASSES = {
    "order_book_deltas": OrderBookDelta,
    "quote_ticks": QuoteTick,
    "trade_ticks": TradeTick,
}
# Market data is already in the catalog; the run's stream records what the run itself produced.
STREAMED_EVENT_TYPES = [
    OrderInitialized, OrderDenied, OrderSubmitted, OrderAccepted, OrderRejected, OrderPendingUpdate,
    OrderPendingCancel, OrderUpdated, OrderModifyRejected, OrderCancelRejected, OrderCanceled,
    OrderExpired, OrderFilled, PositionOpened, PositionChanged, PositionClosed, AccountState,
]
TRADER_ID = "HFTMM-001"

ProgressFn = Callable[[str], None]


class BacktestError(RuntimeError):
    """A backtest could not be set up or run (missing data, bad instrument, engine failure)."""


@dataclass(frozen=True)
class BacktestOutcome:
    """Where a run was written and its headline figures."""

    run_id: str
    run_dir: Path
    summary: dict[str, Any]


def new_run_id(now: dt.datetime | None = None) -> str:
    """A sortable, unique run id: UTC timestamp plus a short random suffix."""
    now = now or dt.datetime.now(dt.UTC)
    return f"{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def _check_catalog(catalog_path: Path, config: HftmmConfig, start_ns: int, end_ns: int) -> None:
    if not (catalog_path / "data").is_dir():
        raise BacktestError(f"catalog {catalog_path} has no data: ingest a day first (hftmm ingest taq ...)")
    catalog = ParquetDataCatalog(str(catalog_path))
    known = {str(i.id) for i in catalog.instruments()}
    for iid in config.backtest.instruments:
        if iid not in known:
            raise BacktestError(
                f"instrument {iid} is not in catalog {catalog_path} (has: {', '.join(sorted(known)) or 'none'})",
            )
        if "order_book_deltas" in config.backtest.data:
            n = len(catalog.query(OrderBookDelta, identifiers=[iid], start=start_ns, end=end_ns - 1))
            if n == 0:
                raise BacktestError(f"no order book deltas for {iid} on {config.backtest.date} in {catalog_path}")


def bind_risk_engine(engine: BacktestEngine) -> None:
    """Let the risk actor set the node RiskEngine's TradingState (its second line of defence)."""
    for actor in engine.trader.actors():
        if isinstance(actor, RiskActor):
            actor.bind_trading_state(engine.kernel.risk_engine.set_trading_state)


def _run_started(config: HftmmConfig, run_id: str, catalog: Path) -> dict[str, Any]:
    """The ``run_started`` record of a backtest: config, seed, versions and input fingerprints."""
    from hftmm.eventlog.inputs import catalog_fingerprint, input_files, run_versions

    bt = config.backtest
    resolved = config_to_builtins(config)
    resolved["catalog"]["path"] = str(catalog.resolve())
    return {
        "run_id": run_id,
        "mode": "backtest",
        "config": json.loads(json.dumps(resolved, default=str)),
        "seed": bt.seed,
        "versions": run_versions(),
        "data": {"catalog": str(catalog.resolve()), "date": bt.date.isoformat(), "instruments": list(bt.instruments),
                 "kinds": list(bt.data), "files": catalog_fingerprint(catalog, list(bt.instruments), list(bt.data), bt.date)},
        "inputs": input_files(dict(config.strategy.params), list(bt.instruments), bt.date),
    }


def _actors(
    config: HftmmConfig, stream_dir: Path | None, run_dir: Path | None, run_id: str, catalog_path: Path,
) -> list[ImportableActorConfig]:
    """The risk chain first (strategies look for its endpoint when they start), then the recorder."""
    actors = []
    risk = config.risk
    if risk.enabled:
        if "quote_ticks" not in config.backtest.data:
            raise BacktestError("risk.enabled needs quote_ticks in backtest.data (the NBBO the risk checks price against)")
        # Monitors sample from an hour before trading (volatility and VaR history), not from the
        # first pre-market event: a second-by-second timer over 16 hours costs.
        timer_start = et_to_utc_ns(config.backtest.date, config.backtest.trading_start) - 3_600_000_000_000
        actors.append(risk_actor_config(risk, list(config.backtest.instruments), run_dir, run_id, timer_start))
    if run_dir is not None and config.backtest.event_log:
        actors.append(ImportableActorConfig(
            actor_path="hftmm.eventlog.actor:EventLogActor",
            config_path="hftmm.eventlog.actor:EventLogActorConfig",
            config={"path": str(run_dir / "eventlog.jsonl"), "run_started": _run_started(config, run_id, catalog_path)},
        ))
    control = config.control
    if control.schedule or control.redis_url:
        schedule = [{"at_ns": et_to_utc_ns(config.backtest.date, u.at), "set": dict(u.set),
                     **({"rollback": True} if u.rollback else {})} for u in control.schedule]
        # Simulated seconds: a backtest replays a day in seconds, so Redis is polled sparsely.
        actors.append(control_actor_config(control, config.strategy, config.risk, list(config.backtest.instruments),
                                           run_dir=run_dir, redis_url=control.redis_url, key_prefix=f"hftmm:{TRADER_ID}",
                                           poll_interval_s=10.0, schedule=schedule))
    if stream_dir is not None and config.backtest.event_stream == "bulk":
        actors.append(ImportableActorConfig(
            actor_path="hftmm.engine.event_recorder:EventRecorder",
            config_path="hftmm.engine.event_recorder:EventRecorderConfig",
            config={},
        ))
    return actors


def build_run_config(
    config: HftmmConfig, catalog_path: Path, stream_dir: Path | None, run_dir: Path | None = None, run_id: str = "",
) -> BacktestRunConfig:
    """Translate an hftmm configuration into a Nautilus ``BacktestRunConfig``.

    Parameters
    ----------
    config : HftmmConfig
        The validated configuration.
    catalog_path : Path
        Resolved catalog root.
    stream_dir : Path, optional
        Where the run's events are recorded (None: not recorded), per ``backtest.event_stream``.
    run_dir : Path, optional
        The run folder: the risk chain's audit trail goes to ``run_dir/audit.jsonl`` (when
        ``risk.audit``).
    run_id : str
        Stated in the audit trail.
    """
    bt, venue = config.backtest, config.venue
    day_start, day_end = day_bounds_utc_ns(bt.date)
    trading_start = et_to_utc_ns(bt.date, bt.trading_start)
    trading_end = et_to_utc_ns(bt.date, bt.trading_end)
    session_close = et_to_utc_ns(bt.date, bt.session_close)
    if trading_end <= trading_start:
        raise BacktestError(f"backtest.trading_end {bt.trading_end} is not after trading_start {bt.trading_start}")

    venues = backtest_venue_configs(venue, list(bt.instruments), bt.seed)

    data = [
        BacktestDataConfig(
            catalog_path=str(catalog_path),
            data_cls=_DATA_CLASSES[kind],
            instrument_id=InstrumentId.from_str(iid),
            start_time=day_start,
            end_time=day_end,
        )
        for iid in bt.instruments
        for kind in bt.data
    ]

    strategies = strategy_configs(config.strategy, list(bt.instruments), trading_start, trading_end, session_close)

    risk = config.risk
    engine = BacktestEngineConfig(
        trader_id=TRADER_ID,
        logging=LoggingConfig(log_level=bt.log_level),
        risk_engine=RiskEngineConfig(
            max_order_submit_rate=risk.max_order_submit_rate,
            max_order_modify_rate=risk.max_order_modify_rate,
            max_notional_per_order=dict(risk.max_notional_per_order),
        ),
        streaming=(
            StreamingConfig(catalog_path=str(stream_dir), replace_existing=True, include_types=STREAMED_EVENT_TYPES)
            if stream_dir is not None and bt.event_stream == "nautilus"
            else None
        ),
        actors=_actors(config, stream_dir, run_dir, run_id, catalog_path),
        strategies=strategies,
    )
    return BacktestRunConfig(
        engine=engine,
        venues=venues,
        data=data,
        chunk_size=bt.chunk_size,
        dispose_on_completion=False,
        raise_exception=True,
        start=day_start,
        end=trading_end,
    )


def run_backtest(
    config: HftmmConfig,
    *,
    catalog_path: Path,
    runs_dir: Path,
    run_id: str | None = None,
    progress: ProgressFn | None = None,
) -> BacktestOutcome:
    """Run one backtest and write ``runs_dir/<run-id>/``.

    The folder holds the resolved config, ``summary.json``, ``fills.parquet``, ``orders.parquet``,
    ``positions.parquet``, ``market.parquet`` (the NBBO over the trading window, for the report)
    and the Nautilus event stream under ``stream/``.
    """
    say = progress or (lambda _msg: None)
    bt = config.backtest
    day_start, day_end = day_bounds_utc_ns(bt.date)
    say("checking the catalog")
    _check_catalog(catalog_path, config, day_start, day_end)

    run_id = run_id or new_run_id()
    run_dir = runs_dir / run_id
    run_dir.mkdir(parents=True, exist_ok=False)
    resolved = config_to_builtins(config)
    resolved["catalog"]["path"] = str(catalog_path.resolve())
    (run_dir / "config.json").write_text(json.dumps(resolved, indent=2, default=str) + "\n")

    stream_dir = run_dir / "stream" if bt.event_stream != "off" else None
    run_config = build_run_config(config, catalog_path, stream_dir, run_dir, run_id)
    node = BacktestNode(configs=[run_config])
    say("running the backtest")
    t0 = time.perf_counter()
    try:
        node.build()
        bind_risk_engine(node.get_engine(run_config.id))
        [result] = node.run()
    except Exception as e:  # the engine raises whatever its components raise
        raise BacktestError(f"backtest failed: {type(e).__name__}: {e}") from e
    wall = time.perf_counter() - t0
    engine = node.get_engine(run_config.id)
    try:
        say("writing reports")
        for actor in engine.trader.actors():
            if isinstance(actor, EventRecorder) and stream_dir is not None:
                # Same place and layout as Nautilus's own writer: stream/backtest/<instance-id>/.
                actor.write(stream_dir / "backtest" / result.instance_id)
        summary = run_folder.write_run_outputs(
            run_dir=run_dir,
            run_id=run_id,
            engine=engine,
            result=result,
            catalog_path=catalog_path,
            instruments=list(bt.instruments),
            window=(et_to_utc_ns(bt.date, bt.trading_start), et_to_utc_ns(bt.date, bt.trading_end)),
            wall_seconds=wall,
        )
    finally:
        node.dispose()
    return BacktestOutcome(run_id=run_id, run_dir=run_dir, summary=summary)
