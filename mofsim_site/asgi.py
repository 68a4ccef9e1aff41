"""ASGI entry point: HTTP through Django (bodies capped before they are read), websockets through
Channels (session auth, origin check)."""

import os

from django.core.asgi import get_asgi_application

from mofsim_site.roles import mark_web_process

mark_web_process()  # nothing in this process downloads model weights (docs/models.md)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from mofsim_site.asgi_limits import BodyLimit  # noqa: E402
from mofsim_site.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": BodyLimit(django_asgi_app),
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
