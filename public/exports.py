"""The portal's own downloads of a release: long-format CSV, XLSX and JSON.

NHS England's league-table CSV is written by `releases.selectors`, byte for byte
as NHS England publishes it; these are the richer formats. Each says what it is (release,
revision, quarter, framework version, units, publication time, licence): the XLSX in a metadata
sheet, the JSON in a metadata object, the CSV in columns of every row plus `metadata.json`.
Every row, metric value and file of a release with synthetic values says so
(`releases.synthetic`): a `Synthetic` column and `contains_synthetic_values`.

Only readable releases (published or superseded) ever reach these builders; views check.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from metrics.models import Domain, MetricDefinition
from public.figures import ROUNDING_NOTE, shown
from public.uncertainty import is_segment_uncertain
from releases import applicability
from releases.engine.bootstrap import LIKELY_RANGE_PERCENTILES
from releases.engine.league_table_file import FORMULA_STARTS, spreadsheet_text
from releases.models import MetricPeerStatistics, MetricResult, Release, TrustResult
from releases.synthetic import SyntheticValues, synthetic_values

LICENCE = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
SCORE_SCALE = "Metric, domain and average scores run from 1.00 (best) to 4.00 (worst)."
SYNTHETIC_NOTE = (
    "Values marked Synthetic are generated for demonstration, not published NHS data, and so "
    "is every score, average, segment and rank computed from them."
)

LEAGUE_TABLE_FIELDS = [
    "Quarter",
    "Trust_code",
    "Trust_name",
    "Region",
    "Trust_subtype",
    "Rank",
    "Rank_likely_low",
    "Rank_likely_high",
    "Segment",
    "Segment_uncertain",
    "Unadjusted_segment",
    "Average_score",
    "Average_likely_low",
    "Average_likely_high",
    "Metrics_scored",
    "Trust_in_financial_deficit",
    "Recovery_Support_Programme",
    "Synthetic",
]
LONG_FIELDS = [
    "Quarter",
    "Peer_group",
    "Release_revision",
    "Framework",
    "Framework_version",
    "Published_at",
    "Trust_code",
    "Trust_name",
    "Region",
    "Trust_subtype",
    "Metric_ID",
    "Metric_name",
    "Domain",
    "Unit",
    "Direction",
    "Counted_in_average",
    "Value",
    "Value_text",
    "Score",
    "Peer_median",
    "Peer_lower_quartile",
    "Peer_upper_quartile",
    "Peer_trusts_reporting",
    "Synthetic",
]


def plain(value: Decimal | float | int | None) -> str:
    """A stored decimal without trailing zeros or exponent: 12.340000 -> "12.34"."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value)


def number(value: Decimal | None) -> float | int | None:
    if value is None:
        return None
    if value == value.to_integral_value():
        return int(value)
    return float(value)


@dataclass
class ReleaseData:
    """Everything a download holds, loaded in a fixed number of queries."""

    release: Release
    rows: list[TrustResult]
    long_rows: list[dict[str, Any]]
    metadata: dict[str, Any]
    synthetic: SyntheticValues


def metadata(
    release: Release, units: dict[str, str], synthetic_metrics: list[str], synthetic: bool
) -> dict[str, Any]:
    site = settings.SITE_URL.rstrip("/")
    return {
        "title": f"{release.peer_group.name} league table, {release.quarter.label}",
        "release_id": release.pk,
        "peer_group": release.peer_group.slug,
        "peer_group_name": release.peer_group.name,
        "quarter": release.quarter.label,
        "revision": release.revision,
        "status": release.status,
        "supersedes_revision": release.supersedes.revision if release.supersedes else None,
        "correction_note": release.correction_note,
        "framework": release.framework.name,
        "framework_slug": release.framework.slug,
        "framework_version": release.framework.version,
        "published_at": release.published_at.isoformat() if release.published_at else None,
        "threshold_method": release.threshold_method,
        "thresholds": [plain(release.t1), plain(release.t2), plain(release.t3)],
        # Domain slug -> {"method": "fixed" or "quartiles", "t1", "t2", "t3"}: METHODOLOGY 4.6.
        "domain_thresholds": release.domain_thresholds,
        "likely_ranges": {
            "replicates": release.replicates,
            "seed": release.seed,
            "percentiles": list(LIKELY_RANGE_PERCENTILES),
        },
        "scores": SCORE_SCALE,
        "rounding": ROUNDING_NOTE,
        "units": units,
        "contains_synthetic_values": synthetic,
        # Metric codes with a synthetic value, or a score computed from one, in this release.
        "synthetic_metrics": synthetic_metrics,
        "synthetic_values": SYNTHETIC_NOTE if synthetic else "",
        "source": f"{site}{release.get_absolute_url()}",
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "attribution": "Contains public sector information licensed under the "
        f"{LICENCE}. Scores and ranks by NHS England's NHS Oversight Framework method.",
    }


def release_data(release: Release) -> ReleaseData:
    if release.status not in Release.READABLE_STATUSES:
        raise ValueError(f"{release} is not published: nothing of it may be downloaded.")
    # Trusts as the release has them (named as published), not as they are now.
    rows = list(
        TrustResult.objects.filter(release=release)
        .select_related("trust", "region")
        .order_by("rank", "trust_name")
    )
    definitions = {
        d.metric_id: d
        for d in MetricDefinition.objects.filter(framework_id=release.framework_id).select_related(
            "metric", "domain"
        )
    }
    peers = {p.metric_id: p for p in MetricPeerStatistics.objects.filter(release=release)}
    synthetic = synthetic_values(release)
    trusts = {row.trust_id: row for row in rows}
    order = {d.metric_id: (d.domain.display_order, d.display_order) for d in definitions.values()}
    results = sorted(
        MetricResult.objects.filter(release=release),
        key=lambda r: (trusts[r.trust_id].trust_name, order.get(r.metric_id, (99, 99))),
    )
    published = release.published_at.isoformat() if release.published_at else ""
    long_rows = []
    for result in results:
        definition = definitions.get(result.metric_id)
        if definition is None:
            continue
        metric, trust, peer = (
            definition.metric,
            trusts[result.trust_id],
            peers.get(result.metric_id),
        )
        long_rows.append(
            {
                "Quarter": release.quarter.label,
                "Peer_group": release.peer_group.name,
                "Release_revision": release.revision,
                "Framework": release.framework.name,
                "Framework_version": release.framework.version,
                "Published_at": published,
                "Trust_code": trust.trust.ods_code,
                "Trust_name": trust.trust_name,
                "Region": trust.region.name,
                "Trust_subtype": trust.trust_subtype,
                "Metric_ID": metric.code,
                "Metric_name": metric.name,
                "Domain": definition.domain.name,
                "Unit": metric.unit,
                "Direction": metric.get_direction_display(),
                "Counted_in_average": definition.counted,
                "Value": result.value,
                "Value_text": result.value_text,
                "Score": result.score,
                # As the trust page and NHS England's data file show them (public.figures).
                "Peer_median": shown(peer.median) if peer else None,
                "Peer_lower_quartile": shown(peer.lower_quartile) if peer else None,
                "Peer_upper_quartile": shown(peer.upper_quartile) if peer else None,
                "Peer_trusts_reporting": peer.trusts_reporting if peer else None,
                "Synthetic": synthetic.result(result.trust_id, result.metric_id),
            }
        )
    # Only the metrics the release has data for: one no trust reported is left out.
    with_data = {result.metric_id for result in results}
    listed = [d for d in definitions.values() if d.metric_id in with_data]
    units = {d.metric.code: d.metric.unit for d in listed}
    about = metadata(release, units, list(synthetic.metric_codes), synthetic.release)
    about["not_applicable"] = not_applicable(listed, rows, results)
    return ReleaseData(release, rows, long_rows, about, synthetic)


def not_applicable(
    definitions: list[MetricDefinition], rows: list[TrustResult], results: list[MetricResult]
) -> dict[str, dict[str, Any]]:
    """Metric code → the subtypes it measures and the trusts it does not apply to (no row for
    them in the metric data, and not missing): releases.applicability."""
    reported = {(result.trust_id, result.metric_id) for result in results}
    described = {}
    for definition in sorted(definitions, key=lambda d: d.metric.code):
        if not definition.applies_to_subtypes:
            continue
        described[definition.metric.code] = {
            "applies_to_subtypes": definition.applies_to_subtypes,
            "note": definition.not_applicable_note,
            "trusts": [
                row.trust.ods_code
                for row in rows
                if applicability.coverage(
                    definition, row.trust_subtype, (row.trust_id, definition.metric_id) in reported
                )
                == applicability.Coverage.NOT_APPLICABLE
            ],
        }
    return described


def league_table_record(release: Release, row: TrustResult, synthetic: bool) -> dict[str, Any]:
    return {
        "Quarter": release.quarter.label,
        "Trust_code": row.trust.ods_code,
        "Trust_name": row.trust_name,
        "Region": row.region.name,
        "Trust_subtype": row.trust_subtype,
        "Rank": row.rank,
        "Rank_likely_low": row.rank_low,
        "Rank_likely_high": row.rank_high,
        "Segment": row.segment,
        "Segment_uncertain": is_segment_uncertain(row, release),
        "Unadjusted_segment": row.unadjusted_segment,
        "Average_score": row.average_score,
        "Average_likely_low": row.average_low,
        "Average_likely_high": row.average_high,
        "Metrics_scored": row.metrics_scored,
        "Trust_in_financial_deficit": row.in_financial_deficit,
        "Recovery_Support_Programme": row.in_recovery_support,
        "Synthetic": synthetic,
        "Domain_scores": row.domain_scores,
        "Domain_segments": row.domain_segments,
    }


def _csv_value(value: Any) -> str:
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, Decimal):
        return plain(value)
    if isinstance(value, int | float):
        return str(value)
    return "" if value is None else spreadsheet_text(str(value))


def long_csv(data: ReleaseData) -> str:
    """Trust x metric: value, score, peer median and quartiles (UTF-8, CRLF, with a BOM)."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(LONG_FIELDS)
    for row in data.long_rows:
        writer.writerow([_csv_value(row[name]) for name in LONG_FIELDS])
    return "\ufeff" + buffer.getvalue()


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):
        return number(value)
    return value


def release_json(data: ReleaseData) -> str:
    document = {
        "metadata": data.metadata,
        "league_table": [
            {
                k: _json_value(v)
                for k, v in league_table_record(
                    data.release, row, data.synthetic.row(row.trust_id)
                ).items()
            }
            for row in data.rows
        ],
        "metric_data": [{k: _json_value(v) for k, v in row.items()} for row in data.long_rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=1)


def metadata_json(data: ReleaseData) -> str:
    return json.dumps(data.metadata, ensure_ascii=False, indent=1)


# Number formats by column: scores and averages to 2 places, ranks and counts whole, values
# as stored (General), so what a spreadsheet shows is what the page shows.
TWO_PLACES = "0.00"
WHOLE = "0"
NUMBER_FORMATS = {
    "Rank": WHOLE,
    "Rank_likely_low": WHOLE,
    "Rank_likely_high": WHOLE,
    "Segment": WHOLE,
    "Unadjusted_segment": WHOLE,
    "Average_score": TWO_PLACES,
    "Average_likely_low": TWO_PLACES,
    "Average_likely_high": TWO_PLACES,
    "Metrics_scored": WHOLE,
    "Release_revision": WHOLE,
    "Framework_version": WHOLE,
    "Score": TWO_PLACES,
    "Peer_trusts_reporting": WHOLE,
}
MAX_COLUMN_WIDTH = 60


def number_format(column: str) -> str | None:
    """The number format of a column: by name, and the domain sheet's "<domain> score" (2
    places, as the pages show it; the cell keeps the stored value) and "<domain> segment"."""
    if column in NUMBER_FORMATS:
        return NUMBER_FORMATS[column]
    if column.endswith(" score"):
        return TWO_PLACES
    if column.endswith(" segment"):
        return WHOLE
    return None


HEADER_FONT = Font(bold=True)


class SheetWriter:
    """One write-only worksheet: a bold frozen header row, widths that fit the content (up to
    a limit), number formats by column, and text that cannot run as a formula."""

    def __init__(self, workbook: Workbook, title: str, header: list[str]) -> None:
        self.sheet = workbook.create_sheet(title)
        self.sheet.freeze_panes = "A2"
        self.header = header
        self.widths = [len(name) for name in header]
        self.rows: list[list[Any]] = []

    def append(self, values: list[Any]) -> None:
        self.rows.append(values)
        for index, value in enumerate(values):
            shown = len(str(value)) if value is not None else 0
            if index < len(self.widths):
                self.widths[index] = max(self.widths[index], shown)
            else:
                self.widths.append(shown)

    def close(self) -> None:
        # Write-only sheets take column widths before any row, so rows are held until now.
        for index, width in enumerate(self.widths, start=1):
            letter = get_column_letter(index)
            self.sheet.column_dimensions[letter].width = min(width + 2, MAX_COLUMN_WIDTH)
        header = []
        for name in self.header:
            cell = WriteOnlyCell(self.sheet, value=name)
            cell.font = HEADER_FONT
            header.append(cell)
        self.sheet.append(header)
        formats = [number_format(name) for name in self.header]
        for values in self.rows:
            self.sheet.append(
                [
                    self._cell(value, formats[i] if i < len(formats) else None)
                    for i, value in enumerate(values)
                ]
            )

    def _cell(self, value: Any, number_format: str | None) -> Any:
        value = _cell(value)
        if isinstance(value, str):
            # A typed text cell is never evaluated; the quote prefix keeps it text if edited.
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.data_type = "s"
            if value.startswith(FORMULA_STARTS):
                cell.quotePrefix = True
            return cell
        if isinstance(value, int | float) and number_format:
            cell = WriteOnlyCell(self.sheet, value=value)
            cell.number_format = number_format
            return cell
        return value


def _cell(value: Any) -> Any:
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, bool):
        return "Yes" if value else "No"
    return value


def release_xlsx(data: ReleaseData) -> bytes:
    """A workbook: the league table, the metric data and a metadata sheet."""
    workbook = Workbook(write_only=True)
    table = SheetWriter(workbook, "League table", LEAGUE_TABLE_FIELDS)
    for row in data.rows:
        record = league_table_record(data.release, row, data.synthetic.row(row.trust_id))
        table.append([record[name] for name in LEAGUE_TABLE_FIELDS])
    table.close()
    domains = list(Domain.objects.filter(framework_id=data.release.framework_id))
    by_domain = SheetWriter(
        workbook,
        "Domain segments",
        ["Trust_code", "Trust_name"]
        + [f"{domain.name} {part}" for domain in domains for part in ("score", "segment")]
        + ["Synthetic"],
    )
    for row in data.rows:
        by_domain.append(
            [row.trust.ods_code, row.trust_name]
            + [
                value
                for domain in domains
                for value in (
                    row.domain_scores.get(domain.slug),
                    row.domain_segments.get(domain.slug),
                )
            ]
            + [data.synthetic.row(row.trust_id)]
        )
    by_domain.close()
    long = SheetWriter(workbook, "Metric data", LONG_FIELDS)
    for row in data.long_rows:
        long.append([row[name] for name in LONG_FIELDS])
    long.close()
    about = SheetWriter(workbook, "Metadata", ["Field", "Value"])
    for key, value in data.metadata.items():
        if key == "units":
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, ensure_ascii=False)
        about.append([key, "" if value is None else value])
    about.append([])
    about.append(["Metric_ID", "Unit"])
    for code, unit in sorted(data.metadata["units"].items()):
        about.append([code, unit])
    about.close()
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
