"""Domain operations on frameworks: the only code that writes a framework with its contents."""

from typing import Any

from django.db import transaction
from django.db.models import Max

from metrics.models import Domain, DomainThresholds, Framework, MetricDefinition, Thresholds


@transaction.atomic
def new_framework_version(framework: Framework, user: Any = None, reason: str = "") -> Framework:
    """A draft copy of `framework` as its next version: domains, metric definitions, thresholds
    (overall and per domain) and quarters, ready to be changed while the original stays as the
    releases used it.

    The copy is a draft, so no new release uses it until a regulator makes it active (and
    retires the old version).
    """
    locked = Framework.objects.select_for_update().get(pk=framework.pk)
    latest = Framework.objects.filter(slug=locked.slug).aggregate(Max("version"))["version__max"]
    why = reason or f"New version of {locked}"

    def record(row: Any) -> None:
        row._change_reason = why
        if user is not None:
            row._history_user = user

    copy = Framework.objects.get(pk=locked.pk)
    copy.pk = None
    copy._state.adding = True
    copy.version = latest + 1
    copy.status = Framework.Status.DRAFT
    record(copy)
    copy.save()
    copy.quarters.set(locked.quarters.all())
    domains: dict[int, Domain] = {}
    for domain in Domain.objects.filter(framework=locked).order_by("pk"):
        original = domain.pk
        domain.pk = None
        domain._state.adding = True
        domain.framework = copy
        record(domain)
        domain.save()
        domains[original] = domain
    for definition in MetricDefinition.objects.filter(framework=locked).select_related("metric"):
        definition.pk = None
        definition._state.adding = True
        definition.framework = copy
        definition.domain = domains[definition.domain_id]
        record(definition)
        definition.save()
    for thresholds in Thresholds.objects.filter(framework=locked):
        thresholds.pk = None
        thresholds._state.adding = True
        thresholds.framework = copy
        record(thresholds)
        thresholds.save()
    for domain_thresholds in DomainThresholds.objects.filter(framework=locked):
        domain_thresholds.pk = None
        domain_thresholds._state.adding = True
        domain_thresholds.framework = copy
        domain_thresholds.domain = domains[domain_thresholds.domain_id]
        record(domain_thresholds)
        domain_thresholds.save()
    return copy
