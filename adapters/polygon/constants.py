"""Hosts, environment names, exchange ids and status codes of Polygon / Massive (data, no logic)."""

from __future__ import annotations

from nautilus_trader.model.identifiers import ClientId

POLYGON = "POLYGON"
POLYGON_CLIENT_ID = ClientId(POLYGON)

REST_URL = "https://api.massive.com"  # api.polygon.io still answers (market-data-formats.md §2.1)
WS_URL = "wss://socket.massive.com/stocks"
WS_DELAYED_URL = "wss://delayed.massive.com/stocks"

# Polygon exchange id -> MIC, from /v3/reference/exchanges (market-data-formats.md §2.7). Used when
# the reference endpoint is not at hand (the feed server, a live client without REST access);
# ids 4 (TRFs/ADF), 5 and 13 (the SIPs) have no single MIC.
EXCHANGE_MIC: dict[int, str] = {
    1: "XASE", 2: "XBOS", 3: "XCIS", 6: "XISE", 7: "EDGA", 8: "EDGX", 9: "XCHI", 10: "XNYS", 11: "ARCX",
    12: "XNAS", 14: "LTSE", 15: "IEXG", 16: "CBSX", 17: "XPHL", 18: "BATY", 19: "BATS", 20: "EPRL", 21: "MEMX",
}
EXCHANGE_ID: dict[str, int] = {mic: i for i, mic in EXCHANGE_MIC.items()}
# The tape of a listing MIC: 1 = A (NYSE), 3 = C (Nasdaq), 2 = B (everything else).
TAPE_OF_LISTING = {"XNYS": 1, "XNAS": 3}

# Status messages that end a WebSocket session: the server closes (or is about to close) it.
STATUS_AUTH_FAILED = "auth_failed"
STATUS_AUTH_TIMEOUT = "auth_timeout"
STATUS_MAX_CONNECTIONS = "max_connections"
STATUS_FORCE_DISCONNECT = "force_disconnect"
STATUS_SLOW_CONSUMER = "slow_consumer"
# Reconnecting after these would only be refused again (or kick the session that replaced us).
FATAL_STATUSES = frozenset({STATUS_AUTH_FAILED, STATUS_MAX_CONNECTIONS})
DISCONNECT_STATUSES = frozenset({STATUS_AUTH_TIMEOUT, STATUS_FORCE_DISCONNECT, STATUS_SLOW_CONSUMER}) | FATAL_STATUSES

TRADES_CHANNEL = "T"
QUOTES_CHANNEL = "Q"
