"""JSON from clients, bounded: nesting depth, finite numbers, and never a 500.

Python's ``json`` recurses per nesting level, so ``[[[[…]]]]`` 10 000 deep raised RecursionError
(a 500) on every JSON endpoint, login included, and a value nested a few hundred deep could
still recurse later (serializers, error messages). ``1e999`` parsed as infinity and reached the
database as ``{"structure": inf}``. ``loads`` refuses all three as a ``ParseError`` (400); the
DRF parser and the form fields that carry JSON (the SQLite import filter) both use it.
"""

import json

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

MAX_DEPTH = 32


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValueError(f"number {text[:30]} is out of range")
    return value


def _no_constants(name: str):
    raise ValueError(f"{name} is not valid JSON")


def _check_depth(data) -> None:
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > MAX_DEPTH:
                raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels")
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children)


def loads(text: str | bytes):
    """``json.loads`` that raises ``ParseError`` for bad, too deep or non-finite JSON."""
    try:
        data = json.loads(text, parse_float=_finite, parse_constant=_no_constants)
    except RecursionError as exc:
        raise ParseError(f"JSON nested deeper than {MAX_DEPTH} levels") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise ParseError(f"not valid JSON: {exc}") from exc
    _check_depth(data)
    return data


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read()
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"not valid JSON: the body is not {encoding}") from exc
        return loads(text)
