"""Finding a trust: case, accents and apostrophes do not matter; codes match; a trust in
another peer group's table is pointed to; compare takes commas or spaces and says what it drops."""

from __future__ import annotations

import pytest
from django.test import Client

from public.search import fold, matches
from releases.models import Release, TrustResult
from tests.factories import computed_release, make_trusts
from tests.public.conftest import publish
from trusts.models import PeerGroup, Trust

pytestmark = pytest.mark.django_db


def test_names_are_folded_as_people_type_them() -> None:
    assert (
        fold("Guy’s and St Thomas' NHS Foundation Trust")
        == "guys and st thomas nhs foundation trust"
    )
    assert fold("Hôpital Saint-Étienne") == "hopital saint etienne"
    name = "Guy's and St Thomas' NHS Foundation Trust"
    for typed in ("guys", "GUY'S", "Guy’s", "st thomas", "guys thom", "gúys"):
        assert matches(name, "RJ1", typed), typed
    assert matches(name, "RJ1", "rj1")
    assert not matches(name, "RJ1", "kings")
    assert not matches(name, "RJ1", "rj")  # a code matches whole, not as a fragment


@pytest.fixture
def two_tables(db: None) -> tuple[Release, Release]:
    """The MH&C table (T000 to T009, T001 renamed Guy's), and an ambulance table of A000."""
    draft = computed_release()
    Trust.objects.filter(ods_code="T001").update(name="Guy's and St Thomas' NHS Foundation Trust")
    ambulance = Release.objects.get(pk=draft.pk)
    ambulance.pk = None
    ambulance.peer_group = PeerGroup.objects.get(slug="ambulance")
    ambulance.save()
    [trust] = make_trusts(1, peer_group="ambulance", prefix="A")
    row = TrustResult.objects.filter(release=draft).first()
    row.pk, row.release, row.trust = None, ambulance, trust
    row.save()
    return publish(draft), publish(ambulance)


def test_the_league_table_search_ignores_case_accents_and_apostrophes(
    client: Client, two_tables: tuple[Release, Release]
) -> None:
    table, _ = two_tables
    for typed in ("guys", "GUYS", "gúy’s", "t001"):
        response = client.get(table.get_absolute_url(), {"q": typed})
        assert [r.trust.ods_code for r in response.context["rows"]] == ["T001"], typed
    assert client.get("/trusts/", {"q": "guys"}).content.decode().count("/trusts/T001/") == 1


def test_a_trust_searched_in_the_wrong_table_is_pointed_to_its_own(
    client: Client, two_tables: tuple[Release, Release]
) -> None:
    mental_health, ambulance = two_tables
    response = client.get(ambulance.get_absolute_url(), {"q": "t001"})
    body = response.content.decode()
    assert list(response.context["rows"]) == []
    assert "is not in this table" in body
    assert f'href="{mental_health.get_absolute_url()}?q=T001"' in body
    assert 'href="/trusts/T001/"' in body


def test_compare_accepts_commas_or_spaces_and_names_what_it_leaves_out(
    client: Client, two_tables: tuple[Release, Release]
) -> None:
    response = client.get("/compare/", {"trusts": "t001 T002,  T003 ,T004 T005 T006"})
    assert [c.trust.ods_code for c in response.context["comparison"].trusts] == [
        "T001",
        "T002",
        "T003",
        "T004",
    ]
    body = response.content.decode()
    assert "left out: T005, T006" in body
    spaced = client.get("/compare/", {"trusts": "T001 A000"})
    assert [c.trust.ods_code for c in spaced.context["comparison"].trusts] == ["T001", "A000"]
