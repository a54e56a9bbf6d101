"""A feed server pinned to a wall-clock origin delivers each event when the shared mapping says
(the venue simulator uses the same mapping), whenever the client subscribes."""

from __future__ import annotations

import asyncio
import json
import time

from websockets.asyncio.client import connect

from adapters.polygon.feed_server import FeedEvent, PolygonFeedServer

T0 = 1_710_163_800_000_000_000  # 09:30 ET


def _event(ts: int, i: int) -> FeedEvent:
    return FeedEvent(ts, "Q.ACME", json.dumps({"ev": "Q", "sym": "ACME", "bp": 50, "ap": 50.01, "bs": 1, "as": 1,
                                               "t": ts // 1_000_000, "q": i}).encode())


def test_events_arrive_at_their_mapped_wall_time() -> None:
    # Two events before the origin (the opening book), then one every 2 catalog seconds at 10x.
    events = [_event(T0 - 60_000_000_000, 0), _event(T0 - 1, 1)] + [_event(T0 + k * 2_000_000_000, 1 + k) for k in range(1, 6)]

    async def run() -> list[tuple[int, float]]:
        origin = time.time() + 0.3
        server = PolygonFeedServer(events, speed=10.0, market_origin_ns=T0, wall_origin=origin)
        port = await server.start()
        got: list[tuple[int, float]] = []
        try:
            async with connect(f"ws://127.0.0.1:{port}") as ws:
                await ws.recv()  # connected
                await ws.send(json.dumps({"action": "auth", "params": "k"}))
                await ws.recv()
                await asyncio.sleep(0.5)  # subscribe late: the clock does not wait for us
                await ws.send(json.dumps({"action": "subscribe", "params": "Q.ACME"}))
                while len(got) < len(events):
                    for msg in json.loads(await asyncio.wait_for(ws.recv(), 5)):
                        if msg.get("ev") == "Q":
                            got.append((msg["q"], time.time() - origin))
        finally:
            await server.stop()
        return got

    got = asyncio.run(run())
    assert [q for q, _ in got] == list(range(len(events)))
    # The subscription comes ~0.2 s after the origin: what was due by then goes out at once.
    assert all(0.1 < t < 0.45 for q, t in got if q <= 1), got
    for q, t in got:
        if q >= 2:
            # Event 1 + k (catalog origin + 2k s) is due 0.2 k wall seconds after the origin.
            assert abs(t - max(0.2 * (q - 1), 0.2)) < 0.15, (q, t)
