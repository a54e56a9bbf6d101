"""Dropped connections, lost and duplicated ExecutionReports, restarts with the file store, TLS."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme
from nautilus_trader.model.enums import OrderSide, OrderStatus
from nautilus_trader.model.events import OrderAccepted, OrderFilled
from nautilus_trader.model.objects import Quantity

from adapters.fix.config import StoreConfig, TlsConfig
from tests.fix_exec.harness import IID, NodeHarness, run


class DropFills:
    """Proxy rule: while ``active``, venue -> client trade reports are dropped."""

    def __init__(self) -> None:
        self.active = False

    def __call__(self, direction: str, message: Any) -> bool:
        return self.active and direction == "in" and message.msg_type == "8" and message.get(150) == "F"


def test_reconnect_resends_the_missed_fill_once(tmp_path: Path) -> None:
    drop = DropFills()

    async def main() -> None:
        h = NodeHarness(tmp_path, proxy=True, drop=drop)
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None and h.venue_session is not None and h.proxy is not None
            order = d.limit(OrderSide.BUY, 300, "49.90")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            root = order.client_order_id.value
            venue.fill(root, 100, "49.90")
            await h.until(lambda: len(d.of(OrderFilled)) == 1, what="first fill")

            # the next fill is lost on the wire, then the venue's connection dies
            drop.active = True
            lost = dict(venue.fill(root, 100, "49.89"))
            await h.until(lambda: bool(h.proxy.dropped), what="the fill to be dropped")
            drop.active = False
            connections = h.client.session.counters["connections"]
            h.venue_session.disconnect()
            await h.until(lambda: h.client.session.counters["connections"] > connections
                          and h.client.session.is_logged_on, 10, "reconnect")
            # the venue's Logon is ahead of what we processed: ResendRequest, the fill comes back PossDup
            await h.until(lambda: len(d.of(OrderFilled)) == 2, 10, "the resent fill")
            resent = [m for direction, m in h.proxy.frames if direction == "in" and m.get(17) == lost[17]]
            assert len(resent) == 2 and resent[1].get(43) == "Y"
            assert any(m.msg_type == "2" for direction, m in h.proxy.frames if direction == "out")

            # the venue (or a drop copy) repeats a fill with a new MsgSeqNum: dropped by ExecID
            assert venue.session is not None
            again = venue.report(venue.order(root), "F", [(31, "49.89"), (32, "100"), (851, "1")], send=False)
            venue.session.send("8", [(t, lost[17] if t == 17 else v) for t, v in again])
            venue.fill(root, 100, "49.88")
            await h.until(lambda: len(d.of(OrderFilled)) == 3, what="third fill")
            await h.until(lambda: h.client.counters.get("duplicate_fills") == 1, what="duplicate dropped")
            fills = d.of(OrderFilled)
            assert len({f.trade_id for f in fills}) == 3
            cached = d.cache.order(order.client_order_id)
            assert cached.status == OrderStatus.FILLED and cached.filled_qty == Quantity.from_int(300)
            assert d.portfolio.net_position(IID) == 300
        finally:
            await h.stop()

    run(main)


@pytest.mark.parametrize("kind", ["file", "redis"])
def test_restart_continues_sequences_and_recovers_the_fill(tmp_path: Path, kind: str,
                                                           request: pytest.FixtureRequest) -> None:
    """Node killed (connection lost, no Logout) with a fill in flight; a new node on the same store
    (file: a restart; Redis: a standby taking over) continues the sequence numbers, gets the fill
    resent, and reconciles the order."""
    drop = DropFills()
    if kind == "redis":
        host, port = request.getfixturevalue("redis_server")
        store = StoreConfig(kind="redis", redis_url=f"redis://{host}:{port}/0", redis_prefix=f"fixexec:{tmp_path.name}")
    else:
        store = StoreConfig(kind="file", path=str(tmp_path / "client-store"), sync=True)

    async def main() -> None:
        first = NodeHarness(tmp_path, proxy=True, drop=drop, claim=True, client_store=store)
        await first.start()
        d, venue = first.driver, first.venue
        assert d is not None and first.venue_session is not None
        order = d.limit(OrderSide.SELL, 300, "50.10")
        await first.until(lambda: d.of(OrderAccepted), what="accepted")
        root = order.client_order_id.value
        venue.fill(root, 100, "50.10")
        await first.until(lambda: d.of(OrderFilled), what="fill")
        drop.active = True
        lost = dict(venue.fill(root, 100, "50.11"))
        await first.until(lambda: bool(first.proxy.dropped), what="the fill to be dropped")
        client_seq = first.client.session.next_sender_seq
        first.venue_session.disconnect()
        await first.until(lambda: not first.client.session.is_logged_on, what="disconnect")
        first.client._initiator._stopping = True  # a crash: no Logout on the way down
        await first.stop_node()
        await first.proxy.stop()
        drop.active = False

        second = NodeHarness(tmp_path, venue, claim=True, client_store=store)
        second.acceptor, second.venue_session = first.acceptor, first.venue_session
        await second.start()
        try:
            assert second.client.session.next_sender_seq > client_seq  # continued, not reset to 1
            assert second.venue_session.counters["seq_too_high"] == 0  # the venue saw no gap from us
            cached = second.driver.cache.order(order.client_order_id)
            assert cached is not None and cached.venue_order_id.value == venue.order(root).order_id
            assert cached.filled_qty == Quantity.from_int(200) and cached.status == OrderStatus.PARTIALLY_FILLED
            assert any(f.trade_id.value == lost[17] for f in second.client._fills)
            assert second.driver.portfolio.net_position(IID) == -200
            assert second.venue_session.counters["resend_requests_received"] >= 1
        finally:
            await second.stop()

    run(main)


def test_tls_connection(tmp_path: Path) -> None:
    ca = trustme.CA()
    server = ca.issue_cert("127.0.0.1", "localhost")
    ca.cert_pem.write_to_path(tmp_path / "ca.pem")
    server.private_key_and_cert_chain_pem.write_to_path(tmp_path / "server.pem")
    tls = (TlsConfig(cert_file=str(tmp_path / "server.pem")), TlsConfig(ca_file=str(tmp_path / "ca.pem")))

    async def main() -> None:
        h = NodeHarness(tmp_path, tls=tls)
        await h.start()
        try:
            d = h.driver
            assert d is not None
            order = d.limit(OrderSide.BUY, 100, "49.90")
            await h.until(lambda: d.of(OrderAccepted), what="accepted over TLS")
            h.venue.fill(order.client_order_id.value, 100, "49.90")
            await h.until(lambda: d.of(OrderFilled), what="fill over TLS")
            assert h.client._initiator._ssl is not None
        finally:
            await h.stop()

    run(main)


class DropOnce:
    """Proxy rule: drop the first venue -> client trade report, nothing else."""

    def __init__(self) -> None:
        self.dropped = False

    def __call__(self, direction: str, message: Any) -> bool:
        if not self.dropped and direction == "in" and message.msg_type == "8" and message.get(150) == "F":
            self.dropped = True
            return True
        return False


def test_out_of_order_report_is_held_until_the_gap_is_filled(tmp_path: Path) -> None:
    """A fill lost on a live connection: the next report is ahead of sequence, so the client asks
    for the gap and applies both fills in the venue's order, each once."""

    async def main() -> None:
        h = NodeHarness(tmp_path, proxy=True, drop=DropOnce())
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None and h.proxy is not None
            order = d.limit(OrderSide.BUY, 300, "49.90")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            root = order.client_order_id.value
            first = dict(venue.fill(root, 100, "49.90"))  # dropped on the wire
            second = dict(venue.fill(root, 50, "49.89"))
            await h.until(lambda: len(d.of(OrderFilled)) == 2, what="both fills")
            assert [f.trade_id.value for f in d.of(OrderFilled)] == [first[17], second[17]]
            assert h.client.session.counters["seq_too_high"] >= 1
            assert h.client.session.counters["resend_requests_sent"] == 1
            assert d.cache.order(order.client_order_id).filled_qty == Quantity.from_int(150)
        finally:
            await h.stop()

    run(main)


def test_commands_while_the_venue_is_down_are_refused_not_queued(tmp_path: Path) -> None:
    from nautilus_trader.model.events import OrderCancelRejected, OrderModifyRejected, OrderRejected
    from nautilus_trader.model.objects import Price

    async def main() -> None:
        h = NodeHarness(tmp_path)
        await h.start()
        try:
            d = h.driver
            assert d is not None and h.acceptor is not None
            working = d.limit(OrderSide.BUY, 100, "49.90")
            await h.until(lambda: d.of(OrderAccepted), what="accepted")
            await h.acceptor.stop()  # the venue goes away and does not come back
            await h.until(lambda: not h.client.session.is_logged_on, what="disconnect")
            h.acceptor = None
            refused = d.limit(OrderSide.BUY, 100, "49.80")
            d.modify_order(working, price=Price.from_str("49.85"))
            d.cancel_order(working)
            await h.until(lambda: d.of(OrderRejected) and d.of(OrderModifyRejected) and d.of(OrderCancelRejected),
                          what="refusals")
            assert d.of(OrderRejected)[0].client_order_id == refused.client_order_id
            assert "not logged on" in d.of(OrderRejected)[0].reason
            assert h.client.counters["orders_refused"] == 1
        finally:
            await h.stop()

    run(main)


class DropFirstOrder:
    """Proxy rule: drop the first client -> venue NewOrderSingle."""

    def __init__(self) -> None:
        self.dropped = False

    def __call__(self, direction: str, message: Any) -> bool:
        if not self.dropped and direction == "out" and message.msg_type == "D":
            self.dropped = True
            return True
        return False


def test_an_order_lost_on_the_way_is_resent_by_the_session(tmp_path: Path) -> None:
    """The venue sees a gap in our sequence, asks for it, and gets the order back (PossDupFlag=Y):
    both orders end up accepted, none twice."""

    async def main() -> None:
        h = NodeHarness(tmp_path, proxy=True, drop=DropFirstOrder())
        await h.start()
        try:
            d, venue = h.driver, h.venue
            assert d is not None and h.proxy is not None and h.venue_session is not None
            lost = d.limit(OrderSide.BUY, 100, "49.90")
            await h.until(lambda: bool(h.proxy.dropped), what="the order to be dropped")
            kept = d.limit(OrderSide.BUY, 100, "49.80")
            await h.until(lambda: len(d.of(OrderAccepted)) == 2, 10, "both accepted")
            orders = [m for m in venue.received if m.msg_type == "D"]
            assert [m[11] for m in orders] == [lost.client_order_id.value, kept.client_order_id.value]
            assert orders[0].get(43) == "Y" and orders[1].get(43) is None  # resent, in sequence order
            assert h.venue_session.counters["resend_requests_sent"] == 1
            assert {e.client_order_id for e in d.of(OrderAccepted)} == {lost.client_order_id, kept.client_order_id}
        finally:
            await h.stop()

    run(main)


@pytest.mark.parametrize("served", [True, False], ids=["trade-capture", "venue-without-AD"])
def test_a_fill_the_node_never_saw_comes_back_with_the_venues_exec_id(tmp_path: Path, served: bool) -> None:
    """A successor with no record of a fill (its predecessor received it and died before booking it)
    gets it from the venue's TradeCaptureReports (AD): the venue's ExecID, price and liquidity. A
    venue that does not serve AD answers a BusinessMessageReject; reconciliation then infers the fill
    from CumQty (same quantity, a generated trade id) without waiting for a timeout."""

    async def main() -> None:
        first = NodeHarness(tmp_path, claim=True)
        # The venue simulator's TransactTimes are its replay clock's: a day long past for the node.
        first.venue._now = lambda: "20240311-14:30:00.000000"  # type: ignore[method-assign]
        await first.start()
        d, venue = first.driver, first.venue
        assert d is not None
        order = d.limit(OrderSide.SELL, 300, "50.10")
        await first.until(lambda: d.of(OrderAccepted), what="accepted")
        root = order.client_order_id.value
        seen = dict(venue.fill(root, 100, "50.10"))
        await first.until(lambda: d.of(OrderFilled), what="fill")
        await first.stop_node()
        unseen = dict(venue.fill(root, 100, "50.12", liquidity="2", send=False))
        venue.serve_trade_capture = served

        second = NodeHarness(tmp_path, venue, claim=True)
        second.acceptor, second.venue_session = first.acceptor, first.venue_session
        await second.start()
        try:
            cached = second.driver.cache.order(order.client_order_id)
            assert cached is not None and cached.filled_qty == Quantity.from_int(200)
            assert second.driver.portfolio.net_position(IID) == -200
            fills = {f.trade_id.value: f for f in second.driver.cache.order(order.client_order_id).events
                     if isinstance(f, OrderFilled)}
            if served:
                assert set(fills) == {seen[17], unseen[17]}
                assert (fills[unseen[17]].last_px.as_double(), fills[unseen[17]].liquidity_side.name) == (50.12, "TAKER")
                assert "trade_capture_failures" not in second.client.counters
            else:
                assert len(fills) == 1  # one inferred fill at the average price stands for both
                assert second.client.counters["trade_capture_failures"] == 1
        finally:
            await second.stop()
            await first.stop()

    run(main)
