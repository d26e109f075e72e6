from django.apps import AppConfig


class TrustsConfig(AppConfig):
    name = "trusts"
