"""A live node on loopback against real ``hftmm feed`` and ``hftmm venue`` processes, for the tests
that must show something on a live node (not a backtest): the shipped ``configs/live.json`` with
one instrument, a synthetic day, and the node wired the way ``hftmm demo-live`` wires it, except
that the caller chooses the metrics port and Redis."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from hftmm.config import LiveConfig, parse_live_config
from hftmm.live.demo import LocalMarket, Reconciliation, local_market, reconcile
from hftmm.live.node import LiveNode, new_live_run_id
from hftmm.live.runner import LiveOutcome, run_live

REPO = Path(__file__).resolve().parents[2]
DATE = dt.date(2024, 3, 11)
INSTRUMENT = "ACME.XNYS"


def live_config(catalog: Path, runs: Path, edit: Callable[[dict[str, Any]], None] | None = None) -> LiveConfig:
    """``configs/live.json`` trading ``INSTRUMENT`` from ``catalog``, runs under ``runs``;
    ``edit`` changes the raw dict before validation."""
    raw = json.loads((REPO / "configs" / "live.json").read_text())
    raw["live"]["instruments"] = [INSTRUMENT]
    raw["live"]["runs_dir"] = str(runs)
    raw["catalog"]["path"] = str(catalog)
    if edit is not None:
        edit(raw)
    return parse_live_config(raw)


@dataclass
class LiveRun:
    """A finished live run and the market it traded on."""

    outcome: LiveOutcome
    market: LocalMarket
    reconciliation: Reconciliation

    @property
    def run_dir(self) -> Path:
        """The node's run folder."""
        assert self.outcome.run_dir is not None
        return self.outcome.run_dir


async def run_on_local_market(
    config: LiveConfig, *, catalog: Path, work_dir: Path, duration_s: float,
    while_running: Callable[[LiveNode], Awaitable[None]], speed: float = 20.0,
) -> LiveRun:
    """Start feed and venue, run the node until ``while_running`` returns (or ``duration_s``),
    stop everything and reconcile the node with the venue's record.

    Unlike ``run_demo_live`` the node keeps ``config.live.metrics_port`` (the test picks a free
    port and scrapes it) and ``config.live.redis_url``."""
    run_id = new_live_run_id()
    state = work_dir / run_id
    async with local_market(config, catalog=catalog, date=DATE, speed=speed, start="09:30", state=state) as market:
        live = msgspec.structs.replace(
            config.live, feed=msgspec.structs.replace(config.live.feed, ws_url=f"ws://127.0.0.1:{market.feed_port}"),
            fix=msgspec.structs.replace(config.live.fix, port=market.fix_port, reset_on_logon=True),
            state_dir=str(state / "node"))
        outcome = await run_live(msgspec.structs.replace(config, live=live), duration_s=duration_s, run_id=run_id,
                                 while_running=while_running)
    assert outcome.run_dir is not None
    return LiveRun(outcome, market, reconcile(outcome.run_dir, market.record, market.participants))
