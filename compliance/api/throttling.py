"""Rate limit per API key: a counter per key and window, in Redis when ``CACHE_URL`` names
it (production: every web process shares it), else in Django's cache of this process.

A fixed window keeps each request to one atomic increment; a client that goes over gets 429
with ``Retry-After`` (the seconds until the window ends), which the Python client honours.
"""

from __future__ import annotations

import functools
import math
import time

import redis
from django.conf import settings
from django.core.cache import cache
from rest_framework.throttling import BaseThrottle

from compliance.models import UserAPIKey


class KeyRateThrottle(BaseThrottle):
    """At most ``API_KEY_RATE_LIMIT`` requests per key in each ``API_KEY_RATE_WINDOW``
    seconds. Requests without a key (sessions in the admin's browser) are not counted."""

    def allow_request(self, request, view) -> bool:
        key = request.auth
        if not isinstance(key, UserAPIKey):
            return True
        window = settings.API_KEY_RATE_WINDOW
        now = time.time()
        start = int(now // window) * window
        count = _count(f"attest:rate:{key.prefix}:{start}", timeout=window + 1)
        self.retry_after = start + window - now
        return count <= settings.API_KEY_RATE_LIMIT

    def wait(self) -> float:
        return max(1, math.ceil(self.retry_after))


def _count(counter: str, timeout: int) -> int:
    """Count one more request on ``counter``; the count so far in its window."""
    if settings.CACHE_URL:
        # One round trip to Redis (Django's cache would take three: SET NX, EXISTS, INCRBY).
        _, count = (
            _redis(settings.CACHE_URL)
            .pipeline(transaction=False)
            .set(counter, 0, ex=timeout, nx=True)
            .incr(counter)
            .execute()
        )
        return count
    cache.add(counter, 0, timeout=timeout)
    try:
        return cache.incr(counter)
    except ValueError:  # expired between add and incr: this request opens a new window
        cache.add(counter, 1, timeout=timeout)
        return 1


@functools.cache
def _redis(url: str) -> redis.Redis:
    return redis.Redis.from_url(url)
