"""Test harness: a venue on loopback, a synthetic catalog day, and FIX initiators speaking the profile."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from adapters.fix.application import Application
from adapters.fix.codec import FixMessage
from adapters.fix.config import SessionConfig, StoreConfig
from adapters.fix.dictionary import DataDictionary
from adapters.fix.profile import profile_dictionary_path
from adapters.fix.session import Session, utc_now
from adapters.fix.times import format_utc_timestamp
from adapters.fix.transport import FixInitiator, build_session
from hftmm.venue.config import VenueConfig
from hftmm.venue.market_replay import MarketEvent
from hftmm.venue.matching_engine import SymbolSpec
from hftmm.venue.server import VenueServer

DATE = dt.date(2024, 3, 11)
IID = "ACME.XNYS"
Day = tuple[list[tuple[str, MarketEvent]], list[SymbolSpec]]
"""The ``day`` fixture: the synthetic day's market events and its symbols."""


async def until(condition: Callable[[], bool], timeout: float = 10.0, what: str = "condition") -> None:
    """Wait for ``condition`` (polling), failing with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


def run(coro: Callable[[], Awaitable[None]], timeout: float = 60.0) -> None:
    asyncio.run(asyncio.wait_for(coro(), timeout))


class Client(Application):
    """Records every application message it receives (in order)."""

    def __init__(self) -> None:
        self.received: list[FixMessage] = []
        self.admin: list[FixMessage] = []
        self.session: Session | None = None

    def on_create(self, session: Session) -> None:
        self.session = session

    def from_app(self, message: FixMessage, session: Session) -> None:
        self.received.append(message)

    def from_admin(self, message: FixMessage, session: Session) -> None:
        self.admin.append(message)

    def of(self, msg_type: str, **tags: str) -> list[FixMessage]:
        """Received messages of a type whose fields match ``tags`` (``t150="F"``)."""
        want = {int(k[1:]): v for k, v in tags.items()}
        return [m for m in self.received if m.msg_type == msg_type and all(m.get(t) == v for t, v in want.items())]


def now_text() -> str:
    return format_utc_timestamp(utc_now(), 6)


def new_order(cl_ord_id: str, side: str, qty: int, price: str | None, *, tif: str = "0", post_only: bool = False,
              epoch: int = 0, symbol: str = "ACME") -> list[tuple[int, str]]:
    body: list[tuple[int, str]] = [(11, cl_ord_id)]
    if post_only:
        body.append((18, "6"))
    body += [(38, str(qty)), (40, "2" if price is not None else "1")]
    if price is not None:
        body.append((44, price))
    body += [(54, side), (55, symbol), (59, tif), (60, now_text()), (207, "XNYS"), (20001, str(epoch))]
    return body


def cancel(cl_ord_id: str, orig: str, side: str, qty: int, epoch: int = 0) -> list[tuple[int, str]]:
    return [(11, cl_ord_id), (38, str(qty)), (41, orig), (54, side), (55, "ACME"), (60, now_text()), (207, "XNYS"),
            (20001, str(epoch))]


def replace(cl_ord_id: str, orig: str, side: str, qty: int, price: str, epoch: int = 0) -> list[tuple[int, str]]:
    return [(11, cl_ord_id), (38, str(qty)), (40, "2"), (41, orig), (44, price), (54, side), (55, "ACME"),
            (59, "0"), (60, now_text()), (207, "XNYS"), (20001, str(epoch))]


def venue_config(catalog: Path, state_dir: Path, **overrides: Any) -> VenueConfig:
    values: dict[str, Any] = {
        "catalog": str(catalog), "date": DATE, "instruments": [IID], "port": 0, "participants": ["HFTMM", "MM2"],
        "state_dir": str(state_dir), "speed": 1.0, "start": "09:30", "store_sync": False, "snapshot_interval_s": 0.5,
    }
    values.update(overrides)
    return VenueConfig(**values)


def client_session(port: int, sender: str = "HFTMM", *, store_dir: Path | None = None,
                   target: str = "HFTMMVENUE", reconnect_s: float = 0.2) -> tuple[Session, Client]:
    app = Client()
    config = SessionConfig(
        sender_comp_id=sender, target_comp_id=target, role="initiator", port=port, heartbeat_interval=1,
        reconnect_interval_s=reconnect_s, timer_interval_s=0.1,
        store=StoreConfig(kind="file", path=str(store_dir), sync=False) if store_dir else StoreConfig(kind="memory"),
    )
    return build_session(config, app, dictionary=DataDictionary(profile_dictionary_path())), app


async def connect(port: int, sender: str = "HFTMM", **kwargs: Any) -> tuple[FixInitiator, Session, Client]:
    session, app = client_session(port, sender, **kwargs)
    initiator = FixInitiator(session)
    await initiator.start()
    await session.wait_logged_on(10)
    return initiator, session, app


def make_server(config: VenueConfig, events: list[tuple[str, MarketEvent]], specs: list[SymbolSpec]) -> VenueServer:
    return VenueServer(config, events=events, specs=specs)
