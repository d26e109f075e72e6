"""Not applicable and not reported, as a small synthetic table shows them, and what fixes them.

Factory trusts alternate between "Mental Health and Learning Disability" (even) and
"Community" (odd); each reports every counted metric unless a test takes a value away.
"""

from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from leaguetable import roles
from metrics.models import MetricDefinition, Observation, PublishedFrameworkIsFixed
from metrics.services import new_framework_version
from releases.models import MetricResult, Release, TrustResult
from releases.review import review_release
from releases.services import computation, lifecycle
from releases.services.drafts import draft_release
from tests.factories import PEER_GROUP, make_observations, make_trusts, quarter, user_with_role
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db

MH_AND_CARE = ["Mental Health and Learning Disability", "Care Trust"]


def computed(*, without: dict[str, set[str]] | None = None) -> Release:
    """A computed Q4 draft of eight trusts; `without` takes metric codes away from trusts."""
    trusts = make_trusts(8)
    make_observations(trusts, quarter(4))
    for code, ods_codes in (without or {}).items():
        Observation.objects.filter(
            metric__code=code, trust__ods_code__in=ods_codes, quarter=quarter(4)
        ).delete()
    release = draft_release(quarter(4), PEER_GROUP)
    release.replicates = 40
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return release


def results(release: Release) -> list[tuple[Any, ...]]:
    return sorted(
        TrustResult.objects.filter(release=release).values_list(
            "trust__ods_code", "average_exact", "metrics_scored", "segment", "rank", "domain_scores"
        )
    )


def test_applicability_never_changes_a_score() -> None:
    release = computed(without={"OF0016": {"T001", "T002"}})
    before = results(release)
    definition = MetricDefinition.objects.get(framework=release.framework, metric__code="OF0016")
    assert definition.applies_to_subtypes == MH_AND_CARE
    # Community trusts that report it are scored on it; take applicability away and recompute.
    assert MetricResult.objects.filter(
        release=release, trust__ods_code="T003", metric=definition.metric, score__isnull=False
    ).exists()
    definition.applies_to_subtypes = []
    definition.save()
    computation.compute(release.pk)
    assert results(release) == before


def test_a_missing_metric_is_not_applicable_only_where_it_does_not_measure_the_trust(
    client: Client,
) -> None:
    # T001 (community) and T002 (mental health) lack crisis care; T003 (community) has it.
    release = publish(computed(without={"OF0016": {"T001", "T002"}}))

    def crisis_row(ods_code: str) -> str:
        page = client.get(f"/trusts/{ods_code}/").content.decode()
        (row,) = [row for row in page.split("<tr") if "(OF0016;" in row]
        return row

    assert "Not applicable" in crisis_row("T001") and "Not reported" not in crisis_row("T001")
    assert "Not reported" in crisis_row("T002") and "Not applicable" not in crisis_row("T002")
    assert "Not" not in crisis_row("T003").split("Value </span>")[1].split("</td>")[0]

    completeness = {c.trust.ods_code: c for c in review_release(release).completeness}
    assert completeness["T001"].not_applicable == ["OF0016"]
    assert (completeness["T001"].scored, completeness["T001"].expected) == (11, 11)
    assert completeness["T002"].missing == ["OF0016"]
    assert (completeness["T002"].scored, completeness["T002"].expected) == (11, 12)
    assert (completeness["T003"].scored, completeness["T003"].expected) == (12, 12)


def test_a_metric_no_trust_reported_is_left_out_of_the_release(client: Client) -> None:
    everyone = {f"T{i:03d}" for i in range(8)}
    release = publish(computed(without={"OF0061": everyone}))
    name = MetricDefinition.objects.get(
        framework=release.framework, metric__code="OF0061"
    ).metric.name

    page = client.get("/trusts/T002/").content.decode()
    assert "OF0061" not in page and name not in page
    assert "OF0061" not in client.get("/compare/?trusts=T001,T002").content.decode()
    assert "OF0061" not in client.get(f"/api/v1/releases/{release.pk}/").json()["metrics"]
    data = client.get(f"{release.get_absolute_url()}league-table.json").json()
    assert "OF0061" not in data["metadata"]["units"]
    review = review_release(release)
    # The factory gives no values for the combined finance score's parts either.
    assert [metric.code for metric in review.metrics_without_data] == [
        "OF0061",
        "OF0079",
        "OF0081",
    ]
    assert all("OF0061" not in c.missing and c.expected == 11 for c in review.completeness)

    # The methodology page says so for that quarter, in its table of published tables.
    methodology = client.get(reverse("public:methodology")).content.decode()
    settings = methodology.split("Segment thresholds and likely range settings")[1]
    assert f"{name} (OF0061)" in settings.split("</table>")[0]
    # The metric itself is still described: it is part of the framework.
    assert "(OF0061" in methodology.split("Segment thresholds and likely range")[0]


def test_applicability_is_fixed_with_the_framework_once_signed_off() -> None:
    release = computed(without={"OF0016": {"T001"}})
    analyst = user_with_role("analyst", roles.ANALYST)
    approver = user_with_role("approver", roles.APPROVER)
    lifecycle.approve(lifecycle.submit(release, analyst), approver)
    definition = MetricDefinition.objects.get(framework=release.framework, metric__code="OF0016")
    definition.applies_to_subtypes = []
    with pytest.raises(PublishedFrameworkIsFixed, match="Make a new version"):
        definition.save()
    with pytest.raises(PublishedFrameworkIsFixed):
        MetricDefinition.objects.filter(pk=definition.pk).update(not_applicable_note="Changed")
    assert review_release(release).completeness  # still readable
    completeness = {c.trust.ods_code: c for c in review_release(release).completeness}
    assert completeness["T001"].not_applicable == ["OF0016"]

    # A new version carries it, and is the regulators' to change.
    copy = new_framework_version(release.framework, analyst, "Crisis care for every trust")
    copied = MetricDefinition.objects.get(framework=copy, metric__code="OF0016")
    assert copied.applies_to_subtypes == MH_AND_CARE
    assert copied.not_applicable_note == definition.not_applicable_note
    copied.applies_to_subtypes = []
    copied.save()
