"""Tags on tasks and benchmark runs: one vocabulary for the pages' forms, the API and the filters.

A tag is a lower-case word of letters, digits, ``-``, ``_`` or ``.`` (at most 40 characters, at
most 20 per object), stored in a JSON list column. Because a stored tag can never hold a quote,
``'"mof-5"'`` inside the column's JSON text matches exactly the element ``mof-5`` and never part
of another tag: ``tagged`` filters that way, which works on SQLite (no JSON ``contains`` there)
and on PostgreSQL alike.
"""

TAG_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789-_.")
MAX_TAG_LENGTH = 40
MAX_TAGS = 20


class TagError(ValueError):
    """A tag or a list of tags that breaks the rule; the message says which and why."""


def clean_tag(raw: str) -> str:
    tag = raw.strip().lower()
    if not tag or len(tag) > MAX_TAG_LENGTH or not set(tag) <= TAG_CHARS:
        raise TagError(f"{raw!r}: tags are up to {MAX_TAG_LENGTH} letters, digits, '-', '_' or '.'")
    return tag


def parse_tags(value: str | list) -> list[str]:
    """Comma- or space-separated text (forms) or a list of strings (API) → unique, lower-cased tags."""
    words = value.replace(",", " ").split() if isinstance(value, str) else list(value)
    tags: list[str] = []
    for word in words:
        if not isinstance(word, str):
            raise TagError(f"{word!r}: a tag is a string")
        tag = clean_tag(word)
        if tag not in tags:
            tags.append(tag)
    if len(tags) > MAX_TAGS:
        raise TagError(f"at most {MAX_TAGS} tags")
    return tags


def tagged(queryset, tag: str):
    """Rows whose ``tags`` list holds ``tag`` (already cleaned by ``clean_tag``)."""
    return queryset.filter(tags__icontains=f'"{tag}"')
