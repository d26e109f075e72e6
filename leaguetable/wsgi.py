"""The WSGI application: stored public responses first (public/caching.py), then Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaguetable.settings")
django_application = get_wsgi_application()

from public.caching import StoredResponses  # noqa: E402 - needs the apps loaded above

application = StoredResponses(django_application)
