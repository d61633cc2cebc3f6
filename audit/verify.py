"""Verify an exported Attest ledger, without Django: ``python -m audit.verify DIR
[--checkpoint FILE ...] [--public-key FILE]``. Needs only the standard library and the pure
modules ``audit.merkle``, ``audit.canonical``, ``audit.purging``, ``audit.note`` and
``audit.ed25519`` (``cryptography``, when installed, only speeds up the signature checks).

DIR holds what the exporter writes:

* ``entries.jsonl``: line i is the canonical bytes (RFC 8785) of entry i, then ``\\n``;
* ``leaf_hashes.txt``: line i is the hex leaf hash of entry i, as the log recorded it;
* ``checkpoints.jsonl``: one signed checkpoint per line, in issue order: ``{"statement":
  {"log_id", "tree_size", "root_hash", "issued_at", "key_id"}, "signature": base64}``, the
  signature being Ed25519 over ``canonical_json(statement)``;
* ``checkpoint_notes.jsonl`` (optional): the checkpoints as C2SP signed notes, one line
  ``{"tree_size": N, "note": text}`` each (``audit.note``); ``checkpoint.note``: the last;
* ``public_key.pem``: the log's public key. Pin your own copy with ``--public-key``.

An entry whose payload was purged past retention is the line ``{"purged":{"by_leaf":N}}``: N is
the leaf of the ``ledger.purged`` governance event that dropped it. Such an entry counts by the
leaf hash the log recorded (which the signed roots still commit to), and only if entry N comes
after it, is a ``ledger.purged`` event, lists its index among its ``leaf_ranges``, and was
allowed to purge it by the rules of ``audit.purging``, replayed from the export alone: the
model's retention as its ``aimodel.*`` events last set it had expired between the checkpoint
that first sealed the entry and the one that first sealed the purge, and no legal hold
(``legal_hold.placed`` without its ``legal_hold.released``) was on the model.

``--checkpoint FILE`` gives checkpoints (same JSON lines) that you exported earlier and kept
elsewhere: they catch a log that rewrote its history, or cut its tail, and re-signed the rest.

The checks, stopping at the first failure (exit code 1; 2 when the input is unusable):

1. every checkpoint in DIR is signed by the key; tree sizes never decrease; one root per size;
   every checkpoint note is signed by the same key under one origin and states the tree size
   and root of a signed checkpoint (so what step 3 proves of the one holds for the other);
2. every entry's bytes hash to the leaf hash the log recorded for it (a purged entry: its
   purge event is in the export and names it);
3. the Merkle root of the first ``tree_size`` entries is each checkpoint's root, and no
   checkpoint covers more entries than the export holds (a truncated tail);
4. the same for each ``--checkpoint``: signature, then root, then truncation;
5. consecutive checkpoints are then consistent by construction: all their roots were
   recomputed from one sequence of leaves, so each signed tree extends the one before;
6. the projections (``projections/``, unless ``--no-projections``): every row that reports
   read is rebuilt from its entry by the rules of ``audit.projections`` and compared, column
   by column; each entry of a kind has its row; a prediction's sensitive attributes hash to
   the salted digest its entry commits to, or are absent because its subject was erased (a
   ``subject.erased`` event) or its payload purged; no governance event's entry is purged;
   and each registered governance table's rows hold what its events last recorded. Every
   differing row is named (table, primary key, column, stored and derived values).

Steps 2 to 4 read the two files once, together, in 1 MiB chunks.
"""

from __future__ import annotations

import argparse
import base64
import bisect
import datetime as dt
import json
import sys
import time
from binascii import b2a_hex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice, zip_longest
from pathlib import Path

from audit import ed25519, note
from audit.canonical import canonical_json, sha256_hex
from audit.merkle import EMPTY_ROOT, Frontier, leaf_hash
from audit.projections import (
    KIND_TABLES,
    SENSITIVE_TABLE,
    Difference,
    StateReplay,
    StateRule,
    differences,
    event_columns,
    explanation_columns,
    outcome_columns,
    prediction_columns,
    sensitive_digest,
)
from audit.purging import SealTimes, refusal

ENTRIES, LEAF_HASHES = "entries.jsonl", "leaf_hashes.txt"
CHECKPOINTS, PUBLIC_KEY = "checkpoints.jsonl", "public_key.pem"
PROJECTIONS = "projections"
PROGRESS_EVERY = 500_000  # entries between two progress lines
SHOWN = 50  # differences listed in a failure, of all counted
NOTES, LATEST_NOTE = "checkpoint_notes.jsonl", "checkpoint.note"


@dataclass
class VerificationResult:
    ok: bool
    entries: int  # entries read (up to the failure, if any)
    checkpoints: int  # checkpoints verified
    message: str  # the summary, or the first failure
    first_bad_entry: int | None  # lowest index known modified or missing; None if not known
    seconds: float
    exit_code: int = 0  # 0 verified, 1 verification failed, 2 unusable input
    warnings: list[str] = field(default_factory=list)


class _Unusable(Exception):
    """The input cannot be read as an export (exit code 2)."""


class _Failed(Exception):
    """Verification failed (exit code 1)."""

    def __init__(self, message: str, first_bad_entry: int | None = None) -> None:
        super().__init__(message)
        self.first_bad_entry = first_bad_entry


@dataclass(frozen=True)
class _Checkpoint:
    name: str  # "signed checkpoint #3", "the checkpoint kept in FILE line 1"
    statement: dict
    signed: bytes  # canonical_json(statement): what the signature covers
    signature: bytes
    size: int
    root: bytes

    def __str__(self) -> str:
        return f"{self.name} (tree size {self.size}, issued {self.statement['issued_at']})"


def _lines(path: Path) -> Iterator[bytes]:
    """Yield the lines of a file without their newline, reading 1 MiB at a time."""
    with open(path, "rb") as f:
        rest = b""
        while chunk := f.read(1 << 20):
            lines = (rest + chunk).split(b"\n")
            rest = lines.pop()
            yield from lines
    if rest:
        yield rest  # a last line without its newline


def _recorded(line: bytes, number: int | None = None) -> bytes | None:
    """Parse a line of leaf_hashes.txt; if it is no hash, raise (number given) or return None."""
    try:
        digest = bytes.fromhex(line.decode("ascii"))
        if len(digest) == 32:
            return digest
    except ValueError:
        pass
    if number is None:
        return None
    raise _Unusable(f"{LEAF_HASHES} line {number}: not a SHA-256 hash in hex: {line[:80]!r}")


def _load_key(pem: bytes | str, source: str) -> tuple[bytes, str]:
    """The raw Ed25519 key of a PEM and its key id (SHA-256 of the raw key, in hex)."""
    try:
        raw = ed25519.public_key_from_pem(pem)
    except ValueError as exc:  # includes a PEM that is not ASCII or whose base64 is broken
        raise _Unusable(f"{source}: not an Ed25519 PEM public key ({exc})") from None
    return raw, sha256_hex(raw)


def _read_checkpoints(path: Path, name: str) -> list[_Checkpoint]:
    """Parse one checkpoint per non-blank line; ``name`` is formatted with the line number."""
    checkpoints = []
    for number, line in enumerate(_lines(path), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            st = obj["statement"]
            signature = base64.b64decode(obj["signature"], validate=True)
            cp = _Checkpoint(
                name.format(number),
                st,
                canonical_json(st),
                signature,
                st["tree_size"],
                bytes.fromhex(st["root_hash"]),
            )
            if type(cp.size) is not int or cp.size < 0 or len(cp.root) != 32:
                raise ValueError("tree_size must be a whole number, root_hash 32 bytes")
            if not all(isinstance(st[k], str) for k in ("log_id", "issued_at", "key_id")):
                raise ValueError("log_id, issued_at and key_id must be strings")
        except (ValueError, TypeError, KeyError) as exc:  # includes JSON and base64 errors
            raise _Unusable(f"{path} line {number}: not a signed checkpoint ({exc!r})") from None
        checkpoints.append(cp)
    return checkpoints


def _check_signature(cp: _Checkpoint, key: bytes, key_id: str) -> None:
    if cp.statement["key_id"] != key_id:
        raise _Failed(
            f"{cp} names key {cp.statement['key_id']}, but the key in use is {key_id}: "
            "it was signed by another key (or the wrong public key was given)"
        )
    if not ed25519.verify(key, cp.signature, cp.signed):
        raise _Failed(f"{cp} has an invalid signature: it was altered or forged")


def _check_export_checkpoints(cps: list[_Checkpoint], key: bytes, key_id: str) -> None:
    """Step 1: signatures, one log, sizes never decreasing, one root per size."""
    by_size: dict[int, _Checkpoint] = {}
    for previous, cp in zip([None, *cps], cps, strict=False):
        _check_signature(cp, key, key_id)
        if cp.statement["log_id"] != cps[0].statement["log_id"]:
            raise _Failed(f"{cp} is for log {cp.statement['log_id']!r}, {cps[0]} for another")
        if previous and cp.size < previous.size:
            raise _Failed(f"{cp} comes after {previous}: tree sizes must never decrease")
        first = by_size.setdefault(cp.size, cp)
        if first.root != cp.root:
            raise _Failed(f"{first} and {cp} sign different roots for one size: a forked log")


def _check_notes(directory: Path, cps: list[_Checkpoint], key: bytes) -> int:
    """Step 1, the notes: each verifies under the log's key and origin and states the tree of
    a signed JSON checkpoint; ``checkpoint.note`` is the last. How many there are."""
    path = directory / NOTES
    if not path.exists():
        return 0
    roots = {cp.size: cp.root for cp in cps}
    origin, text, number = None, None, 0
    for number, line in enumerate(_lines(path), 1):
        try:
            text = json.loads(line)["note"]
            origin = origin or text.partition("\n")[0]
            stated = note.open_checkpoint(text, origin, key)
        except (ValueError, TypeError, KeyError) as exc:  # NoteError is a ValueError
            raise _Failed(f"checkpoint note #{number} is refused: {exc}") from None
        if roots.get(stated.tree_size) != stated.root_hash:
            raise _Failed(
                f"checkpoint note #{number} states tree size {stated.tree_size} with root "
                f"{stated.root_hash.hex()}, which no signed checkpoint in the export does"
            )
    latest = directory / LATEST_NOTE
    if latest.exists() and latest.read_text(encoding="utf-8") != text:
        raise _Failed(f"{LATEST_NOTE} is not the last line of {NOTES}")
    return number


PURGED = b'{"purged":{"by_leaf":'
EVENT = b'{"actor":'  # every governance event's canonical bytes start so ("actor" sorts first)


class _Replay:
    """Retention settings and legal holds as the ledger's own events set them, in leaf order,
    so a purge is judged by the rules in force when it was sealed (``audit.purging``)."""

    def __init__(self, checkpoints: list[_Checkpoint]) -> None:
        self.sealed = SealTimes([(cp.size, _when(cp.statement["issued_at"])) for cp in checkpoints])
        self.model_of_slug: dict[str, str] = {}
        self.retention: dict[str, int] = {}  # model id -> months
        self.holds: dict[str, str | None] = {}  # active hold id -> model id

    def observe(self, line: bytes) -> None:
        """Take note of a model's retention or a hold, if ``line`` is such an event."""
        try:
            event = json.loads(line)
            kind, event_type = event["kind"], event["event_type"]
            object_id = str(event["object"]["id"])
        except (ValueError, TypeError, KeyError):
            return
        if kind != "event":
            return
        after = event.get("after") if isinstance(event.get("after"), dict) else {}
        if event_type in ("aimodel.created", "aimodel.changed"):
            if isinstance(after.get("slug"), str):
                self.model_of_slug[after["slug"]] = object_id
            if type(after.get("retention_months")) is int:
                self.retention[object_id] = after["retention_months"]
        elif event_type == "legal_hold.placed":
            self.holds[object_id] = self.model_of_slug.get(after.get("model"))
        elif event_type == "legal_hold.released":
            self.holds.pop(object_id, None)

    def check(self, event: dict, index: int, purged: list[int]) -> None:
        """Each entry in ``purged`` must have been purgeable by the purge event ``index``."""
        stated = event["after"].get("retention_months")
        model = self.model_of_slug.get(event.get("model"))
        months = self.retention.get(model, stated if type(stated) is int else None)
        if months is None:
            raise _Failed(
                f"entry {index} purges entries of model {event.get('model')!r}, whose retention "
                "the ledger never recorded",
                purged[0],
            )
        held = model is not None and model in self.holds.values()
        for i in purged:
            why = refusal(
                leaf=i,
                entry_sealed=self.sealed.of(i),
                purge_sealed=self.sealed.of(index),
                retention_months=months,
                held=held,
            )
            if why:
                raise _Failed(f"entry {i} was purged by entry {index} against the rules: {why}", i)


def _when(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _purge_reference(line: bytes, i: int) -> int | None:
    """The leaf of the purge event a purged entry's line names; None if the line is no such
    marker. A marker naming no later leaf fails."""
    if not line.startswith(PURGED) or not line.endswith(b"}}"):
        return None
    try:
        by = int(line[len(PURGED) : -2])
    except ValueError:  # e.g. null: the exporter found no sealed purge event
        by = None
    if by is None or by <= i:
        raise _Failed(
            f"entry {i} is marked purged by leaf {by}, which is no later entry of the ledger "
            "(its purge event is not sealed yet, or the marker was forged)",
            i,
        )
    return by


def _check_purge_event(line: bytes, index: int, purged: list[int], replay: _Replay) -> None:
    """Entry ``index`` must be a ``ledger.purged`` event whose leaf ranges hold ``purged``, and
    that the rules in force allowed to purge them."""
    try:
        event = json.loads(line)
        ranges = sorted(event["after"]["leaf_ranges"]) if event.get("kind") == "event" else None
        if event.get("event_type") != "ledger.purged":
            ranges = None
    except (ValueError, TypeError, KeyError, AttributeError):
        ranges = None
    if ranges is None:
        raise _Failed(
            f"entries {purged[:5]} are marked purged by entry {index}, which is no ledger.purged "
            "event: their payloads were removed without a purge",
            purged[0],
        )
    starts = [first for first, _ in ranges]
    for i in purged:
        at = bisect.bisect_right(starts, i) - 1
        if at < 0 or i > ranges[at][1]:
            raise _Failed(
                f"entry {i} is marked purged by entry {index}, a purge that does not list it: "
                "its payload was removed without a purge",
                i,
            )
    replay.check(event, index, purged)


def _scan(
    directory: Path, stops: Iterable[int], replay: _Replay
) -> tuple[int, dict[int, bytes], int]:
    """Step 2, and step 3's reading: check each entry against its recorded leaf hash; return
    the number of entries, the Merkle root at each size in ``stops`` that exists, and the
    number of purged entries."""
    roots = {0: EMPTY_ROOT}
    pending = sorted(set(stops) - {0}, reverse=True)
    stop = pending.pop() if pending else -1
    frontier = Frontier()
    append = frontier.append
    entries, recorded = _lines(directory / ENTRIES), _lines(directory / LEAF_HASHES)
    purged: dict[int, list[int]] = {}  # purge event's line number (1-based) -> purged indexes
    awaited = -1  # the next line that is a purge event to check
    n = purged_count = 0
    for n, (line, record) in enumerate(zip_longest(entries, recorded), 1):
        if line is None or record is None:  # one file ended before the other
            short, missing = n - 1, ENTRIES if line is None else LEAF_HASHES
            long = n + sum(1 for _ in (recorded if line is None else entries))
            counts = (short, long) if line is None else (long, short)
            raise _Failed(
                f"{ENTRIES} has {counts[0]} entries but {LEAF_HASHES} records {counts[1]}: "
                f"entries {short} to {long - 1} are missing from {missing}",
                short,
            )
        h = leaf_hash(line)
        if b2a_hex(h) != record and _recorded(record, n) != h:
            by = _purge_reference(line, n - 1)
            if by is None:
                raise _mismatch(directory, n - 1)
            h = _recorded(record, n)
            if by + 1 not in purged:
                purged[by + 1] = []
                awaited = min(purged)
            purged[by + 1].append(n - 1)
            purged_count += 1
        append(h)
        if line.startswith(EVENT):
            replay.observe(line)
        if n == stop:
            roots[n] = frontier.root()
            stop = pending.pop() if pending else -1
        if n == awaited:
            _check_purge_event(line, n - 1, purged.pop(n), replay)
            awaited = min(purged, default=-1)
    if purged:
        first = min(purged)
        raise _Failed(
            f"entries {purged[first][:5]} are marked purged by entry {first - 1}, which the "
            f"export does not hold (it has {n} entries)",
            purged[first][0],
        )
    return n, roots, purged_count


def _mismatch(directory: Path, i: int) -> _Failed:
    """Describe entry ``i``, the first whose bytes do not hash to what the log recorded."""
    lines = list(islice(_lines(directory / ENTRIES), i, i + 2))
    got = [leaf_hash(line) for line in lines] + [None]
    want = [_recorded(r) for r in islice(_lines(directory / LEAF_HASHES), i, i + 2)] + [None]
    where = f"{ENTRIES} line {i + 1}"
    if got[0] == want[1] and got[1] == want[0]:
        return _Failed(f"entries {i} and {i + 1} were swapped ({where} and the next)", i)
    if got[0] == want[1]:
        return _Failed(
            f"entry {i} was deleted: {where} holds what the log recorded as entry {i + 1}", i
        )
    if got[1] == want[0]:
        return _Failed(f"an entry was inserted before entry {i}, at {where}", i)
    try:
        json.loads(lines[0])
        note = ""
    except ValueError:
        note = "; they are not even valid UTF-8 JSON"
    return _Failed(
        f"entry {i} was modified: its bytes hash to {got[0].hex()}, the log recorded "
        f"{want[0].hex()} ({where}{note})",
        i,
    )


def _check_root(
    cp: _Checkpoint, entries: int, roots: dict[int, bytes], start: int, kept: bool
) -> None:
    """Steps 3 and 4 for one checkpoint: truncation, then its root."""
    if cp.size > entries:
        raise _Failed(
            f"the ledger has {entries} entries but {cp.name} (signed "
            f"{cp.statement['issued_at']}) covers {cp.size}: the tail was truncated",
            entries,
        )
    if roots[cp.size] != cp.root:
        raise _Failed(
            f"entries up to {cp.size} do not match {cp}: an entry in [{start}, {cp.size}) was "
            "modified, deleted, inserted or reordered"
            + (" after you kept it: the log rewrote its history" if kept else "")
        )


class _Rows:
    """One entry projection's file, read a row at a time in leaf order."""

    def __init__(self, path: Path) -> None:
        self.table = ""
        self._lines = _lines(path)
        header = json.loads(next(self._lines, b"{}") or b"{}")
        self.table = header.get("table", path.stem)
        self.next: dict | None = None
        self.advance()

    def advance(self) -> None:
        line = next(self._lines, None)
        while line is not None and not line.strip():
            line = next(self._lines, None)
        try:
            self.next = json.loads(line) if line is not None else None
        except ValueError:
            raise _Unusable(
                f"{PROJECTIONS}/{self.table}.jsonl: not a JSON row: {line[:80]!r}"
            ) from None

    def at(self, leaf: int) -> dict | None:
        return self.next if self.next is not None and self.next.get("leaf") == leaf else None


def _after(row: dict, i: int) -> bool:
    return type(row.get("leaf")) is int and row["leaf"] > i


class _Projections:
    """Step 6: rebuild every projection row from the entries and compare (``audit.projections``).

    Reads ``entries.jsonl`` once more beside the projection files, which are in leaf order, so
    memory holds one row per file, the ledger's own small maps (model slugs, version labels,
    favourable decisions, erased subjects) and the registered governance tables' replayed state.
    """

    def __init__(self, directory: Path, progress) -> None:
        self.directory, self.progress = directory, progress
        self.found: list[Difference] = []
        self.count = 0
        self.entry_files: list[_Rows] = []
        self.states: list[tuple[StateReplay, Path]] = []
        for path in sorted((directory / PROJECTIONS).glob("*.jsonl")):
            header = json.loads(next(_lines(path), b"{}") or b"{}")
            if header.get("rule") == "state":
                self.states.append((StateReplay(StateRule.from_json(header)), path))
            else:
                self.entry_files.append(_Rows(path))
        self.model_ids: dict[str, int] = {}  # slug -> model id, from aimodel.* events
        self.favourable: dict[int, object] = {}  # model id -> favourable decision
        self.versions: dict[tuple[int | None, str], int] = {}  # (model id, label) -> version
        self.erased: set[str] = set()  # subject references of subject.erased events
        self.missing_sensitive: list[tuple[int, object, str | None]] = []

    def differ(self, *found: Difference) -> None:
        self.count += len(found)
        if len(self.found) < SHOWN:
            self.found.extend(found[: SHOWN - len(self.found)])

    def _observe(self, event: dict) -> None:
        event_type, obj = event.get("event_type"), event.get("object") or {}
        after = event.get("after") if isinstance(event.get("after"), dict) else {}
        if event_type in ("aimodel.created", "aimodel.changed"):
            pk = int(obj["id"])
            if isinstance(after.get("slug"), str):
                self.model_ids[after["slug"]] = pk
            if "favourable_value" in after:
                self.favourable[pk] = after["favourable_value"]
        elif event_type in ("modelversion.created", "modelversion.changed"):
            model = after.get("model_id", after.get("model"))
            if isinstance(after.get("label"), str) and model is not None:
                self.versions[model, after["label"]] = int(obj["id"])
        elif event_type == "subject.erased" and isinstance(after.get("subject"), str):
            self.erased.add(after["subject"])
        for replay, _ in self.states:
            replay.observe(event)

    def _version(self, payload: dict) -> int | None:
        return self.versions.get((self.model_ids.get(payload["model"]), payload["version"]))

    def _derive(self, table: str, payload: dict, row: dict) -> dict:
        if table == KIND_TABLES["event"]:
            return event_columns(payload, self.model_ids)
        if table == KIND_TABLES["prediction"]:
            model = self.model_ids.get(payload["model"])
            return prediction_columns(payload, self._version(payload), self.favourable.get(model))
        if table == KIND_TABLES["outcome"]:
            return outcome_columns(payload)
        derived = explanation_columns(payload, self._version(payload))
        derived["decided_at"] = row["columns"].get("prediction_decided_at")
        return derived

    def entry(self, i: int, line: bytes) -> None:
        here = {rows.table: row for rows in self.entry_files if (row := rows.at(i)) is not None}
        if line.startswith(PURGED):
            event = here.get(KIND_TABLES["event"])
            if event is not None:
                self.differ(
                    Difference(
                        KIND_TABLES["event"],
                        event["pk"],
                        "(entry)",
                        f"leaf {i}, purged",
                        "governance events are never purged",
                    )
                )
        else:
            self._check(i, json.loads(line), here)
        for rows in self.entry_files:
            if rows.at(i) is not None:
                rows.advance()
            while rows.next is not None and not _after(rows.next, i):
                self._stray(rows, "out of leaf order")
        if self.progress and i and i % PROGRESS_EVERY == 0:
            self.progress(f"projections: {i:,} entries rebuilt and compared")

    def _check(self, i: int, payload: dict, here: dict) -> None:
        kind = payload.get("kind")
        if kind == "event":
            self._observe(payload)
        expected = KIND_TABLES.get(kind)
        for table, row in here.items():
            if table != expected and table != SENSITIVE_TABLE:
                self.differ(
                    Difference(
                        table,
                        row["pk"],
                        "entry",
                        f"leaf {i}",
                        f"a {kind} entry, not one of {table}",
                    )
                )
        row = here.get(expected) if expected else None
        if expected and row is None:
            self.differ(
                Difference(
                    expected,
                    f"(of leaf {i})",
                    "(row)",
                    "missing",
                    f"a row for the {kind} entry at leaf {i}",
                )
            )
        elif row is not None:
            try:
                derived = self._derive(expected, payload, row)
            except (KeyError, TypeError, AttributeError) as exc:
                derived = {"(entry)": f"a {kind} entry lacking {exc}"}
            self.differ(*differences(expected, row["pk"], row["columns"], derived))
        sensitive = here.get(SENSITIVE_TABLE)
        committed = payload.get("sensitive_sha256") if kind == "prediction" else None
        if sensitive is not None:
            values, salt = sensitive["columns"]["values"], sensitive["columns"]["salt"]
            if committed is None or sensitive_digest(bytes.fromhex(salt), values) != committed:
                self.differ(
                    Difference(
                        SENSITIVE_TABLE,
                        sensitive["pk"],
                        "values",
                        values,
                        f"values whose salted SHA-256 is {committed}",
                    )
                )
        elif committed is not None:
            personal = payload.get("personal") or {}
            pk = row["pk"] if row is not None else f"(of leaf {i})"
            self.missing_sensitive.append((i, pk, personal.get("subject")))

    def _stray(self, rows, why: str) -> None:
        """The next row of ``rows`` has no entry of its own here: name it and pass it."""
        self.differ(Difference(rows.table, rows.next.get("pk"), "entry",
                               f"leaf {rows.next.get('leaf')}", why))  # fmt: skip
        rows.advance()

    def finish(self) -> None:
        for rows in self.entry_files:
            while rows.next is not None:
                self._stray(rows, "no entry of the export")
        for i, pk, subject in self.missing_sensitive:
            if subject not in self.erased:
                self.differ(
                    Difference(
                        SENSITIVE_TABLE,
                        pk,
                        "(row)",
                        "missing",
                        f"committed by leaf {i}; its subject was never erased",
                    )
                )
        for replay, path in self.states:
            current = {}
            for number, line in enumerate(_lines(path), 1):
                if number > 1 and line.strip():
                    row = json.loads(line)
                    current[row["pk"]] = row["fields"]
            self.differ(*replay.compare(current))
        if self.count:
            listed = "\n  ".join(map(str, self.found))
            more = f"\n  … and {self.count - len(self.found)} more" if self.count > SHOWN else ""
            raise _Failed(
                f"{self.count} projection values differ from what the ledger records (rows that "
                f"reports read were changed without a ledger event):\n  {listed}{more}"
            )


def _check_projections(directory: Path, progress) -> tuple[int, int]:
    """Step 6; the number of entry projection files and of governance tables compared."""
    check = _Projections(directory, progress)
    for i, line in enumerate(_lines(directory / ENTRIES)):
        check.entry(i, line)
    check.finish()
    return len(check.entry_files), len(check.states)


def verify_directory(
    path, extra_checkpoints=(), public_key_pem=None, *, projections=True, progress=None
) -> VerificationResult:
    """Verify the export in ``path``. ``extra_checkpoints`` are files of checkpoint lines kept
    earlier; ``public_key_pem`` (bytes or str) pins the log's key instead of DIR's copy;
    ``projections=False`` skips step 6; ``progress`` is called with a line now and then."""
    started = time.perf_counter()
    directory, warnings, entries = Path(path), [], 0
    compared = None
    own: list[_Checkpoint] = []
    kept: list[_Checkpoint] = []
    try:
        if public_key_pem is None:
            public_key_pem = (directory / PUBLIC_KEY).read_bytes()
            warnings.append(
                f"the public key comes from {directory / PUBLIC_KEY} only: whoever can rewrite "
                "the export can replace it; pin the key you obtained independently "
                "(--public-key FILE)"
            )
        key, key_id = _load_key(public_key_pem, "public key")
        own = _read_checkpoints(directory / CHECKPOINTS, "signed checkpoint #{}")
        for f in extra_checkpoints:
            kept += _read_checkpoints(Path(f), f"the checkpoint kept in {f} line {{}}")
        _check_export_checkpoints(own, key, key_id)  # 1
        notes = _check_notes(directory, own, key)
        entries, roots, purged = _scan(directory, [cp.size for cp in own + kept], _Replay(own))
        for previous, cp in zip([None, *own], own, strict=False):  # 3
            _check_root(cp, entries, roots, previous.size if previous else 0, kept=False)
        verified = [0]
        for cp in kept:  # 4
            _check_signature(cp, key, key_id)
            if own and cp.statement["log_id"] != own[0].statement["log_id"]:
                raise _Failed(f"{cp} is for log {cp.statement['log_id']!r}, not this export's")
            start = max(size for size in verified if size <= cp.size)
            _check_root(cp, entries, roots, start, kept=True)
            verified.append(cp.size)
        if projections and (directory / PROJECTIONS).is_dir():  # 6
            compared = _check_projections(directory, progress)
    except (_Unusable, OSError) as exc:
        if isinstance(exc, OSError):
            exc = f"cannot read {exc.filename}: {exc.strerror}"
        seconds = time.perf_counter() - started
        return VerificationResult(False, entries, 0, str(exc), None, seconds, 2, warnings)
    except _Failed as exc:
        bad, seconds = exc.first_bad_entry, time.perf_counter() - started
        count = entries or (bad or 0)
        return VerificationResult(False, count, 0, str(exc), bad, seconds, 1, warnings)
    seconds = time.perf_counter() - started
    latest = max(own, key=lambda cp: cp.size, default=None)
    covered = latest.size if latest else 0
    if covered < entries:
        warnings.append(f"entries {covered} to {entries - 1} are covered by no signed checkpoint")
    if projections and compared is None:
        warnings.append(f"the export holds no {PROJECTIONS}/: the projections were not checked")
    lines = [
        f"verified {entries:,} entries, {len(own)} signed checkpoints in the export"
        + (f" and {len(kept)} kept checkpoints" if kept else ""),
        *(
            [f"purged: {purged:,} payloads dropped past retention, each named by its purge event"]
            if purged
            else []
        ),
        f"latest: tree size {latest.size}, root {latest.root.hex()}, issued "
        f"{latest.statement['issued_at']}, log {latest.statement['log_id']!r}"
        if latest
        else "latest: no signed checkpoint in the export",
        f"log key fingerprint: {key_id} (SHA-256 of the raw Ed25519 public key)",
        *(
            [f"notes: {notes:,} checkpoint notes, each stating a verified checkpoint"]
            if notes
            else []
        ),
        "consistency: every root was recomputed from the same leaves, so each signed tree "
        "extends the one before it",
        *(
            [
                f"projections: {compared[0]} entry tables rebuilt from the entries and "
                f"{compared[1]} governance tables replayed from their events: no row differs"
            ]
            if compared
            else []
        ),
        f"time: {seconds:.2f} s ({entries / seconds if seconds else 0:,.0f} entries/s)",
    ]
    checked = len(own) + len(kept)
    return VerificationResult(True, entries, checked, "\n".join(lines), None, seconds, 0, warnings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m audit.verify", description="Verify an exported Attest ledger."
    )
    parser.add_argument("directory", help="the export: entries.jsonl, leaf_hashes.txt, ...")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE")
    parser.add_argument("--public-key", metavar="FILE", help="the log's key, obtained apart")
    parser.add_argument(
        "--no-projections", action="store_true", help="skip rebuilding the projections"
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    pem = None
    if args.public_key:
        try:
            pem = Path(args.public_key).read_bytes()
        except OSError as exc:
            print(f"cannot verify: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
            return 2
    result = verify_directory(
        args.directory,
        args.checkpoint,
        pem,
        projections=not args.no_projections,
        progress=lambda line: print(line, file=sys.stderr, flush=True),
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if result.exit_code == 2:
        print(f"cannot verify: {result.message}", file=sys.stderr)
    else:
        print(result.message if result.ok else f"VERIFICATION FAILED: {result.message}")
    return result.exit_code


if __name__ == "__main__":
    sys.exit(main())
