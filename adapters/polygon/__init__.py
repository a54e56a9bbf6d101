"""Polygon.io / Massive adapter: REST and flat-file history into the catalog, the live WebSocket
data client, and a local feed server that replays a catalog day over Polygon's protocol."""

from adapters.polygon.config import PolygonDataClientConfig, PolygonIngestConfig
from adapters.polygon.credentials import ApiKey, load_api_key
from adapters.polygon.errors import PolygonAuthError, PolygonError, PolygonFormatError, PolygonHttpError, PolygonStatusError
from adapters.polygon.types import FeedGap

__all__ = [
    "ApiKey",
    "FeedGap",
    "PolygonAuthError",
    "PolygonDataClientConfig",
    "PolygonError",
    "PolygonFormatError",
    "PolygonHttpError",
    "PolygonIngestConfig",
    "PolygonStatusError",
    "load_api_key",
]
