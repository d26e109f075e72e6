from django.apps import AppConfig


class PublicConfig(AppConfig):
    name = "public"
    verbose_name = "Public site"

    def ready(self) -> None:
        from public.receivers import wait_before_reporting
        from releases.signals import release_published, release_withdrawn

        release_published.connect(wait_before_reporting, dispatch_uid="public-lease-published")
        release_withdrawn.connect(wait_before_reporting, dispatch_uid="public-lease-withdrawn")
