"""Domain thresholds in the admin: beside the overall thresholds on a draft's page, kept in the
release's history, read-only past draft, and shown to the checker on the review screen."""

from collections.abc import Callable
from typing import Any

import pytest
from django.urls import reverse

from metrics.models import Domain, DomainThresholds
from releases.models import Release
from tests.releases.governance.test_admin import change_form_data, signed_in

FIELD = "domain__access-to-services__{}"


def test_an_analyst_sets_a_domains_thresholds_and_the_release_recomputes_with_them(
    release: Release, analyst: Any, django_capture_on_commit_callbacks: Any
) -> None:
    client = signed_in(analyst)
    url = reverse("admin:releases_release_change", args=[release.pk])
    data = change_form_data(client.get(url))
    assert data[FIELD.format("method")] == "quartiles"
    data.update(
        {
            FIELD.format("method"): "fixed",
            FIELD.format("t1"): "1.5",
            FIELD.format("t2"): "2.25",
            FIELD.format("t3"): "3",
        }
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    release.refresh_from_db()
    assert release.domain_thresholds["access-to-services"] == {
        "method": "fixed",
        "t1": "1.5",
        "t2": "2.25",
        "t3": "3",
    }
    # The others were quartiles and still are, filled in by the recomputation.
    assert release.domain_thresholds["patient-safety"]["method"] == "quartiles"
    assert release.domain_thresholds["patient-safety"]["t1"]
    assert release.history.first().domain_thresholds["access-to-services"]["t2"] == "2.25"
    for result in release.trust_results.all():
        score = result.domain_scores.get("access-to-services")
        if score is not None:
            expected = 1 + (score > 1.5) + (score > 2.25) + (score > 3)
            assert result.domain_segments["access-to-services"] == expected


@pytest.mark.parametrize(
    ("values", "message"),
    [
        (("2.5", "2.25", "3"), "Thresholds must increase"),
        (("1.5", "", "3"), "Fixed thresholds need t1, t2 and t3"),
        (("1.5", "2.25", "9"), "less than or equal to 4"),
    ],
)
def test_it_refuses_fixed_domain_thresholds_that_are_incomplete_or_out_of_order(
    release: Release, analyst: Any, values: tuple[str, str, str], message: str
) -> None:
    client = signed_in(analyst)
    url = reverse("admin:releases_release_change", args=[release.pk])
    data = change_form_data(client.get(url))
    data[FIELD.format("method")] = "fixed"
    for position, value in enumerate(values, start=1):
        data[FIELD.format(f"t{position}")] = value
    before = release.domain_thresholds

    response = client.post(url, data)

    assert response.status_code == 200
    assert message in response.content.decode()
    release.refresh_from_db()
    assert release.domain_thresholds == before


def test_past_draft_the_domain_thresholds_are_shown_not_edited(
    release: Release, move: Callable, analyst: Any, approver: Any
) -> None:
    move(release, "submitted")
    page = signed_in(analyst).get(reverse("admin:releases_release_change", args=[release.pk]))

    text = page.content.decode()
    assert FIELD.format("t1") not in text
    assert "Access to services (OF4000):" in text
    review = signed_in(approver).get(reverse("admin:releases_release_review", args=[release.pk]))
    labels = dict(review.context["review"].parameters)
    assert "quartiles of the peer group" in labels["Domain thresholds: OF4000 Access to services"]


def test_a_new_draft_takes_the_frameworks_domain_thresholds(db: None) -> None:
    from tests.factories import computed_release

    first = computed_release(trust_count=6, replicates=20)
    domain = Domain.objects.get(framework=first.framework, slug="patient-safety")
    DomainThresholds.objects.create(
        framework=first.framework,
        quarter=first.quarter,
        domain=domain,
        t1="1.9",
        t2="2.3",
        t3="2.8",
    )
    first.delete()

    again = computed_release(trust_count=6, replicates=20)

    assert again.domain_thresholds["patient-safety"] == {
        "method": "fixed",
        "t1": "1.9",
        "t2": "2.3",
        "t3": "2.8",
    }
    assert again.domain_thresholds["access-to-services"]["method"] == "quartiles"
