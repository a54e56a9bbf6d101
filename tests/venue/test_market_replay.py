"""Participant orders among replayed market liquidity: consumption, queue position, trade-through, crossing."""

from __future__ import annotations

from hftmm.venue.market_replay import CLEAR, LEVEL, NO_AGGRESSOR, QUOTE, TRADE, UNKNOWN_AHEAD
from hftmm.venue.orders import MARKET_COUNTERPARTY, ExecType, Liquidity, Side
from tests.venue.helpers import SYM, buy, c, engine, fills, filled_qty, kinds, sell

BUY, SELL = Side.BUY, Side.SELL


def level(e, side: Side, cents: int, size: int, ts: int = 1):  # type: ignore[no-untyped-def]
    return e.on_market_event(SYM, (ts, LEVEL, side, c(cents), size))


def trade(e, aggressor: int, cents: int, size: int, ts: int = 2):  # type: ignore[no-untyped-def]
    return e.on_market_event(SYM, (ts, TRADE, aggressor, c(cents), size))


def quote(e, side: Side, cents: int, size: int, ts: int = 1):  # type: ignore[no-untyped-def]
    return e.on_market_event(SYM, (ts, QUOTE, side, c(cents), size))


def ahead(e, who: str, cid: str) -> int:  # type: ignore[no-untyped-def]
    order = e.order(who, cid)
    assert order is not None
    return order.ahead


def test_taking_replayed_liquidity_consumes_it_until_the_level_refreshes() -> None:
    e = engine()
    level(e, SELL, 5001, 300)
    level(e, SELL, 5002, 200)
    out = e.submit(buy("a", "1", 400, 5002))
    assert [(f.last_px, f.last_qty, f.liquidity, f.counterparty) for f in fills(out)] == [
        (c(5001), 300, Liquidity.TAKER, MARKET_COUNTERPARTY), (c(5002), 100, Liquidity.TAKER, MARKET_COUNTERPARTY),
    ]
    assert e.replayed_level(SYM, SELL, c(5001)) == (300, 0)
    assert e.replayed_level(SYM, SELL, c(5002)) == (200, 100)
    # The same displayed liquidity is not taken twice.
    out = e.submit(buy("b", "1", 300, 5002))
    assert filled_qty(out, "b") == 100
    assert e.order("b", "1").leaves_qty == 200  # type: ignore[union-attr]
    # A refresh of the 50.01 offer brings it back: it now crosses the resting 50.02 bid (maker, our price).
    out = level(e, SELL, 5001, 300)
    [f] = fills(out)
    assert (f.participant, f.last_px, f.last_qty, f.liquidity, f.exec_type) == ("b", c(5002), 200, Liquidity.MAKER, ExecType.FILL)
    assert e.replayed_level(SYM, SELL, c(5001)) == (300, 100)


def test_queue_position_is_the_displayed_size_at_join_and_trades_work_through_it() -> None:
    e = engine()
    level(e, BUY, 5000, 500)
    e.submit(buy("a", "1", 100, 5000))
    assert ahead(e, "a", "1") == 500
    assert trade(e, SELL, 5000, 300) == []
    assert ahead(e, "a", "1") == 200
    assert trade(e, BUY, 5000, 1000) == []  # a buyer lifting an offer at our bid price does not reach us
    out = trade(e, SELL, 5000, 250)
    assert [(f.last_qty, f.last_px, f.liquidity) for f in fills(out)] == [(50, c(5000), Liquidity.MAKER)]
    assert ahead(e, "a", "1") == 0
    out = trade(e, NO_AGGRESSOR, 5000, 80)  # unknown aggressor: reaches both sides
    assert kinds(out) == [("a", "1", ExecType.FILL)] and fills(out)[0].last_qty == 50


def test_our_earlier_order_absorbs_its_share_of_a_trade() -> None:
    e = engine()
    level(e, BUY, 5000, 200)
    e.submit(buy("a", "A", 100, 5000))  # 200 ahead
    level(e, BUY, 5000, 500)  # 300 more join behind A
    e.submit(buy("b", "B", 100, 5000))  # 500 ahead
    out = trade(e, SELL, 5000, 450)
    assert [(f.participant, f.last_qty) for f in fills(out)] == [("a", 100)]
    # 200 replayed traded ahead of A, A took 100, 150 of the 300 between A and B traded.
    assert ahead(e, "b", "B") == 150


def test_a_shrinking_level_clamps_the_queue_and_a_delete_puts_us_first() -> None:
    e = engine()
    level(e, SELL, 5005, 700)
    e.submit(sell("a", "1", 100, 5005))
    assert ahead(e, "a", "1") == 700
    level(e, SELL, 5005, 900)  # growth is behind us
    assert ahead(e, "a", "1") == 700
    level(e, SELL, 5005, 120)
    assert ahead(e, "a", "1") == 120
    level(e, SELL, 5005, 0)
    assert ahead(e, "a", "1") == 0
    assert filled_qty(trade(e, BUY, 5005, 30)) == 30


def test_trade_through_fills_regardless_of_queue_up_to_the_trade_size() -> None:
    e = engine()
    level(e, BUY, 5000, 500)
    e.submit(buy("a", "1", 300, 5000))
    out = trade(e, SELL, 4999, 200)  # the market sold below our bid
    assert [(f.last_px, f.last_qty, f.liquidity) for f in fills(out)] == [(c(5000), 200, Liquidity.MAKER)]
    assert ahead(e, "a", "1") == 0


def test_through_levels_take_the_trade_before_the_trade_price() -> None:
    e = engine()
    e.submit(sell("a", "hi", 100, 5002))
    e.submit(sell("a", "lo", 100, 5001))
    out = trade(e, BUY, 5002, 150)  # buyer paid 50.02: our 50.01 offer was traded through
    assert [(f.client_order_id, f.last_px, f.last_qty) for f in fills(out)] == [("lo", c(5001), 100), ("hi", c(5002), 50)]


def test_a_replayed_offer_at_or_through_our_bid_fills_it_and_is_consumed() -> None:
    e = engine()
    e.submit(buy("a", "1", 300, 5000))
    out = level(e, SELL, 4999, 200)
    assert [(f.last_px, f.last_qty, f.liquidity) for f in fills(out)] == [(c(5000), 200, Liquidity.MAKER)]
    assert e.replayed_level(SYM, SELL, c(4999)) == (200, 0)
    assert fills(e.submit(buy("b", "1", 100, 4999, tif=3))) == []  # type: ignore[arg-type]
    out = level(e, SELL, 5000, 500)
    assert [(f.last_qty, f.exec_type) for f in fills(out)] == [(100, ExecType.FILL)]
    assert e.replayed_level(SYM, SELL, c(5000)) == (500, 400)


def test_an_incoming_order_takes_replayed_size_ahead_of_a_participant_first() -> None:
    e = engine()
    level(e, SELL, 5001, 300)
    e.submit(sell("a", "maker", 100, 5001))
    assert ahead(e, "a", "maker") == 300
    out = e.submit(buy("b", "taker", 350, 5001))
    assert [(f.participant, f.counterparty, f.last_qty) for f in fills(out)] == [
        ("b", MARKET_COUNTERPARTY, 300), ("b", "a", 50), ("a", "b", 50),
    ]
    assert ahead(e, "a", "maker") == 0
    assert e.replayed_level(SYM, SELL, c(5001)) == (300, 0)


def test_a_replayed_trade_consumes_the_levels_it_swept() -> None:
    e = engine()
    level(e, SELL, 5001, 300)
    trade(e, BUY, 5001, 200)
    assert e.replayed_level(SYM, SELL, c(5001)) == (300, 100)
    out = e.submit(buy("a", "1", 300, 5001))
    assert filled_qty(out, "a") == 100


def test_top_of_book_quotes_learn_the_queue_when_the_quote_reaches_the_order() -> None:
    e = engine()
    quote(e, BUY, 5000, 400)
    quote(e, SELL, 5002, 300)
    e.submit(buy("a", "behind", 100, 4999))
    e.submit(buy("a", "touch", 100, 5000))
    assert ahead(e, "a", "behind") == UNKNOWN_AHEAD and ahead(e, "a", "touch") == 400
    # A 49.99 print trades through the 50.00 bid; what is left cannot reach the unknown queue at 49.99.
    out = trade(e, SELL, 4999, 60)
    assert [(f.client_order_id, f.last_qty) for f in fills(out)] == [("touch", 60)]
    assert ahead(e, "a", "touch") == 0
    e2 = engine()
    quote(e2, BUY, 5000, 400)
    e2.submit(buy("a", "behind", 100, 4999))
    assert fills(trade(e2, SELL, 4999, 1000)) == []  # queue at 49.99 is unknown: no fill
    quote(e2, BUY, 4999, 250)  # the touch reaches our price
    assert ahead(e2, "a", "behind") == 250
    assert fills(trade(e2, SELL, 4999, 100)) == []
    assert ahead(e2, "a", "behind") == 150
    quote(e2, BUY, 4998, 100)  # the bid drops below us: nothing is ahead
    assert ahead(e2, "a", "behind") == 0
    assert filled_qty(trade(e2, SELL, 4999, 30)) == 30


def test_depth_feed_after_quotes_knows_every_level() -> None:
    e = engine()
    quote(e, BUY, 5000, 400)
    level(e, BUY, 4998, 300)  # depth arrives: a price without a level has nothing ahead
    e.submit(buy("a", "1", 100, 4999))
    assert ahead(e, "a", "1") == 0


def test_clear_empties_the_replayed_book_and_resets_queues() -> None:
    e = engine()
    level(e, BUY, 5000, 500)
    level(e, SELL, 5001, 500)
    e.submit(buy("a", "1", 100, 5000))
    e.on_market_event(SYM, (3, CLEAR, 0, 0, 0))
    assert ahead(e, "a", "1") == 0
    assert e.replayed_level(SYM, SELL, c(5001)) == (0, 0)


def test_bad_market_events_are_counted_and_skipped() -> None:
    e = engine()
    level(e, BUY, 5000, 500)
    bad = [("NOPE", (1, LEVEL, BUY, c(5000), 1)), (SYM, (1, LEVEL, BUY, c(5000), -1)), (SYM, (1, 9, BUY, 1, 1)),
           (SYM, (1, TRADE, 7, c(5000), 1)), (SYM, (1, LEVEL, BUY)), (SYM, (1, LEVEL, SELL, 0, 10)),
           (SYM, (1, LEVEL, BUY, 50.0, 100)), (SYM, None)]
    for symbol, event in bad:
        assert e.on_market_event(symbol, event) == []  # type: ignore[arg-type]
    assert e.counters.bad_market_events == len(bad)
    assert e.replayed_level(SYM, BUY, c(5000)) == (500, 500)
