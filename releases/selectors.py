"""Reads of stored releases: NHS England's league-table CSV of a release (METHODOLOGY section
7), its trust data file, and the domains and domain thresholds it was computed with."""

from collections import defaultdict
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation

import numpy as np

from metrics.models import Domain, Metric, MetricDefinition, Observation
from releases.engine import LeagueTableRow
from releases.engine import league_table_csv as write_league_table_csv
from releases.engine.data_file import (
    ADJUSTED_SEGMENT,
    AVERAGE_SCORE,
    FINAL_SEGMENT,
    FINANCIAL_OVERRIDE,
    RECOVERY_SUPPORT,
    SUMMARY,
    UNADJUSTED_SEGMENT,
    DataFileRow,
    TrustColumns,
    data_file_csv,
    ranks_of,
)
from releases.engine.segments import SEGMENT_FINANCIAL_OVERRIDE, round_half_up
from releases.models import DOMAIN_FIXED, MetricPeerStatistics, MetricResult, Release, TrustResult
from releases.synthetic import SyntheticValues, synthetic_values


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
    return [
        LeagueTableRow(
            **vars(trust_columns(release, result)),
            average_score=result.average_score,
            average_score_range=_pair(result.average_low, result.average_high),
            segment=result.segment,
            in_financial_deficit=result.in_financial_deficit,
            rank=result.rank,
            rank_range=_pair(result.rank_low, result.rank_high),
        )
        for result in results
    ]


def trust_columns(release: Release, result: TrustResult) -> TrustColumns:
    """The columns naming a trust in NHS England's files, as those files write them."""
    return TrustColumns(
        quarter=release.quarter.label,
        region=result.region.published_name,
        trust_type=release.peer_group.trust_type_label,
        trust_subtype=result.trust_subtype,
        trust_code=result.trust.ods_code,
        trust_name=result.trust_name,
    )


def league_table_csv(release: Release) -> str:
    """The release as NHS England's league-table CSV; encode as UTF-8 for its exact bytes."""
    return write_league_table_csv(league_table_rows(release))


def _pair(low: object, high: object) -> tuple | None:
    if low is None or high is None:
        return None
    return (low, high)


# Domains and their thresholds ---------------------------------------------------------------


def release_domains(release: Release) -> list[Domain]:
    """The domains of the release's framework, in display order (none before it has one)."""
    if release.framework_id is None:
        return []
    return list(Domain.objects.filter(framework_id=release.framework_id).order_by("display_order"))


@dataclass(frozen=True)
class DomainThresholdsUsed:
    """One domain's thresholds as a release holds them, for every page and file that shows
    them: fixed by a regulator, or quartiles (known once the release is computed)."""

    domain: Domain
    fixed: bool
    t1: Decimal | None
    t2: Decimal | None
    t3: Decimal | None

    @property
    def values(self) -> tuple[Decimal, Decimal, Decimal] | None:
        if self.t1 is None or self.t2 is None or self.t3 is None:
            return None
        return (self.t1, self.t2, self.t3)

    @property
    def method_label(self) -> str:
        if self.fixed:
            return "set by the regulator"
        return "quartiles of the peer group's domain scores"


def thresholds_by_domain(release: Release, domains: list[Domain]) -> list[DomainThresholdsUsed]:
    """Each of `domains` (the release framework's, in display order) with its thresholds."""
    used = []
    for domain in domains:
        entry = release.domain_thresholds.get(domain.slug, {})
        values = [_stored(entry.get(name)) for name in ("t1", "t2", "t3")]
        used.append(DomainThresholdsUsed(domain, entry.get("method") == DOMAIN_FIXED, *values))
    return used


def _stored(text: object) -> Decimal | None:
    if text in (None, ""):
        return None
    try:
        return Decimal(str(text))
    except InvalidOperation:
        return None


# NHS England's trust data file ---------------------------------------------------------------

# NHS England's file has no column to say so: a synthetic value's description says it, and so
# do those of the scores, domain scores and segments computed from synthetic values.
SYNTHETIC_MARK = " (synthetic value)"
DERIVED_MARK = " (computed from synthetic values)"
SCORE_UNITS = "score"


def trust_data_csv(release: Release) -> str:
    """The release as NHS England's trust data file; encode as UTF-8 for its bytes."""
    return data_file_csv(data_file_rows(release))


def data_file_rows(release: Release) -> list[DataFileRow]:
    """Every row of the data file for one release, in no particular order."""
    results = list(TrustResult.objects.filter(release=release).select_related("trust", "region"))
    columns = {result.trust_id: trust_columns(release, result) for result in results}
    synthetic = synthetic_values(release)
    rows = _metric_rows(release, columns, synthetic)
    rows += _domain_rows(release, results, columns, synthetic)
    rows += _summary_rows(results, columns, synthetic)
    return rows


def _metric_rows(
    release: Release, columns: dict[int, TrustColumns], synthetic: SyntheticValues
) -> list[DataFileRow]:
    definitions = list(
        MetricDefinition.objects.filter(framework_id=release.framework_id).select_related(
            "metric", "domain"
        )
    )
    peers = {p.metric_id: p for p in MetricPeerStatistics.objects.filter(release=release)}
    periods = {
        (trust_id, metric_id): period
        for trust_id, metric_id, period in Observation.objects.filter(
            quarter_id=release.quarter_id, trust_id__in=columns
        ).values_list("trust_id", "metric_id", "reporting_period")
    }
    cells: dict[int, list[tuple[int, Decimal | None, Decimal | None]]] = defaultdict(list)
    for trust_id, metric_id, value, score in MetricResult.objects.filter(
        release=release
    ).values_list("trust_id", "metric_id", "value", "score"):
        if trust_id in columns:
            cells[metric_id].append((trust_id, value, score))

    rows = []
    for definition in definitions:
        metric = definition.metric
        metric_cells = cells.get(metric.pk, [])
        lower_is_better = metric.direction == Metric.Direction.LOWER_IS_BETTER
        ranks = ranks_of(
            np.array([np.nan if v is None else float(v) for _, v, _ in metric_cells]),
            lower_is_better,
            tie_breaker=np.array([np.nan if s is None else float(s) for _, _, s in metric_cells]),
        )
        peer = peers.get(metric.pk)
        score_only = metric.code == metric.score_code
        score_id = metric.score_code or f"{metric.code}-score"
        for (trust_id, value, score), rank in zip(metric_cells, ranks, strict=True):
            period = periods.get((trust_id, metric.pk), "")
            marked = synthetic.result(trust_id, metric.pk)
            value_row = DataFileRow(
                trust=columns[trust_id],
                domain=definition.domain.name,
                sub_domain=definition.sub_domain,
                metric_id=metric.code,
                description=metric.name + (SYNTHETIC_MARK if marked else ""),
                reporting_date=period or columns[trust_id].quarter,
                units=metric.unit,
                value=value,
                median=peer.median if peer else None,
                lower_quartile=peer.lower_quartile if peer else None,
                upper_quartile=peer.upper_quartile if peer else None,
                rank=int(rank) or None,
            )
            if value is not None and not score_only:
                rows.append(value_row)
            if score is not None:
                # The score carries the value's rank; a score with no value of its own
                # (supplied, combined) has none, as NHS England's file shows.
                rows.append(
                    replace(
                        value_row,
                        metric_id=score_id,
                        description=metric.name + (DERIVED_MARK if marked else ""),
                        units=SCORE_UNITS,
                        value=score,
                        median=None,
                        lower_quartile=None,
                        upper_quartile=None,
                        rank=value_row.rank if value is not None else None,
                    )
                )
    return rows


def _domain_rows(
    release: Release,
    results: list[TrustResult],
    columns: dict[int, TrustColumns],
    synthetic: SyntheticValues,
) -> list[DataFileRow]:
    rows = []
    for domain in release_domains(release):
        scores = np.array(
            [
                np.nan
                if domain.slug not in r.domain_scores
                else float(round_half_up(r.domain_scores[domain.slug], 2))
                for r in results
            ]
        )
        ranks = ranks_of(scores, lower_is_better=True)
        for result, rank in zip(results, ranks, strict=True):
            if domain.slug in result.domain_scores:
                rows.append(
                    _derived(
                        columns[result.trust_id],
                        domain,
                        "score",
                        result.domain_scores[domain.slug],
                        int(rank),
                        synthetic.row(result.trust_id),
                    )
                )
            if domain.slug in result.domain_segments:
                rows.append(
                    _derived(
                        columns[result.trust_id],
                        domain,
                        "segment",
                        result.domain_segments[domain.slug],
                        None,
                        synthetic.row(result.trust_id),
                    )
                )
    return rows


def _derived(
    trust: TrustColumns,
    domain: Domain,
    kind: str,
    value: float | int,
    rank: int | None,
    synthetic: bool,
) -> DataFileRow:
    code = domain.score_code if kind == "score" else domain.segment_code
    label = f"{domain.name} domain {kind}"
    return DataFileRow(
        trust=trust,
        domain=domain.name,
        sub_domain=label,
        metric_id=code or f"{domain.slug}-{kind}",
        description=label + (DERIVED_MARK if synthetic else ""),
        reporting_date=trust.quarter,
        units=kind,
        value=value,
        rank=rank,
    )


def _summary_rows(
    results: list[TrustResult], columns: dict[int, TrustColumns], synthetic: SyntheticValues
) -> list[DataFileRow]:
    scored = [r for r in results if r.average_score is not None]
    average_ranks = ranks_of(
        np.array([float(r.average_score) for r in scored]), lower_is_better=True
    )
    rows = []
    for result, average_rank in zip(scored, average_ranks, strict=True):
        unadjusted = result.unadjusted_segment
        adjusted = (
            max(unadjusted, SEGMENT_FINANCIAL_OVERRIDE)
            if result.in_financial_deficit
            else unadjusted
        )
        for (metric_id, description, units), value, rank in (
            (ADJUSTED_SEGMENT, adjusted, result.rank),
            (AVERAGE_SCORE, result.average_score, int(average_rank)),
            (UNADJUSTED_SEGMENT, unadjusted, None),
            (FINANCIAL_OVERRIDE, int(result.in_financial_deficit), None),
            (FINAL_SEGMENT, result.segment, None),
            (RECOVERY_SUPPORT, int(result.in_recovery_support), None),
        ):
            rows.append(
                DataFileRow(
                    trust=columns[result.trust_id],
                    domain=SUMMARY,
                    sub_domain=SUMMARY,
                    metric_id=metric_id,
                    description=description
                    + (DERIVED_MARK if synthetic.row(result.trust_id) else ""),
                    reporting_date=columns[result.trust_id].quarter,
                    units=units,
                    value=value,
                    rank=rank,
                )
            )
    return rows
