"""A release is scored with a framework of its own peer group that is in use for its quarter:
the admin's add form says so against the framework, and no other path can save such a release."""

from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from metrics.models import Framework
from releases.models import Release
from tests.factories import quarter
from tests.releases.governance.test_admin import change_form_data, signed_in
from trusts.models import PeerGroup


def add(client: Any, **fields: Any) -> Any:
    url = reverse("admin:releases_release_add")
    data = change_form_data(client.get(url))
    data.update(threshold_method="quartiles", replicates="100", seed="1", **fields)
    return client.post(url, data)


@pytest.fixture
def mh_and_c(db: None) -> PeerGroup:
    return PeerGroup.objects.get(slug="mental-health-community")


def test_the_add_form_refuses_another_peer_groups_framework(analyst: Any, mh_and_c: Any) -> None:
    acute = Framework.objects.filter(peer_group__slug="acute").first()
    response = add(
        signed_in(analyst),
        quarter=quarter(4).pk,
        peer_group=mh_and_c.pk,
        framework=acute.pk,
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["framework"]
    assert "not of Mental health and community" in errors[0] or "framework of" in errors[0]
    assert not Release.objects.exists()


def test_the_add_form_refuses_a_framework_not_in_use_for_the_quarter(
    analyst: Any, mh_and_c: Any
) -> None:
    framework = Framework.objects.filter(peer_group=mh_and_c).first()
    framework.quarters.remove(quarter(4))
    response = add(
        signed_in(analyst),
        quarter=quarter(4).pk,
        peer_group=mh_and_c.pk,
        framework=framework.pk,
    )
    assert response.status_code == 200
    assert "is not in use for Q4 2025/26" in str(response.context["adminform"].form.errors)
    assert not Release.objects.exists()


def test_no_other_path_saves_a_release_with_a_framework_that_does_not_fit(
    mh_and_c: Any,
) -> None:
    acute = Framework.objects.filter(peer_group__slug="acute").first()
    with pytest.raises(ValidationError, match="framework of"):
        Release(quarter=quarter(4), peer_group=mh_and_c, framework=acute).save()
    with pytest.raises(ValidationError, match="framework of"):
        Release.objects.create(quarter=quarter(4), peer_group=mh_and_c, framework=acute)
    assert not Release.objects.exists()


def test_a_fitting_framework_is_accepted(analyst: Any, mh_and_c: Any) -> None:
    framework = Framework.objects.filter(peer_group=mh_and_c, quarters=quarter(4)).first()
    response = add(
        signed_in(analyst), quarter=quarter(4).pk, peer_group=mh_and_c.pk, framework=framework.pk
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Release.objects.get().framework == framework
