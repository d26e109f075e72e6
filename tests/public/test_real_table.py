"""The download of the real MH&C Q4 2025/26 table, from NHS England's own data file."""

import csv
import io
from decimal import Decimal

import pytest

from releases.selectors import league_table_csv
from releases.services import computation
from releases.services.drafts import draft_release, parse_quarter
from tests.conftest import LEAGUE_TABLE_FILE
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db
# Compared exactly. Bootstrap ranges are compared with NHS England's in tests/releases; an
# average replayed from the published 2 d.p. metric scores may differ by one unit of rounding
# (METHODOLOGY 4.2); trust names come from the trust register (ERIC), where a renamed trust
# (RXY) already has its new name.
EXACT = (
    "Quarter",
    "Region",
    "Trust_type",
    "Trust_subtype",
    "Trust_code",
    "Segment",
    "Trust_in_financial_deficit",
    "Rank",
)


def test_the_published_q4_download_matches_nhs_englands_file(client, real_nof):
    release = draft_release(parse_quarter("Q4 2025/26"), "mental-health-community")
    release.replicates = 200  # ranges are checked against NHS England's in tests/releases
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    publish(release)

    response = client.get("/league-tables/mental-health-community/2025-26-q4/league-table.csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response.content == league_table_csv(release).encode("utf-8")

    published = LEAGUE_TABLE_FILE.read_bytes()
    assert response.content.split(b"\r\n")[0] == published.split(b"\r\n")[0]

    def rows(data: bytes) -> dict[str, dict[str, str]]:
        reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        return {row["Trust_code"]: row for row in reader}

    ours, theirs = rows(response.content), rows(published)
    assert set(ours) == set(theirs)
    for code, row in theirs.items():
        for column in EXACT:
            assert ours[code][column] == row[column], (code, column)
        assert abs(Decimal(ours[code]["Average_score"]) - Decimal(row["Average_score"])) <= (
            Decimal("0.01")
        )

    page = client.get(release.get_absolute_url())
    assert page.status_code == 200
    assert len(page.context["rows"]) == 61
