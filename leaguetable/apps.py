from django.apps import AppConfig


class LeaguetableConfig(AppConfig):
    name = "leaguetable"
    verbose_name = "League tables"

    def ready(self) -> None:
        # Connect the signal receivers in every process: web, worker and beat alike, so a
        # publication by the beat clears the public cache too.
        from leaguetable import caching, receivers  # noqa: F401
