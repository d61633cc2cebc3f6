"""Runs the suite, and every Python process it starts, on a moved clock.

``ATTEST_TEST_CLOCK=2028-03-01 make test`` runs the whole suite as if today were that date:
the first process works out how far that is from the real clock (``ATTEST_TEST_CLOCK_OFFSET``,
in seconds) and every process moves its clock by the same offset with time_machine, ticking,
so that the test process, its xdist workers and the commands, workers and servers it starts
all agree on the time. ``tests/conftest.py`` starts it in the test processes and puts this
folder on ``PYTHONPATH``; Python imports this module at the start-up of each child (it is its
``sitecustomize``). Nothing in the project reads the database server's clock, so the
databases need no moving.
"""

from __future__ import annotations

import datetime as dt
import os
import time

CLOCK = "ATTEST_TEST_CLOCK"
OFFSET = "ATTEST_TEST_CLOCK_OFFSET"
STARTED_IN = "ATTEST_TEST_CLOCK_PID"


def offset_from_environment() -> float | None:
    """Seconds to add to the real clock, or None when the clock is not moved."""
    if OFFSET in os.environ:
        return float(os.environ[OFFSET])
    if not os.environ.get(CLOCK):
        return None
    when = dt.datetime.fromisoformat(os.environ[CLOCK])
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    if len(os.environ[CLOCK]) == 10:  # a date: noon, so that both sides of midnight are near
        when = when.replace(hour=12)
    offset = when.timestamp() - time.time()
    os.environ[OFFSET] = repr(offset)
    return offset


def move_clock() -> None:
    """Move this process's clock by the offset, once (child processes inherit the offset)."""
    offset = offset_from_environment()
    if offset is None or os.environ.get(STARTED_IN) == str(os.getpid()):
        return
    try:
        import time_machine
    except ImportError:  # a Python without the project's packages: leave its clock alone
        return
    time_machine.travel(time.time() + offset, tick=True).start()
    os.environ[STARTED_IN] = str(os.getpid())


move_clock()
