"""The Nautilus component configs the assemblies (backtest, live, and the replay of a live run)
build the same way: one strategy per instrument, the risk actor, the control actor, and the
simulated venues of a backtest."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nautilus_trader.config import (
    BacktestVenueConfig,
    ImportableActorConfig,
    ImportableFeeModelConfig,
    ImportableFillModelConfig,
    ImportableLatencyModelConfig,
    ImportableStrategyConfig,
)

from hftmm.config.schema import ControlConfig, RiskConfig, StrategySection, VenueConfig, instrument_venue


def backtest_venue_configs(venue: VenueConfig, instruments: list[str], seed: int) -> list[BacktestVenueConfig]:
    """One simulated venue per listing venue (MIC) of ``instruments``: book type, queue position,
    trade execution, explicit latency and per-share fees from the ``venue`` section."""
    return [
        BacktestVenueConfig(
            name=name,
            oms_type=venue.oms_type,
            account_type=venue.account_type,
            starting_balances=[venue.starting_balance],
            base_currency=venue.starting_balance.split()[1],
            book_type=venue.book_type,
            trade_execution=venue.trade_execution,
            queue_position=venue.queue_position,
            liquidity_consumption=venue.liquidity_consumption,
            bar_execution=venue.bar_execution,
            fill_model=ImportableFillModelConfig(
                fill_model_path="nautilus_trader.backtest.models:FillModel",
                config_path="nautilus_trader.backtest.config:FillModelConfig",
                config={"prob_fill_on_limit": venue.prob_fill_on_limit, "prob_slippage": 0.0, "random_seed": seed},
            ),
            latency_model=ImportableLatencyModelConfig(
                latency_model_path="nautilus_trader.backtest.models:LatencyModel",
                config_path="nautilus_trader.backtest.config:LatencyModelConfig",
                config={
                    "base_latency_nanos": venue.latency.base_ns,
                    "insert_latency_nanos": venue.latency.insert_ns,
                    "update_latency_nanos": venue.latency.update_ns,
                    "cancel_latency_nanos": venue.latency.cancel_ns,
                },
            ),
            fee_model=ImportableFeeModelConfig(
                fee_model_path="hftmm.engine.fees:PerShareFeeModel",
                config_path="hftmm.engine.fees:PerShareFeeModelConfig",
                config={"maker_per_share": venue.fees.maker_per_share, "taker_per_share": venue.fees.taker_per_share},
            ),
        )
        for name in sorted({instrument_venue(i) for i in instruments})
    ]


def strategy_configs(
    section: StrategySection, instruments: list[str], start_ns: int | None, end_ns: int | None, close_ns: int | None,
    live: bool = False,
) -> list[ImportableStrategyConfig]:
    """One strategy per instrument, order ids tagged 001, 002, ... in instrument order.

    ``live``: each strategy claims the venue's orders on its instrument that the node's cache does
    not know (placed by a leader that died before its cache write landed), so reconciliation hands
    them to the strategy, which adopts them instead of quoting twice; and keeps its own state
    through the cache every second (to Redis), for the node that restarts or replaces it."""
    return [
        ImportableStrategyConfig(
            strategy_path=section.path,
            config_path=section.config_path,
            config={**section.params, "instrument_id": iid, "order_id_tag": f"{n:03d}",
                    "trading_start_ns": start_ns, "trading_end_ns": end_ns, "session_close_ns": close_ns,
                    **({"external_order_claims": [iid], "state_interval_s": 1.0} if live else {})},
        )
        for n, iid in enumerate(instruments, start=1)
    ]


def risk_actor_config(
    risk: RiskConfig, instruments: list[str], run_dir: Path | None, run_id: str, timer_start_ns: int | None = None,
) -> ImportableActorConfig:
    """The risk chain's actor; its audit trail goes to ``run_dir/audit.jsonl`` when ``risk.audit``."""
    return ImportableActorConfig(
        actor_path="hftmm.risk.actor:RiskActor",
        config_path="hftmm.risk.actor:RiskActorConfig",
        config={
            "instruments": list(instruments), "plugins": list(risk.plugins), "timer_interval_s": risk.timer_interval_s,
            "sigma_refit_s": risk.sigma_refit_s,
            "audit_path": str(run_dir / "audit.jsonl") if run_dir is not None and risk.audit else None,
            "run_id": run_id, "timer_start_ns": timer_start_ns,
        },
    )


def control_actor_config(
    control: ControlConfig, strategy: StrategySection, risk: RiskConfig, instruments: list[str], *,
    run_dir: Path | None, redis_url: str | None, key_prefix: str, poll_interval_s: float,
    schedule: list[dict[str, Any]] | None = None,
) -> ImportableActorConfig:
    """The runtime-parameter control actor, starting from the configured strategy and risk parameters."""
    return ImportableActorConfig(
        actor_path="hftmm.control.actor:ControlActor",
        config_path="hftmm.control.actor:ControlActorConfig",
        config={
            "strategy_path": strategy.path, "strategy_config_path": strategy.config_path,
            "strategy_params": dict(strategy.params), "risk_plugins": list(risk.plugins), "instruments": list(instruments),
            "grace_s": control.grace_s, "max_veto_ratio": control.max_veto_ratio, "min_commands": control.min_commands,
            "schedule": schedule or [],
            "history_path": str(run_dir / "config_history.jsonl") if run_dir is not None else None,
            "run_id": run_dir.name if run_dir is not None else "",
            "redis_url": redis_url, "key_prefix": key_prefix, "poll_interval_s": poll_interval_s,
        },
    )
