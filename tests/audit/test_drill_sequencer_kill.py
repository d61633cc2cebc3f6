"""Fault drill: 16 writers log through the API while the sequencer is killed (SIGKILL) and
restarted, again and again. Afterwards no gap, no duplicate, every acknowledged prediction is
sealed and the ledger verifies."""

from __future__ import annotations

import threading
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import Checkpoint, Leaf, LedgerEntry, PredictionRecord
from compliance.choices import KeyAction
from compliance.keys import issue_key
from tests.audit.conftest import POSTGRES, prediction
from tests.audit.drill_support import database_url, kill, post_json, server, start_manage, wait_for

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.drill,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(not POSTGRES, reason="the drill kills a sequencer of a PostgreSQL ledger"),
]

WRITERS = 16
KILLS = 5
BATCH = 10
MAX_BATCHES = 150  # per writer: the writers stop after the last kill, or at this bound


def latest_tree_size() -> int:
    return (
        Checkpoint.objects.order_by("-tree_size").values_list("tree_size", flat=True).first() or 0
    )


def test_killing_the_sequencer_under_16_writers_loses_and_duplicates_nothing(service, version):
    _, key = issue_key(user=service, all_models=True, actions=KeyAction.values, name="drill")
    database = database_url()
    acknowledged: list[set[str]] = [set() for _ in range(WRITERS)]
    failures: list[str] = []
    done = threading.Event()

    def writer(n: int) -> None:
        previous: list[dict] = []
        for number in range(MAX_BATCHES):
            if done.is_set():
                return
            batch = [prediction() for _ in range(BATCH)]
            if number % 10 == 9:
                batch[:3] = previous[:3]  # a client retrying part of its last batch
            status, _, body = post_json(f"{url}/api/v1/predictions/", batch, key)
            if status != 201:
                failures.append(f"writer {n}: HTTP {status} {body}")
                return
            acknowledged[n].update(receipt["event_id"] for receipt in body["receipts"])
            previous = batch

    with server(database) as url:
        writers = [threading.Thread(target=writer, args=(n,)) for n in range(WRITERS)]
        for thread in writers:
            thread.start()
        kills = 0
        try:
            while kills < KILLS and not failures:
                before = latest_tree_size()
                sequencer = start_manage(
                    "run_sequencer", "--interval", "0.05", DATABASE_URL=database
                )
                # Kill it once it has sealed something new, so most kills land mid-round.
                wait_for(lambda: latest_tree_size() > before, "a new checkpoint", every=0.02)  # noqa: B023
                kill(sequencer)
                kills += 1
        finally:
            done.set()
            for thread in writers:
                thread.join(120)

        assert not failures, failures[:3]
        assert kills == KILLS
        assert not any(thread.is_alive() for thread in writers)
        sequencer = start_manage("run_sequencer", "--interval", "0.05", DATABASE_URL=database)
        try:
            wait_for(
                lambda: latest_tree_size() == LedgerEntry.objects.count(), "the last entry sealed"
            )
        finally:
            kill(sequencer)

    entries = LedgerEntry.objects.count()
    every_ack = set().union(*acknowledged)
    assert len(every_ack) >= WRITERS * BATCH * 2, "the writers logged while the sequencer died"
    stored = {str(e) for e in PredictionRecord.objects.values_list("event_id", flat=True)}
    assert stored == every_ack  # every acknowledged prediction, once
    indexes = list(Leaf.objects.order_by("index").values_list("index", flat=True))
    assert indexes == list(range(entries))  # no gap
    assert Leaf.objects.values("entry").distinct().count() == entries  # no duplicate
    unsealed = PredictionRecord.objects.filter(entry__leaf__isnull=True).count()
    assert unsealed == 0
    sizes = list(Checkpoint.objects.values_list("tree_size", flat=True))
    assert len(sizes) == len(set(sizes)) and max(sizes) == entries  # no fork
    out = StringIO()
    call_command("verify_ledger", stdout=out)
    assert f"verified {entries:,} entries" in out.getvalue()
    print(f"drill: {WRITERS} writers, {kills} kills, {entries} entries sealed and verified")
