"""Errors of the Polygon (Massive) adapter."""

from __future__ import annotations


class PolygonError(Exception):
    """Base class of the adapter's errors (their messages never contain the API key)."""


class PolygonAuthError(PolygonError):
    """The API key is missing, unreadable or rejected (``auth_failed``)."""


class PolygonHttpError(PolygonError):
    """A REST request failed for good (after its retries).

    Parameters
    ----------
    url : str
        The request URL with the key removed.
    status : int or None
        The HTTP status, ``None`` for a network failure.
    reason : str
        What went wrong.
    """

    def __init__(self, url: str, status: int | None, reason: str) -> None:
        self.url = url
        self.status = status
        self.reason = reason
        super().__init__(f"{url}: " + (f"HTTP {status}: " if status is not None else "") + reason)


class PolygonFormatError(PolygonError):
    """A response, frame or file does not have the expected form.

    Parameters
    ----------
    where : str
        The source (URL path, file name and line, or ``"frame"``).
    field : str or None
        The field at fault, ``None`` for the whole record.
    reason : str
        What is wrong.
    """

    def __init__(self, where: str, field: str | None, reason: str) -> None:
        self.where = where
        self.field = field
        self.reason = reason
        super().__init__(f"{where}: " + (f"{field}: " if field else "") + reason)


class PolygonStatusError(PolygonError):
    """A status message from the WebSocket server that ends the session (``max_connections`` ...).

    Parameters
    ----------
    status : str
        The ``status`` field, e.g. ``auth_failed``, ``max_connections``, ``slow_consumer``.
    message : str
        The server's ``message`` field.
    """

    def __init__(self, status: str, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(f"Polygon WebSocket status {status}: {message}")
