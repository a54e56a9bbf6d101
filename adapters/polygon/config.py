"""Configuration of the Polygon live data client and of the historical ingest."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from nautilus_trader.config import LiveDataClientConfig, PositiveFloat, PositiveInt

from adapters.polygon.constants import REST_URL, WS_URL


class PolygonDataClientConfig(LiveDataClientConfig, frozen=True):
    """Configuration of ``PolygonDataClient``.

    The API key is not a field: it is read from the environment when the client is built
    (``MASSIVE_API_KEY``/``POLYGON_API_KEY`` or a file named by ``MASSIVE_API_KEY_FILE``), so that a
    logged or saved config never contains it.

    Parameters
    ----------
    ws_url : str
        The stocks WebSocket (``wss://socket.massive.com/stocks``; the feed server's
        ``ws://127.0.0.1:PORT`` locally).
    rest_url : str
        REST base URL, for instruments when no ``catalog_path`` is given.
    catalog_path : str, optional
        Load instruments from this hftmm catalog instead of REST.
    quote_size_unit : int
        Shares per unit of the ``bs``/``as`` quote sizes: 100 for the documented round lots, 1 when
        the feed sends shares.
    conditions_file : str, optional
        A saved ``/v3/reference/conditions`` response (the ingest writes one into the catalog):
        trades whose conditions are not regular prints are then not published. Without it every
        lit trade is.
    reconnect_initial_delay, reconnect_max_delay : float
        Backoff between reconnection attempts (doubling, seconds).
    max_reconnect_attempts : int, optional
        Consecutive failed attempts before giving up (``None``: never give up).
    auth_timeout : float
        Seconds to wait for the ``auth_success`` answer.
    """

    ws_url: str = WS_URL
    rest_url: str = REST_URL
    catalog_path: str | None = None
    quote_size_unit: PositiveInt = 100
    conditions_file: str | None = None
    reconnect_initial_delay: PositiveFloat = 0.5
    reconnect_max_delay: PositiveFloat = 30.0
    max_reconnect_attempts: PositiveInt | None = None
    auth_timeout: PositiveFloat = 10.0


class PolygonIngestConfig(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Rules and limits of ``ingest_polygon``.

    Parameters
    ----------
    rest_url : str
        REST base URL.
    page_limit : int
        ``limit`` of each trades/quotes request (the API's maximum is 50,000).
    quote_size_unit : {"auto", "lots", "shares"}
        Unit of the quote sizes. ``auto`` decides per symbol-day: all sizes multiples of 100 means
        shares, otherwise round lots (the documentation says lots; some data shows shares).
    odd_lot_trades : bool
        Keep odd-lot prints as TradeTicks (the TAQ ingest keeps them).
    max_retries : int
        Retries of a request that got 429/5xx or a network error.
    backoff : float
        First retry delay (seconds, doubling).
    chunk_objects : int
        Nautilus objects per catalog file chunk.
    """

    rest_url: str = REST_URL
    page_limit: Annotated[int, msgspec.Meta(gt=0, le=50_000)] = 50_000
    quote_size_unit: Literal["auto", "lots", "shares"] = "auto"
    max_retries: Annotated[int, msgspec.Meta(ge=0)] = 5
    backoff: Annotated[float, msgspec.Meta(gt=0)] = 0.5
    chunk_objects: Annotated[int, msgspec.Meta(gt=0)] = 1_000_000
