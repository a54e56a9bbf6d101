"""The FIX execution client inside a real TradingNode against a local FIX venue (ScriptedVenue)."""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path

from nautilus_trader.model.enums import LiquiditySide, OrderSide, OrderStatus
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderSubmitted,
    OrderUpdated,
)
from nautilus_trader.model.objects import Price, Quantity

from adapters.fix.codec import encode
from hftmm.metrics.registry import NodeMetrics
from tests.fix_exec.harness import IID, NodeHarness
from tests.fix_exec.harness import run as harness_run
from tests.fix_exec.venue import ScriptedVenue


def test_event_mapping_accept_fill_replace_cancel(tmp_path: Path) -> None:
    metrics = NodeMetrics()

    async def run() -> None:
        h = NodeHarness(tmp_path)
        NodeMetrics.install(metrics)
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None
            md = time.time_ns()  # the live clock is the wall clock: a market data receive time
            order = d.limit(OrderSide.BUY, 300, "49.9900", tags=[f"md={md}"])
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            after = time.time_ns()  # the live engine queues the command: the write happens in between
            accepted = d.of(OrderAccepted)[0]
            assert accepted.venue_order_id.value == venue.order(order.client_order_id.value).order_id
            d_msg = [m for m in venue.received if m.msg_type == "D"][0]
            assert d_msg.msg_type == "D" and d_msg[55] == "ACME" and d_msg[207] == "XNYS" and d_msg[18] == "6"
            assert d_msg[38] == "300" and d_msg[44] == "49.9900" and d_msg[59] == "1" and d_msg[20001] == "0"

            # partial fill (maker), then the rest (taker)
            first = dict(venue.fill(order.client_order_id.value, 100, "49.99", "1"))
            await h.until(lambda: len(d.of(OrderFilled)) == 1, what="partial fill")
            fill = d.of(OrderFilled)[0]
            assert fill.last_qty == Quantity.from_int(100) and fill.last_px == Price.from_str("49.9900")
            assert fill.liquidity_side == LiquiditySide.MAKER
            assert fill.commission.as_decimal() == Decimal("-0.20")  # 100 shares x -$0.0020 rebate
            assert h.driver.cache.order(order.client_order_id).status == OrderStatus.PARTIALLY_FILLED

            # replace: size down and price, new ClOrdID chained to the original
            d.modify_order(order, quantity=Quantity.from_int(200), price=Price.from_str("49.9800"))
            await h.until(lambda: d.of(OrderUpdated), what="updated")
            g_msg = venue.received[-1]
            assert g_msg.msg_type == "G" and g_msg[41] == order.client_order_id.value
            assert g_msg[11].startswith(order.client_order_id.value + "#") and g_msg[38] == "200"
            updated = d.of(OrderUpdated)[0]
            assert updated.quantity == Quantity.from_int(200) and updated.price == Price.from_str("49.9800")

            second = dict(venue.fill(order.client_order_id.value, 100, "49.98", "2"))
            await h.until(lambda: len(d.of(OrderFilled)) == 2, what="full fill")
            taker = d.of(OrderFilled)[1]
            assert taker.liquidity_side == LiquiditySide.TAKER and taker.commission.as_decimal() == Decimal("0.30")
            assert h.driver.cache.order(order.client_order_id).status == OrderStatus.FILLED
            assert {f.trade_id.value for f in d.of(OrderFilled)} == {first[17], second[17]}

            # a second order canceled: the F names the current ClOrdID
            other = d.limit(OrderSide.SELL, 100, "50.0500")
            await h.until(lambda: len(d.of(OrderAccepted)) == 2, what="second accepted")
            h.client.fencing_epoch = 7  # what the node's failover lease sets
            d.cancel_order(other)
            await h.until(lambda: d.of(OrderCanceled), what="canceled")
            f_msg = venue.received[-1]
            assert f_msg.msg_type == "F" and f_msg[41] == other.client_order_id.value and f_msg[37].startswith("V")
            assert f_msg[20001] == "7" and venue.highest_epoch == 7
            assert h.client.tick_to_trade.count == 1
            assert 0 < h.client.tick_to_trade.samples[0] <= after - md
            assert h.client.round_trip.count >= 4
            sample = metrics.registry.get_sample_value
            assert sample("hftmm_tick_to_trade_seconds_count", {"instrument": "ACME.XNYS"}) == 1
            assert sample("hftmm_fix_round_trip_seconds_count", {"msg_type": "D"}) == 2
            assert sample("hftmm_fix_round_trip_seconds_count", {"msg_type": "G"}) == 1
            assert sample("hftmm_venue_session_logged_on", {"venue": "XNYS"}) == 1.0
            assert sample("hftmm_fills_total", {"instrument": "ACME.XNYS", "side": "BUY", "liquidity": "MAKER"}) == 1
            submitted = d.of(OrderSubmitted)
            assert len(submitted) == 2
        finally:
            await h.stop()
            NodeMetrics.install(None)
        assert metrics.registry.get_sample_value("hftmm_venue_session_logged_on", {"venue": "XNYS"}) == 0.0

    harness_run(run)


def test_rejects_cancel_reject_and_modify_reject(tmp_path: Path) -> None:
    async def run() -> None:
        h = NodeHarness(tmp_path)
        h.venue.reject_post_only_at = Decimal("50.00")
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None
            rejected = d.limit(OrderSide.BUY, 100, "50.0100")
            await h.until(lambda: d.of(OrderRejected), what="rejected")
            event = d.of(OrderRejected)[0]
            assert event.client_order_id == rejected.client_order_id and event.due_post_only
            assert "post-only" in event.reason

            order = d.limit(OrderSide.BUY, 100, "49.9000")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            venue.fill(order.client_order_id.value, 60, "49.90")
            await h.until(lambda: d.of(OrderFilled), what="fill")
            # size down to below the filled quantity: the venue refuses the replace
            d.modify_order(order, quantity=Quantity.from_int(50))
            await h.until(lambda: d.of(OrderModifyRejected), what="modify rejected")
            assert "not above the filled" in d.of(OrderModifyRejected)[0].reason
            venue.fill(order.client_order_id.value, 40, "49.90")
            await h.until(lambda: len(d.of(OrderFilled)) == 2, what="second fill")
            # cancel of a filled order (the strategy's view raced the fill): OrderCancelReject 434=1
            h.client._cancel(h.driver.cache.order(order.client_order_id))
            await h.until(lambda: d.of(OrderCancelRejected), what="cancel rejected")
            assert "too late" in d.of(OrderCancelRejected)[0].reason
            assert h.driver.cache.order(order.client_order_id).status == OrderStatus.FILLED
        finally:
            await h.stop()

    harness_run(run)


def test_a_cancel_that_crossed_an_amend_is_chased_with_the_current_id(tmp_path: Path) -> None:
    async def run() -> None:
        h = NodeHarness(tmp_path)
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None
            order = d.limit(OrderSide.BUY, 100, "49.9000")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            venue.hold_replace_acks = True
            d.modify_order(order, price=Price.from_str("49.8900"))
            await h.until(lambda: any(m.msg_type == "G" for m in venue.received), what="replace sent")
            d.cancel_order(order)  # names the original ClOrdID: the replace's answer is still held
            await h.until(lambda: d.of(OrderCanceled), what="canceled")
            g_msg = next(m for m in venue.received if m.msg_type == "G")
            cancels = [m for m in venue.received if m.msg_type == "F"]
            assert [m[41] for m in cancels] == [order.client_order_id.value, g_msg[11]]
            assert h.client.counters.get("cancels_chased") == 1 and not d.of(OrderCancelRejected)
            assert h.driver.cache.order(order.client_order_id).status == OrderStatus.CANCELED
        finally:
            await h.stop()

    harness_run(run)


def test_a_predecessors_unrecorded_order_is_submitted_accepted_then_filled(tmp_path: Path) -> None:
    """A failover leader's cache can hold an order INITIALIZED that its predecessor did send (it
    died between the send and the cache write): the venue's fill must reach the order and the
    position once, not be refused by the order and booked by the position anyway."""
    from nautilus_trader.model.enums import TimeInForce

    async def run() -> None:
        h = NodeHarness(tmp_path)
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None
            order = d.order_factory.limit(instrument_id=d.config.instrument_id, order_side=OrderSide.SELL,
                                          quantity=Quantity.from_int(100), price=Price.from_str("50.0100"),
                                          time_in_force=TimeInForce.GTC, post_only=True)
            d.cache.add_order(order)  # recorded, never submitted here
            venue.add_order(order.client_order_id.value, "ACME", "2", 100, "50.0100")
            venue.fill(order.client_order_id.value, 100, "50.01")
            await h.until(lambda: d.of(OrderFilled), what="fill")
            assert [type(e).__name__ for e in d.events if e.client_order_id == order.client_order_id] == [
                "OrderSubmitted", "OrderAccepted", "OrderFilled"]
            assert h.driver.cache.order(order.client_order_id).status == OrderStatus.FILLED
            assert float(h.driver.portfolio.net_position(d.config.instrument_id)) == -100.0
            assert h.client.counters.get("adopted_unsubmitted") == 1
            # The same fill again under another id (as reconciliation infers one): not booked twice.
            venue.order(order.client_order_id.value).cum = 0
            venue.fill(order.client_order_id.value, 100, "50.01")
            await h.until(lambda: h.client.counters.get("duplicate_fills") == 1, what="the second fill refused")
            assert float(h.driver.portfolio.net_position(d.config.instrument_id)) == -100.0
        finally:
            await h.stop()

    harness_run(run)


def test_mass_cancel(tmp_path: Path) -> None:
    async def run() -> None:
        h = NodeHarness(tmp_path)
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None
            for price in ("49.90", "49.80", "49.70"):
                d.limit(OrderSide.BUY, 100, price)
            await h.until(lambda: len(d.of(OrderAccepted)) == 3, what="accepted")
            venue.reject_mass_cancel = "stale epoch 0 < 1"
            d.cancel_all_orders(IID)
            await h.until(lambda: len(d.of(OrderCancelRejected)) == 3, what="mass cancel rejected")
            assert "stale epoch" in d.of(OrderCancelRejected)[0].reason
            assert len(d.cache.orders_open(instrument_id=IID)) == 3
            assert all(o.status == OrderStatus.ACCEPTED for o in d.cache.orders_open(instrument_id=IID))
            d.cancel_all_orders(IID)
            await h.until(lambda: len(d.of(OrderCanceled)) == 3, what="canceled")
            q = [m for m in venue.received if m.msg_type == "q"]
            assert len(q) == 2 and q[1][530] == "1" and q[1][55] == "ACME"
            assert not h.driver.cache.orders_open(instrument_id=IID)
        finally:
            await h.stop()

    harness_run(run)


def test_reconciliation_learns_the_venues_orders(tmp_path: Path) -> None:
    """The venue holds orders from an earlier run the fresh node never saw: the mass status tells the engine."""

    async def run() -> None:
        venue = ScriptedVenue({"ACME"})
        venue.add_order("O-EARLIER-1", "ACME", "1", 200, "49.50")
        venue.add_order("O-EARLIER-2", "ACME", "2", 100, "50.50", cum=100)
        h = NodeHarness(tmp_path, venue, claim=True)
        await h.start()
        try:
            cache = h.driver.cache
            open_orders = cache.orders_open(instrument_id=IID)
            assert [o.client_order_id.value for o in open_orders] == ["O-EARLIER-1"]
            assert open_orders[0].venue_order_id.value == venue.order("O-EARLIER-1").order_id
            assert open_orders[0].strategy_id == h.driver.id  # claimed by the strategy
            filled = [o for o in cache.orders() if o.client_order_id.value == "O-EARLIER-2"]
            assert filled and filled[0].status == OrderStatus.FILLED and filled[0].filled_qty == Quantity.from_int(100)
            position = cache.positions_open(instrument_id=IID)
            assert len(position) == 1 and position[0].signed_qty == -100.0
            assert any(m.msg_type == "AF" for m in venue.received)
            # the adopted order can be canceled through the client
            h.driver.cancel_order(open_orders[0])
            await h.until(lambda: h.driver.of(OrderCanceled), what="canceled")
            # after start-up, a report on an order the node never saw is handed to the engine as a status report
            late = venue.add_order("O-ELSEWHERE-1", "ACME", "1", 100, "49.00")
            venue.report(late, "0")
            await h.until(lambda: any(o.client_order_id.value == "O-ELSEWHERE-1" for o in cache.orders_open()),
                          what="the late order adopted")
            assert h.client.counters["unknown_order_reports"] == 1
        finally:
            await h.stop()

    harness_run(run)


def test_order_status_request(tmp_path: Path) -> None:
    from nautilus_trader.core.uuid import UUID4
    from nautilus_trader.execution.messages import GenerateOrderStatusReport

    async def run() -> None:
        h = NodeHarness(tmp_path)
        await h.start()
        try:
            d = h.driver
            assert d is not None
            order = d.limit(OrderSide.BUY, 100, "49.90")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            h.venue.fill(order.client_order_id.value, 30, "49.90")
            await h.until(lambda: d.of(OrderFilled), what="fill")
            report = await h.client.generate_order_status_report(GenerateOrderStatusReport(
                instrument_id=IID, client_order_id=order.client_order_id, venue_order_id=None, command_id=UUID4(),
                ts_init=0))
            assert report is not None and report.order_status == OrderStatus.PARTIALLY_FILLED
            assert report.filled_qty == Quantity.from_int(30) and report.venue_order_id == order.venue_order_id
            assert any(m.msg_type == "H" for m in h.venue.received)
            from nautilus_trader.model.identifiers import ClientOrderId

            missing = await h.client.generate_order_status_report(GenerateOrderStatusReport(
                instrument_id=IID, client_order_id=ClientOrderId("O-NOPE"), venue_order_id=None, command_id=UUID4(),
                ts_init=0))
            assert missing is None
        finally:
            await h.stop()

    harness_run(run)


def test_garbled_frame_from_the_venue_is_survived(tmp_path: Path) -> None:
    async def run() -> None:
        h = NodeHarness(tmp_path)
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None and h.venue_session is not None
            order = d.limit(OrderSide.BUY, 100, "49.90")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            write = h.venue_session._write
            assert write is not None
            # a bad checksum and a truncated frame, then garbage: ignored and counted by the session
            good = encode([(35, "0"), (34, "999"), (49, "HFTMMVENUE"), (52, "20260101-00:00:00"), (56, "HFTMM")])
            write(good[:-4] + b"000\x01")
            write(b"8=FIX.4.4\x019=5\x0135=0\x0110=000\x01")
            write(b"this is not FIX\x01")
            # a business message missing a required profile field (ExecType would be caught by the
            # dictionary; LastQty on a trade is the profile's): a BusinessMessageReject, no crash
            venue.session.send("8", [(6, "0"), (11, order.client_order_id.value), (14, "0"), (17, "BAD1"), (37, "V1"),
                                     (39, "1"), (54, "1"), (55, "ACME"), (150, "F"), (151, "100")])
            venue.fill(order.client_order_id.value, 100, "49.90")
            await h.until(lambda: d.of(OrderFilled), what="fill after the garbage")
            assert len(d.of(OrderFilled)) == 1
            counters = h.client.session.counters
            assert counters["invalid_BadChecksum"] + counters["invalid_BadBodyLength"] + \
                counters["invalid_GarbledMessage"] >= 1
            assert h.client.counters.get("malformed_messages") == 1
            assert h.venue_session.counters["received"] > 0
            rejects = [m for m in venue.received if m.msg_type == "j"]
            assert len(rejects) == 1 and rejects[0][372] == "8" and "tag 32" in rejects[0][58]
            assert h.client.session.is_logged_on
        finally:
            await h.stop()

    harness_run(run)
