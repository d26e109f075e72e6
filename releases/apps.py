from django.apps import AppConfig


class ReleasesConfig(AppConfig):
    name = "releases"
    verbose_name = "League tables"

    def ready(self) -> None:
        from metrics import input_locks
        from releases import receivers  # noqa: F401
        from releases.services import input_locks as release_locks

        # Published releases fix their inputs: the observations below this app consult it
        # through the hook it registers here, in every process (web, worker, beat).
        input_locks.register(release_locks)
