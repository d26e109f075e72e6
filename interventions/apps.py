from django.apps import AppConfig


class InterventionsConfig(AppConfig):
    name = "interventions"
    verbose_name = "Freedoms and support"

    def ready(self) -> None:
        from interventions import receivers
        from releases.signals import release_published, release_withdrawn

        # dispatch_uid: ready() can run more than once (tests, autoreload); one connection each.
        release_published.connect(
            receivers.on_release_published, dispatch_uid="interventions.release_published"
        )
        release_withdrawn.connect(
            receivers.on_release_withdrawn, dispatch_uid="interventions.release_withdrawn"
        )
