"""The Atom feed is valid Atom (checked by a feed parser), "Current" marks only each table's
current revision, correction notes read as lists, and the stylesheet's icons are served."""

import feedparser
import pytest
from django.test import Client

from tests.factories import computed_release
from tests.public.conftest import correct, publish, withdraw

pytestmark = pytest.mark.django_db


def test_the_feed_is_valid_atom_with_tag_ids_and_an_author(client, published, settings):
    settings.SITE_URL = "https://league-tables.example.nhs.uk"
    correct(published, "OF0057 was misreported for one trust.")
    withdraw(publish(computed_release(trust_count=8, quarter_number=3, replicates=20)), "Wrong")

    feed = feedparser.parse(client.get("/releases/feed.atom").content)

    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10"
    assert len(feed.entries) == 3
    ids = [entry.id for entry in feed.entries]
    assert len(set(ids)) == 3
    for entry in feed.entries:
        assert entry.id.startswith("tag:league-tables.example.nhs.uk,2025:"), entry.id
        assert entry.author == "NHS trust league tables"
        assert entry.link.startswith("http")
        assert entry.updated
    assert feed.feed.author == "NHS trust league tables"


def test_current_marks_only_the_latest_published_table_of_each_peer_group(client, published):
    q3 = publish(computed_release(trust_count=8, quarter_number=3, replicates=20))
    corrected = correct(published, "A figure was corrected.")

    page = client.get("/releases/").content.decode()

    assert page.count(">Current<") == 1
    current_card = page.split(">Current<")[0].rsplit('class="nhsuk-card"', 1)[1]
    assert "Q4 2025/26" in current_card and "revision 2" in current_card
    assert ">Superseded<" in page
    assert ">Published<" in page  # Q3: published, not the current table
    assert corrected.revision == 2 and q3.status == "published"


def test_a_correction_note_lists_its_changes_without_stray_dashes(client, published):
    note = (
        "OF0057 corrected.\n\nWhat changed since revision 1:\n"
        "- T001: rank 3 → 2\n- T002: rank 2 → 3"
    )
    correct(published, note)
    for url in ("/releases/", published.get_absolute_url()):
        page = client.get(url).content.decode()
        assert "<li>T001: rank 3 → 2</li>" in page, url
        assert "- T001" not in page, url


@pytest.mark.parametrize(
    "name",
    [
        "nhsuk-icon-arrow-down.svg",
        "nhsuk-icon-arrow-up-down.svg",
        "nhsuk-icon-arrow-up.svg",
        "nhsuk-icon-cross.svg",
    ],
)
def test_the_stylesheets_icons_are_served(client, name):
    response = client.get(f"/assets/images/{name}")
    assert response.status_code == 301
    assert response["Location"].endswith(f"nhsuk/assets/images/{name}")
    # Only read, as every public address: a write is a 405, not a redirect.
    written = Client(enforce_csrf_checks=True).post(f"/assets/images/{name}")
    assert written.status_code == 405
    assert written["Allow"] == "GET, HEAD"


@pytest.mark.parametrize("name", ["nope.svg", "..%2Fsettings.py", ".hidden"])
def test_only_the_design_systems_images_are_served(client, name):
    assert client.get(f"/assets/images/{name}").status_code == 404


def test_metadata_names_the_configured_site(client, published, settings):
    settings.SITE_URL = "https://league-tables.example.nhs.uk/"
    data = client.get(f"{published.get_absolute_url()}metadata.json").json()
    assert data["source"] == (f"https://league-tables.example.nhs.uk{published.get_absolute_url()}")
