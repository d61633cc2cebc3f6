"""Non-blocking, batching client for the Attest audit ledger (standard library only).

Model services call :meth:`AttestClient.log_prediction` / :meth:`AttestClient.log_outcome`;
the call validates and JSON-encodes the item immediately (bad arguments raise ``ValueError``
in the caller), appends it to a bounded in-memory buffer and returns. A background daemon
thread sends batches to ``POST {base_url}/api/v1/predictions/`` and ``.../outcomes/`` when
``batch_size`` items are waiting or ``flush_interval`` seconds have passed.

Delivery policy: every item is either acknowledged by the server or explicitly given up on.

* 201: acknowledged (``duplicate: true`` receipts are successful idempotent retries).
* 400 / 409 / 422: the listed items are refused; they are logged, counted in
  ``stats.rejected`` and kept in :attr:`AttestClient.rejected`; the rest is resent.
* 413: the batch is split in half (a single item that is still too large is rejected).
* 408 / 425 / 429 / 5xx, connection errors and timeouts: the same batch (same ids, so the
  server deduplicates) is retried forever with capped exponential backoff and jitter,
  honouring ``Retry-After``.
* 401 / 403 and other unexpected statuses: logged once per status, retried every
  ``auth_retry_interval`` seconds (a rotated key may fix it).
* Buffer full (``max_buffer`` items queued or in flight): the NEWEST item is dropped,
  ``stats.dropped`` is incremented and a rate-limited warning is logged.

Example::

    from attest_client import AttestClient

    with AttestClient("https://attest.example.com", api_key="...") as client:
        event_id = client.log_prediction(
            model="credit-scoring", version="1.0.0",
            inputs={"income": 52000, "age": 41}, output={"score": 0.81, "decision": 1},
            sensitive={"sex": "F"}, context={"environment": "production"},
        )
        client.log_outcome(event_id=event_id, outcome={"label": 1})
        result = client.flush(timeout=5)   # FlushResult(ok=True, ...)
"""

from __future__ import annotations

import atexit
import http.client
import json
import logging
import os
import random
import threading
import time
import uuid
import weakref
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger("attest_client")
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC would make the client require Python 3.11

PREDICTIONS = "predictions"
OUTCOMES = "outcomes"
DROP_WARNING_INTERVAL = 10.0  # seconds between two "buffer full" warnings
MAX_RETRY_AFTER = 300.0  # a server-provided Retry-After is honoured up to this many seconds
_ITEM_ERROR_STATUSES = (400, 409, 422)
_STALE_CONNECTION_ERRORS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_COUNTERS = ("sent", "acknowledged", "duplicates", "rejected", "dropped", "retries", "requests")


@dataclass(frozen=True)
class ClientStats:
    """Counters since the client was created (a snapshot). ``sent`` counts item transmissions
    (a retried item counts each time), ``retries`` counts re-sent requests, ``pending`` the
    items buffered or in flight."""

    sent: int
    acknowledged: int
    duplicates: int
    rejected: int
    dropped: int
    retries: int
    requests: int
    pending: int


@dataclass(frozen=True)
class FlushResult:
    """Outcome of :meth:`AttestClient.flush` for the items buffered when it was called."""

    ok: bool  # True when every such item was acknowledged or rejected
    remaining: int  # items still unsettled (timeout or client closed)
    acknowledged: int
    rejected: int

    def __bool__(self) -> bool:
        return self.ok


@dataclass(frozen=True)
class RejectedItem:
    """An item the server refused; it will not be resent."""

    kind: str  # "predictions" or "outcomes"
    id: str  # event_id (predictions) or outcome_id (outcomes)
    item: dict
    status: int
    errors: Any  # the server's error entry for this item
    detail: str


class _Item:
    __slots__ = ("seq", "key", "body", "queued_at")

    def __init__(self, seq: int, key: str, body: str) -> None:
        self.seq, self.key, self.body, self.queued_at = seq, key, body, time.monotonic()


class _Waiter:
    __slots__ = ("target", "remaining", "acknowledged", "rejected")

    def __init__(self, target: int, remaining: int) -> None:
        self.target, self.remaining, self.acknowledged, self.rejected = target, remaining, 0, 0


class AttestClient:
    """Thread-safe client; see the module docstring. One background thread per instance."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        batch_size: int = 500,
        flush_interval: float = 0.5,
        max_buffer: int = 100_000,
        timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        auth_retry_interval: float = 30.0,
        max_rejected: int = 1000,
        register_atexit: bool = True,
        atexit_timeout: float = 5.0,
    ) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("api_key must be a non-empty string")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be a positive integer")
        if not isinstance(max_buffer, int) or max_buffer < 1:
            raise ValueError("max_buffer must be a positive integer")
        for name, value in (("flush_interval", flush_interval), ("timeout", timeout)):
            if not value > 0:
                raise ValueError(f"{name} must be positive")
        secure = parts.scheme == "https"
        self._conn_cls = http.client.HTTPSConnection if secure else http.client.HTTPConnection
        self._host, self._port = parts.hostname, parts.port or (443 if secure else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"}
        self._batch_size, self._max_buffer = batch_size, max_buffer
        self._flush_interval = flush_interval
        self._timeout, self._backoff_base, self._backoff_max = timeout, backoff_base, backoff_max
        self._auth_retry_interval, self._atexit_timeout = auth_retry_interval, atexit_timeout
        self._cond = threading.Condition(threading.Lock())
        self._queues: dict[str, deque[_Item]] = {PREDICTIONS: deque(), OUTCOMES: deque()}
        self._seq = self._pending = self._unreported_drops = 0
        self._last_drop_warning = float("-inf")
        self._waiters: list[_Waiter] = []
        self._counts = dict.fromkeys(_COUNTERS, 0)
        self._rejected: deque[RejectedItem] = deque(maxlen=max_rejected)
        self._closed = False
        self._abort = threading.Event()
        self._conn: http.client.HTTPConnection | None = None
        self._logged_statuses: set[int] = set()
        self._thread = threading.Thread(target=self._run, name="attest-client", daemon=True)
        self._thread.start()
        _live_clients.add(self)
        self._atexit = register_atexit
        if register_atexit:
            atexit.register(self._close_at_exit)

    # ------------------------------------------------------------------ public API
    def log_prediction(
        self,
        model: str,
        version: str,
        inputs: dict,
        output: dict,
        explanation: Any = None,
        sensitive: dict | None = None,
        context: dict | None = None,
        decided_at: datetime | str | None = None,
        event_id: str | uuid.UUID | None = None,
        subject_id: str | None = None,
    ) -> str:
        """Buffer a prediction and return its event id (generated when not given).
        ``subject_id`` names the data subject when the inputs carry personal fields."""
        event_id = _uuid(event_id, "event_id") if event_id is not None else str(uuid.uuid4())
        item = {
            "event_id": event_id,
            "model": _text(model, "model"),
            "version": _text(version, "version"),
            "decided_at": _timestamp(decided_at, "decided_at"),
            "inputs": _object(inputs, "inputs"),
            "output": _object(output, "output"),
        }
        if explanation is not None:
            item["explanation"] = explanation
        if sensitive is not None:
            item["sensitive"] = _object(sensitive, "sensitive")
        if context is not None:
            item["context"] = _object(context, "context")
        if subject_id is not None:
            item["subject_id"] = _text(subject_id, "subject_id")
        self._enqueue(PREDICTIONS, event_id, item)
        return event_id

    def log_outcome(
        self,
        event_id: str | uuid.UUID,
        outcome: dict,
        observed_at: datetime | str | None = None,
        outcome_id: str | uuid.UUID | None = None,
        corrects: str | uuid.UUID | None = None,
    ) -> str:
        """Buffer the observed outcome of prediction ``event_id``; return the outcome id.
        ``corrects`` is the outcome_id of an earlier outcome this one supersedes."""
        outcome_id = _uuid(outcome_id, "outcome_id") if outcome_id is not None else None
        outcome_id = outcome_id or str(uuid.uuid4())
        item = {
            "outcome_id": outcome_id,
            "event_id": _uuid(event_id, "event_id"),
            "outcome": _object(outcome, "outcome"),
            "observed_at": _timestamp(observed_at, "observed_at"),
        }
        if corrects is not None:
            item["corrects"] = _uuid(corrects, "corrects")
        self._enqueue(OUTCOMES, outcome_id, item)
        return outcome_id

    def flush(self, timeout: float | None = None) -> FlushResult:
        """Send now and block until every item buffered so far is acknowledged or rejected
        (or ``timeout`` seconds pass, or the client is closed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            waiter = _Waiter(self._seq, self._pending)
            if waiter.remaining and not self._abort.is_set():
                self._waiters.append(waiter)
                self._cond.notify_all()
                try:
                    while waiter.remaining and not self._abort.is_set():
                        left = None if deadline is None else deadline - time.monotonic()
                        if left is not None and left <= 0:
                            break
                        self._cond.wait(left)
                finally:
                    self._waiters.remove(waiter)
        return FlushResult(
            waiter.remaining == 0, waiter.remaining, waiter.acknowledged, waiter.rejected
        )

    def close(self, timeout: float | None = 30.0) -> FlushResult:
        """Flush (up to ``timeout`` seconds), then stop the background thread. Items logged
        after close() are dropped. Undelivered items are reported with a warning."""
        with self._cond:
            already_closed, self._closed = self._closed, True
        result = self.flush(timeout if not already_closed else 0)
        self._abort.set()
        with self._cond:
            self._cond.notify_all()
        if already_closed:
            return result
        if threading.current_thread() is not self._thread:
            self._thread.join(1.0)
        if self._atexit:
            atexit.unregister(self._close_at_exit)
        if not result.ok:
            logger.warning("Attest client closed with %d item(s) NOT delivered", result.remaining)
        return result

    def __enter__(self) -> AttestClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def stats(self) -> ClientStats:
        with self._cond:
            return ClientStats(**self._counts, pending=self._pending)

    @property
    def rejected(self) -> list[RejectedItem]:
        """The most recent refused items (bounded by ``max_rejected``), oldest first."""
        with self._cond:
            return list(self._rejected)

    # ------------------------------------------------------------------ buffering
    def _enqueue(self, kind: str, key: str, item: dict) -> None:
        try:
            body = json.dumps(item, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{kind[:-1]} {key} is not JSON-serialisable: {exc}") from None
        warn = 0
        with self._cond:
            if self._closed or self._pending >= self._max_buffer:
                self._counts["dropped"] += 1
                self._unreported_drops += 1
                now = time.monotonic()
                if now - self._last_drop_warning >= DROP_WARNING_INTERVAL:
                    warn, self._unreported_drops = self._unreported_drops, 0
                    self._last_drop_warning = now
            else:
                self._seq += 1
                self._queues[kind].append(_Item(self._seq, key, body))
                self._pending += 1
                queued = len(self._queues[PREDICTIONS]) + len(self._queues[OUTCOMES])
                if queued == 1 or queued >= self._batch_size:
                    self._cond.notify_all()
        if warn:
            reason = "client is closed" if self._closed else f"buffer full ({self._max_buffer})"
            logger.warning("Attest %s: dropped %d new item(s)", reason, warn)

    def _next_kind_locked(self) -> str | None:
        preds, outs = self._queues[PREDICTIONS], self._queues[OUTCOMES]
        if not preds and not outs:
            return None
        if not (self._waiters or self._closed or len(preds) + len(outs) >= self._batch_size):
            oldest = min(q[0].queued_at for q in (preds, outs) if q)
            if time.monotonic() - oldest < self._flush_interval:
                return None
        return PREDICTIONS if preds else OUTCOMES  # predictions before their outcomes

    def _wait_time_locked(self) -> float | None:
        heads = [q[0].queued_at for q in self._queues.values() if q]
        if not heads:
            return None
        return max(0.001, min(heads) + self._flush_interval - time.monotonic())

    def _settle(self, items: list[_Item], acknowledged: bool, duplicates: int = 0) -> None:
        with self._cond:
            self._pending -= len(items)
            self._counts["acknowledged" if acknowledged else "rejected"] += len(items)
            self._counts["duplicates"] += duplicates
            for waiter in self._waiters:
                n = sum(1 for item in items if item.seq <= waiter.target)
                waiter.remaining -= n
                if acknowledged:
                    waiter.acknowledged += n
                else:
                    waiter.rejected += n
            self._cond.notify_all()

    # ------------------------------------------------------------------ sending
    def _run(self) -> None:
        while not self._abort.is_set():
            with self._cond:
                kind = self._next_kind_locked()
                while kind is None:
                    if self._abort.is_set():
                        return
                    self._cond.wait(self._wait_time_locked())
                    kind = self._next_kind_locked()
                queue = self._queues[kind]
                batch = [queue.popleft() for _ in range(min(len(queue), self._batch_size))]
            try:
                self._deliver(kind, batch)
            except Exception:  # pragma: no cover - defensive: the sender must never die
                logger.exception("Attest client: unexpected error while sending")

    def _deliver(self, kind: str, batch: list[_Item]) -> None:
        stack, attempt = [batch], 0
        while stack and not self._abort.is_set():
            items = stack.pop()
            status, headers, payload = self._post(kind, items)
            if status is not None and 200 <= status < 300:
                self._acknowledge(kind, items, payload)
                attempt = 0
                self._logged_statuses.clear()
            elif status in _ITEM_ERROR_STATUSES or status == 413:
                bad = _bad_items(payload, items) if status != 413 else {}
                if not bad and len(items) > 1:  # isolate the culprit(s) by bisection
                    half = len(items) // 2
                    stack += [items[half:], items[:half]]
                    continue
                bad = bad or {0: payload}
                self._reject(kind, [(items[i], err) for i, err in bad.items()], status, payload)
                rest = [item for i, item in enumerate(items) if i not in bad]
                if rest:
                    stack.append(rest)
            else:
                stack.append(items)
                attempt += 1
                delay = self._retry_delay(kind, status, headers, payload, attempt)
                with self._cond:
                    self._counts["retries"] += 1
                self._abort.wait(delay)

    def _retry_delay(
        self, kind: str, status: int | None, headers: Any, payload: Any, attempt: int
    ) -> float:
        if status is None or status in (408, 425, 429) or status >= 500:
            if attempt == 1 or attempt % 20 == 0:
                problem = payload if status is None else f"HTTP {status}"
                logger.warning("Attest %s: %s (attempt %d), retrying", kind, problem, attempt)
            retry_after = _retry_after(headers.get("Retry-After")) if headers else None
            if retry_after is not None:
                return min(retry_after, MAX_RETRY_AFTER)
            ceiling = min(self._backoff_max, self._backoff_base * 2 ** min(attempt - 1, 30))
            return random.uniform(ceiling / 2, ceiling)
        if status not in self._logged_statuses:
            self._logged_statuses.add(status)
            logger.error(
                "Attest %s: HTTP %s (%s) - check base_url and api_key; items kept, "
                "retrying every %ss",
                kind,
                status,
                _detail(payload),
                self._auth_retry_interval,
            )
        return self._auth_retry_interval

    def _post(self, kind: str, items: list[_Item]) -> tuple[int | None, Any, Any]:
        body = ("[" + ",".join(item.body for item in items) + "]").encode()
        with self._cond:
            self._counts["requests"] += 1
            self._counts["sent"] += len(items)
        path = f"{self._prefix}/api/v1/{kind}/"
        for may_retry_stale in (True, False):
            if self._conn is None:
                self._conn = self._conn_cls(self._host, self._port, timeout=self._timeout)
            reused = self._conn.sock is not None  # an idle keep-alive connection
            try:
                self._conn.request("POST", path, body=body, headers=self._headers)
                response = self._conn.getresponse()
                raw = response.read()
            except (OSError, http.client.HTTPException) as exc:
                self._conn.close()
                self._conn = None
                if reused and may_retry_stale and isinstance(exc, _STALE_CONNECTION_ERRORS):
                    continue  # the server closed the idle connection: retry at once
                return None, None, f"{type(exc).__name__}: {exc}"
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw[:200].decode("utf-8", "replace")
            return response.status, response.headers, payload
        raise AssertionError("unreachable")  # pragma: no cover

    def _acknowledge(self, kind: str, items: list[_Item], payload: Any) -> None:
        receipts = payload.get("receipts") if isinstance(payload, dict) else None
        if not isinstance(receipts, list) or len(receipts) != len(items):
            logger.warning("Attest %s: unexpected success response: %.200r", kind, payload)
            receipts = []
        dups = sum(1 for r in receipts if isinstance(r, dict) and r.get("duplicate") is True)
        self._settle(items, True, dups)

    def _reject(self, kind: str, bad: list[tuple[_Item, Any]], status: int, payload: Any) -> None:
        detail = _detail(payload)
        with self._cond:
            for item, error in bad:
                self._rejected.append(
                    RejectedItem(kind, item.key, json.loads(item.body), status, error, detail)
                )
        for item, error in bad:
            logger.warning(
                "Attest refused %s %s (HTTP %s, %s): %s; it will not be resent",
                kind[:-1],
                item.key,
                status,
                detail,
                error,
            )
        self._settle([item for item, _ in bad], False)

    def _reinit_after_fork(self) -> None:
        # In a forked child the parent's sender thread does not exist and the lock may be
        # held; the parent keeps (and sends) the items it had buffered.
        self._cond = threading.Condition(threading.Lock())
        self._queues = {PREDICTIONS: deque(), OUTCOMES: deque()}
        self._pending, self._waiters, self._conn = 0, [], None
        self._abort = threading.Event()
        if self._closed:
            self._abort.set()
        else:
            self._thread = threading.Thread(target=self._run, name="attest-client", daemon=True)
            self._thread.start()

    def _close_at_exit(self) -> None:
        try:
            self.close(timeout=self._atexit_timeout)
        except Exception:  # pragma: no cover - never break interpreter shutdown
            pass


# ---------------------------------------------------------------------- helpers
_live_clients: weakref.WeakSet[AttestClient] = weakref.WeakSet()


def _reinit_clients_after_fork() -> None:
    for client in list(_live_clients):
        client._reinit_after_fork()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_reinit_clients_after_fork)


def _bad_items(payload: Any, items: list[_Item]) -> dict[int, Any]:
    """Map batch index -> error entry from a 400/409 body (by "index", else by id)."""
    errors = payload.get("errors") if isinstance(payload, dict) else None
    by_key = {item.key: i for i, item in enumerate(items)}
    bad: dict[int, Any] = {}
    for entry in errors if isinstance(errors, list) else ():
        if not isinstance(entry, dict):
            continue
        index = entry.get("index")
        if not (isinstance(index, int) and 0 <= index < len(items)):
            index = by_key.get(entry.get("outcome_id"), by_key.get(entry.get("event_id")))
        if index is not None:
            bad[index] = entry
    return bad


def _detail(payload: Any) -> str:
    if isinstance(payload, dict):
        return str(payload.get("detail", "no detail"))
    return str(payload)[:200] if payload else "no detail"


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, (parsedate_to_datetime(value) - datetime.now(_UTC)).total_seconds())
    except (TypeError, ValueError):
        return None


def _uuid(value: Any, name: str) -> str:
    if isinstance(value, uuid.UUID):
        return str(value)
    try:
        return str(uuid.UUID(value))
    except (TypeError, ValueError, AttributeError):
        raise ValueError(f"{name} must be a UUID, got {value!r}") from None


def _text(value: Any, name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def _object(value: Any, name: str) -> dict:
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a dict (JSON object), got {type(value).__name__}")
    return value


def _timestamp(value: datetime | str | None, name: str) -> str:
    parsed = datetime.now(_UTC) if value is None else value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{name} must be ISO 8601, got {value!r}") from None
    if not isinstance(parsed, datetime):
        raise ValueError(f"{name} must be a datetime or ISO 8601 string, got {value!r}")
    if parsed.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")
    if isinstance(value, str):
        return value
    return parsed.astimezone(_UTC).isoformat().replace("+00:00", "Z")
