"""A client that stops reading (a paused process) must not hold up the feed for the others: the
server disconnects it as a slow consumer, and a new connection with the same key still gets its
answers at once."""

from __future__ import annotations

import asyncio
import json

from websockets.asyncio.client import connect

from adapters.polygon.feed_server import FeedEvent, PolygonFeedServer

T0 = 1_710_163_800_000_000_000
N = 60_000


def _event(i: int) -> FeedEvent:
    # About 400 bytes each: the stalled client's socket buffers fill after a few thousand.
    return FeedEvent(T0 + i, "Q.ACME", json.dumps({"ev": "Q", "sym": "ACME", "bp": 50, "ap": 50.01, "bs": 1, "as": 1,
                                                  "t": T0 // 1_000_000, "q": i, "pad": "x" * 300}).encode())


async def _login(port: int, key: str) -> object:
    # No compression: the repeated payloads would deflate to nothing and never fill a buffer.
    ws = await connect(f"ws://127.0.0.1:{port}", max_queue=4, compression=None)
    await ws.recv()  # connected
    await ws.send(json.dumps({"action": "auth", "params": key}))
    assert json.loads(await asyncio.wait_for(ws.recv(), 5))[0]["status"] == "auth_success"
    return ws


def test_a_client_that_stops_reading_is_dropped_and_does_not_stall_the_others() -> None:
    async def run() -> tuple[int, PolygonFeedServer, str]:
        server = PolygonFeedServer([_event(i) for i in range(N)], speed=0.0, max_batch=50, slow_consumer_s=0.5)
        port = await server.start()
        try:
            reader = await _login(port, "b")
            await reader.send(json.dumps({"action": "subscribe", "params": "Q.ACME"}))
            stalled = await _login(port, "a")
            await stalled.send(json.dumps({"action": "subscribe", "params": "Q.ACME"}))  # then never reads
            got = 0
            while got < N:
                frame = json.loads(await asyncio.wait_for(reader.recv(), 10))
                got += sum(1 for m in frame if m.get("ev") == "Q")
            # The stalled client's key logs in again (its process restarted): answered at once.
            again = await _login(port, "a")
            status = "auth_success"
            await again.close()
            await reader.close()
        finally:
            await server.stop()
        return got, server, status

    got, server, status = asyncio.run(run())
    assert server.stats.slow_consumers == 1
    assert got == N and status == "auth_success"
