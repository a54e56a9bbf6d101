"""Persisted session state: snapshot to bytes, restore, continue with the same results."""

from __future__ import annotations

import msgspec
import pytest

from hftmm.venue.market_replay import LEVEL, TRADE
from hftmm.venue.matching_engine import MatchingEngine
from hftmm.venue.orders import Event, Side, TimeInForce
from tests.venue.helpers import SYM, buy, c, cancel, engine, replace, sell


def day_part_one(e: MatchingEngine) -> None:
    e.on_market_event(SYM, (1, LEVEL, Side.BUY, c(5000), 500))
    e.on_market_event(SYM, (1, LEVEL, Side.SELL, c(5002), 400))
    e.submit(buy("a", "1", 300, 5000, epoch=2))
    e.submit(sell("b", "1", 200, 5002, tif=TimeInForce.GTC))
    e.submit(buy("c", "1", 500, 5002))  # the 400 replayed ahead of b, then 100 of b
    e.on_market_event(SYM, (2, TRADE, Side.SELL, c(5000), 600))  # 500 ahead of a1, then 100 for it


def day_part_two(e: MatchingEngine) -> list[Event]:
    out: list[Event] = []
    out += e.submit(replace("a", "1b", "1", 250, 5000, epoch=2))
    out += e.on_market_event(SYM, (3, TRADE, Side.SELL, c(5000), 50))
    out += e.on_market_event(SYM, (4, LEVEL, Side.SELL, c(5002), 400))  # refresh: consumption ends
    out += e.submit(buy("c", "2", 300, 5002))
    out += e.submit(buy("a", "stale", 100, 4999, epoch=1))
    out += e.submit(cancel("b", "x", "1"))
    return out


def test_restored_engine_continues_exactly_like_the_original() -> None:
    original = engine()
    day_part_one(original)
    blob = original.snapshot()
    restored = MatchingEngine.restore(blob)
    assert restored.snapshot() == blob
    assert restored.next_exec_id == original.next_exec_id
    assert restored.order("a", "1") == original.order("a", "1")
    assert restored.replayed_level(SYM, Side.SELL, c(5002)) == original.replayed_level(SYM, Side.SELL, c(5002)) == (400, 0)
    expected = day_part_two(original)
    assert day_part_two(restored) == expected
    assert restored.snapshot() == original.snapshot()
    assert [r.reason for r in expected if getattr(r, "reason", "") == "stale epoch"] == ["stale epoch"]


def test_restore_refuses_what_is_not_a_snapshot() -> None:
    with pytest.raises(ValueError, match="not a matching engine snapshot"):
        MatchingEngine.restore(b"\x93garbage")
    state = msgspec.msgpack.decode(engine().snapshot())
    state["version"] = 99
    with pytest.raises(ValueError, match="version 99"):
        MatchingEngine.restore(msgspec.msgpack.encode(state))
