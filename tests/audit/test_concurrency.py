"""Concurrent writers and the sequencer on PostgreSQL: no gap, no fork, no duplicate."""

from __future__ import annotations

import threading
import time
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from audit.ingest import ingest_predictions
from audit.ledger import record_event
from audit.models import Checkpoint, Leaf, LedgerEntry
from audit.sequencer import seal_all, seal_pending
from tests.audit.conftest import POSTGRES, prediction

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not POSTGRES, reason="concurrent writers need PostgreSQL"),
]


def in_thread(target, *args) -> threading.Thread:
    def run():
        try:
            target(*args)
        finally:
            connection.close()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def assert_sequence_is_whole() -> None:
    indexes = list(Leaf.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(LedgerEntry.objects.count()))
    assert Leaf.objects.values("entry").distinct().count() == len(indexes)
    call_command("verify_ledger", stdout=StringIO())


def test_an_entry_that_commits_late_is_not_skipped(version):
    written, release = threading.Event(), threading.Event()

    def slow_writer():
        with transaction.atomic():
            record_event("test.slow", reason="smaller id, commits last")
            written.set()
            release.wait(10)

    slow = in_thread(slow_writer)
    written.wait(10)
    record_event("test.fast", reason="larger id, commits first")

    sealed = []
    sealer = in_thread(lambda: sealed.append(seal_pending()))
    time.sleep(0.5)
    assert not sealed, "the sequencer must wait for the writer in flight, not skip its entry"
    release.set()
    slow.join(10)
    sealer.join(10)

    reasons = [
        leaf.entry.event.reason
        for leaf in Leaf.objects.select_related("entry__event").order_by("index")
        if leaf.entry.event.event_type.startswith("test.")
    ]
    assert reasons == ["smaller id, commits last", "larger id, commits first"]
    assert_sequence_is_whole()


def test_many_writers_and_a_running_sequencer_leave_no_gap_or_duplicate(version):
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for _ in range(15):
                batch = [prediction() for _ in range(20)]
                ingest_predictions(batch)
                ingest_predictions(batch[:5])  # a client retrying part of the batch
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    def sequencer() -> None:
        while not stop.is_set():
            seal_pending(limit=137)

    running = in_thread(sequencer)
    writers = [in_thread(writer, n) for n in range(8)]
    for thread in writers:
        thread.join(120)
    stop.set()
    running.join(30)
    seal_all()

    assert not errors
    assert LedgerEntry.objects.filter(kind="prediction").count() == 8 * 15 * 20
    assert Checkpoint.objects.count() > 1
    assert_sequence_is_whole()


def test_two_sequencers_at_once_do_not_fork_the_tree(version):
    for _ in range(10):
        ingest_predictions([prediction() for _ in range(50)])
    sequencers = [in_thread(seal_all) for _ in range(3)]
    for thread in sequencers:
        thread.join(60)
    sizes = list(Checkpoint.objects.order_by("tree_size").values_list("tree_size", flat=True))
    assert len(sizes) == len(set(sizes))
    assert_sequence_is_whole()
