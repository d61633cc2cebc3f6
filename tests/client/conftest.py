"""A real in-process HTTP server implementing the Attest ingestion contract, for client tests."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from attest_client import AttestClient

API_KEY = "test-key"


class FakeAttestServer:
    """In-memory, idempotent ingestion server with scriptable failures.

    * ``fail_next``: list of ``(status, headers, body)`` returned (and consumed) before normal
      processing, e.g. ``[(503, {"Retry-After": "0.05"}, {"detail": "busy"})] * 3``;
    * ``store_then_fail``: number of requests that are processed and stored, but answered 503
      (a lost response: the client must retry and get ``duplicate: true``);
    * ``max_items``: batches larger than this get 413;
    * ``api_key``: the accepted key (anything else gets 401);
    * ``refused_models``: predictions with these models get 400 (as do items missing "model");
    * outcomes whose prediction is unknown get 400;
    * ``drop_idle_connections``: close each connection after one response, although the
      response advertised keep-alive (as idle-timeout proxies do);
    * ``poison_ids``: a batch holding one of these event ids gets a 500 with an HTML body and
      nothing is stored (as a server bug on one item does), every time.
    """

    def __init__(self) -> None:
        self.port = 0
        self.lock = threading.Lock()
        self.predictions: dict[str, dict] = {}
        self.outcomes: dict[str, dict] = {}
        self.requests: list[tuple[str, int, int]] = []  # (path, n items, status)
        self.arrivals: list[float] = []  # time.monotonic() at which each request arrived
        self.fail_next: list[tuple[int, dict, dict]] = []
        self.store_then_fail = 0
        self.max_items: int | None = None
        self.api_key = API_KEY
        self.refused_models: set[str] = {"unknown-model"}
        self.drop_idle_connections = False  # close keep-alive connections without telling
        self.poison_ids: set[str] = set()
        self.httpd: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True).start()

    def stop(self) -> None:
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def statuses(self) -> list[int]:
        with self.lock:
            return [status for _, _, status in self.requests]

    # -- contract ------------------------------------------------------------------
    def handle(self, path: str, auth: str | None, items: list) -> tuple[int, dict, dict]:
        with self.lock:
            if auth != f"Api-Key {self.api_key}":
                return 401, {}, {"detail": "Invalid API key."}
            if self.fail_next:
                return self.fail_next.pop(0)
            if any(item.get("event_id") in self.poison_ids for item in items):
                return 500, {"Content-Type": "text/html"}, "<h1>Server Error (500)</h1>"
            if self.max_items is not None and len(items) > self.max_items:
                return 413, {}, {"detail": f"At most {self.max_items} items per request."}
            if path == "/api/v1/predictions/":
                status, body = self._ingest(items, "event_id", self.predictions, self._check_pred)
            elif path == "/api/v1/outcomes/":
                status, body = self._ingest(items, "outcome_id", self.outcomes, self._check_out)
            else:
                return 404, {}, {"detail": "Not found."}
            if status == 201 and self.store_then_fail:
                self.store_then_fail -= 1
                return 503, {}, {"detail": "response lost"}
            return status, {}, body

    def _check_pred(self, item: dict) -> dict:
        if "model" not in item:
            return {"model": ["This field is required."]}
        if item["model"] in self.refused_models:
            return {"model": [f"Unknown model {item['model']!r}."]}
        return {}

    def _check_out(self, item: dict) -> dict:
        if item.get("event_id") not in self.predictions:
            return {"event_id": ["Unknown prediction."]}
        return {}

    def _ingest(self, items, key, store, check) -> tuple[int, dict]:
        errors = [
            {"index": i, "event_id": item.get("event_id"), "errors": err}
            for i, item in enumerate(items)
            if (err := check(item))
        ]
        if errors:
            return 400, {"detail": "Invalid items; nothing stored.", "errors": errors}
        conflicts = [
            {"index": i, "event_id": item.get("event_id"), "errors": {key: ["conflict"]}}
            for i, item in enumerate(items)
            if item[key] in store and store[item[key]] != item
        ]
        if conflicts:
            return 409, {"detail": "Same id, different content.", "errors": conflicts}
        receipts = []
        for item in items:
            duplicate = item[key] in store
            store[item[key]] = item
            receipts.append(
                {
                    "event_id": item["event_id"],
                    "entry_id": len(store),
                    "leaf_hash": "0" * 64,
                    "duplicate": duplicate,
                }
            )
        return 201, {"receipts": receipts}


def _handler(server: FakeAttestServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, like a real deployment
        disable_nagle_algorithm = True  # headers and body are written separately

        def do_POST(self) -> None:  # noqa: N802
            arrived = time.monotonic()
            raw = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            items = json.loads(raw)
            status, headers, body = server.handle(
                self.path, self.headers.get("Authorization"), items
            )
            with server.lock:
                server.requests.append((self.path, len(items), status))
                server.arrivals.append(arrived)
            data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
            self.send_response(status)
            for name, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            self.close_connection = server.drop_idle_connections

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def server():
    srv = FakeAttestServer()
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture
def make_client():
    clients: list[AttestClient] = []

    def make(url: str, **kwargs) -> AttestClient:
        options = {
            "api_key": API_KEY,
            "flush_interval": 0.05,
            "timeout": 2.0,
            "backoff_base": 0.01,
            "backoff_max": 0.05,
            "auth_retry_interval": 0.05,
            "register_atexit": False,
            **kwargs,
        }
        client = AttestClient(url, **options)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close(timeout=1.0)
