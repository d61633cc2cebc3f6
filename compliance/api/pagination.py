"""Pagination of every list: ``limit`` and ``offset``, bounded so any number a client sends
is answered (the database's integers stop at 2**63)."""

from __future__ import annotations

from rest_framework.pagination import LimitOffsetPagination

MAX_OFFSET = 2**62


class Pagination(LimitOffsetPagination):
    max_limit = 1000

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), MAX_OFFSET)
