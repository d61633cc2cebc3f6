"""Non-blocking, batching client for the Attest audit ledger (standard library only).

Model services call :meth:`AttestClient.log_prediction` / :meth:`AttestClient.log_outcome`;
the call validates and JSON-encodes the item immediately (bad arguments raise ``ValueError``
in the caller), appends it to a bounded in-memory buffer and returns. A background daemon
thread sends batches to ``POST {base_url}/api/v1/predictions/`` and ``.../outcomes/`` when
``batch_size`` items are waiting or ``flush_interval`` seconds have passed.

Delivery policy: every item is either acknowledged by the server or explicitly given up on,
and whatever is given up on is *reported*: logged, counted in :attr:`AttestClient.stats`, kept
in :attr:`AttestClient.rejected`, appended to the ``dead_letter_path`` file (JSON Lines, one
refused item with its error a line, fsync'd; resending a line is safe, ids are idempotent) and
handed to the ``on_rejected`` callback as a list of :class:`RejectedItem`. One bad item never
holds back the others.

* 201: acknowledged (``duplicate: true`` receipts are successful idempotent retries).
* 400 / 409 / 422: the items the server names are refused (``reason="refused"``) and the rest
  resent; a refusal naming no item is bisected until the culprit stands alone.
* 413: the batch is split in half (a single item that is still too large is refused).
* 500 / 502 / 504 and other 5xx ("the server failed on this request"): the same batch is
  retried up to ``max_attempts`` times, then halved, until the failing item stands alone; it is
  refused (``reason="failed"``, with the server's answer) once the server has acknowledged
  another request since the item first failed. Without that proof the server fails for everyone
  (an outage, not a poison item): the item is kept and retried behind the rest of the queue.
* 408 / 425 / 429 / 503, connection errors and timeouts ("unavailable"): the same batch (same
  ids, so the server deduplicates) is retried until it gets through; never split or refused.
* Every retry waits with exponential backoff and full jitter, ``uniform(0, min(backoff_max,
  backoff_base * 2**(attempt - 1)))``, or as ``Retry-After`` says (up to MAX_RETRY_AFTER).
* 401 / 403 and other unexpected statuses: logged once per status, retried every
  ``auth_retry_interval`` seconds (a rotated key may fix it).
* Bound: at most ``max_buffer`` items queued or in flight. When full, ``overflow`` decides:
  ``"drop_newest"`` (default; log calls never wait) drops the item being logged,
  ``"block"`` waits up to ``overflow_timeout`` seconds for room, then drops it. A dropped item
  is counted in ``stats.dropped`` and reported (``reason="dropped"``, ``status=None``), from
  the logging thread; so is an item logged after :meth:`AttestClient.close`.
* close(): items still undelivered when its timeout ends are reported
  (``reason="undelivered"``) so that they can be resent from the dead-letter file.

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
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

logger = logging.getLogger("attest_client")
_UTC = timezone.utc  # noqa: UP017 - datetime.UTC would make the client require Python 3.11

PREDICTIONS = "predictions"
OUTCOMES = "outcomes"
OVERFLOW_POLICIES = ("drop_newest", "block")
DROP_WARNING_INTERVAL = 10.0  # seconds between two "buffer full" warnings
MAX_RETRY_AFTER = 300.0  # a server-provided Retry-After is honoured up to this many seconds
_ITEM_ERROR_STATUSES = (400, 409, 422)
_UNAVAILABLE_STATUSES = (408, 425, 429, 503)  # "come back later": not the items' fault
_STALE_CONNECTION_ERRORS = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)
_COUNTERS = (
    "sent",
    "acknowledged",
    "duplicates",
    "rejected",
    "dropped",
    "retries",
    "requests",
    "dead_lettered",
    "dead_letter_errors",
    "callback_errors",
)


@dataclass(frozen=True)
class ClientStats:
    """Counters since the client was created (a snapshot). ``acknowledged`` counts delivered
    items, ``rejected`` the items the server refused or failed on alone, ``dropped`` those lost
    to a full buffer or a closed client, ``pending`` the items queued or in flight (at most
    ``max_buffer``). ``sent`` counts item transmissions (a retried item counts each time),
    ``retries`` the requests that waited before going again, ``dead_lettered`` the items
    written to the dead-letter file; ``dead_letter_errors`` and ``callback_errors`` count the
    writes and ``on_rejected`` calls that failed (logged; the client goes on)."""

    sent: int
    acknowledged: int
    duplicates: int
    rejected: int
    dropped: int
    retries: int
    requests: int
    dead_lettered: int
    dead_letter_errors: int
    callback_errors: int
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
    """An item the client gave up on; it will not be resent. ``reason`` says why: "refused"
    (a 4xx naming it), "failed" (the server failed on it alone while accepting others),
    "dropped" (buffer full or client closed; ``status`` is None) or "undelivered" (still
    unsent when close() ended)."""

    kind: str  # "predictions" or "outcomes"
    id: str  # event_id (predictions) or outcome_id (outcomes)
    item: dict
    status: int | None
    errors: Any  # the server's error entry (or answer) for this item
    detail: str
    reason: str = "refused"


class _Item:
    __slots__ = ("seq", "key", "body", "queued_at", "failures", "acks_before", "settled")

    def __init__(self, seq: int, key: str, body: str) -> None:
        self.seq, self.key, self.body, self.queued_at = seq, key, body, time.monotonic()
        self.failures = 0  # 5xx answers to requests holding this item
        self.acks_before = 0  # acknowledged requests before its first such failure
        self.settled = False


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
        overflow: str = "drop_newest",
        overflow_timeout: float = 1.0,
        timeout: float = 10.0,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        max_attempts: int = 3,
        auth_retry_interval: float = 30.0,
        max_rejected: int = 1000,
        on_rejected: Callable[[list[RejectedItem]], object] | None = None,
        dead_letter_path: str | os.PathLike | None = None,
        register_atexit: bool = True,
        atexit_timeout: float = 5.0,
    ) -> None:
        """See the module docstring for the policy; ``max_attempts`` is how often a batch the
        server fails on (5xx) is sent before it is halved. ``on_rejected`` is called with a
        list of :class:`RejectedItem` from the sender thread (from the logging thread for
        drops); an exception it raises is logged and counted, never propagated."""
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL, got {base_url!r}")
        if not isinstance(api_key, str) or not api_key:
            raise ValueError("api_key must be a non-empty string")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError("batch_size must be a positive integer")
        if not isinstance(max_buffer, int) or max_buffer < 1:
            raise ValueError("max_buffer must be a positive integer")
        if not isinstance(max_attempts, int) or max_attempts < 1:
            raise ValueError("max_attempts must be a positive integer")
        if overflow not in OVERFLOW_POLICIES:
            raise ValueError(f"overflow must be one of {OVERFLOW_POLICIES}, got {overflow!r}")
        if not overflow_timeout >= 0:
            raise ValueError("overflow_timeout must not be negative")
        if on_rejected is not None and not callable(on_rejected):
            raise ValueError("on_rejected must be callable")
        for name, value in (("flush_interval", flush_interval), ("timeout", timeout)):
            if not value > 0:
                raise ValueError(f"{name} must be positive")
        secure = parts.scheme == "https"
        self._conn_cls = http.client.HTTPSConnection if secure else http.client.HTTPConnection
        self._host, self._port = parts.hostname, parts.port or (443 if secure else 80)
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Authorization": f"Api-Key {api_key}", "Content-Type": "application/json"}
        self._batch_size, self._max_buffer = batch_size, max_buffer
        self._overflow, self._overflow_timeout = overflow, overflow_timeout
        self._max_attempts, self._on_rejected = max_attempts, on_rejected
        self._dead_letter_path = None if dead_letter_path is None else os.fspath(dead_letter_path)
        self._dead_letter_lock = threading.Lock()
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
        self._acks = 0  # acknowledged requests (sender thread only)
        self._in_flight: tuple[str, list[_Item]] | None = None
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
        after close() are dropped. Undelivered items are logged and reported (dead-letter file,
        ``on_rejected``), so that they can be resent."""
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
            self._report_undelivered()
        return result

    def _report_undelivered(self) -> None:
        """Hand what close() could not deliver to the dead-letter file and the callback, to be
        resent from there (a request still under way may yet land: ids make that harmless)."""
        with self._cond:
            in_flight = [self._in_flight] if self._in_flight else []
            left = {
                item.seq: (kind, item)
                for kind, items in [*self._queues.items(), *in_flight]
                for item in items
                if not item.settled
            }
        if not left:
            return
        reason = "client closed before delivery"
        self._report(
            [
                RejectedItem(
                    kind, item.key, json.loads(item.body), None, reason, reason, "undelivered"
                )
                for _, (kind, item) in sorted(left.items())
            ]
        )

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
        warn, dropped = 0, None
        with self._cond:
            if self._overflow == "block":
                self._wait_for_room_locked()
            if self._closed or self._pending >= self._max_buffer:
                reason = "client is closed" if self._closed else f"buffer full ({self._max_buffer})"
                dropped = RejectedItem(kind, key, item, None, reason, reason, "dropped")
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
            logger.warning("Attest %s: dropped %d new item(s)", dropped.detail, warn)
        if dropped is not None:
            self._report([dropped])

    def _wait_for_room_locked(self) -> None:
        """The "block" overflow policy: wait up to overflow_timeout for the buffer to drain."""
        deadline = time.monotonic() + self._overflow_timeout
        while not self._closed and self._pending >= self._max_buffer:
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self._cond.wait(left)

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
            for item in items:
                item.settled = True
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
                self._in_flight = (kind, batch)
            try:
                self._deliver(kind, batch)
            except Exception:  # pragma: no cover - defensive: the sender must never die
                logger.exception("Attest client: unexpected error while sending")
            finally:
                with self._cond:  # kept when aborted: close() reports what it still holds
                    if not self._abort.is_set():
                        self._in_flight = None

    def _deliver(self, kind: str, batch: list[_Item]) -> None:
        stack, attempt = [batch], 0
        while stack and not self._abort.is_set():
            items = stack.pop()
            status, headers, payload = self._post(kind, items)
            if status is not None and 200 <= status < 300:
                self._acknowledge(kind, items, payload)
                self._acks += 1
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
            elif status is not None and status >= 500 and status not in _UNAVAILABLE_STATUSES:
                self._server_failed(kind, items, stack, status, headers, payload)
            else:
                stack.append(items)
                attempt += 1
                self._back_off(kind, status, headers, payload, attempt)

    def _server_failed(
        self, kind: str, items: list[_Item], stack: list, status: int, headers: Any, payload: Any
    ) -> None:
        """A 5xx that is not "come back later": perhaps an item in the batch makes the server
        fail. After max_attempts the batch is halved; an item failing alone is refused only
        once the server has acknowledged another request since it first failed: without that
        proof the server fails for everyone (an outage), so the item is kept and goes behind
        the rest of its queue, where later items can show whether the server is up."""
        for item in items:
            if not item.failures:
                item.acks_before = self._acks
            item.failures += 1
        attempts = min(item.failures for item in items)
        if attempts < self._max_attempts:
            stack.append(items)
        elif len(items) > 1:
            half = len(items) // 2
            stack += [items[half:], items[:half]]  # each half is a new request: no wait
            return
        elif self._acks > items[0].acks_before:
            self._reject(kind, [(items[0], payload)], status, payload, "failed")
            return
        else:
            with self._cond:
                self._queues[kind].append(items[0])
        self._back_off(kind, status, headers, payload, attempts)

    def _back_off(self, kind: str, status: int | None, headers: Any, payload: Any, attempt: int):
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
            # Full jitter (AWS, "Exponential Backoff And Jitter"): clients that failed together
            # spread out instead of coming back together.
            ceiling = min(self._backoff_max, self._backoff_base * 2 ** min(attempt - 1, 30))
            return random.uniform(0, ceiling)
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

    def _reject(
        self,
        kind: str,
        bad: list[tuple[_Item, Any]],
        status: int,
        payload: Any,
        reason: str = "refused",
    ) -> None:
        detail = _detail(payload)
        refused = [
            RejectedItem(kind, item.key, json.loads(item.body), status, error, detail, reason)
            for item, error in bad
        ]
        with self._cond:
            self._rejected.extend(refused)
        for item, error in bad:
            logger.warning(
                "Attest refused %s %s (HTTP %s, %s): %s; it will not be resent",
                kind[:-1],
                item.key,
                status,
                detail,
                error,
            )
        self._report(refused)  # before settling: once flush() returns, they are reported
        self._settle([item for item, _ in bad], False)

    def _report(self, refused: list[RejectedItem]) -> None:
        """Append the items given up on to the dead-letter file, then hand them to on_rejected.
        Neither may stop the client or its caller: a failure is logged and counted."""
        if self._dead_letter_path is not None:
            try:
                with self._dead_letter_lock:
                    _append_dead_letters(self._dead_letter_path, refused)
            except Exception:
                logger.exception("Attest: could not write %s", self._dead_letter_path)
                with self._cond:
                    self._counts["dead_letter_errors"] += 1
            else:
                with self._cond:
                    self._counts["dead_lettered"] += len(refused)
        if self._on_rejected is not None:
            try:
                self._on_rejected(refused)
            except Exception:
                logger.exception("Attest: the on_rejected callback raised; ignored")
                with self._cond:
                    self._counts["callback_errors"] += 1

    def _reinit_after_fork(self) -> None:
        # In a forked child the parent's sender thread does not exist and the lock may be
        # held; the parent keeps (and sends) the items it had buffered.
        self._cond = threading.Condition(threading.Lock())
        self._queues = {PREDICTIONS: deque(), OUTCOMES: deque()}
        self._pending, self._waiters, self._conn, self._in_flight = 0, [], None, None
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


def _append_dead_letters(path: str, refused: list[RejectedItem]) -> None:
    """One JSON line per item (when, why, the server's error, the item as sent), fsync'd so
    that what the client gave up on survives a crash of the process."""
    at = datetime.now(_UTC).isoformat()
    lines = "".join(
        json.dumps({"at": at, **asdict(r)}, ensure_ascii=False, default=str) + "\n" for r in refused
    )
    with open(path, "a", encoding="utf-8") as file:
        file.write(lines)
        file.flush()
        os.fsync(file.fileno())


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
