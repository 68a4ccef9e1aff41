"""What kind of process this is, for rules that depend on it.

The web entry points (``mofsim_site.wsgi``, ``mofsim_site.asgi``; ``runserver`` loads the WSGI
one) mark their process as the web process. Code that must never run there — downloading
model weights from a hub (``models_app.families.hub``) — asks ``is_web_process()`` and refuses.
Plain Python, no Django: the model loaders that ask run in worker environments without it.
"""

_web_process = False


def mark_web_process() -> None:
    global _web_process
    _web_process = True


def is_web_process() -> bool:
    return _web_process
