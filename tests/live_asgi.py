"""The application a test server subprocess serves: production ``mofsim_site.asgi``, plus static
files through Django's handler (as ``runserver`` serves them; production serves STATIC_ROOT)."""

from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

from mofsim_site.asgi import application as production_application

application = ASGIStaticFilesHandler(production_application)
