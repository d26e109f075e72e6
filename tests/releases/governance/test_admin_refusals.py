"""Every refusal the admin can meet says why: which release uses the row, and what to do
instead. An edit is refused with a form error; a deletion (one row, or many from the list) with
a page that names the reason and links the releases; anything the admin never does, with the
reason it never does it. Never a bare "403 Forbidden", never a server error."""

import json
import re
from collections.abc import Callable
from decimal import Decimal
from html import unescape
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.test import Client
from django.urls import reverse

from interventions.models import FreedomType
from metrics.models import (
    Domain,
    DomainThresholds,
    Framework,
    Metric,
    MetricDefinition,
    Observation,
    Thresholds,
    TrustQuarterStatus,
)
from releases.models import Release, ReleaseTransition, TrustResult
from tests.factories import quarter
from tests.releases.governance.test_admin import change_form_data

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
NEW_VERSION = "Make a new version of the framework instead"


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def text(response: Any) -> str:
    """The page's words, as a reader sees them."""
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", response.content.decode())))


def refusal(response: Any) -> str:
    """The reason a refusal page gives (its #refusal note and the refused rows)."""
    body = response.content.decode()
    note = re.search(r'id="refusal">(.*?)</p>', body, re.S)
    rows = re.findall(r"<li>(.*?)</li>", body.split('class="lt-refusals"')[-1], re.S)
    found = (note.group(1) if note else "") + " ".join(rows if "lt-refusals" in body else [])
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", "", found))).strip()


def admin_url(obj: Any, view: str) -> str:
    opts = obj._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[obj.pk])


def bulk_delete(client: Client, model: Any, pks: list[int], confirmed: bool = True) -> Any:
    opts = model._meta
    data = {"action": "delete_selected", ACTION_CHECKBOX_NAME: pks}
    if confirmed:
        data["post"] = "yes"
    return client.post(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"), data)


def fed(release: Release) -> Observation:
    return (
        Observation.objects.filter(quarter=release.quarter, trust__results__release=release)
        .select_related("trust", "metric", "quarter")
        .order_by("pk")
        .first()
    )


@pytest.fixture
def published(release: Release, move: Callable) -> Release:
    return move(release, Status.PUBLISHED)


@pytest.fixture
def root(superuser: Any) -> Client:
    return signed_in(superuser)


# Data a signed-off release used ---------------------------------------------------------------


def test_an_edit_of_a_published_observation_is_a_form_error_naming_the_release(
    published: Release, root: Client
) -> None:
    observation = fed(published)
    url = admin_url(observation, "change")
    data = change_form_data(root.get(url))
    data.update(value="12.5", change_reason="Trust resubmitted")

    response = root.post(url, data)

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert f"{observation.trust.ods_code}'s data for {published.quarter} fed {published} " in (
        errors
    )
    assert "(published)" in errors
    assert "“Start a correction” on the release's page" in errors
    observation.refresh_from_db()
    assert observation.value != Decimal("12.5")


def test_an_approved_releases_data_says_to_return_it_for_changes(
    release: Release, move: Callable, root: Client
) -> None:
    move(release, Status.APPROVED)
    status = TrustQuarterStatus.objects.get(trust=fed(release).trust, quarter=release.quarter)
    url = admin_url(status, "change")
    data = change_form_data(root.get(url))
    data.update(in_recovery_support="on", change_reason="Entered the RSP")

    response = root.post(url, data)

    assert response.status_code == 200
    errors = " ".join(response.context["adminform"].form.non_field_errors())
    assert f"fed {release} (approved)" in errors
    assert "“Return for changes”" in errors
    status.refresh_from_db()
    assert not status.in_recovery_support


def test_a_new_observation_for_a_published_trust_is_a_form_error(
    published: Release, root: Client
) -> None:
    observation = fed(published)
    unused = Metric.objects.exclude(
        observations__trust=observation.trust, observations__quarter=published.quarter
    ).first()

    response = root.post(
        reverse("admin:metrics_observation_add"),
        {
            "trust": observation.trust_id,
            "metric": unused.pk,
            "quarter": published.quarter.pk,
            "value": "5",
            "change_reason": "Late return",
        },
    )

    assert response.status_code == 200
    assert "Start a correction" in " ".join(response.context["adminform"].form.non_field_errors())
    assert not Observation.objects.filter(trust=observation.trust, metric=unused).exists()


def test_deleting_a_published_observation_is_refused_before_it_is_confirmed(
    published: Release, root: Client
) -> None:
    observation = fed(published)
    url = admin_url(observation, "delete")

    page = root.get(url)

    assert page.status_code == 403
    reason = refusal(page)
    assert f"fed {published} (published)" in reason and "Start a correction" in reason
    assert f"{observation.trust.ods_code} {observation.metric.code}" in text(page)
    assert admin_url(published, "change") in page.content.decode()  # the release, linked
    assert 'name="post"' not in page.content.decode()  # no "Yes, I'm sure" to press
    confirmed = root.post(url, {"post": "yes"})
    assert confirmed.status_code == 403
    assert "Start a correction" in refusal(confirmed)
    assert Observation.objects.filter(pk=observation.pk).exists()


def test_a_bulk_deletion_names_every_refused_row_and_deletes_nothing(
    published: Release, root: Client
) -> None:
    fixed = list(
        Observation.objects.filter(quarter=published.quarter, trust__results__release=published)
        .select_related("trust", "metric", "quarter")
        .order_by("pk")[:3]
    )
    free = Observation.objects.create(
        trust=fixed[0].trust, metric=fixed[0].metric, quarter=quarter(3), value=1
    )
    pks = [o.pk for o in fixed] + [free.pk]

    for confirmed in (False, True):  # the confirmation page, and a forged confirmation
        response = bulk_delete(root, Observation, pks, confirmed=confirmed)

        assert response.status_code == 403
        body = text(response)
        assert "3 of the 4 selected observations cannot be deleted; nothing was deleted" in body
        for observation in fixed:
            assert str(observation) in body
        assert str(free) not in refusal(response)
        assert "Start a correction" in refusal(response)
        assert Observation.objects.filter(pk__in=pks).count() == 4


def test_a_bulk_deletion_of_rows_no_release_fixed_still_works(
    published: Release, root: Client
) -> None:
    observation = fed(published)
    free = Observation.objects.create(
        trust=observation.trust, metric=observation.metric, quarter=quarter(3), value=1
    )

    response = bulk_delete(root, Observation, [free.pk])

    assert response.status_code == 302
    assert not Observation.objects.filter(pk=free.pk).exists()


def test_restoring_an_earlier_version_of_published_data_is_a_form_error(
    release: Release, move: Callable, root: Client
) -> None:
    observation = fed(release)
    observation.save()  # a version from before publication, when it could still change
    earliest = observation.history.earliest()
    move(release, Status.PUBLISHED)
    url = reverse(
        "admin:metrics_observation_simple_history", args=[observation.pk, earliest.history_id]
    )
    data = {
        "trust": observation.trust_id,
        "metric": observation.metric_id,
        "quarter": observation.quarter_id,
        "value": "99",
        "change_reason": "Back to the first import",
    }

    response = root.post(url, data)

    assert response.status_code == 200
    assert "Start a correction" in text(response)
    observation.refresh_from_db()
    assert observation.value != Decimal(99)


# The framework a signed-off release was scored with -------------------------------------------


def test_editing_what_a_published_release_was_scored_with_is_a_form_error(
    published: Release, root: Client
) -> None:
    framework = published.framework
    thresholds = Thresholds.objects.get(framework=framework, quarter=published.quarter)
    metric = framework.definitions.order_by("pk").first().metric
    edits = [
        (framework, {"description": "Rewritten"}, NEW_VERSION),
        (metric, {"name": "Renamed"}, "in a new framework version"),
        (thresholds, {"t1": "1.1"}, "A correction of that release"),
    ]
    for obj, change, advice in edits:
        url = admin_url(obj, "change")
        data = {**change_form_data(root.get(url)), **change, "change_reason": "Rewording"}

        response = root.post(url, data)

        assert response.status_code == 200, obj
        errors = " ".join(response.context["adminform"].form.non_field_errors())
        assert f"{published} (published)" in errors and advice in errors, errors
        obj.refresh_from_db()
        for name, value in change.items():
            stored = getattr(obj, name)
            assert stored != (Decimal(value) if isinstance(stored, Decimal) else value)


def test_deleting_a_published_framework_or_its_parts_says_to_make_a_new_version(
    published: Release, root: Client
) -> None:
    framework = published.framework
    definition = framework.definitions.select_related("metric").order_by("pk").first()
    for obj in (framework, definition):
        page = root.get(admin_url(obj, "delete"))
        assert page.status_code == 403, obj
        reason = refusal(page)
        assert f"{published} (published) was computed with that framework version" in reason
        assert NEW_VERSION in reason
        assert admin_url(published, "change") in page.content.decode()
    assert "OF" in refusal(root.get(admin_url(definition, "delete")))
    response = bulk_delete(root, MetricDefinition, [definition.pk])
    assert response.status_code == 403
    assert f"{definition.metric.code} cannot be removed from {framework}" in refusal(response)
    assert Framework.objects.filter(pk=framework.pk).exists()
    assert MetricDefinition.objects.filter(pk=definition.pk).exists()


def test_deleting_a_published_metric_says_it_is_shown_by_the_release(
    published: Release, root: Client
) -> None:
    metric = published.framework.definitions.order_by("pk").first().metric

    page = root.get(admin_url(metric, "delete"))

    assert page.status_code == 403
    reason = refusal(page)
    assert f"{metric.code} cannot be deleted: {published} (published) shows it" in reason
    assert "new framework version" in reason


def test_the_quarters_thresholds_of_a_published_release_cannot_be_deleted(
    published: Release, root: Client
) -> None:
    thresholds = Thresholds.objects.get(framework=published.framework, quarter=published.quarter)

    page = root.get(admin_url(thresholds, "delete"))

    assert page.status_code == 403
    reason = refusal(page)
    assert f"for {published.quarter} cannot be deleted: {published} (published) used them" in (
        reason
    )
    assert "A correction of that release" in reason
    assert Thresholds.objects.filter(pk=thresholds.pk).exists()


def test_deleting_a_fixed_row_from_the_framework_page_is_an_error_on_its_inline(
    release: Release, move: Callable, root: Client
) -> None:
    domain = Domain.objects.get(framework=release.framework, slug="patient-safety")
    fixed = DomainThresholds.objects.create(
        framework=release.framework, quarter=release.quarter, domain=domain, t1=1.9, t2=2.3, t3=2.8
    )
    move(release, Status.PUBLISHED)
    url = admin_url(release.framework, "change")
    data = change_form_data(root.get(url))
    formset = next(
        inline.formset
        for inline in root.get(url).context["inline_admin_formsets"]
        if inline.formset.model is DomainThresholds
    )
    index = next(i for i, form in enumerate(formset.forms) if form.instance.pk == fixed.pk)
    data[f"{formset.prefix}-{index}-DELETE"] = "on"
    data["change_reason"] = "Tidying up"

    response = root.post(url, data)

    assert response.status_code == 200
    errors = " ".join(
        str(error)
        for inline in response.context["inline_admin_formsets"]
        for error in inline.formset.non_form_errors()
    )
    assert f"{domain.name}" in errors and "cannot be deleted" in errors
    assert f"{release} (published) used them" in errors
    assert DomainThresholds.objects.filter(pk=fixed.pk).exists()


# What the admin never does --------------------------------------------------------------------


def test_changing_a_result_says_only_the_computation_writes_results(
    published: Release, root: Client
) -> None:
    result = published.trust_results.select_related("trust").first()

    response = root.post(admin_url(result, "change"), {"segment": 1})

    assert response.status_code == 403
    assert "Results are written only by the computation" in refusal(response)
    assert "Start a correction" in refusal(response)
    assert TrustResult.objects.get(pk=result.pk).segment == result.segment


def test_a_published_release_says_it_changes_only_through_its_transitions(
    published: Release, root: Client
) -> None:
    change = root.post(admin_url(published, "change"), {"seed": 1})
    delete = root.get(admin_url(published, "delete"))
    entry = ReleaseTransition.objects.filter(release=published).first()
    audit = root.post(admin_url(entry, "delete"), {"post": "yes"})

    assert change.status_code == delete.status_code == audit.status_code == 403
    assert f"{published} is published: a release past draft is never edited" in refusal(change)
    assert "only a draft that was never submitted can be deleted" in refusal(delete)
    assert "An audit entry is never changed or deleted once written." in refusal(audit)
    assert ReleaseTransition.objects.filter(pk=entry.pk).exists()


def test_a_kind_of_freedom_is_never_deleted_and_the_page_says_what_to_do(
    db: None, root: Client
) -> None:
    kind = FreedomType.objects.order_by("pk").first()

    response = root.get(admin_url(kind, "delete"))

    assert response.status_code == 403
    assert "Untick “Is active” to stop proposing it." in refusal(response)


def test_an_account_without_the_permission_is_told_so(analyst: Any) -> None:
    response = signed_in(analyst).get(reverse("admin:auth_user_add"))

    assert response.status_code == 403
    assert "Your account may not do this" in refusal(response)


# The whole admin ------------------------------------------------------------------------------


def test_no_admin_page_answers_a_bare_403_or_a_server_error(
    published: Release, superuser: Any
) -> None:
    """Every registered model, with a row a published release fixes where it has one: its
    change page (viewed and posted back unchanged), its delete page (viewed and confirmed) and
    the list's bulk deletion. A 403 always carries a reason."""
    client = Client(raise_request_exception=False)
    client.force_login(superuser, backend=MODEL_BACKEND)
    observation = fed(published)
    fixed_rows = {
        Observation: observation,
        TrustQuarterStatus: TrustQuarterStatus.objects.filter(
            trust=observation.trust, quarter=published.quarter
        ).first(),
        Framework: published.framework,
        MetricDefinition: published.framework.definitions.first(),
        Metric: observation.metric,
        Thresholds: Thresholds.objects.filter(
            framework=published.framework, quarter=published.quarter
        ).first(),
        Release: published,
    }
    bare: list[str] = []
    failed: list[str] = []
    tried = 0
    for model in admin.site._registry:
        obj = fixed_rows.get(model) or model._default_manager.order_by("pk").first()
        if obj is None:
            continue
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        change, delete = admin_url(obj, "change"), admin_url(obj, "delete")
        attempts: list[tuple[str, str, dict[str, Any] | None]] = [("GET", change, None)]
        page = client.get(change)
        if page.status_code == 200 and "adminform" in (page.context or {}):
            attempts.append(("POST", change, {**change_form_data(page), "change_reason": "Check"}))
        attempts += [
            ("GET", delete, None),
            ("POST", delete, {"post": "yes"}),
            ("POST", changelist, {"action": "delete_selected", ACTION_CHECKBOX_NAME: [obj.pk]}),
        ]
        for method, url, data in attempts:
            tried += 1
            response = client.get(url) if data is None else client.post(url, data)
            where = f"{method} {url} ({opts.label}): {response.status_code}"
            if response.status_code >= 500:
                failed.append(where)
            elif response.status_code == 403 and not refusal(response):
                bare.append(where)
    assert tried > 80
    assert failed == []
    assert bare == []


def test_a_refusal_outside_the_admin_says_why_too(rf: Any) -> None:
    from django.core.exceptions import PermissionDenied

    from leaguetable.errors import permission_denied

    page = permission_denied(rf.get("/trust-area/T001/"), PermissionDenied("Not your trust."))
    api = permission_denied(rf.get("/api/v1/releases/"), PermissionDenied())

    assert page.status_code == api.status_code == 403
    assert "Not your trust." in page.content.decode()
    assert "nhsuk-header" in page.content.decode()  # the site's own page
    assert json.loads(api.content) == {"detail": "You do not have permission to do this."}
