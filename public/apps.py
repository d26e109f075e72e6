from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = "Public site"

    def ready(self) -> None:
        # Connect the cache receivers in every process: web, worker and beat alike, so a
        # publication by the beat clears the public cache too.
        from public import caching  # noqa: F401
