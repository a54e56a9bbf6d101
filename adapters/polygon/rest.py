"""A small synchronous REST client for Polygon / Massive (stdlib ``urllib`` + msgspec).

- The key goes in the ``Authorization: Bearer`` header, never in a URL, so it cannot reach a log
  line, an error message or a saved ``next_url``.
- ``next_url`` does not carry the key, and its host is not trusted: only its path and query are
  taken and sent to the configured base URL (market-data-formats.md §2.1, §2.4).
- 429 and 5xx answers and network failures are retried with exponential backoff (``Retry-After``
  honoured when the server gives it); other 4xx answers fail at once with the server's message.
- JSON is decoded with msgspec: integers stay exact Python ints (ns timestamps never pass through
  float64).
"""

from __future__ import annotations

import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import msgspec

from adapters.polygon.constants import REST_URL
from adapters.polygon.credentials import ApiKey
from adapters.polygon.errors import PolygonAuthError, PolygonFormatError, PolygonHttpError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_JSON = msgspec.json.Decoder()


def relative_url(next_url: str) -> str:
    """The path and query of a ``next_url``, with any ``apiKey`` parameter removed."""
    parts = urllib.parse.urlsplit(next_url)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "apikey"]
    return parts.path + ("?" + urllib.parse.urlencode(query) if query else "")


class PolygonRestClient:
    """GET requests against one Polygon/Massive base URL.

    Parameters
    ----------
    api_key : ApiKey
        The key (sent as a Bearer token).
    base_url : str
        ``https://api.massive.com`` by default; a local test server in tests.
    timeout : float
        Seconds per request.
    max_retries : int
        Retries after the first attempt for 429/5xx/network failures.
    backoff : float
        First retry delay in seconds, doubled each time up to ``max_backoff``.
    max_backoff : float
        Longest delay between retries.
    sleep : callable
        ``time.sleep`` (replaced in tests).
    """

    def __init__(
        self,
        api_key: ApiKey,
        base_url: str = REST_URL,
        *,
        timeout: float = 30.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.sleep = sleep
        self.requests = 0
        self.retries = 0

    def url(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The full URL of ``path`` (a path with or without a query) on the configured host."""
        url = self.base_url + (path if path.startswith("/") else "/" + path)
        if params:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(params)
        return url

    def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """GET ``path`` and return the decoded JSON object.

        Raises
        ------
        PolygonAuthError
            401/403.
        PolygonHttpError
            Any other failure, after the retries for 429/5xx/network errors.
        PolygonFormatError
            The body is not a JSON object.
        """
        url = self.url(path, params)
        shown = self.api_key.redact(url)
        delay = self.backoff
        attempt = 0
        while True:
            attempt += 1
            self.requests += 1
            request = urllib.request.Request(
                url, headers={"Authorization": f"Bearer {self.api_key.reveal()}", "Accept": "application/json"},
            )
            retry_after: float | None = None
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - https/http only
                    body = response.read()
                break
            except urllib.error.HTTPError as e:
                detail = self._error_detail(e)
                if e.code in (401, 403):
                    raise PolygonAuthError(f"{shown}: HTTP {e.code}: {detail}") from None
                if e.code not in RETRY_STATUSES or attempt > self.max_retries:
                    raise PolygonHttpError(shown, e.code, detail) from None
                retry_after = self._retry_after(e)
            except (urllib.error.URLError, TimeoutError, socket.timeout, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                if attempt > self.max_retries:
                    raise PolygonHttpError(shown, None, self.api_key.redact(f"network failure: {reason}")) from None
            self.retries += 1
            self.sleep(retry_after if retry_after is not None else delay)
            delay = min(delay * 2, self.max_backoff)
        try:
            data = _JSON.decode(body)
        except msgspec.DecodeError as e:
            raise PolygonFormatError(shown, None, f"response is not JSON: {e}") from None
        if not isinstance(data, dict):
            raise PolygonFormatError(shown, None, "response is not a JSON object")
        return data

    def _error_detail(self, e: urllib.error.HTTPError) -> str:
        try:
            body = e.read()[:500]
            data = _JSON.decode(body)
            text = str(data.get("error") or data.get("message") or data) if isinstance(data, dict) else str(data)
        except Exception:  # noqa: BLE001 - the error body is best effort
            text = e.reason if isinstance(e.reason, str) else "error"
        return self.api_key.redact(text)

    def _retry_after(self, e: urllib.error.HTTPError) -> float | None:
        value = e.headers.get("Retry-After") if e.headers else None
        try:
            return min(float(value), self.max_backoff) if value is not None else None
        except ValueError:
            return None

    def pages(self, path: str, params: dict[str, Any] | None = None, next_url: str | None = None) -> Iterator[tuple[dict[str, Any], str | None]]:
        """Every page of a paginated endpoint with the ``next_url`` that follows it (``None`` on the last).

        Parameters
        ----------
        path, params : str, dict
            The first request.
        next_url : str, optional
            Resume from this ``next_url`` instead of the first request.
        """
        page = self.get(relative_url(next_url)) if next_url else self.get(path, params)
        while True:
            following = page.get("next_url") or None
            yield page, following
            if following is None:
                return
            page = self.get(relative_url(following))

    def all_results(self, path: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """``results`` of every page, concatenated (reference endpoints)."""
        out: list[dict[str, Any]] = []
        for page, _ in self.pages(path, params):
            results = page.get("results") or []
            if not isinstance(results, list):
                raise PolygonFormatError(self.url(path), "results", "not a list")
            out.extend(results)
        return out
