"""Template filters for showing task results to chemists.

A result dict mixes headline numbers (energies, volume change) with bulky nested data
(provenance, per-atom arrays). Pages show the scalars as a table and keep the rest behind a
``<details>``; both the full page and the websocket/poll fragments use these filters, so the
result looks the same however it arrived.
"""

import json
import numbers

from django import template

register = template.Library()

HIDDEN_KEYS = {"provenance"}


def _format(value) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, numbers.Integral):
        return str(value)
    if isinstance(value, numbers.Real):
        return f"{value:.6g}"
    return str(value)


@register.filter
def result_scalars(result) -> list[tuple[str, str]]:
    """Top-level scalar entries (and short numeric lists like cell lengths), formatted."""
    if not isinstance(result, dict):
        return []
    rows = []
    for key, value in result.items():
        if key in HIDDEN_KEYS:
            continue
        if isinstance(value, str | numbers.Number | bool) or value is None:
            rows.append((key, "—" if value is None else _format(value)))
        elif isinstance(value, list) and 0 < len(value) <= 6 and all(isinstance(v, numbers.Number) for v in value):
            rows.append((key, ", ".join(_format(v) for v in value)))
    return rows


@register.filter
def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True, default=str)


@register.filter
def short_id(pk) -> str:
    return str(pk)[:8]
