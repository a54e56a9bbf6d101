"""Participant-only matching: every order type, cancel, replace priority, mass cancel, STP, validation."""

from __future__ import annotations

import msgspec

from hftmm.venue.orders import (
    CancelRejectResponseTo,
    ExecType,
    Liquidity,
    MassCancel,
    MassCancelReport,
    Side,
    TimeInForce,
)
from tests.venue.helpers import SYM, buy, c, cancel, engine, fills, filled_qty, kinds, replace, reports, sell

NEW, PART, FILL, CXL, REJ = ExecType.NEW, ExecType.PARTIAL_FILL, ExecType.FILL, ExecType.CANCELED, ExecType.REJECTED


def test_limit_rests_then_a_crossing_limit_fills_at_the_resting_price() -> None:
    e = engine()
    assert kinds(e.submit(sell("a", "s1", 100, 5001))) == [("a", "s1", NEW)]
    assert e.best_price(SYM, Side.SELL) == c(5001)
    out = e.submit(buy("b", "b1", 300, 5003))
    assert kinds(out) == [("b", "b1", NEW), ("b", "b1", PART), ("a", "s1", FILL)]
    taker, maker = fills(out)
    assert taker.last_px == maker.last_px == c(5001)  # the resting order's price, not the taker's limit
    assert (taker.liquidity, maker.liquidity) == (Liquidity.TAKER, Liquidity.MAKER)
    assert taker.match_id == maker.match_id and taker.counterparty == "a" and maker.counterparty == "b"
    assert (taker.cum_qty, taker.leaves_qty) == (100, 200)
    # The rest of the buy rests at its limit.
    [rest] = e.resting_orders(SYM, Side.BUY)
    assert (rest.price, rest.leaves_qty, rest.cum_qty) == (c(5003), 200, 100)
    assert e.best_price(SYM, Side.SELL) is None


def test_price_then_time_priority() -> None:
    e = engine()
    e.submit(sell("a", "first", 100, 5002))
    e.submit(sell("b", "second", 100, 5002))
    e.submit(sell("c", "better", 100, 5001))
    out = e.submit(buy("d", "x", 250, 5002))
    makers = [(f.client_order_id, f.last_qty, f.last_px) for f in fills(out) if f.liquidity == Liquidity.MAKER]
    assert makers == [("better", 100, c(5001)), ("first", 100, c(5002)), ("second", 50, c(5002))]
    taker = fills(out, "d")[-1]
    assert taker.avg_px == (100 * c(5001) + 150 * c(5002) + 125) // 250


def test_market_order_sweeps_and_cancels_what_it_cannot_fill() -> None:
    e = engine()
    e.submit(sell("a", "s1", 100, 5001))
    e.submit(sell("a", "s2", 100, 5005))
    out = e.submit(buy("b", "m", 500))
    assert filled_qty(out, "b") == 200
    last = reports(out)[-1]
    assert (last.exec_type, last.leaves_qty, last.cum_qty) == (CXL, 0, 200)
    assert e.resting_orders(SYM, Side.BUY) == []
    nothing = e.submit(sell("b", "m2", 100))
    assert kinds(nothing) == [("b", "m2", NEW), ("b", "m2", CXL)]


def test_ioc_fills_what_it_can_and_never_rests() -> None:
    e = engine()
    e.submit(sell("a", "s1", 100, 5001))
    out = e.submit(buy("b", "i", 300, 5001, tif=TimeInForce.IOC))
    assert kinds(out) == [("b", "i", NEW), ("b", "i", PART), ("a", "s1", FILL), ("b", "i", CXL)]
    assert e.resting_orders(SYM, Side.BUY) == []
    miss = e.submit(buy("b", "i2", 100, 5000, tif=TimeInForce.IOC))
    assert kinds(miss) == [("b", "i2", NEW), ("b", "i2", CXL)]


def test_fok_is_all_or_nothing() -> None:
    e = engine()
    e.submit(sell("a", "s1", 100, 5001))
    e.submit(sell("a", "s2", 100, 5002))
    short = e.submit(buy("b", "f1", 201, 5002, tif=TimeInForce.FOK))
    assert kinds(short) == [("b", "f1", NEW), ("b", "f1", CXL)]
    assert len(e.resting_orders(SYM, Side.SELL)) == 2  # untouched
    beyond_limit = e.submit(buy("b", "f2", 200, 5001, tif=TimeInForce.FOK))
    assert fills(beyond_limit) == []
    whole = e.submit(buy("b", "f3", 200, 5002, tif=TimeInForce.FOK))
    assert filled_qty(whole, "b") == 200 and reports(whole)[-1].exec_type == FILL


def test_fok_does_not_count_own_orders() -> None:
    e = engine()
    e.submit(sell("a", "mine", 100, 5001))
    e.submit(sell("z", "other", 100, 5001))
    out = e.submit(buy("a", "f", 200, 5001, tif=TimeInForce.FOK))
    assert fills(out) == [] and len(e.resting_orders(SYM, Side.SELL)) == 2


def test_post_only_is_rejected_when_it_would_take_and_rests_otherwise() -> None:
    e = engine()
    e.submit(sell("a", "s1", 100, 5001))
    out = e.submit(buy("b", "p1", 100, 5001, post_only=True))
    assert kinds(out) == [("b", "p1", REJ)] and "would take" in reports(out)[0].reason
    assert reports(out)[0].order_id == 0
    ok = e.submit(buy("b", "p2", 100, 5000, post_only=True))
    assert kinds(ok) == [("b", "p2", NEW)]
    bad = e.submit(buy("b", "p3", 100, 4999, post_only=True, tif=TimeInForce.IOC))
    assert kinds(bad) == [("b", "p3", REJ)]


def test_cancel_and_cancel_reject() -> None:
    e = engine()
    e.submit(buy("a", "b1", 100, 5000))
    out = e.submit(cancel("a", "c1", "b1"))
    [r] = reports(out)
    assert (r.exec_type, r.client_order_id, r.orig_client_order_id, r.leaves_qty) == (CXL, "c1", "b1", 0)
    assert e.resting_orders(SYM, Side.BUY) == []
    again = reports(e.submit(cancel("a", "c2", "b1")))[0]
    assert again.exec_type == ExecType.CANCEL_REJECTED and again.response_to == CancelRejectResponseTo.CANCEL
    assert "unknown order" in again.reason
    e.submit(buy("a", "b2", 100, 5000))
    other = reports(e.submit(cancel("z", "c3", "b2")))[0]  # another participant cannot cancel it
    assert other.exec_type == ExecType.CANCEL_REJECTED
    wrong_symbol = reports(e.submit(cancel("a", "c4", "b2", symbol="OTHER")))[0]
    assert wrong_symbol.exec_type == ExecType.CANCEL_REJECTED and len(e.resting_orders(SYM, Side.BUY)) == 1


def test_replace_size_down_keeps_priority() -> None:
    e = engine()
    e.submit(sell("a", "first", 300, 5001))
    e.submit(sell("b", "second", 100, 5001))
    [r] = reports(e.submit(replace("a", "first2", "first", 200, 5001)))
    assert (r.exec_type, r.order_qty, r.leaves_qty, r.orig_client_order_id) == (ExecType.REPLACED, 200, 200, "first")
    out = e.submit(buy("c", "x", 100, 5001))
    assert [f.client_order_id for f in fills(out) if f.liquidity == Liquidity.MAKER] == ["first2"]
    assert e.order("a", "first") is None and e.order("a", "first2") is not None


def test_replace_size_up_or_price_change_loses_priority() -> None:
    e = engine()
    e.submit(sell("a", "a1", 100, 5001))
    e.submit(sell("b", "b1", 100, 5001))
    e.submit(replace("a", "a2", "a1", 150, 5001))  # size up: behind b1
    out = e.submit(buy("c", "x", 100, 5001))
    assert [f.client_order_id for f in fills(out, "a") + fills(out, "b")] == ["b1"]
    e.submit(sell("d", "d1", 100, 5001))
    e.submit(replace("a", "a3", "a2", 150, 5002))
    e.submit(replace("a", "a4", "a3", 150, 5001))  # price away and back: behind d1
    out = e.submit(buy("c", "y", 100, 5001))
    assert [f.participant for f in fills(out) if f.liquidity == Liquidity.MAKER] == ["d"]


def test_replace_size_down_after_a_partial_fill() -> None:
    e = engine()
    e.submit(sell("a", "a1", 300, 5001))
    e.submit(buy("b", "x", 100, 5001))
    [r] = reports(e.submit(replace("a", "a2", "a1", 200, 5001)))
    assert (r.order_qty, r.cum_qty, r.leaves_qty) == (200, 100, 100)
    rej = reports(e.submit(replace("a", "a3", "a2", 100, 5001)))[0]
    assert rej.exec_type == ExecType.CANCEL_REJECTED and rej.response_to == CancelRejectResponseTo.REPLACE
    assert "exceed the filled quantity" in rej.reason
    assert e.order("a", "a2").leaves_qty == 100  # type: ignore[union-attr]


def test_replace_to_a_crossing_price_takes() -> None:
    e = engine()
    e.submit(sell("a", "s1", 100, 5002))
    e.submit(buy("b", "b1", 300, 5000))
    out = e.submit(replace("b", "b2", "b1", 300, 5002))
    assert kinds(out)[0] == ("b", "b2", ExecType.REPLACED)
    assert filled_qty(out, "b") == 100
    [rest] = e.resting_orders(SYM, Side.BUY)
    assert (rest.price, rest.leaves_qty, rest.client_order_id) == (c(5002), 200, "b2")


def test_post_only_replace_that_would_take_is_refused() -> None:
    e = engine()
    e.submit(sell("a", "s1", 100, 5002))
    e.submit(buy("b", "b1", 100, 5000, post_only=True))
    rej = reports(e.submit(replace("b", "b2", "b1", 100, 5002)))[0]
    assert rej.exec_type == ExecType.CANCEL_REJECTED and "would take" in rej.reason
    assert e.order("b", "b1").price == c(5000)  # type: ignore[union-attr]


def test_mass_cancel_by_participant_symbol_and_side() -> None:
    e = engine("ACME", "BOLT")
    e.submit(buy("a", "1", 100, 5000))
    e.submit(sell("a", "2", 100, 5005))
    e.submit(buy("a", "3", 100, 5000, symbol="BOLT"))
    e.submit(buy("z", "4", 100, 4999))
    assert [o.client_order_id for o in e.open_orders("a")] == ["1", "2", "3"]
    assert [o.client_order_id for o in e.open_orders(symbol="BOLT")] == ["3"]
    assert len(e.open_orders()) == 4
    out = e.submit(MassCancel(participant="a", request_id="m1", symbol="ACME", side=Side.BUY))
    assert kinds(out) == [("a", "1", CXL)] and isinstance(out[-1], MassCancelReport) and out[-1].canceled == 1
    out = e.submit(MassCancel(participant="a", request_id="m2"))
    assert sorted(k[1] for k in kinds(out)) == ["2", "3"] and out[-1].canceled == 2  # type: ignore[union-attr]
    assert [o.participant for o in e.resting_orders(SYM, Side.BUY)] == ["z"]


def test_self_trade_prevention_cancels_the_resting_order() -> None:
    e = engine()
    e.submit(sell("a", "mine", 100, 5001))
    e.submit(sell("z", "other", 100, 5001))
    out = e.submit(buy("a", "take", 150, 5001))
    assert kinds(out) == [
        ("a", "take", NEW), ("a", "mine", CXL), ("a", "take", PART), ("z", "other", FILL),
    ]
    assert reports(out)[1].reason == "self-trade prevention"
    assert e.counters.self_trade_cancels == 1
    [rest] = e.resting_orders(SYM, Side.BUY)
    assert (rest.client_order_id, rest.leaves_qty) == ("take", 50)


def test_invalid_orders_are_rejected_with_a_reason() -> None:
    e = engine()
    e.submit(buy("a", "dup", 100, 5000))
    cases = {
        "unknown symbol": buy("a", "1", 100, 5000, symbol="NOPE"),
        "quantity must be positive": buy("a", "2", 0, 5000),
        "not a multiple of the tick": buy("a", "3", 100, 5000).__class__(
            participant="a", client_order_id="3", symbol=SYM, side=Side.BUY, qty=100, price=c(5000) + 1,
        ),
        "duplicate client order id": buy("a", "dup", 100, 4990),
        "client order id is empty": buy("a", "", 100, 4990),
        "is not BUY or SELL": msgspec.structs.replace(buy("a", "4", 100, 5000), side=3),
        "time in force 2 is not supported": msgspec.structs.replace(buy("a", "5", 100, 5000), tif=2),
        "must be integers": msgspec.structs.replace(buy("a", "6", 100, 5000), qty=100.0),
        "epoch 'x' is not an integer": msgspec.structs.replace(buy("a", "7", 100, 5000), epoch="x"),
    }
    for reason, req in cases.items():
        [r] = reports(e.submit(req))
        assert r.exec_type == REJ and reason in r.reason, (reason, r.reason)
    assert e.counters.rejected == len(cases)
    assert len(e.resting_orders(SYM, Side.BUY)) == 1


def test_day_orders_expire_and_gtc_orders_stay() -> None:
    e = engine()
    e.submit(buy("a", "day", 100, 5000))
    e.submit(buy("a", "gtc", 100, 4999, tif=TimeInForce.GTC))
    out = e.expire_day_orders(ts_ns=99)
    assert kinds(out) == [("a", "day", ExecType.EXPIRED)] and reports(out)[0].ts_ns == 99
    assert [o.client_order_id for o in e.resting_orders(SYM, Side.BUY)] == ["gtc"]


def test_exec_ids_increase_by_one_per_report() -> None:
    e = engine()
    seen: list[int] = []
    for req in (
        sell("a", "1", 100, 5001), sell("b", "2", 100, 5001), buy("c", "3", 150, 5001), cancel("a", "x", "nope"),
        buy("c", "4", 0, 5000), replace("b", "2b", "2", 50, 5001), cancel("b", "y", "2b"),
    ):
        seen += [r.exec_id for r in reports(e.submit(req))]
    assert seen == list(range(1, len(seen) + 1))
    assert e.next_exec_id == len(seen) + 1
