import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaguetable.settings")

app = Celery("leaguetable")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
