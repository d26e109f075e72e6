from django.apps import AppConfig


class LeaguetableConfig(AppConfig):
    name = "leaguetable"
    verbose_name = "League tables"

    def ready(self) -> None:
        from leaguetable import receivers  # noqa: F401  (connects the signal receivers)
