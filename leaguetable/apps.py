from django.apps import AppConfig


class LeaguetableConfig(AppConfig):
    name = "leaguetable"
    verbose_name = "League tables"
