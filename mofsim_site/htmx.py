"""The one HTMX helper: does this request want a fragment or the full page?"""

HTMX_STOP_POLLING = 286  # htmx stops a polling trigger when it gets this status


def is_partial(request) -> bool:
    return request.headers.get("HX-Request") == "true" and request.headers.get("HX-Boosted") != "true"
