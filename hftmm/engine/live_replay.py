"""Replay a live run: a backtest over the market data the live node recorded, with its config.

The live run's resolved configuration (``run_started.config``) is mapped onto a backtest the way
the live node built its components (``hftmm.engine.components``): the same strategy per
instrument with the same trading window and session close (recorded in ``run_started``), the
same risk chain, and the config's ``venue`` section (book type, queue position, latency, fees) as
the simulated venue that stands in for the real one.

The recorded objects are fed to the engine in the order the node received them (their recorded
arrival numbers); their receive time (``ts_init``, the node's wall clock) becomes the backtest's
clock. Book deltas go in as the ``OrderBookDeltas`` events the node received, so the
strategy reacts to the same events. The engine does not pass orders through a network: the
configured latency model replaces the real round trip.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hftmm.eventlog.schema import RunStarted

ET = ZoneInfo("America/New_York")
# Order of objects that share a receive time and event time: the data client publishes a quote's
# QuoteTick before its book event; a trade is its own message.
_RANK = {"quote_tick": 0, "order_book_deltas": 1, "trade_tick": 2}


def _window(started: RunStarted, config: Any) -> dict[str, int | None]:
    recorded = started.data.get("strategy_window")
    if recorded is not None:
        return dict(recorded)
    # Runs recorded before the window was: the node computed it on the ET date it started.
    from hftmm.live.node import strategy_window

    return strategy_window(config, dt.datetime.fromtimestamp(started.ts / 1e9, ET).date())


def merged_market_data(recorded: dict[str, dict[str, list[Any]]]) -> list[Any]:
    """Every recorded object of every instrument in the order the node received them: by the
    recorded arrival numbers when every object has one, else (a run recorded without them, or a
    crash between a flush's data and its numbers) by receive time, then event time, a quote's tick
    before its book event."""
    arrival = recorded.get("arrival", {})
    complete = all(len(arrival.get(f"{kind}/{iid}", [])) == len(objects)
                   for kind in _RANK for iid, objects in recorded.get(kind, {}).items())
    keyed = []
    for kind, rank in _RANK.items():
        for iid, objects in recorded.get(kind, {}).items():
            numbers = arrival.get(f"{kind}/{iid}", [])
            for n, obj in enumerate(objects):
                key = (numbers[n],) if complete else (obj.ts_init, obj.ts_event, rank, n)
                keyed.append((key, obj))
    keyed.sort(key=lambda k: k[0])
    return [k[1] for k in keyed]


def add_in_order(engine: Any, data: list[Any]) -> None:
    """Add ``data`` (in the order the node received it) to a BacktestEngine so it is replayed in
    exactly that order.

    The engine checks only the first object of each ``add_data`` call (instrument known, and book
    data present for an L2 venue), so each instrument is first announced with an empty-book CLEAR
    one nanosecond before the replay starts (the run starts after it; the book is empty then
    anyway), and the data itself goes in as one unvalidated list whose stable sort by ``ts_init``
    keeps the received order within a frame.
    """
    from nautilus_trader.model.data import OrderBookDelta, OrderBookDeltas

    seen = set()
    for obj in data:
        if obj.instrument_id not in seen:
            seen.add(obj.instrument_id)
            ts = data[0].ts_init - 1
            engine.add_data([OrderBookDeltas(obj.instrument_id, [OrderBookDelta.clear(obj.instrument_id, 0, ts, ts)])],
                            sort=False)
    engine.add_data(data, validate=False, sort=True)


def run_live_replay(run_dir: Path, started: RunStarted, replay_dir: Path) -> dict[str, Any]:
    """Build and run the backtest of a live run into ``replay_dir``; return its summary plus the
    recorded market-data counts (``market_data``).

    Raises
    ------
    hftmm.eventlog.market_data.MarketDataError
        When the run folder holds no recorded market data (names what is missing).
    """
    from nautilus_trader.backtest.node import BacktestNode
    from nautilus_trader.config import (
        BacktestDataConfig,
        BacktestEngineConfig,
        BacktestRunConfig,
        ImportableActorConfig,
        LoggingConfig,
        RiskEngineConfig,
    )
    from nautilus_trader.model.data import OrderBookDelta, QuoteTick, TradeTick
    from nautilus_trader.model.identifiers import InstrumentId
    from nautilus_trader.persistence.catalog import ParquetDataCatalog

    from hftmm.config import parse_live_config
    from hftmm.engine import run_folder
    from hftmm.engine.backtest import bind_risk_engine
    from hftmm.engine.components import backtest_venue_configs, risk_actor_config, strategy_configs
    from hftmm.engine.event_recorder import EventRecorder
    from hftmm.eventlog.inputs import run_versions
    from hftmm.eventlog.market_data import read_market_data

    config = parse_live_config(started.config, source=str(run_dir / "eventlog.jsonl"))
    instruments = list(config.live.instruments)
    recorded = read_market_data(run_dir, instruments)
    data = merged_market_data(recorded)
    counts = {kind: sum(len(v) for v in recorded[kind].values()) for kind in _RANK}
    replay_dir.mkdir(parents=True, exist_ok=False)
    replay_id = replay_dir.name

    # A catalog of the recorded data (stamped with receive times): the engine's instruments and
    # the replay report's NBBO.
    catalog_path = replay_dir / "catalog"
    catalog = ParquetDataCatalog(str(catalog_path))
    equities = [objs[0] for objs in recorded["equity"].values() if objs]
    missing = [i for i in instruments if i not in recorded["equity"]]
    if missing:  # recorded before the node had them: the live catalog's definitions
        equities += ParquetDataCatalog(config.catalog.path).instruments(instrument_ids=missing)
    catalog.write_data(equities)
    for kind in ("quote_tick", "trade_tick"):
        for objs in recorded[kind].values():
            if objs:
                catalog.write_data(objs)
    for events in recorded["order_book_deltas"].values():
        flat = [d for e in events for d in e.deltas]
        if flat:
            catalog.write_data(flat)

    start_ns, end_ns = data[0].ts_init, data[-1].ts_init + 1
    window = _window(started, config)
    resolved = dict(started.config)
    (replay_dir / "config.json").write_text(json.dumps(resolved, indent=2, default=str) + "\n")
    risk = config.risk
    actors = [
        risk_actor_config(risk, instruments, replay_dir, replay_id),
        ImportableActorConfig(
            actor_path="hftmm.eventlog.actor:EventLogActor", config_path="hftmm.eventlog.actor:EventLogActorConfig",
            config={"path": str(replay_dir / "eventlog.jsonl"), "run_started": {
                "run_id": replay_id, "mode": "backtest", "config": resolved, "seed": started.seed,
                "versions": run_versions(),
                "data": {"replay_of": str(run_dir), "market_data": str(run_dir / "market_data"),
                         "instruments": instruments, "strategy_window": window, "counts": counts}}},
        ),
        ImportableActorConfig(actor_path="hftmm.engine.event_recorder:EventRecorder",
                              config_path="hftmm.engine.event_recorder:EventRecorderConfig", config={}),
    ]
    # Nautilus checks that an L2 venue has book data configured; the data itself is added below,
    # in the order the node received it, instead of being loaded by type from the catalog.
    data_configs = [BacktestDataConfig(catalog_path=str(catalog_path), data_cls=cls, instrument_id=InstrumentId.from_str(iid),
                                       start_time=start_ns, end_time=end_ns)
                    for iid in instruments for cls in (OrderBookDelta, QuoteTick, TradeTick)]
    run_config = BacktestRunConfig(
        engine=BacktestEngineConfig(
            trader_id=config.live.trader_id,
            logging=LoggingConfig(log_level="ERROR"),
            risk_engine=RiskEngineConfig(max_order_submit_rate=risk.max_order_submit_rate,
                                         max_order_modify_rate=risk.max_order_modify_rate),
            actors=actors,
            strategies=strategy_configs(config.strategy, instruments, window["start_ns"], window["end_ns"],
                                        window["close_ns"]),
        ),
        venues=backtest_venue_configs(config.venue, instruments, started.seed),
        data=data_configs,
        dispose_on_completion=False,
        raise_exception=True,
    )
    node = BacktestNode(configs=[run_config])
    t0 = time.perf_counter()
    try:
        node.build()
        engine = node.get_engine(run_config.id)
        bind_risk_engine(engine)
        add_in_order(engine, data)
        engine.run(start=start_ns, end=end_ns, run_config_id=run_config.id)
        result = engine.get_result()
        wall = time.perf_counter() - t0
        for actor in engine.trader.actors():
            if isinstance(actor, EventRecorder):
                actor.write(replay_dir / "stream" / "backtest" / result.instance_id)
        summary = run_folder.write_run_outputs(
            run_dir=replay_dir, run_id=replay_id, engine=engine, result=result, catalog_path=catalog_path,
            instruments=instruments, window=(start_ns, end_ns), wall_seconds=wall)
    finally:
        node.dispose()
    return {**summary, "market_data": counts}
