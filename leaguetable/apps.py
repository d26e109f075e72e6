from django.apps import AppConfig


class LeaguetableConfig(AppConfig):
    """The project package: settings, URLs, the Celery app, the roles and the demo command."""

    name = "leaguetable"
    verbose_name = "League tables project"
