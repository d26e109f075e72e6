"""Reads of stored releases: NHS England's league-table CSV of a release (METHODOLOGY section 7)."""

from releases.engine import LeagueTableRow
from releases.engine import league_table_csv as write_league_table_csv
from releases.models import Release, TrustResult


def league_table_rows(release: Release) -> list[LeagueTableRow]:
    """The release's ranked trusts in table order, as NHS England's file lists them.

    Names, subtypes and regions as the release has them, so the file of a published revision
    stays byte for byte what it was, whatever happens to the trusts afterwards.
    """
    results = (
        TrustResult.objects.filter(release=release, rank__isnull=False)
        .select_related("trust", "region")
        .order_by("rank", "average_score", "trust_name")
    )
    quarter = release.quarter.label
    trust_type = release.peer_group.trust_type_label
    return [
        LeagueTableRow(
            quarter=quarter,
            region=result.region.published_name,
            trust_type=trust_type,
            trust_subtype=result.trust_subtype,
            trust_code=result.trust.ods_code,
            trust_name=result.trust_name,
            average_score=result.average_score,
            average_score_range=_pair(result.average_low, result.average_high),
            segment=result.segment,
            in_financial_deficit=result.in_financial_deficit,
            rank=result.rank,
            rank_range=_pair(result.rank_low, result.rank_high),
        )
        for result in results
    ]


def league_table_csv(release: Release) -> str:
    """The release as NHS England's league-table CSV; encode as UTF-8 for its exact bytes."""
    return write_league_table_csv(league_table_rows(release))


def _pair(low: object, high: object) -> tuple | None:
    if low is None or high is None:
        return None
    return (low, high)
