"""One URL style for the API: every endpoint ends in ``/`` (Django's and DRF's default).

Endpoints first published without the slash keep that spelling as well. ``slashed(route, view,
name)`` gives the canonical ``route/`` (named, so ``reverse`` and the OpenAPI schema use it) and
the old ``route`` served by the same view directly: a redirect (``APPEND_SLASH``) cannot carry a
POST body, and workers and SDKs already deployed post to the old spellings. The old spelling is
left out of the schema (``schema=None``), so each operation is documented once.
"""

from django.urls import path


def slashed(route: str, view, name: str, **initkwargs) -> list:
    """``route/`` (canonical, named) and ``route`` (the old spelling); ``view`` is a class or a function."""
    if hasattr(view, "as_view"):
        canonical, old = view.as_view(**initkwargs), view.as_view(schema=None, **initkwargs)
    else:
        canonical = old = view
    return [path(f"{route}/", canonical, name=name), path(route, old)]
