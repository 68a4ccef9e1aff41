"""WSGI entry point (also what ``runserver`` serves): marks this process as the web process."""

import os

from django.core.wsgi import get_wsgi_application

from mofsim_site.roles import mark_web_process

mark_web_process()  # nothing in this process downloads model weights (docs/models.md)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mofsim_site.settings")
application = get_wsgi_application()
