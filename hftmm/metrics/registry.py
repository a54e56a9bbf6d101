"""The node's Prometheus metrics, in one registry, and the HTTP endpoint that serves them.

Latencies are histograms in seconds (Prometheus's unit) with microsecond-scale buckets, from 5 µs
to 1 s. Names are prefixed ``hftmm_``; labels are low-cardinality (instrument, side, plugin,
reason, source), never order ids.

``NodeMetrics.current()`` is the process's instance when a node enabled metrics (None otherwise),
so hot-path code pays one attribute check when metrics are off.
"""

from __future__ import annotations

import threading
from typing import ClassVar
from wsgiref.simple_server import WSGIServer

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

# 5 µs .. 1 s: fine steps where a market maker's latencies live.
LATENCY_BUCKETS_S = (
    5e-6, 10e-6, 20e-6, 35e-6, 50e-6, 75e-6, 100e-6, 150e-6, 250e-6, 500e-6,
    1e-3, 2.5e-3, 5e-3, 10e-3, 25e-3, 50e-3, 100e-3, 250e-3, 1.0,
)


class NodeMetrics:
    """Every metric the node exports.

    Parameters
    ----------
    registry : CollectorRegistry, optional
        Where to register (a fresh one by default, so tests and nodes never collide).
    """

    _current: ClassVar[NodeMetrics | None] = None

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry

        def hist(name: str, doc: str, labels: tuple[str, ...] = ()) -> Histogram:
            return Histogram(name, doc, labels, registry=r, buckets=LATENCY_BUCKETS_S)

        self.tick_to_trade = hist("hftmm_tick_to_trade_seconds",
                                  "Market data message received -> order message written to the venue socket.", ("instrument",))
        self.strategy_calc = hist("hftmm_strategy_calc_seconds",
                                  "Book event -> quotes computed and orders worked, in the strategy.", ("instrument",))
        self.risk_chain = hist("hftmm_risk_chain_seconds", "One order message through the risk chain.")
        self.fix_round_trip = hist("hftmm_fix_round_trip_seconds",
                                   "Order message sent -> its first ExecutionReport received.", ("msg_type",))
        self.market_data = Counter("hftmm_market_data_messages", "Market data messages received.", ("source", "kind"), registry=r)
        self.reconnects = Counter("hftmm_reconnects", "Reconnections after a dropped connection.", ("source",), registry=r)
        self.feed_gaps = Counter("hftmm_feed_gaps", "Market data gaps reported after a reconnect.", ("source",), registry=r)
        self.feed_gap_seconds = Counter("hftmm_feed_gap_seconds", "Seconds of market data missed in gaps.", ("source",), registry=r)
        self.orders = Counter("hftmm_orders", "Order commands sent, by kind (submit, modify, cancel).", ("instrument", "kind"), registry=r)
        self.fills = Counter("hftmm_fills", "Fills.", ("instrument", "side", "liquidity"), registry=r)
        self.filled_shares = Counter("hftmm_filled_shares", "Shares filled.", ("instrument", "side"), registry=r)
        self.order_closes = Counter("hftmm_order_closes", "Orders that ended without a full fill, by reason.", ("instrument", "reason"), registry=r)
        self.risk_vetoes = Counter("hftmm_risk_vetoes", "Order messages refused by the risk chain.", ("plugin",), registry=r)
        self.risk_mode = Gauge("hftmm_risk_mode", "1 for the risk chain's current mode.", ("mode",), registry=r)
        self.venue_connected = Gauge("hftmm_venue_session_logged_on", "1 when the FIX session is logged on.", ("venue",), registry=r)
        self.last_market_data = Gauge("hftmm_last_market_data_timestamp_seconds",
                                      "Unix time of the last market data message.", ("source",), registry=r)
        self.pnl = Gauge("hftmm_pnl_dollars", "Mark-to-market PnL (realized + unrealized, net of fees).", ("instrument",), registry=r)
        self.inventory = Gauge("hftmm_inventory_shares", "Net position.", ("instrument",), registry=r)
        self.quoted_spread = Gauge("hftmm_quoted_spread_ticks", "Our best ask minus our best bid, ticks.", ("instrument",), registry=r)
        self.fill_rate = Gauge("hftmm_fill_rate", "Fills per submitted order since the start.", ("instrument",), registry=r)
        self.markout = Gauge("hftmm_markout_bps", "Mean markout of our fills at a horizon, basis points.", ("instrument", "horizon_s"), registry=r)
        self.leader = Gauge("hftmm_leader", "1 when this node holds the leadership lease.", registry=r)
        self.config_version = Gauge("hftmm_config_version", "Version of the running parameters (runtime updates).", registry=r)
        for mode in ("ACTIVE", "REDUCING", "HALTED"):
            self.risk_mode.labels(mode).set(1.0 if mode == "ACTIVE" else 0.0)
        self._server: tuple[WSGIServer, threading.Thread] | None = None

    def set_risk_mode(self, mode: str) -> None:
        """One-hot the risk mode gauge."""
        for m in ("ACTIVE", "REDUCING", "HALTED"):
            self.risk_mode.labels(m).set(1.0 if m == mode else 0.0)

    def serve(self, port: int, addr: str = "127.0.0.1") -> int:
        """Serve ``/metrics`` over HTTP (loopback by default); return the bound port (0 picks one)."""
        server, thread = start_http_server(port, addr=addr, registry=self.registry)
        self._server = (server, thread)
        return int(server.server_port)

    def stop(self) -> None:
        """Stop the HTTP endpoint."""
        if self._server is not None:
            server, thread = self._server
            server.shutdown()
            server.server_close()
            thread.join(timeout=5)
            self._server = None

    @classmethod
    def install(cls, metrics: NodeMetrics | None) -> None:
        """Make ``metrics`` the process's instance (None: metrics off)."""
        cls._current = metrics

    @classmethod
    def current(cls) -> NodeMetrics | None:
        """The process's instance, or None when metrics are off."""
        return cls._current
