"""Reads of interventions for other parts of the portal.

`public_support_for` is the public pages' only way in: it returns what a regulator has marked
public and nothing else (never plans' actions, objectives, leads or proposals).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404
from django.utils import timezone

from interventions.models import CriterionEvaluation, ExitCriterion, FreedomGrant, SupportPlan
from metrics.models import Metric
from metrics.units import quantity
from releases import applicability
from releases.applicability import Coverage
from releases.models import (
    MetricPeerStatistics,
    MetricResult,
    Release,
    ReleaseQuerySet,
    TrustResult,
)
from releases.synthetic import synthetic_values
from trusts.models import Trust


@dataclass(frozen=True)
class PublicFreedom:
    name: str
    slug: str
    since: datetime.date | None


@dataclass(frozen=True)
class PublicSupport:
    """What the public may know of one trust's interventions."""

    trust_id: int
    support_level: str | None = None  # SupportPlan.Level value, e.g. "targeted"
    support_level_label: str | None = None  # e.g. "Targeted support"
    freedoms: list[PublicFreedom] = field(default_factory=list)

    @property
    def has_any(self) -> bool:
        return self.support_level is not None or bool(self.freedoms)


def public_support_for(
    trust_ids: list[int], today: datetime.date | None = None
) -> dict[int, PublicSupport]:
    """Each trust's current public support level and public granted freedoms, in two queries.

    Every requested trust has an entry (empty if nothing is public), so callers can index it.
    Only an active plan marked public shows its level, and only a granted freedom marked public
    and already started shows; a plan's actions and details are never included.
    """
    today = today or timezone.localdate()
    ids = list(dict.fromkeys(trust_ids))
    if not ids:
        return {}
    levels: dict[int, str] = dict(
        SupportPlan.objects.filter(
            trust_id__in=ids, status=SupportPlan.Status.ACTIVE, is_public=True
        ).values_list("trust_id", "level")
    )
    freedoms: dict[int, list[PublicFreedom]] = {trust_id: [] for trust_id in ids}
    grants = (
        FreedomGrant.objects.filter(
            trust_id__in=ids, status=FreedomGrant.Status.GRANTED, is_public=True
        )
        .filter(Q(start__isnull=True) | Q(start__lte=today))
        .order_by("freedom_type__display_order", "freedom_type__name")
        .values_list("trust_id", "freedom_type__name", "freedom_type__slug", "start")
    )
    for trust_id, name, slug, start in grants:
        freedoms[trust_id].append(PublicFreedom(name=name, slug=slug, since=start))
    labels = dict(SupportPlan.Level.choices)
    return {
        trust_id: PublicSupport(
            trust_id=trust_id,
            support_level=levels.get(trust_id),
            support_level_label=labels.get(levels[trust_id]) if trust_id in levels else None,
            freedoms=freedoms[trust_id],
        )
        for trust_id in ids
    }


# The trust area: a board member's own trust only. Every function takes the trust already
# resolved through `board_trust_or_404`, so none of them can reach another trust's rows.


def board_trust_or_404(user: Any, ods_code: str) -> Trust:
    """The trust, if `user` sits on its board; 404 otherwise, so other trusts are not revealed."""
    return get_object_or_404(Trust.objects.for_board_member(user), ods_code=ods_code)


def viewable_releases(trust: Trust, user: Any) -> ReleaseQuerySet:
    """Releases with a row for this trust that its board may see: published, and embargoed
    ones (approved or scheduled) if the user may preview them."""
    return (
        Release.objects.visible_to_board(trust, user)
        .select_related("quarter", "peer_group")
        .order_by("-quarter__year_start", "-quarter__number", "-revision")
    )


def latest_published_result(trust: Trust) -> TrustResult | None:
    return (
        TrustResult.objects.filter(trust=trust, release__status=Release.Status.PUBLISHED)
        .select_related("release__quarter", "release__peer_group")
        .order_by(
            "-release__quarter__year_start", "-release__quarter__number", "-release__revision"
        )
        .first()
    )


def embargoed_results(trust: Trust, user: Any) -> list[TrustResult]:
    """This trust's own rows in tables not yet published, if the user may preview them."""
    return list(
        TrustResult.objects.filter(trust=trust, release__in=Release.objects.previewable_by(user))
        .select_related("release__quarter", "release__peer_group")
        .order_by("-release__quarter__year_start", "-release__quarter__number")
    )


def own_result(release: Release, trust: Trust) -> TrustResult:
    return get_object_or_404(
        TrustResult.objects.select_related("trust"), release=release, trust=trust
    )


def own_metric_scores(release: Release, trust: Trust) -> list[MetricResult]:
    """The trust's own value and score on each metric."""
    return list(
        MetricResult.objects.filter(release=release, trust=trust)
        .select_related("metric")
        .order_by("metric__code")
    )


@dataclass(frozen=True)
class MetricLine:
    """One metric of the trust's own row, formatted with its unit beside the peer median."""

    code: str
    name: str
    value: str  # "12.3%", "0%"; empty when only a score was reported
    value_text: str  # a reported value that is not a number, as supplied
    score: Decimal | None
    peer_median: str
    synthetic: bool
    coverage: Coverage = Coverage.REPORTED
    not_applicable_text: str = ""  # why, when the metric does not measure the trust's kind

    @property
    def applicable(self) -> bool:
        return self.coverage != Coverage.NOT_APPLICABLE


def own_metric_lines(release: Release, trust: Trust) -> list[MetricLine]:
    """The trust's own value and score on each metric of the table, and the peer group's median.

    Every metric the table shows is listed, in the framework's order: one the trust did not
    report says so, or says it does not apply to the trust's kind (releases.applicability).
    The median is the one aggregate shown beside a value: no other trust's figure, and in an
    embargoed preview the same embargo covers it as the trust's own row.
    """
    subtype = own_result(release, trust).trust_subtype
    results = {result.metric_id: result for result in own_metric_scores(release, trust)}
    medians = dict(
        MetricPeerStatistics.objects.filter(release=release).values_list("metric_id", "median")
    )
    synthetic = synthetic_values(release)
    lines = []
    for definition in applicability.release_metrics(release).shown:
        metric, result = definition.metric, results.get(definition.metric_id)
        coverage = applicability.coverage(definition, subtype, result is not None)
        lines.append(
            MetricLine(
                code=metric.code,
                name=metric.name,
                value=quantity(result.value, metric.unit) if result else "",
                value_text=result.value_text if result else "",
                score=result.score if result else None,
                peer_median=quantity(medians.get(metric.pk), metric.unit),
                synthetic=synthetic.result(trust.pk, metric.pk),
                coverage=coverage,
                not_applicable_text=applicability.not_applicable_text(definition, subtype)
                if coverage == Coverage.NOT_APPLICABLE
                else "",
            )
        )
    return lines


# The regulator's workspace.


def plans_ready_to_close() -> list[int]:
    """Active plans whose every exit criterion was met in its latest published evaluation.

    Judged in two queries for every active plan at once: the newest evaluation of each
    criterion against a table still published decides, as it does when the plan is closed.
    """
    criteria: dict[int, list[int]] = {}
    for criterion_id, plan_id in ExitCriterion.objects.filter(
        plan__status=SupportPlan.Status.ACTIVE
    ).values_list("pk", "plan_id"):
        criteria.setdefault(plan_id, []).append(criterion_id)
    latest: dict[int, bool] = {}
    for criterion_id, met in (
        CriterionEvaluation.objects.filter(
            criterion__plan__status=SupportPlan.Status.ACTIVE,
            release__status=Release.Status.PUBLISHED,
        )
        .newest_first()
        .values_list("criterion_id", "met")
    ):
        latest.setdefault(criterion_id, met)
    return [
        plan_id
        for plan_id, criterion_ids in criteria.items()
        if all(latest.get(criterion_id) for criterion_id in criterion_ids)
    ]


def regulators() -> QuerySet:
    """Active staff who run support plans: the people a plan's regulator lead may be."""
    return (
        get_user_model()
        .objects.with_perm(
            "interventions.change_supportplan",
            include_superusers=False,
            backend="django.contrib.auth.backends.ModelBackend",
        )
        .filter(is_active=True, is_staff=True)
        .order_by("first_name", "last_name", "username")
    )


def framework_metrics(plan: SupportPlan) -> QuerySet[Metric]:
    """The metrics of the framework that scored the table which triggered the plan."""
    return Metric.objects.filter(definitions__framework_id=plan.triggered_by.framework_id).order_by(
        "code"
    )
