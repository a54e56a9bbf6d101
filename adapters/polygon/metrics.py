"""Prometheus export of the Polygon data client's counters (reconnects, gaps, parse problems ...).

A collector reads ``PolygonDataClient.metrics()`` when scraped, so the client keeps plain integer
counters on its hot path and pays nothing for the export.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

PREFIX = "hftmm_polygon"
# (parser stats key, metric name, help)
_PARSER = (
    ("frames", "frames", "WebSocket frames parsed"),
    ("messages", "messages", "messages in those frames"),
    ("quote_ticks", "quote_ticks", "QuoteTicks published"),
    ("trade_ticks", "trade_ticks", "TradeTicks published"),
    ("book_events", "book_events", "L1 OrderBookDeltas published"),
    ("malformed", "malformed_messages", "messages (or frames) that could not be decoded"),
    ("unknown", "unknown_messages", "messages of an unknown event type"),
    ("quotes_one_sided", "one_sided_quotes", "one-sided NBBO updates (no QuoteTick)"),
    ("quotes_crossed_or_locked", "crossed_or_locked_quotes", "crossed or locked NBBO updates (no QuoteTick)"),
    ("trades_off_exchange", "off_exchange_trades", "off-exchange trades (no TradeTick)"),
    ("trades_filtered", "filtered_trades", "trades whose conditions are not regular prints"),
    ("non_ms_timestamps", "non_ms_timestamps", "messages whose t was not in ms"),
)


class PolygonMetricsCollector(Collector):
    """Collects one data client's counters, labelled ``client``.

    Parameters
    ----------
    metrics : callable
        ``client.metrics`` (or any callable returning that dict).
    client : str
        The label value (the client id).
    """

    def __init__(self, metrics: Callable[[], dict[str, Any]], client: str = "POLYGON") -> None:
        self._metrics = metrics
        self._client = client

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        m = self._metrics()
        labels = ["client"]

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            c = CounterMetricFamily(f"{PREFIX}_{name}", doc, labels=labels)
            c.add_metric([self._client], value)
            return c

        yield counter("connects", "WebSocket sessions opened by connect()", m["connects"])
        yield counter("reconnects", "sessions re-opened after a drop (each one a FeedGap)", m["reconnects"])
        yield counter("failed_reconnect_attempts", "reconnection attempts that failed", m["failed_attempts"])
        yield counter("gap_seconds", "time spent disconnected between sessions", m["gap_ns_total"] / 1e9)
        statuses = CounterMetricFamily(f"{PREFIX}_statuses", "status messages received", labels=["client", "status"])
        for status, n in sorted(m["statuses"].items()):
            statuses.add_metric([self._client, status], n)
        yield statuses
        for key, name, doc in _PARSER:
            yield counter(name, doc, m["parser"][key])
        channels = GaugeMetricFamily(f"{PREFIX}_channels", "wire channels subscribed", labels=labels)
        channels.add_metric([self._client], len(m["channels"]))
        yield channels
        fatal = GaugeMetricFamily(f"{PREFIX}_stopped", "1 after auth_failed/max_connections ended the feed", labels=labels)
        fatal.add_metric([self._client], 1 if m["fatal_status"] else 0)
        yield fatal
