"""A trust page's context: size and what patients say, beside the peer median, never scored."""

from __future__ import annotations

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from metrics.imports.complaints import import_complaints
from metrics.imports.register import import_trusts
from metrics.imports.survey import import_patient_survey
from metrics.models import MetricDefinition
from tests.conftest import ERIC_FILE
from tests.metrics.imports.helpers import COMPLAINTS_FILE, SURVEY_FILE

pytestmark = pytest.mark.django_db


def text_of(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


@pytest.fixture
def demo(db: None) -> None:
    call_command("setup_demo", "--no-compute", stdout=io.StringIO())


def section_of(html: str, heading_id: str) -> str:
    start = html.index(f'id="{heading_id}"')
    return html[start : html.index("<h2", start + 1)]


def test_after_setup_demo_guys_page_shows_its_complaints_and_survey_bands(
    demo: None, client: Client
) -> None:
    html = client.get("/trusts/RJ1/").content.decode()
    said = text_of(section_of(html, "what-patients-say"))

    # KO41a 2024-25, line 3: 1,556 new complaints; 1,677 resolved: 292 upheld, 879 partly.
    assert "Written complaints, 2024/25" in said
    assert "New written complaints This trust 1,556 Peer median" in said
    assert "Of 1,677 complaints resolved, 292 were upheld, 879 partly upheld" in said
    assert "patient care, including nutrition and hydration (802)" in said
    assert "NHS England, Data on Written Complaints in the NHS (KO41a), 2024/25" in said
    # CQC Adult Inpatient Survey 2022, Trust_Scores row 55: section 1 mean 7.58, expected
    # 6.09 to 7.69, band 5; section 11 band 6.
    assert "Adult Inpatient Survey 2022" in said
    assert "Section 1 Score 7.6 Expected range 6.1 to 7.7 CQC band Somewhat better" in said
    assert "Section 11 Score 7.9 Expected range 6.4 to 7.6 CQC band Better than expected" in said
    assert said.count("Peer median") >= 11


def test_the_context_block_gives_size_and_feedback_beside_the_peer_median(
    demo: None, client: Client
) -> None:
    html = client.get("/trusts/RJ1/").content.decode()
    block = text_of(html[html.index('id="context-heading"') : html.index("</section>")])

    # May 2026 sitrep: RJ1's attendances summed over every type, booked ones included.
    assert re.search(
        r"A&amp;E attendances in May 2026 This trust 18,288 Peer median [\d,.]+ \(1\d\d trusts\)",
        block,
    )
    assert "NHS England, A&amp;E attendances and emergency admissions, May 2026" in block
    assert re.search(r"Sites \(hospitals, clinics and other premises\) This trust 44 ", block)
    assert "Estates Returns Information Collection (ERIC), 2024/25" in block
    assert "New written complaints This trust 1,556 Peer median" in block
    assert "sections better than expected (of 11) This trust 2" in block
    # The estates table is still there, behind a disclosure further down.
    assert html.index('id="context-heading"') < html.index('class="nhsuk-details"')
    assert "Estates: every figure from ERIC 2024/25" in html


def test_a_trust_without_an_ae_shows_no_attendances(demo: None, client: Client) -> None:
    # Avon and Wiltshire Mental Health Partnership: no A&E in the May 2026 sitrep.
    html = client.get("/trusts/RVN/").content.decode()
    block = text_of(html[html.index('id="context-heading"') : html.index("</section>")])
    assert "A&amp;E attendances" not in block
    assert "New written complaints" in block
    assert "What patients say" in html


def test_feedback_is_context_never_a_scored_metric(db: None) -> None:
    import_trusts(ERIC_FILE)
    import_complaints(COMPLAINTS_FILE)
    import_patient_survey(SURVEY_FILE)
    scored = MetricDefinition.objects.filter(counted=True).values_list("metric__code", flat=True)
    assert not [code for code in scored if "complaint" in code.lower() or "S0" in code]


def test_a_page_without_feedback_says_so(db: None, client: Client) -> None:
    import_trusts(ERIC_FILE)
    html = client.get("/trusts/RJ1/").content.decode()
    assert "No complaints or survey figures have been published for this trust." in html


def ranked_with_a_newcomer(release) -> tuple[list, dict]:
    """The trusts ranked in `release` and one that joined their peer group after it, each with
    a figure: 10, 20, ... for the ranked (8 trusts: median 45) and 1000 for the newcomer."""
    from releases.models import TrustResult
    from tests.factories import make_trusts

    ranked = [row.trust for row in TrustResult.objects.filter(release=release).order_by("pk")]
    (newcomer,) = make_trusts(1, prefix="NEW")
    figures = {trust: 10 * (i + 1) for i, trust in enumerate(ranked)}
    figures[newcomer] = 1000
    return ranked, figures


def test_every_peer_median_is_over_the_trusts_of_its_league_table(published, client):
    """A trust that joined the peer group after the table (not ranked in it) is not a peer of
    the figures beside it, and the context block and the estates table show one median."""
    from public.trust_context import SITES_KEY
    from trusts.models import ContextMeasure

    ranked, sites = ranked_with_a_newcomer(published)
    ContextMeasure.objects.bulk_create(
        ContextMeasure(
            trust=trust, year="2024/25", key=SITES_KEY, label="Sites", value=value, source="ERIC"
        )
        for trust, value in sites.items()
    )
    html = client.get(ranked[0].get_absolute_url()).content.decode()
    block = text_of(html[html.index('id="context-heading"') : html.index("</section>")])
    assert f"Peer median 45 ({len(ranked)} trusts)" in block
    estates = text_of(html[html.index("Estates: every figure") :])
    assert "Peer median 45 " in estates
    assert "Peer median 50" not in block + estates


def test_what_patients_say_is_shown_beside_the_median_of_the_trusts_of_its_table(published, client):
    """The complaints block of a trust ranked in a published table: its own count, and the
    median over the trusts of that table only (not a newcomer to the peer group, nor trusts
    picked by any other id)."""
    from metrics.models import ComplaintsYear

    ranked, counts = ranked_with_a_newcomer(published)
    ComplaintsYear.objects.bulk_create(
        ComplaintsYear(
            trust=trust, year="2024/25", new=n, resolved=n, upheld=0, partly_upheld=0, not_upheld=n
        )
        for trust, n in counts.items()
    )
    for trust in (ranked[0], ranked[-1]):
        said = text_of(client.get(trust.get_absolute_url()).content.decode())
        assert "No complaints or survey figures have been published" not in said
        assert f"New written complaints This trust {counts[trust]} Peer median 45" in said
