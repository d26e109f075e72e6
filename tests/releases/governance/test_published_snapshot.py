"""A published revision is a snapshot: renaming its trusts (by re-import or in the admin) and
trying to edit the framework it was scored with change nothing it shows, byte for byte; an edit
of the framework is a new framework version."""

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from openpyxl import load_workbook

from metrics.imports.register import ETR_WIDTH, import_trusts
from metrics.models import (
    Domain,
    Framework,
    Metric,
    MetricDefinition,
    PublishedFrameworkIsFixed,
    Thresholds,
)
from metrics.services import new_framework_version
from releases.models import Release
from releases.services import drafts
from tests.factories import computed_release, quarter
from trusts.models import Region

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
DOWNLOADS = (
    "league-table.csv",
    "trust-data.csv",
    "data.csv",
    "league-table.json",
    "metadata.json",
)


@pytest.fixture
def published(release: Release, move: Callable) -> Release:
    return move(release, Status.PUBLISHED)


@pytest.fixture
def admin_client(superuser: Any) -> Client:
    client = Client()
    client.force_login(superuser, backend=MODEL_BACKEND)
    return client


def everything_shown(release: Release) -> dict[str, bytes]:
    """Every page, API response and download of the release, read afresh (no cache)."""
    cache.clear()
    client = Client()
    table = release.get_absolute_url()
    urls = {
        "page": table,
        "page filtered": table + "?sort=name",
        "domain view": table + "domains/",
        "api release": reverse("api:release-detail", args=[release.pk]),
        "api rows": reverse("api:release-rows", args=[release.pk]) + "?limit=500",
        "api framework": reverse("api:framework-detail", args=[release.framework_id]),
        "methodology": reverse("public:methodology"),
        **{name: table + name for name in DOWNLOADS},
    }
    shown = {}
    for name, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (name, url, response.status_code)
        shown[name] = response.content
    workbook = load_workbook(io.BytesIO(client.get(table + "league-table.xlsx").content))
    for sheet in workbook.worksheets:
        shown[f"xlsx {sheet.title}"] = repr(list(sheet.iter_rows(values_only=True))).encode()
    return shown


def etr_file(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    """An ODS etr.csv extract (no header): code, name, region grouping."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        for code, name, grouping in rows:
            row = [""] * ETR_WIDTH
            row[0], row[1], row[2], row[3] = code, name, grouping, "QWO"
            row[10] = "20020401"
            writer.writerow(row)
    return path


def test_it_keeps_a_published_revision_byte_for_byte_when_its_trusts_are_renamed(
    published: Release, admin_client: Client, tmp_path: Path
) -> None:
    before = everything_shown(published)
    rows = list(published.trust_results.select_related("trust", "region").order_by("rank"))
    first, second = rows[0].trust, rows[1].trust
    old_name, old_region = first.name, rows[0].region
    assert old_name.encode() in before["league-table.csv"]
    elsewhere = Region.objects.exclude(pk=old_region.pk).exclude(slug="north-east-and-yorkshire")

    # An ODS extract renames the first trust and moves it to another region.
    import_trusts(
        etr_file(tmp_path / "etr.csv", [(first.ods_code, "RENAMED HEALTH NHS TRUST", "Y63")])
    )
    # A regulator renames the second in the admin and changes its subtype and region.
    response = admin_client.post(
        reverse("admin:trusts_trust_change", args=[second.pk]),
        {
            "ods_code": second.ods_code,
            "name": "Another New Name NHS Trust",
            "trust_type": second.trust_type,
            "subtype": "Learning Disability",
            "region": elsewhere.first().pk,
            "peer_group": second.peer_group_id,
            "is_open": "on",
            "board_memberships-TOTAL_FORMS": "0",
            "board_memberships-INITIAL_FORMS": "0",
            "context_measures-TOTAL_FORMS": "0",
            "context_measures-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.name == "Renamed Health NHS Trust"
    assert first.region.slug == "north-east-and-yorkshire" != old_region.slug
    assert second.name == "Another New Name NHS Trust"

    after = everything_shown(published)

    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"changed after the renames: {changed}"
    assert old_name.encode() in after["league-table.csv"]
    assert b"Renamed Health" not in after["league-table.csv"]
    # The trust's own page is current: its new name, and the name the table used beside it.
    page = Client().get(first.get_absolute_url()).content.decode()
    assert "<h1>Renamed Health NHS Trust</h1>" in page
    assert f"published as {old_name}" in page
    # The table still finds it by either name, in the region it was published in.
    table = Client().get(published.get_absolute_url() + f"?q=Renamed&region={old_region.slug}")
    assert f'data-trust="{first.ods_code}"'.encode() in table.content


def test_it_computes_a_new_table_with_the_current_names(
    published: Release, maker: Any, tmp_path: Path
) -> None:
    trust = published.trust_results.order_by("rank").first().trust
    import_trusts(
        etr_file(tmp_path / "etr.csv", [(trust.ods_code, "RENAMED HEALTH NHS TRUST", "Y63")])
    )
    next_quarter = computed_release(trust_count=10, quarter_number=3, replicates=100)

    row = next_quarter.trust_results.get(trust=trust)
    assert (row.trust_name, row.region.slug) == (
        "Renamed Health NHS Trust",
        "north-east-and-yorkshire",
    )
    assert published.trust_results.get(trust=trust).trust_name != row.trust_name


def test_it_refuses_to_edit_a_published_framework_in_place(
    published: Release, admin_client: Client
) -> None:
    before = everything_shown(published)
    framework = published.framework
    definition = framework.definitions.select_related("metric").order_by("pk").first()

    for change in (
        {"counted": not definition.counted},
        {"assumptions": "Changed"},
        {"pool": "national" if definition.pool == "peer" else "peer"},
    ):
        for name, value in change.items():
            setattr(definition, name, value)
        with pytest.raises(PublishedFrameworkIsFixed, match="Make a new version"):
            definition.save()
        definition.refresh_from_db()
    with pytest.raises(PublishedFrameworkIsFixed):
        MetricDefinition.objects.filter(framework=framework).update(counted=False)
    with pytest.raises(PublishedFrameworkIsFixed):
        MetricDefinition.objects.filter(pk=definition.pk).delete()
    with pytest.raises(PublishedFrameworkIsFixed):
        definition.delete()
    with pytest.raises(PublishedFrameworkIsFixed, match="cannot be added to"):
        MetricDefinition.objects.create(
            framework=framework,
            metric=Metric.objects.exclude(definitions__framework=framework).first(),
            domain=definition.domain,
            method="supplied",
        )
    domain = Domain.objects.filter(framework=framework).first()
    domain.name = "Renamed domain"
    with pytest.raises(PublishedFrameworkIsFixed):
        domain.save()
    with pytest.raises(PublishedFrameworkIsFixed):
        Framework.objects.filter(pk=framework.pk).update(description="Rewritten")
    framework.use_supplied_scores = not framework.use_supplied_scores
    with pytest.raises(PublishedFrameworkIsFixed):
        framework.save()
    metric = definition.metric
    metric.name = "A new name for the metric"
    with pytest.raises(PublishedFrameworkIsFixed, match=metric.code):
        metric.save()
    with pytest.raises(PublishedFrameworkIsFixed):
        Metric.objects.filter(pk=metric.pk).update(unit="furlongs")
    thresholds = Thresholds.objects.get(framework=framework, quarter=published.quarter)
    thresholds.t1 = thresholds.t1 - 1 if thresholds.t1 is not None else 1
    with pytest.raises(PublishedFrameworkIsFixed, match="thresholds"):
        thresholds.save()

    # The admin answers with the reason on the form, not an error page, and saves nothing.
    response = admin_client.post(
        reverse("admin:metrics_metricdefinition_change", args=[definition.pk]),
        {
            "framework": framework.pk,
            "metric": definition.metric_id,
            "domain": definition.domain_id,
            "sub_domain": definition.sub_domain,
            "method": definition.method,
            "params": json.dumps(definition.params),
            "pool": definition.pool,
            "assumptions": "Rewritten after publication",
            "display_order": definition.display_order,
            "change_reason": "Trying to rewrite history",
        },
    )
    assert response.status_code == 200
    assert "Make a new version of the framework instead" in response.content.decode()

    after = everything_shown(published)
    assert [name for name in before if before[name] != after[name]] == []


def test_it_lets_what_decides_the_future_change_on_a_published_framework(
    published: Release,
) -> None:
    framework = published.framework
    framework.status = Framework.Status.RETIRED
    framework.default_replicates = 1000
    framework.save()
    framework.quarters.add(quarter(3))
    # Another quarter's thresholds are not part of the published release.
    other = Thresholds.objects.filter(framework=framework).exclude(quarter=published.quarter)
    if other.exists():
        row = other.first()
        row.source = "Set for a later quarter"
        row.save()


def test_it_makes_a_new_framework_version_that_can_be_edited_and_used(
    published: Release, admin_client: Client
) -> None:
    framework = published.framework
    response = admin_client.post(
        reverse("admin:metrics_framework_changelist"),
        {"action": "make_new_version", "_selected_action": [framework.pk]},
        follow=True,
    )
    assert response.status_code == 200
    copy = Framework.objects.get(slug=framework.slug, version=framework.version + 1)
    assert f"{copy}" in response.content.decode()
    assert copy.status == Framework.Status.DRAFT
    assert copy.definitions.count() == framework.definitions.count()
    assert sorted(copy.definitions.values_list("metric__code", "method", "counted", "params")) == (
        sorted(framework.definitions.values_list("metric__code", "method", "counted", "params"))
    )
    assert copy.domains.count() == framework.domains.count()
    assert copy.thresholds.count() == framework.thresholds.count()
    # The copy is the regulators' to change.
    definition = copy.definitions.order_by("pk").first()
    definition.assumptions = "Reworded in version 2"
    definition.counted = not definition.counted
    definition.save()

    # A draft version is not used until a regulator makes it active.
    assert drafts.framework_for(quarter(3), published.peer_group) == framework
    copy.status = Framework.Status.ACTIVE
    copy.save()
    framework.status = Framework.Status.RETIRED
    framework.save()
    assert drafts.framework_for(quarter(3), published.peer_group) == copy

    # The published release keeps its own version, on the methodology page and in the API.
    methodology = Client().get(reverse("public:methodology")).content.decode()
    assert f"{framework.name} (version {framework.version})" in methodology
    release = Client().get(reverse("api:release-detail", args=[published.pk])).json()
    assert release["framework_version"] == framework.version
    api = Client().get(reverse("api:framework-detail", args=[framework.pk])).json()
    assert api["version"] == framework.version
    assert "Reworded in version 2" not in str(api)


def test_it_copies_a_framework_through_the_service_with_the_reason_in_the_history(
    published: Release, maker: Any
) -> None:
    copy = new_framework_version(published.framework, maker, "Rewording OF0084")
    assert copy.history.latest().history_change_reason == "Rewording OF0084"
    assert copy.history.latest().history_user == maker
    again = new_framework_version(published.framework, maker)
    assert again.version == copy.version + 1


def test_it_lets_regions_and_peer_groups_of_published_tables_be_viewed_but_not_renamed(
    published: Release, admin_client: Client
) -> None:
    region = published.trust_results.first().region
    page = admin_client.get(reverse("admin:trusts_region_change", args=[region.pk]))
    assert page.status_code == 200
    assert 'name="published_name"' not in page.content.decode()
    admin_client.post(
        reverse("admin:trusts_region_change", args=[region.pk]),
        {"name": "Renamed", "published_name": "Renamed", "slug": "renamed"},
    )
    region.refresh_from_db()
    assert region.name != "Renamed"
    group = published.peer_group
    page = admin_client.get(reverse("admin:trusts_peergroup_change", args=[group.pk]))
    assert 'name="trust_type_label"' not in page.content.decode()
    unused = Region.objects.exclude(published_results__isnull=False).first()
    if unused is not None:
        page = admin_client.get(reverse("admin:trusts_region_change", args=[unused.pk]))
        assert 'name="published_name"' in page.content.decode()
