"""The live data client inside a Nautilus LiveDataEngine, against the local Polygon-protocol feed server."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import msgspec
import pytest
from nautilus_trader.model.data import QuoteTick, TradeTick
from nautilus_trader.model.enums import BookAction, RecordFlag
from nautilus_trader.model.identifiers import InstrumentId
from prometheus_client import CollectorRegistry, generate_latest

from adapters.polygon.feed_server import FeedEvent, PolygonFeedServer, events_from_catalog
from adapters.polygon.metrics import PolygonMetricsCollector
from hftmm.metrics.registry import NodeMetrics
from tests.backtest.synthetic_catalog import build_catalog
from tests.polygon.live_harness import KEY, start_harness, wait_for

DATE = dt.date(2024, 3, 11)
IID = InstrumentId.from_str("ACME.XNYS")


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("feed") / "catalog"
    build_catalog(root, DATE, n_events=1500)
    return root


@pytest.fixture(scope="module")
def events(catalog: Path) -> list[FeedEvent]:
    return events_from_catalog(catalog, DATE)


def expected(payloads: list[bytes]) -> list[tuple]:
    """What the client must publish for these wire messages (ts in ms -> ns, sizes in round lots)."""
    out = []
    for p in payloads:
        m = msgspec.json.decode(p)
        if m["ev"] == "Q":
            out.append(("Q", m["t"] * 1_000_000, round(m["bp"] * 10_000), round(m["ap"] * 10_000), m["bs"] * 100, m["as"] * 100))
        else:
            out.append(("T", m["t"] * 1_000_000, round(m["p"] * 10_000), m["s"], f"{m['x']}-{m['i']}"))
    return out


def published(objs: list) -> list[tuple]:
    out = []
    for o in objs:
        if isinstance(o, QuoteTick):
            out.append(("Q", o.ts_event, round(o.bid_price.as_double() * 10_000), round(o.ask_price.as_double() * 10_000),
                        int(o.bid_size), int(o.ask_size)))
        elif isinstance(o, TradeTick):
            out.append(("T", o.ts_event, round(o.price.as_double() * 10_000), int(o.size), o.trade_id.value))
    return out


def test_catalog_day_becomes_polygon_messages(events: list[FeedEvent], catalog: Path) -> None:
    quotes = [e for e in events if e.channel == "Q.ACME"]
    trades = [e for e in events if e.channel == "T.ACME"]
    assert len(quotes) == 1500 and len(trades) > 50  # a quote per synthetic event, trades on some
    assert [e.ts for e in events] == sorted(e.ts for e in events)
    q = msgspec.json.decode(quotes[0].payload)
    assert set(q) == {"ev", "sym", "bx", "bp", "bs", "ax", "ap", "as", "t", "q", "z"}
    assert q["bx"] == q["ax"] == 10 and q["z"] == 1  # XNYS, tape A
    t = msgspec.json.decode(trades[0].payload)
    assert set(t) == {"ev", "sym", "i", "x", "p", "s", "t", "q", "z"} and isinstance(t["i"], str)


def test_every_message_published_once_in_order(catalog: Path, events: list[FeedEvent]) -> None:
    async def run() -> None:
        server = PolygonFeedServer(events, speed=0, api_key=KEY, record=True, max_batch=200)
        port = await server.start()
        h = await start_harness(port, catalog, IID)
        try:
            assert h.client.is_connected
            h.subscribe(IID)
            await asyncio.wait_for(server.finished.wait(), 20)
            await wait_for(lambda: len(h.received) >= server.stats.delivered, 10)
            await asyncio.sleep(0.1)  # nothing more may arrive
        finally:
            await h.stop()
            await server.stop()
        assert server.stats.undelivered == 0 and server.stats.delivered == len(events)
        assert published(h.received) == expected([e.payload for e in events])
        assert h.gaps == []
        m = h.client.metrics()
        assert m["reconnects"] == 0 and m["parser"]["malformed"] == 0 and m["parser"]["unknown"] == 0
        assert m["statuses"]["success"] == 2  # subscribed to: Q.ACME, T.ACME

    asyncio.run(run())


def test_drop_mid_stream_reconnects_resubscribes_and_reports_the_gap(catalog: Path, events: list[FeedEvent]) -> None:
    """With the replay held while nobody is subscribed, nothing is lost: the stream continues exactly."""

    async def run() -> None:
        server = PolygonFeedServer(events, speed=0, api_key=KEY, record=True, max_batch=100,
                                   pause_when_idle=True, drop_after=700)
        port = await server.start()
        node_metrics = NodeMetrics()
        NodeMetrics.install(node_metrics)  # as a live node with live.metrics_port does
        try:
            h = await start_harness(port, catalog, IID)
            try:
                h.subscribe(IID, book=True)
                await asyncio.wait_for(server.finished.wait(), 20)
                await wait_for(lambda: len(h.received) >= len(events), 10)
                await asyncio.sleep(0.1)
            finally:
                await h.stop()
        finally:
            NodeMetrics.install(None)
        await server.stop()
        assert server.stats.drops == 1 and server.stats.connections == 2
        assert published(h.received) == expected([e.payload for e in events])  # once each, in order
        assert len(h.gaps) == 1
        gap = h.gaps[0]
        assert gap.attempts >= 1 and gap.ts_event >= gap.disconnected_ns
        assert set(gap.channels) == {"Q.ACME", "T.ACME"}
        assert "connection lost" in gap.reason
        # The gap's last event is the last one of the first session.
        first = expected(server.stats.sent_per_connection[1])
        assert gap.last_event_ns == first[-1][1]
        m = h.client.metrics()
        assert m["reconnects"] == 1 and m["gaps"] == 1 and m["last_gap"]["reason"] == gap.reason
        registry = CollectorRegistry()
        registry.register(PolygonMetricsCollector(h.client.metrics))
        exported = generate_latest(registry).decode()
        assert 'hftmm_polygon_reconnects_total{client="POLYGON"} 1.0' in exported
        # The node's endpoint counts the same reconnect and gap, and the gap's length.
        node = {(s.name, s.labels.get("source")): s.value for f in node_metrics.registry.collect() for s in f.samples}
        assert node[("hftmm_reconnects_total", "polygon")] == 1 and node[("hftmm_feed_gaps_total", "polygon")] == 1
        assert node[("hftmm_feed_gap_seconds_total", "polygon")] == pytest.approx(gap.duration_ns / 1e9)
        assert f'hftmm_polygon_quote_ticks_total{{client="POLYGON"}} {float(m["parser"]["quote_ticks"])}' in exported
        # The L1 book restarts with a snapshot (CLEAR, F_SNAPSHOT) after the gap.
        snapshots = [d for d in h.deltas if d.deltas[0].action == BookAction.CLEAR]
        assert len(snapshots) == 2
        assert all(x.flags & RecordFlag.F_SNAPSHOT for x in snapshots[1].deltas)
        assert snapshots[1].ts_init >= gap.ts_init

    asyncio.run(run())


def test_drop_without_hold_loses_only_what_was_never_sent(catalog: Path, events: list[FeedEvent]) -> None:
    """A live-like replay: events due while the client was away are lost, and nothing is duplicated."""

    async def run() -> None:
        server = PolygonFeedServer(events, speed=0, api_key=KEY, record=True, max_batch=50, drop_after=300)
        port = await server.start()
        h = await start_harness(port, catalog, IID)
        try:
            h.subscribe(IID)
            await asyncio.wait_for(server.finished.wait(), 20)
            await wait_for(lambda: len(h.gaps) == 1, 10)
            await wait_for(lambda: len(h.received) >= server.stats.delivered, 10)
            await asyncio.sleep(0.1)
        finally:
            await h.stop()
        await server.stop()
        sent = [p for n in sorted(server.stats.sent_per_connection) for p in server.stats.sent_per_connection[n]]
        assert published(h.received) == expected(sent)
        assert server.stats.delivered + server.stats.undelivered == len(events)
        assert server.stats.undelivered > 0  # the replay ran on while the client was away
        assert h.client.metrics()["reconnects"] == 1

    asyncio.run(run())


def test_malformed_and_unknown_messages_are_counted_and_skipped(catalog: Path, events: list[FeedEvent]) -> None:
    good = events[:40]
    bad = [
        FeedEvent(good[5].ts, "Q.ACME", b'{"ev":"XYZ","sym":"ACME","t":1}'),  # unknown event type
        FeedEvent(good[5].ts, "Q.ACME", b'{"ev":"Q","sym":"ACME","t":"soon","bp":1.0}'),  # t not an int
        FeedEvent(good[5].ts, "Q.ACME", b'{"ev":"T","sym":"ACME","p":1.0}'),  # no s, no t
        FeedEvent(good[5].ts, "Q.ACME", b'17'),  # not an object
        FeedEvent(good[5].ts, "Q.ACME", b'{"ev":'),  # broken JSON: the whole frame is lost
    ]
    stream = [*good[:10], *bad[:4], *good[10:20], bad[4], *good[20:]]

    async def run() -> None:
        server = PolygonFeedServer(stream, speed=0, api_key=KEY, record=True, max_batch=1)
        port = await server.start()
        h = await start_harness(port, catalog, IID)
        try:
            h.subscribe(IID)
            await asyncio.wait_for(server.finished.wait(), 20)
            await wait_for(lambda: len(h.received) >= len(good), 10)
        finally:
            await h.stop()
        await server.stop()
        assert published(h.received) == expected([e.payload for e in good])
        p = h.client.metrics()["parser"]
        assert p["unknown"] == 1 and p["malformed"] == 4
        assert h.client.metrics()["reconnects"] == 0

    asyncio.run(run())


def test_auth_failed_is_a_clear_error_and_no_retry(catalog: Path, events: list[FeedEvent]) -> None:
    async def run() -> None:
        server = PolygonFeedServer(events, speed=0, api_key=KEY)
        port = await server.start()
        h = await start_harness(port, catalog, IID, key="wrong-key")
        try:
            assert not h.client.is_connected
            assert h.client.metrics()["fatal_status"] == "auth_failed"
            await asyncio.sleep(0.3)
            assert server.stats.connections == 1  # no reconnection loop on a refused key
        finally:
            await h.stop()
            await server.stop()

    asyncio.run(run())


def test_max_connections_ends_the_old_session(catalog: Path, events: list[FeedEvent]) -> None:
    async def run() -> None:
        server = PolygonFeedServer(events, speed=0.001, api_key=KEY)
        port = await server.start()
        first = await start_harness(port, catalog, IID)
        first.subscribe(IID)
        second = await start_harness(port, catalog, IID)
        try:
            await wait_for(lambda: first.client.metrics()["fatal_status"] == "max_connections", 5)
            await asyncio.sleep(0.3)
            assert server.stats.connections == 2  # the kicked client did not fight back
            assert second.client.is_connected
            assert first.gaps == []
        finally:
            await first.stop()
            await second.stop()
            await server.stop()

    asyncio.run(run())


def test_slow_consumer_status_then_drop_is_reconnected_with_the_status_in_the_gap(
    catalog: Path, events: list[FeedEvent],
) -> None:
    slow = FeedEvent(events[99].ts, "Q.ACME",
                     b'{"ev":"status","status":"slow_consumer","message":"consumer is too slow, disconnecting"}')
    stream = [*events[:100], slow, *events[100:300]]

    async def run() -> None:
        server = PolygonFeedServer(stream, speed=0, api_key=KEY, record=True, max_batch=101,
                                   pause_when_idle=True, drop_after=101)
        port = await server.start()
        h = await start_harness(port, catalog, IID)
        try:
            h.subscribe(IID)
            await asyncio.wait_for(server.finished.wait(), 20)
            await wait_for(lambda: len(h.received) >= 300, 10)
        finally:
            await h.stop()
        await server.stop()
        assert published(h.received) == expected([e.payload for e in events[:300]])
        [gap] = h.gaps
        assert gap.reason.startswith("status slow_consumer: consumer is too slow")
        assert h.client.metrics()["statuses"]["slow_consumer"] == 1

    asyncio.run(run())


def test_server_down_reconnects_with_backoff_then_gives_up(catalog: Path, events: list[FeedEvent]) -> None:
    async def run() -> None:
        server = PolygonFeedServer(events, speed=0.0001, api_key=KEY)
        port = await server.start()
        h = await start_harness(port, catalog, IID, max_reconnect_attempts=3)
        try:
            h.subscribe(IID)
            await wait_for(lambda: h.client.metrics()["statuses"].get("success", 0) == 2, 5)
            await server.stop()  # the server goes away: every attempt is refused
            await wait_for(lambda: not h.client.is_connected, 10)
            assert h.client.metrics()["failed_attempts"] == 3 and h.client.metrics()["reconnects"] == 0
            assert h.gaps == []
        finally:
            await h.stop()

    asyncio.run(run())


def test_server_back_after_failed_attempts_is_one_gap(catalog: Path, events: list[FeedEvent]) -> None:
    async def run() -> None:
        first = PolygonFeedServer(events, speed=0.0001, api_key=KEY, record=True)
        port = await first.start()
        h = await start_harness(port, catalog, IID)
        try:
            h.subscribe(IID)
            await wait_for(lambda: h.client.metrics()["statuses"].get("success", 0) == 2, 5)
            await first.stop()
            await wait_for(lambda: h.client.metrics()["failed_attempts"] >= 2, 10)
            # A new server on the same port (a restarted replay: the day starts over).
            second = PolygonFeedServer(events, speed=0, api_key=KEY, pause_when_idle=True, record=True)
            await second.start(port=port)
            await asyncio.wait_for(second.finished.wait(), 20)
            await wait_for(lambda: len(h.received) >= first.stats.delivered + len(events), 10)
            await second.stop()
        finally:
            await h.stop()
        [gap] = h.gaps
        before = [p for sent in first.stats.sent_per_connection.values() for p in sent]
        assert gap.attempts >= 3 and "closed by the server" in gap.reason
        assert gap.last_event_ns == expected(before)[-1][1]
        assert published(h.received) == expected(before + [e.payload for e in events])

    asyncio.run(run())
