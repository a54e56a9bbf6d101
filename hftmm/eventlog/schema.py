"""Records of the event log, as small tagged msgspec Structs (one JSON object per line).

The log complements Nautilus's event stream (order, position and account events, in
``stream/``): it holds what the stream lacks.

- ``run_started``: the run's identity, the resolved config, the seed, versions, and the market
  data it consumed (for a backtest, the catalog files with their SHA-256, so a replay proves it
  reads the same bytes);
- ``quote``: a strategy's quote intent, each time its target quotes change (prices in dollars,
  sizes in shares, best level first);
- ``command``: every order command a strategy wanted to send (submit, modify, cancel) with the risk
  chain's verdict: ``allowed = false`` commands were never sent; ``md_ts_init``/``md_ts_event``
  name the market-data event the strategy had last seen (the one its decision followed), which is
  how a live run's decisions are aligned with a replay's (live times are wall-clock);
- ``param_change``: a runtime parameter version (applied, rejected, rolled back);
- ``run_ended``: counts, so a truncated log is detectable.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

TOPIC_PREFIX = "hftmm.eventlog."
QUOTE_TOPIC = TOPIC_PREFIX + "quote"
COMMAND_TOPIC = TOPIC_PREFIX + "command"


class RunStarted(msgspec.Struct, tag="run_started", kw_only=True):
    """The run's identity and inputs."""

    ts: int
    run_id: str
    mode: Literal["backtest", "live"]
    config: dict[str, Any]
    seed: int
    versions: dict[str, str]
    data: dict[str, Any] = msgspec.field(default_factory=dict)
    inputs: dict[str, str] = msgspec.field(default_factory=dict)


class QuoteIntent(msgspec.Struct, tag="quote", kw_only=True, array_like=False):
    """What ``get_quotes`` asked for, when it changed: ``[price, size]`` per level, best first."""

    ts: int
    strategy: str
    instrument: str
    bids: list[tuple[float, int]]
    asks: list[tuple[float, int]]


class Command(msgspec.Struct, tag="command", kw_only=True):
    """An order command and its risk verdict (``allowed = false``: vetoed, never sent)."""

    ts: int
    strategy: str
    instrument: str
    kind: Literal["submit", "modify", "cancel"]
    order: str
    side: int
    quantity: float
    price: float | None
    order_type: str = "LIMIT"
    post_only: bool = False
    reduce_only: bool = False
    allowed: bool = True
    plugin: str = ""
    reason: str = ""
    md_ts_init: int = 0
    md_ts_event: int = 0


class ParamChange(msgspec.Struct, tag="param_change", kw_only=True):
    """A runtime parameter version: applied, rejected (with why), or rolled back (with why)."""

    ts: int
    version: int
    by: str
    changes: dict[str, Any]
    status: str
    reason: str = ""


class RunEnded(msgspec.Struct, tag="run_ended", kw_only=True):
    """The run finished; ``records`` counts every record before this one."""

    ts: int
    records: int
    counts: dict[str, int]


Record = RunStarted | QuoteIntent | Command | ParamChange | RunEnded
