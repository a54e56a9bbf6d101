"""Live mode end to end on loopback: hftmm feed and hftmm venue as real processes, a live node in
between; the FIX connection is cut mid-session (losing a fill in flight) and the node must end
with exactly the venue's fills and positions."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from pathlib import Path

import pandas as pd
import pytest

from hftmm.config import parse_live_config
from hftmm.live.demo import run_demo_live
from tests.backtest.synthetic_catalog import build_catalog
from tests.fix.proxy import FixProxy

DATE = dt.date(2024, 3, 11)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("catalog")
    build_catalog(root, n_events=6000, seed=11)
    return root


def test_live_node_against_feed_and_venue_with_a_dropped_connection(catalog: Path, tmp_path: Path) -> None:
    raw = json.loads((Path(__file__).resolve().parents[2] / "configs" / "live.json").read_text())
    raw["live"]["instruments"] = ["ACME.XNYS"]
    raw["live"]["runs_dir"] = str(tmp_path / "runs")
    raw["catalog"]["path"] = str(catalog)
    config = parse_live_config(raw)
    proxies: list[FixProxy] = []
    lost: list[str] = []

    def drop(direction: str, message: object) -> bool:
        # Lose the first fill report in flight from the venue: it must come back by resend.
        if (direction == "in" and message.msg_type == "8" and message.get(150) == "F"  # type: ignore[attr-defined]
                and not lost and proxies and proxies[0].connections == 1):
            lost.append(message.get(17))  # type: ignore[attr-defined]
            return True
        return False

    async def route(venue_port: int) -> int:
        proxy = FixProxy(venue_port, drop=drop)
        await proxy.start()
        proxies.append(proxy)
        return proxy.port

    async def chaos(live: object) -> None:
        for _ in range(300):  # wait for the lost fill, then cut the connection
            if lost:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        proxies[0].sever()
        await asyncio.sleep(3600)

    outcome = asyncio.run(run_demo_live(config, catalog=catalog, date=DATE, duration_s=25, speed=20.0, start="09:30",
                                        work_dir=tmp_path / "runs", fix_route=route, while_running=chaos))
    try:
        rec = outcome.reconciliation
        assert lost, "no fill happened to lose"
        assert proxies[0].connections >= 2, "the client did not reconnect"
        assert rec.venue_fills > 0 and rec.matches, rec
        fills = pd.read_parquet(outcome.run_dir / "fills.parquet")
        assert lost[0] in set(fills["trade_id"]), "the fill lost in flight was not recovered"
        assert fills["trade_id"].is_unique
        orders = pd.read_parquet(outcome.run_dir / "orders.parquet")
        assert len(orders) > 0 and orders["post_only"].all()
        latency = outcome.summary["latency"]["XNYS"]
        assert latency["tick_to_trade_samples"] > 0 and latency["tick_to_trade_us"]["p50"] > 0
        # Every order the node sent is in the venue's record (acknowledged or rejected), none twice.
        from hftmm.venue.record import read_record

        acks = [e.cl_ord_id for e in read_record(outcome.venue_record) if e.exec_type in ("0", "8")]
        assert len(acks) == len(set(acks))
        at_venue = {c.split("#")[0] for c in acks}
        missing = orders[~orders["client_order_id"].isin(at_venue)]
        # Orders the client refused while the session was down never reached the venue: rejected locally.
        assert set(missing["status"]) <= {"REJECTED", "DENIED"}, missing[["client_order_id", "status"]]
        assert (orders["status"] == "FILLED").sum() > 0
    finally:
        outcome.live.dispose()
