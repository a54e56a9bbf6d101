"""Typed configuration of an hftmm run, decoded from JSON/TOML/YAML into msgspec Structs.

Every section rejects unknown keys, so a typo fails loudly instead of silently using a default.
Range constraints live in the types (``msgspec.Meta``) so that one decoder enforces them all.
The strategy section is open: its keys beyond ``path``/``config_path``/``instruments`` are the
strategy's own parameters, validated against the strategy's config class (see ``loader.py``).
"""

from __future__ import annotations

import datetime as dt

from typing import Annotated, Any, Literal

import msgspec

PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]
NonNegativeFloat = Annotated[float, msgspec.Meta(ge=0)]
NonNegativeInt = Annotated[int, msgspec.Meta(ge=0)]
PositiveInt = Annotated[int, msgspec.Meta(gt=0)]
Probability = Annotated[float, msgspec.Meta(ge=0, le=1)]
# "HH:MM" or "HH:MM:SS", US/Eastern wall clock (the exchange's clock).
EtTime = Annotated[str, msgspec.Meta(pattern=r"^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d)?$")]
InstrumentIdStr = Annotated[str, msgspec.Meta(pattern=r"^[A-Z0-9][A-Z0-9.\-/]*\.[A-Z0-9]+$")]
MoneyStr = Annotated[str, msgspec.Meta(pattern=r"^[0-9][0-9_]*(\.[0-9]+)? [A-Z]{3}$")]
ImportPath = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")]


class _Section(msgspec.Struct, forbid_unknown_fields=True, frozen=True, kw_only=True):
    """Base for config sections: unknown keys are errors, values are immutable once loaded."""


class CatalogConfig(_Section):
    """Where market data lives.

    Parameters
    ----------
    path : str
        Root of the Nautilus ParquetDataCatalog (relative paths are resolved against the config
        file's directory's parent when the config lives in ``configs/``, else the working directory).
    """

    path: str = "catalog"


class LatencyConfig(_Section):
    """One-way latencies of order commands to the simulated venue, in nanoseconds.

    Nautilus's own default base latency is 1 s, far from an equity market maker's reality, so
    every run states its latencies explicitly.
    """

    base_ns: NonNegativeInt = 100_000
    insert_ns: NonNegativeInt = 20_000
    update_ns: NonNegativeInt = 20_000
    cancel_ns: NonNegativeInt = 20_000


class FeesConfig(_Section):
    """US equity access fees and rebates, per share (a negative fee is a rebate)."""

    maker_per_share: float = -0.0020
    taker_per_share: float = 0.0030


class VenueConfig(_Section):
    """The simulated venue of a backtest."""

    book_type: Literal["L1_MBP", "L2_MBP", "L3_MBO"] = "L2_MBP"
    oms_type: Literal["NETTING", "HEDGING"] = "NETTING"
    # A market maker that goes short needs MARGIN.
    account_type: Literal["MARGIN", "CASH"] = "MARGIN"
    starting_balance: MoneyStr = "1000000 USD"
    trade_execution: bool = True
    queue_position: bool = True
    liquidity_consumption: bool = True
    bar_execution: bool = False
    prob_fill_on_limit: Probability = 1.0
    latency: LatencyConfig = msgspec.field(default_factory=LatencyConfig)
    fees: FeesConfig = msgspec.field(default_factory=FeesConfig)


class BacktestConfig(_Section):
    """What to replay and where to write the run folder."""

    date: dt.date
    instruments: Annotated[list[InstrumentIdStr], msgspec.Meta(min_length=1)]
    # Data is replayed from the first event of the day (so the book's opening snapshot is seen);
    # trading is confined to [trading_start, trading_end] ET.
    trading_start: EtTime = "09:30"
    trading_end: EtTime = "16:00"
    session_close: EtTime = "16:00"
    data: list[Literal["order_book_deltas", "quote_ticks", "trade_ticks"]] = msgspec.field(
        default_factory=lambda: ["order_book_deltas", "quote_ticks", "trade_ticks"],
    )
    runs_dir: str = "runs"
    seed: NonNegativeInt = 42
    chunk_size: PositiveInt | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "ERROR"
    # How the run's order/position/account events are recorded for replay, in Nautilus's stream
    # layout: "bulk" buffers them and writes once at the end; "nautilus" uses Nautilus's own
    # StreamingConfig writer (per event, about 3x slower on a market maker); "off" records nothing.
    event_stream: Literal["bulk", "nautilus", "off"] = "bulk"
    # hftmm's event log (eventlog.jsonl: run metadata and data fingerprints, quote intents, order
    # commands with their risk verdicts), what `hftmm replay` checks against.
    event_log: bool = True


class RiskConfig(_Section):
    """hftmm's risk chain (``plugins``, see docs/risk.md) and the limits of Nautilus's RiskEngine.

    ``plugins`` entries are ``{"path": "module:Class" or a built-in name, ...parameters}``, checked
    in order on every order, amendment and cancel; with no plugins the chain still runs (the
    trading-mode gate, positions, the audit trail). ``enabled = false`` removes the chain.
    """

    max_order_submit_rate: Annotated[str, msgspec.Meta(pattern=r"^\d+/\d\d:\d\d:\d\d$")] = "100/00:00:01"
    max_order_modify_rate: Annotated[str, msgspec.Meta(pattern=r"^\d+/\d\d:\d\d:\d\d$")] = "100/00:00:01"
    max_notional_per_order: dict[InstrumentIdStr, PositiveFloat] = msgspec.field(default_factory=dict)
    enabled: bool = True
    plugins: list[dict[str, Any]] = msgspec.field(default_factory=list)
    timer_interval_s: PositiveFloat = 1.0
    sigma_refit_s: PositiveFloat = 900.0
    # Write the hash-chained audit trail (audit.jsonl in the run folder).
    audit: bool = True


class ScheduledUpdate(_Section):
    """A parameter update at an ET time of a backtest day: ``set`` paths to values, or a rollback."""

    at: EtTime
    set: dict[str, Any] = msgspec.field(default_factory=dict)
    rollback: bool = False


class ControlConfig(_Section):
    """Runtime parameter updates (``hftmm set``; a schedule in backtests) and their rollback rule.

    Within ``grace_s`` of a change, an exception in a strategy's quotes or risk vetoes on at least
    ``max_veto_ratio`` of at least ``min_commands`` order commands roll it back automatically.
    """

    grace_s: PositiveFloat = 30.0
    max_veto_ratio: Probability = 0.5
    min_commands: PositiveInt = 4
    schedule: list[ScheduledUpdate] = msgspec.field(default_factory=list)
    # Backtests: also take requests from this Redis (live nodes use live.redis_url).
    redis_url: str | None = None


class StrategySection(_Section):
    """Which strategy to run: its class and config class by import path, plus its parameters.

    ``params`` holds every other key of the JSON ``strategy`` object (see ``loader.py``); they are
    validated against the class at ``config_path``.
    """

    path: ImportPath
    config_path: ImportPath
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class HftmmConfig(_Section):
    """A whole run configuration."""

    backtest: BacktestConfig
    strategy: StrategySection
    catalog: CatalogConfig = msgspec.field(default_factory=CatalogConfig)
    venue: VenueConfig = msgspec.field(default_factory=VenueConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    control: ControlConfig = msgspec.field(default_factory=ControlConfig)





class FeedSection(_Section):
    """Live market data: Polygon's stocks WebSocket, or ``hftmm feed`` locally.

    The API key is never here: it comes from ``MASSIVE_API_KEY``/``POLYGON_API_KEY`` (or ``*_FILE``).
    """

    ws_url: str = "ws://127.0.0.1:8765"
    quote_size_unit: PositiveInt = 100
    reconnect_initial_delay_s: PositiveFloat = 0.5
    reconnect_max_delay_s: PositiveFloat = 30.0


class FixSection(_Section):
    """The FIX session to the venue (``hftmm venue`` locally)."""

    host: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 9878
    sender_comp_id: str = "HFTMM"
    target_comp_id: str = "HFTMMVENUE"
    heartbeat_s: PositiveInt = 5
    reset_on_logon: bool = False
    # Sequence numbers and sent messages: "file" under state_dir, or "redis" (for failover).
    store: Literal["file", "redis"] = "file"
    # fsync every sent message before it goes out (file store): durable across a crash of the
    # machine, at about 0.2-4 ms per message on this disk; off leaves it to the OS page cache.
    fsync: bool = True
    tls_ca_file: str | None = None


class FailoverSection(_Section):
    """Active-passive failover between nodes of the same trader id.

    The leader holds a lease in Redis for ``lease_ttl_ms`` and renews it every third of that; a
    standby polls every ``poll_ms`` and promotes itself once the lease is free. A leader that has
    not renewed for ``lease_ttl_ms - safety_ms`` halts and cancels, before a standby can lead.
    """

    enabled: bool = False
    lease_ttl_ms: Annotated[int, msgspec.Meta(ge=300, le=60_000)] = 1500
    poll_ms: Annotated[int, msgspec.Meta(ge=10, le=10_000)] = 100
    safety_ms: Annotated[int, msgspec.Meta(ge=50, le=30_000)] = 300

    def __post_init__(self) -> None:
        if self.safety_ms * 2 >= self.lease_ttl_ms:
            raise ValueError(f"safety_ms ({self.safety_ms}) must be under half of lease_ttl_ms ({self.lease_ttl_ms})")


class LiveSection(_Section):
    """A live trading node.

    ``trading_start``/``trading_end`` are ET wall-clock times of the node's own clock (None:
    quote whenever market data arrives); ``duration_s`` stops the node after that long (None: run
    until interrupted).
    """

    instruments: Annotated[list[InstrumentIdStr], msgspec.Meta(min_length=1)]
    trader_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9]+-[0-9]{3}$")] = "HFTMM-001"
    feed: FeedSection = msgspec.field(default_factory=FeedSection)
    fix: FixSection = msgspec.field(default_factory=FixSection)
    runs_dir: str = "runs"
    state_dir: str = "runs/live-state"
    redis_url: str | None = None
    metrics_port: Annotated[int, msgspec.Meta(ge=0, le=65535)] | None = 9464
    trading_start: EtTime | None = None
    trading_end: EtTime | None = None
    duration_s: PositiveFloat | None = None
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "WARNING"
    failover: FailoverSection = msgspec.field(default_factory=FailoverSection)

    def __post_init__(self) -> None:
        # A standby can only take over what it can read: the cache and the FIX session in Redis.
        if self.failover.enabled:
            if self.redis_url is None:
                raise ValueError("failover.enabled needs live.redis_url (the lease, the cache and the FIX store live there)")
            if self.fix.store != "redis":
                raise ValueError('failover.enabled needs live.fix.store = "redis" (a standby must continue the FIX session)')
            if self.fix.reset_on_logon:
                raise ValueError("failover.enabled needs live.fix.reset_on_logon = false (a reset would drop reports in flight)")


class LiveConfig(_Section):
    """A whole live configuration (``hftmm live --config``)."""

    live: LiveSection
    strategy: StrategySection
    catalog: CatalogConfig = msgspec.field(default_factory=CatalogConfig)
    venue: VenueConfig = msgspec.field(default_factory=VenueConfig)
    risk: RiskConfig = msgspec.field(default_factory=RiskConfig)
    control: ControlConfig = msgspec.field(default_factory=ControlConfig)


def instrument_venue(instrument_id: str) -> str:
    """The venue part of an instrument id string (``"ACME.XNYS"`` -> ``"XNYS"``)."""
    return instrument_id.rsplit(".", 1)[1]
