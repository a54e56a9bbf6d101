"""A FIX-aware TCP proxy for tests: records every frame in both directions and can drop some."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from adapters.fix.codec import FixMessage, FrameReader, decode

# direction is "out" (client -> server) or "in" (server -> client)
DropRule = Callable[[str, FixMessage], bool]


class FixProxy:
    """Listens on a free loopback port and forwards to ``target_port`` frame by frame.

    Parameters
    ----------
    target_port : int
    drop : callable, optional
        ``drop(direction, message)``: True drops that frame.
    """

    def __init__(self, target_port: int, drop: DropRule | None = None) -> None:
        self.target_port = target_port
        self.drop = drop or (lambda direction, message: False)
        self.frames: list[tuple[str, FixMessage]] = []
        self.dropped: list[tuple[str, FixMessage]] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.sockets[0].getsockname()[1])

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def of(self, direction: str, msg_type: str | None = None) -> list[FixMessage]:
        """Frames seen in a direction (before dropping), optionally of one MsgType."""
        return [m for d, m in self.frames if d == direction and (msg_type is None or m.msg_type == msg_type)]

    async def _on_client(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        up = asyncio.create_task(self._pump("out", client_reader, server_writer))
        down = asyncio.create_task(self._pump("in", server_reader, client_writer))
        self._tasks.update((up, down))
        await asyncio.wait((up, down), return_when=asyncio.FIRST_COMPLETED)
        for task in (up, down):
            task.cancel()
        client_writer.close()
        server_writer.close()

    async def _pump(self, direction: str, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        frames = FrameReader()
        while True:
            data = await reader.read(65536)
            if not data:
                return
            frames.feed(data)
            while (frame := frames.next_frame()) is not None:
                message = decode(frame)
                self.frames.append((direction, message))
                if self.drop(direction, message):
                    self.dropped.append((direction, message))
                    continue
                writer.write(frame)
            await writer.drain()
