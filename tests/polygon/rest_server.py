"""A local HTTP server that answers like Polygon's REST API with the real captured responses.

Routes serve the files of ``shared/data/polygon/rest/`` byte for byte; ``/v3/quotes/AAPL`` serves
page 1, and page 2 when asked with the cursor of page 1's real ``next_url``. The ticker reference
is the official example object of the REST specification. The server checks the Bearer key,
records every request, and can be told to answer a path with error statuses first (429/5xx).
"""

from __future__ import annotations

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


@dataclass
class Hit:
    path: str
    query: dict[str, list[str]]
    authorization: str | None
    status: int


@dataclass
class FixtureRestServer:
    rest_dir: Path
    spec: Path
    key: str
    hits: list[Hit] = field(default_factory=list)
    faults: dict[str, list[int]] = field(default_factory=dict)  # route -> statuses to answer first

    def __post_init__(self) -> None:
        page1 = json.loads((self.rest_dir / "v3_quotes_AAPL_page1.json").read_text())
        self.cursor = urllib.parse.parse_qs(urllib.parse.urlsplit(page1["next_url"]).query)["cursor"][0]
        spec = json.loads(self.spec.read_text())
        example = spec["paths"]["/v3/reference/tickers/{ticker}"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
        self.ticker_body = json.dumps(example).encode()
        self._server: ThreadingHTTPServer | None = None

    def route(self, path: str, query: dict[str, list[str]]) -> tuple[str, bytes | None]:
        files = {
            "/v3/reference/conditions": "v3_reference_conditions_stocks.json",
            "/v3/reference/exchanges": "v3_reference_exchanges.json",
            "/v3/trades/AAPL": "v3_trades_AAPL_limit2.json",
        }
        if path in files:
            return path, (self.rest_dir / files[path]).read_bytes()
        if path == "/v3/quotes/AAPL":
            if query.get("cursor") == [self.cursor]:
                return "quotes-page2", (self.rest_dir / "v3_quotes_AAPL_page2_cursor.json").read_bytes()
            if "cursor" in query:
                return "quotes-bad-cursor", None
            return "quotes-page1", (self.rest_dir / "v3_quotes_AAPL_page1.json").read_bytes()
        if path == "/v3/reference/tickers/AAPL":
            return path, self.ticker_body
        return path, None

    def start(self) -> str:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                parts = urllib.parse.urlsplit(self.path)
                query = urllib.parse.parse_qs(parts.query)
                auth = self.headers.get("Authorization")
                route, body = owner.route(parts.path, query)
                if auth != f"Bearer {owner.key}":
                    status, body = 401, b'{"status":"ERROR","error":"Unknown API Key"}'
                elif owner.faults.get(route):
                    status = owner.faults[route].pop(0)
                    body = b'{"status":"ERROR","error":"You\'ve exceeded the maximum requests per minute"}'
                elif body is None:
                    status, body = 404, b'{"status":"NOT_FOUND","message":"not found"}'
                else:
                    status = 200
                owner.hits.append(Hit(route, query, auth, status))
                self._answer(status, body, {"Retry-After": "0"} if status == 429 else None)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def count(self, route: str, status: int = 200) -> int:
        return sum(1 for h in self.hits if h.path == route and h.status == status)
