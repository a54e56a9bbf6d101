"""Assemble a live Nautilus TradingNode from an hftmm live configuration.

The node gets the Polygon data client (``hftmm feed`` locally), the FIX execution client
(``hftmm venue`` locally), one strategy per instrument, and the same actors as a backtest: the
risk chain (with its audit trail), the event log, plus the Prometheus metrics endpoint; Nautilus's
own stream writer records order, position and account events as they happen. With
``live.redis_url`` the cache (orders, positions, accounts, strategy state) persists in Redis.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from nautilus_trader.common.component import Logger
from nautilus_trader.config import (
    CacheConfig,
    ImportableActorConfig,
    ImportableStrategyConfig,
    InstrumentProviderConfig,
    LiveExecEngineConfig,
    LiveRiskEngineConfig,
    LoggingConfig,
    StreamingConfig,
    TradingNodeConfig,
)
from nautilus_trader.live.node import TradingNode

from hftmm.config import LiveConfig, config_to_builtins
from hftmm.engine.backtest import STREAMED_EVENT_TYPES
from hftmm.engine.components import control_actor_config, risk_actor_config, strategy_configs
from hftmm.engine.session import et_to_utc_ns
from hftmm.eventlog.inputs import run_versions
from hftmm.eventlog.market_data import MARKET_DATA_DIR
from hftmm.live.cache_repair import PositionRepair, rebuild_positions, redis_cache_config
from hftmm.risk.actor import RiskActor

ET = ZoneInfo("America/New_York")


@dataclass
class LiveNode:
    """A built node and where its run folder is."""

    node: TradingNode
    run_dir: Path
    run_id: str
    config: LiveConfig


async def wait_while_running(
    live: LiveNode, node_task: asyncio.Task[Any], stop: asyncio.Event, duration_s: float | None,
    while_running: Callable[[LiveNode], Awaitable[None]] | None, *also: asyncio.Event,
) -> None:
    """Return at the first of: ``stop``, ``duration_s`` elapsed, ``while_running(live)`` done (its
    exception is raised), the node's run task ending, or any event in ``also``. The node is left
    running: stopping it is the caller's."""
    waits: list[asyncio.Future[Any]] = [asyncio.create_task(e.wait()) for e in (stop, *also)]
    if duration_s is not None:
        waits.append(asyncio.create_task(asyncio.sleep(duration_s)))
    if while_running is not None:
        waits.append(asyncio.create_task(while_running(live)))
    waits.append(node_task)
    done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
    for p in pending:
        if p is not node_task:
            p.cancel()
    for d in done:
        if d is not node_task and not d.cancelled() and d.exception() is not None:
            raise d.exception()  # type: ignore[misc]


def new_live_run_id() -> str:
    """``live-<UTC time>-<random>``."""
    return "live-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]


def strategy_window(config: LiveConfig, today: dt.date) -> dict[str, int | None]:
    """The strategies' trading window and session close on ``today`` (UTC ns; None: unbounded),
    recorded in ``run_started`` so a replay builds the same strategies."""
    live = config.live
    return {"start_ns": et_to_utc_ns(today, live.trading_start) if live.trading_start else None,
            "end_ns": et_to_utc_ns(today, live.trading_end) if live.trading_end else None,
            "close_ns": et_to_utc_ns(today, "16:00")}


def _strategies(config: LiveConfig, window: dict[str, int | None]) -> list[ImportableStrategyConfig]:
    return strategy_configs(config.strategy, list(config.live.instruments), window["start_ns"], window["end_ns"],
                            window["close_ns"], live=True)


def exec_client_configs(config: LiveConfig, fencing_epoch: int = 0) -> dict[str, Any]:
    """One FIX execution client per venue (MIC) of the instruments: Nautilus routes orders and
    keeps accounts per venue. Each has its own session, SenderCompID ``<sender><MIC>``; a failover
    leader's orders and Logon carry its ``fencing_epoch``."""
    from adapters.fix.client_config import FixExecClientConfig
    from adapters.fix.config import SessionConfig, StoreConfig, TlsConfig

    live, fix = config.live, config.live.fix
    state = Path(live.state_dir)
    mics = sorted({iid.rsplit(".", 1)[1] for iid in live.instruments})
    out = {}
    for mic in mics:
        sender = f"{fix.sender_comp_id}{mic}"
        store = (StoreConfig(kind="redis", redis_url=live.redis_url, redis_prefix=f"hftmm:{live.trader_id}:fix")
                 if fix.store == "redis" and live.redis_url else StoreConfig(kind="file", path=str(state / "fix"), sync=fix.fsync))
        out[mic] = FixExecClientConfig(
            session=SessionConfig(sender_comp_id=sender, target_comp_id=fix.target_comp_id, host=fix.host, port=fix.port,
                                  heartbeat_interval=fix.heartbeat_s, reset_on_logon=fix.reset_on_logon,
                                  reconnect_interval_s=1.0, store=store,
                                  tls=TlsConfig(ca_file=fix.tls_ca_file) if fix.tls_ca_file else None),
            venue=mic,
            catalog_path=str(Path(config.catalog.path).resolve()),
            instrument_provider=InstrumentProviderConfig(
                load_ids=frozenset(i for i in live.instruments if i.endswith("." + mic))),
            starting_balance=config.venue.starting_balance,
            maker_fee_per_share=str(config.venue.fees.maker_per_share),
            taker_fee_per_share=str(config.venue.fees.taker_per_share),
            fencing_epoch=fencing_epoch,
        )
    return out


def latency_summary(kernel: Any) -> dict[str, Any]:
    """Tick-to-trade and FIX round-trip percentiles (µs) of the node's FIX clients."""
    from adapters.fix.execution import FixExecutionClient

    out: dict[str, Any] = {}
    for c in kernel.exec_engine._clients.values():  # readonly in Cython; the engine has no public list
        if isinstance(c, FixExecutionClient):
            out[c.id.value] = {
                "tick_to_trade_us": {f"p{k:g}": v for k, v in c.tick_to_trade.percentiles().items()},
                "tick_to_trade_samples": len(c.tick_to_trade),
                "fix_round_trip_us": {f"p{k:g}": v for k, v in c.round_trip.percentiles().items()},
            }
    return {"latency": out}


def market_data_summary(kernel: Any, run_dir: Path) -> dict[str, Any]:
    """Close the market-data recorder of a stopped node and return what the node's Polygon data
    clients handed to the engine (their parsers' counters) next to what the recorder wrote
    (``market_data/manifest.json``), per type."""
    from adapters.polygon.data import PolygonDataClient

    from hftmm.eventlog.market_data import MarketDataRecorder

    for actor in kernel.trader.actors():
        if isinstance(actor, MarketDataRecorder):
            actor.close()  # the node has stopped: everything its data clients published is in
    received = {"quote_tick": 0, "trade_tick": 0, "order_book_deltas": 0}
    gaps: list[dict[str, Any]] = []
    for c in kernel.data_engine._clients.values():  # readonly in Cython; the engine has no public list
        if isinstance(c, PolygonDataClient):
            metrics = c.metrics()
            parser = metrics["parser"]
            received["quote_tick"] += parser["quote_ticks"]
            received["trade_tick"] += parser["trade_ticks"]
            received["order_book_deltas"] += parser["book_events"]
            if metrics["gaps"]:
                gaps.append({"client": c.id.value, "gaps": metrics["gaps"], "gap_ns_total": metrics["gap_ns_total"],
                             "last_gap": metrics["last_gap"]})
    recorded = dict.fromkeys(received, 0)
    manifest = run_dir / MARKET_DATA_DIR / "manifest.json"
    if manifest.is_file():
        for key, n in json.loads(manifest.read_text())["counts"].items():
            kind = key.split("/", 1)[0]
            recorded[kind] = recorded.get(kind, 0) + n
    # Feed gaps (reconnections): what the node missed is missing from the recording and its replay too.
    return {"market_data": {"path": MARKET_DATA_DIR, "received": received, "recorded": recorded, "feed_gaps": gaps}}


def _cache(config: LiveConfig) -> CacheConfig | None:
    if config.live.redis_url is None:
        return None
    return redis_cache_config(config.live.redis_url)


def build_live_node(config: LiveConfig, loop: asyncio.AbstractEventLoop, *, run_id: str | None = None,
                    fencing_epoch: int = 0, run_data: dict[str, Any] | None = None) -> LiveNode:
    """Build (not run) the node on ``loop`` and create its run folder ``runs_dir/<run-id>/``.

    A failover leader passes its lease's ``fencing_epoch`` (sent on its Logon and orders) and
    ``run_data`` (recorded in the event log's ``run_started``: epoch, lease owner)."""
    from adapters.fix.factories import FixLiveExecClientFactory
    from adapters.polygon.config import PolygonDataClientConfig
    from adapters.polygon.constants import POLYGON
    from adapters.polygon.factories import PolygonLiveDataClientFactory

    live = config.live
    run_id = run_id or new_live_run_id()
    run_dir = Path(live.runs_dir) / run_id
    if (run_dir / "config.json").exists():
        raise FileExistsError(f"{run_dir} already holds a run")
    run_dir.mkdir(parents=True, exist_ok=True)
    resolved = config_to_builtins(config)
    repairs: list[PositionRepair] = []
    if live.redis_url is not None:
        # Before the kernel loads the cache: a predecessor killed mid-write, or one that traded
        # through a Redis restart, may have left positions that disagree with their orders.
        repairs = rebuild_positions(live.redis_url, live.trader_id)
        run_data = {**(run_data or {}), "cache_repairs": [repair.to_dict() for repair in repairs]}
    (run_dir / "config.json").write_text(json.dumps(resolved, indent=2, default=str) + "\n")
    catalog = str(Path(config.catalog.path).resolve())
    instruments = list(live.instruments)
    window = strategy_window(config, dt.datetime.now(ET).date())
    actors = [
        # The market data the node receives, for hftmm replay (hftmm/eventlog/market_data.py).
        ImportableActorConfig(
            actor_path="hftmm.eventlog.market_data:MarketDataRecorder",
            config_path="hftmm.eventlog.market_data:MarketDataRecorderConfig",
            config={"path": str(run_dir / MARKET_DATA_DIR), "instruments": instruments, "flush_interval_s": 1.0},
        ),
        risk_actor_config(config.risk, instruments, run_dir, run_id),
        ImportableActorConfig(
            actor_path="hftmm.eventlog.actor:EventLogActor", config_path="hftmm.eventlog.actor:EventLogActorConfig",
            config={"path": str(run_dir / "eventlog.jsonl"), "flush_interval_s": 1.0, "run_started": {
                "run_id": run_id, "mode": "live", "config": json.loads(json.dumps(resolved, default=str)), "seed": 0,
                "versions": run_versions(),
                "data": {"feed": live.feed.ws_url, "instruments": instruments, "catalog": catalog,
                         "market_data": MARKET_DATA_DIR, "strategy_window": window, **(run_data or {})}}},
        ),
    ]
    if live.redis_url is not None:
        actors.append(control_actor_config(config.control, config.strategy, config.risk, instruments, run_dir=run_dir,
                                           redis_url=live.redis_url, key_prefix=f"hftmm:{live.trader_id}",
                                           poll_interval_s=0.25))
    if live.metrics_port is not None:
        actors.append(ImportableActorConfig(
            actor_path="hftmm.metrics.actor:MetricsActor", config_path="hftmm.metrics.actor:MetricsActorConfig",
            config={"instruments": instruments, "port": live.metrics_port}))
    node_config = TradingNodeConfig(
        trader_id=live.trader_id,
        logging=LoggingConfig(log_level=live.log_level, log_directory=str(run_dir), log_file_name="node",
                              log_level_file="INFO"),
        cache=_cache(config),
        risk_engine=LiveRiskEngineConfig(
            max_order_submit_rate=config.risk.max_order_submit_rate,
            max_order_modify_rate=config.risk.max_order_modify_rate,
        ),
        exec_engine=LiveExecEngineConfig(reconciliation=True, reconciliation_lookback_mins=1440),
        data_clients={
            POLYGON: PolygonDataClientConfig(
                ws_url=live.feed.ws_url, catalog_path=catalog, quote_size_unit=live.feed.quote_size_unit,
                reconnect_initial_delay=live.feed.reconnect_initial_delay_s,
                reconnect_max_delay=live.feed.reconnect_max_delay_s,
                instrument_provider=InstrumentProviderConfig(load_ids=frozenset(instruments)),
            ),
        },
        exec_clients=exec_client_configs(config, fencing_epoch),
        streaming=StreamingConfig(catalog_path=str(run_dir / "stream"), include_types=list(STREAMED_EVENT_TYPES),
                                  flush_interval_ms=1000),
        actors=actors,
        strategies=_strategies(config, window),
        timeout_connection=20.0,
        timeout_reconciliation=10.0,
        timeout_disconnection=5.0,
        timeout_post_stop=2.0,
    )
    node = TradingNode(config=node_config, loop=loop)
    node.add_data_client_factory(POLYGON, PolygonLiveDataClientFactory)
    for mic in node_config.exec_clients:
        node.add_exec_client_factory(mic, FixLiveExecClientFactory)
    node.build()
    log = Logger("CacheRepair")
    for repair in repairs:
        log.warning(repair.describe())
    for actor in node.trader.actors():
        if isinstance(actor, RiskActor):
            actor.bind_trading_state(node.kernel.risk_engine.set_trading_state)
    return LiveNode(node, run_dir, run_id, config)
