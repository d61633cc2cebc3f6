"""The API reads JSON only (any other body is a 415), and strict JSON at that."""

from __future__ import annotations

import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser


class StrictJSONParser(BaseParser):
    """JSON without NaN or Infinity, which are not JSON and could not be canonicalised."""

    media_type = "application/json"

    def parse(self, stream, media_type=None, parser_context=None):
        def refuse(constant: str):
            raise ParseError(f"{constant} is not a JSON number.")

        try:
            return json.loads(stream.read(), parse_constant=refuse)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"The body is not JSON: {exc}") from exc
