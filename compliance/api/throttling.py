"""Rate limit per API key: a counter per key and window in Django's cache (Redis in
production, so every web process shares it).

A fixed window keeps each request to one atomic increment; a client that goes over gets 429
with ``Retry-After`` (the seconds until the window ends), which the Python client honours.
"""

from __future__ import annotations

import math
import time

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
        counter = f"attest:rate:{key.prefix}:{start}"
        cache.add(counter, 0, timeout=window + 1)
        try:
            count = cache.incr(counter)
        except ValueError:  # expired between add and incr: this request opens a new window
            cache.add(counter, 1, timeout=window + 1)
            count = 1
        self.retry_after = start + window - now
        return count <= settings.API_KEY_RATE_LIMIT

    def wait(self) -> float:
        return max(1, math.ceil(self.retry_after))
