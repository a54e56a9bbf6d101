"""Custom data the Polygon data client publishes besides ticks and book deltas."""

from __future__ import annotations

from nautilus_trader.core.data import Data


class FeedGap(Data):
    """The live feed was interrupted: events between ``last_event_ns`` and ``ts_event`` may be missing.

    Published (as ``CustomData`` of ``DataType(FeedGap)``) when the data client has reconnected and
    resubscribed, before any data of the new session; the L1 books restart with a snapshot.
    Subscribe with ``subscribe_data(DataType(FeedGap), client_id=ClientId("POLYGON"))``.

    Parameters
    ----------
    disconnected_ns : int
        When the connection was found lost (UTC ns).
    last_event_ns : int
        ``ts_event`` of the last market event received before the drop (0 if none).
    reason : str
        Why the connection ended (close code and reason, or the status message).
    attempts : int
        Connection attempts it took to come back.
    channels : tuple of str
        The channels resubscribed (``T.AAPL``, ``Q.AAPL`` ...).
    ts_event : int
        When the new session was subscribed again (UTC ns).
    ts_init : int
        Same as ``ts_event``.
    """

    def __init__(
        self,
        disconnected_ns: int,
        last_event_ns: int,
        reason: str,
        attempts: int,
        channels: tuple[str, ...],
        ts_event: int,
        ts_init: int,
    ) -> None:
        self.disconnected_ns = disconnected_ns
        self.last_event_ns = last_event_ns
        self.reason = reason
        self.attempts = attempts
        self.channels = channels
        self._ts_event = ts_event
        self._ts_init = ts_init

    @property
    def ts_event(self) -> int:
        return self._ts_event

    @property
    def ts_init(self) -> int:
        return self._ts_init

    @property
    def duration_ns(self) -> int:
        """Time without a connection."""
        return self._ts_event - self.disconnected_ns

    def __repr__(self) -> str:
        return (
            f"FeedGap(disconnected_ns={self.disconnected_ns}, last_event_ns={self.last_event_ns}, "
            f"reconnected_ns={self._ts_event}, attempts={self.attempts}, reason={self.reason!r})"
        )
