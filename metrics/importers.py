"""Importers for performance data: the NOF data file and the A&E monthly sitrep.

Both stream their file through `metrics.importing`, so they share its guarantees: one
transaction per file, nothing saved if any row is invalid, every invalid row reported, bulk
writes audited by simple-history, and an ImportRun for every attempt.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from simple_history.utils import bulk_update_with_history

from metrics.importing import (
    FILE,
    ROW,
    BulkUpsert,
    ImportContext,
    ImportReport,
    KeyRegister,
    column_indexes,
    fit_decimal,
    parse_decimal,
    quarter_of_month,
    run_import,
)
from metrics.models import ImportRun, Metric, Observation, TrustQuarterStatus
from trusts.models import Trust

QUARTER_LABEL = re.compile(r"Q([1-4]) (\d{4})/(\d{2})")

# NOF outputs the portal computes itself (domain scores and segments, average score, segment
# and its overrides). Importing NHS England's figures would mix theirs with ours.
NOF_DERIVED = frozenset(
    {
        "OF4000",
        "OF4002",
        "OF4003",
        "OF4004",
        "OF4005",
        "OF4100",
        "OF4102",
        "OF4103",
        "OF4104",
        "OF4105",
        "OF5000",
        "OF5002",
        "OF5003",
        "OF5005",
    }
)
NOF_DERIVED_REASON = "derived by the portal, not imported"
# Flag rows that set TrustQuarterStatus rather than an Observation.
NOF_FLAGS = {
    "OF5004": "in_financial_deficit",
    "OF5007": "in_recovery_support",
}

NOF_QUARTER = "Quarter"
NOF_TRUST = "Trust_code"
NOF_METRIC = "Metric_ID"
NOF_PERIOD = "Reporting_date"
NOF_VALUE = "Value"
NOF_NAME = "Trust_name"
NOF_COLUMNS = (NOF_QUARTER, NOF_TRUST, NOF_METRIC, NOF_PERIOD, NOF_VALUE)

VALUE = "value"
SCORE = "supplied_score"

AE_PERIOD = "Period"
AE_ORG = "Org Code"
AE_ATTENDANCES = (
    "A&E attendances Type 1",
    "A&E attendances Type 2",
    "A&E attendances Other A&E Department",
    "A&E attendances Booked Appointments Type 1",
    "A&E attendances Booked Appointments Type 2",
    "A&E attendances Booked Appointments Other Department",
)
AE_OVER_4_HOURS = (
    "Attendances over 4hrs Type 1",
    "Attendances over 4hrs Type 2",
    "Attendances over 4hrs Other Department",
    "Attendances over 4hrs Booked Appointments Type 1",
    "Attendances over 4hrs Booked Appointments Type 2",
    "Attendances over 4hrs Booked Appointments Other Department",
)
AE_WAITS_12_HOURS = "Patients who have waited 12+ hrs from DTA to admission"
AE_ADMISSIONS = (
    "Emergency admissions via A&E - Type 1",
    "Emergency admissions via A&E - Type 2",
    "Emergency admissions via A&E - Other A&E department",
)
AE_COLUMNS = (
    AE_PERIOD,
    AE_ORG,
    *AE_ATTENDANCES,
    *AE_OVER_4_HOURS,
    AE_WAITS_12_HOURS,
    *AE_ADMISSIONS,
)
AE_PERIOD_FORMAT = re.compile(r"MSitAE-([A-Z]{3})-(\d{4})", re.IGNORECASE)
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
AE_FOUR_HOURS = "AE4H"
AE_TWELVE_HOURS = "AE12H"
HUNDRED = Decimal(100)


class FixedByRelease:
    """Refuses, row by row, changes to data a release beyond draft was computed from.

    The models refuse such bulk writes too, but only by failing on the first; checking each
    record the importer would create or change lets the report list every refused row. Keys
    start with the quarter id and end with the trust id. The national-pool case (a metric a
    release ranks over all trusts) is left to the models' own check.
    """

    def __init__(self, column: str, trust_codes: dict[int, str]) -> None:
        self.column = column
        self.trust_codes = trust_codes
        self._fixed: dict[int, dict[int, Any]] = {}

    def __call__(self, key: tuple[Any, ...]) -> tuple[str, str, str] | None:
        quarter_id, trust_id = key[0], key[-1]
        if quarter_id not in self._fixed:
            # Imported here: the league table app builds on this one, not the other way round.
            from leaguetable.services.lifecycle import fixed_trusts

            self._fixed[quarter_id] = fixed_trusts(quarter_id)
        release = self._fixed[quarter_id].get(trust_id)
        if release is None:
            return None
        remedy = (
            "start a correction of that release first"
            if release.status == release.Status.PUBLISHED
            else "return the release for changes first"
        )
        return (
            self.column,
            self.trust_codes[trust_id],
            f"would change data that {release} ({release.get_status_display().lower()}) was "
            f"computed from: {remedy}",
        )


def _header(
    ctx: ImportContext, wanted: tuple[str, ...], optional: tuple[str, ...] = ()
) -> dict[str, int] | None:
    header = ctx.read_header()
    if header is None:
        ctx.report.add_error(1, FILE, "", "the file is empty")
        return None
    columns, missing = column_indexes(header, wanted + optional)
    missing = [name for name in missing if name not in optional]
    for name in missing:
        ctx.report.add_error(1, name, "", "column missing from the header")
    return None if missing else columns


def import_nof(
    path: str | Path, user: AbstractBaseUser | None = None, run: ImportRun | None = None
) -> ImportReport:
    """Import an NHS Oversight Framework data file (NHS England's long CSV).

    Each row is one Metric_ID for one trust in one quarter:

    * a metric's `code` (OF0084) sets the Observation's value and reporting period; its
      `score_code` (OF1084) sets `supplied_score` on the same Observation. Score-only metrics
      (OF1080, whose code is its score code) put the number in `supplied_score`;
    * OF5004 and OF5007 set the trust's TrustQuarterStatus deficit and Recovery Support flags
      (flags absent from the file leave a stored status as it is);
    * the outputs the portal derives itself (NOF_DERIVED) are skipped and counted.

    Invalid rows: a quarter not written "Q1 2025/26", a trust not in the register, a Metric_ID
    not in the catalogue (metrics are never invented), a non-numeric value, and the same trust,
    Metric_ID and quarter twice. Quarters are created as the file names them. Values are
    rounded to the places the database stores. Raises ImportRejected if any row is invalid.
    """

    def process(ctx: ImportContext) -> None:
        columns = _header(ctx, NOF_COLUMNS, optional=(NOF_NAME,))
        if columns is not None:
            _import_nof_rows(ctx, columns)

    return run_import(ImportRun.Kind.NOF, path, user, process, run)


def _import_nof_rows(ctx: ImportContext, columns: dict[str, int]) -> None:
    report = ctx.report
    trusts = dict(Trust.objects.values_list("ods_code", "pk"))
    # Metric_ID -> (metric, field it sets, whether it sets the reporting period). The value
    # row owns the period; a score-only metric (code == score_code) has no value row.
    targets: dict[str, tuple[int, str, bool]] = {}
    for metric_id, code, score_code in Metric.objects.values_list("pk", "code", "score_code"):
        code, score_code = code.upper(), score_code.upper()
        if score_code:
            targets[score_code] = (metric_id, SCORE, score_code == code)
        if code not in targets:
            targets[code] = (metric_id, VALUE, True)
    # Metrics published as a value row and a separate score row: one Observation for both.
    paired = {metric_id for metric_id, kind, _ in targets.values() if kind == SCORE} & {
        metric_id for metric_id, kind, _ in targets.values() if kind == VALUE
    }

    def complete(key: tuple[int, int, int], patch: dict[str, Any]) -> bool:
        return key[1] not in paired or (VALUE in patch and SCORE in patch)

    value_field = Observation._meta.get_field("value")
    score_field = Observation._meta.get_field("supplied_score")
    period_length = Observation._meta.get_field("reporting_period").max_length or 100
    stamp = {"import_run_id": ctx.run.pk}
    guard = FixedByRelease(NOF_TRUST, {pk: code for code, pk in trusts.items()})
    observations = BulkUpsert(
        ctx,
        Observation,
        ("quarter_id", "metric_id", "trust_id"),
        stamp=stamp,
        line_field="source_line",
        guard=guard,
        complete=complete,
    )
    statuses = BulkUpsert(
        ctx, TrustQuarterStatus, ("quarter_id", "trust_id"), stamp=stamp, guard=guard
    )
    seen = KeyRegister()
    width = max(columns.values()) + 1
    quarter_ids: dict[str, int] = {}
    # Trust -> (quarter, name) as the file's latest quarter names it; one entry per trust.
    published_names: dict[int, tuple[int, str]] = {}

    for line, fields in ctx.rows():
        if len(fields) < width:
            report.add_error(
                line, ROW, f"{len(fields)} fields", f"expected at least {width} fields"
            )
            continue
        metric_code = fields[columns[NOF_METRIC]].strip().upper()
        if metric_code in NOF_DERIVED:
            report.skip(NOF_DERIVED_REASON)
            continue
        errors_before = report.error_count
        flag = NOF_FLAGS.get(metric_code)
        target = None if flag else targets.get(metric_code)
        if flag is None and target is None:
            report.add_error(
                line,
                NOF_METRIC,
                metric_code,
                "unknown metric: not in the metric catalogue, nor a NOF output the portal derives",
            )
        label = fields[columns[NOF_QUARTER]].strip()
        quarter_id = quarter_ids.get(label)
        if quarter_id is None:
            # Only valid labels are remembered: a file of junk must not grow this dict.
            quarter_id = _quarter_id(ctx, label)
            if quarter_id is not None:
                quarter_ids[label] = quarter_id
        if quarter_id is None:
            report.add_error(line, NOF_QUARTER, label, 'not a quarter like "Q1 2025/26"')
        trust_code = fields[columns[NOF_TRUST]].strip().upper()
        trust_id = trusts.get(trust_code)
        if trust_id is None:
            report.add_error(
                line, NOF_TRUST, trust_code, "unknown trust (not in the trust register)"
            )
        text = fields[columns[NOF_VALUE]].strip()
        number = parse_decimal(text)
        if number is None:
            report.add_error(line, NOF_VALUE, text, "not a number")
        period = " ".join(fields[columns[NOF_PERIOD]].split())
        if len(period) > period_length:
            report.add_error(line, NOF_PERIOD, period, f"longer than {period_length} characters")
        if quarter_id is not None and trust_id is not None and (flag or target):
            earlier = seen.first_line((quarter_id, metric_code, trust_id), line)
            if earlier:
                report.add_error(
                    line,
                    NOF_METRIC,
                    metric_code,
                    f"duplicate: trust {trust_code}, {metric_code} and {label} "
                    f"are already on line {earlier}",
                )
        if report.error_count > errors_before or number is None:
            continue
        name = " ".join(fields[columns[NOF_NAME]].split()) if NOF_NAME in columns else ""
        if name and published_names.get(trust_id, (-1, ""))[0] <= quarter_id:
            published_names[trust_id] = (quarter_id, name)
        if flag:
            if number not in (0, 1):
                report.add_error(line, NOF_VALUE, text, "a flag must be 0 or 1")
            elif not report.rejected:
                statuses.put((quarter_id, trust_id), {flag: number == 1}, line)
            continue
        assert target is not None
        metric_id, kind, owns_period = target
        fitted = fit_decimal(number, value_field if kind == VALUE else score_field)
        if fitted is None:
            report.add_error(line, NOF_VALUE, text, "too large to store")
            continue
        if report.rejected:
            continue
        patch: dict[str, Any] = {kind: fitted, "is_synthetic": False}
        if owns_period:
            patch["reporting_period"] = period
        observations.put((quarter_id, metric_id, trust_id), patch, line)
    if not report.rejected:
        _rename_trusts(ctx, {trust_id: name for trust_id, (_, name) in published_names.items()})


def _rename_trusts(ctx: ImportContext, names: dict[int, str]) -> None:
    """Name trusts as NHS England's file does: it is newer than the ERIC register.

    Trusts are renamed between estates collections (TAH and RXY since ERIC 2024/25), and the
    league table NHS England publishes must carry the names it used. Recorded in the trust's
    history with the file as the reason.
    """
    renamed = []
    for trust in Trust.objects.filter(pk__in=names):
        if trust.name != names[trust.pk]:
            trust.name = names[trust.pk]
            renamed.append(trust)
    if renamed:
        bulk_update_with_history(
            renamed,
            Trust,
            ["name"],
            default_user=ctx.user,
            default_change_reason=f"Renamed as {ctx.run.file_name} names it",
        )
        ctx.report.counts_for("trusts renamed").updated += len(renamed)


def _quarter_id(ctx: ImportContext, label: str) -> int | None:
    match = QUARTER_LABEL.fullmatch(label)
    if not match:
        return None
    number, year_start, year_end = int(match[1]), int(match[2]), int(match[3])
    if (year_start + 1) % 100 != year_end:
        return None
    return ctx.quarter_id(year_start, number)


def import_ae(
    path: str | Path, user: AbstractBaseUser | None = None, run: ImportRun | None = None
) -> ImportReport:
    """Import NHS England's A&E monthly sitrep (provider level) into the month's quarter.

    For each trust in the register, in the financial quarter of the file's month (MSitAE-MAY-
    2026 is Q1 2026/27):

    * AE4H = 100 x (1 - attendances over 4 hours / attendances), both summed over every type,
      booked appointments included (NHS England's published method);
    * AE12H = 100 x waits of 12+ hours from decision to admit / emergency admissions via A&E
      (all types).

    A trust with no attendances (or no admissions) gets no value for that metric: skipped and
    counted. Rows for organisations that are not NHS trusts in the register (independent
    providers, UTCs, walk-in centres) and the TOTAL row are skipped and counted, not errors.
    Non-numeric or negative counts and unreadable periods are invalid rows. The Observation's
    reporting period names the month ("May 2026"): a later month of the same quarter replaces
    it. Raises ImportRejected if any row is invalid.
    """

    def process(ctx: ImportContext) -> None:
        columns = _header(ctx, AE_COLUMNS)
        if columns is not None:
            _import_ae_rows(ctx, columns)

    return run_import(ImportRun.Kind.AE, path, user, process, run)


def _import_ae_rows(ctx: ImportContext, columns: dict[str, int]) -> None:
    report = ctx.report
    trusts = dict(Trust.objects.values_list("ods_code", "pk"))
    metrics = dict(
        Metric.objects.filter(code__in=[AE_FOUR_HOURS, AE_TWELVE_HOURS]).values_list("code", "pk")
    )
    for code in (AE_FOUR_HOURS, AE_TWELVE_HOURS):
        if code not in metrics:
            report.add_error(1, FILE, code, "metric missing from the metric catalogue")
    if report.rejected:
        return
    value_field = Observation._meta.get_field("value")
    observations = BulkUpsert(
        ctx,
        Observation,
        ("quarter_id", "metric_id", "trust_id"),
        stamp={"import_run_id": ctx.run.pk},
        line_field="source_line",
        guard=FixedByRelease(AE_ORG, {pk: code for code, pk in trusts.items()}),
    )
    seen = KeyRegister()
    width = max(columns.values()) + 1

    for line, fields in ctx.rows():
        if len(fields) < width:
            report.add_error(
                line, ROW, f"{len(fields)} fields", f"expected at least {width} fields"
            )
            continue
        org_code = fields[columns[AE_ORG]].strip().upper()
        if org_code == "TOTAL":
            report.skip("England total row")
            continue
        trust_id = trusts.get(org_code)
        if trust_id is None:
            report.skip("not an NHS trust in the register (independent provider, UTC, ...)")
            continue
        errors_before = report.error_count
        period = _ae_period(ctx, line, fields[columns[AE_PERIOD]].strip())
        counts = {
            name: _count(report, line, name, fields[columns[name]])
            for name in (*AE_ATTENDANCES, *AE_OVER_4_HOURS, AE_WAITS_12_HOURS, *AE_ADMISSIONS)
        }
        if period is not None:
            earlier = seen.first_line((period[0], trust_id), line)
            if earlier:
                report.add_error(
                    line,
                    AE_ORG,
                    org_code,
                    f"duplicate: this trust and month are already on line {earlier}",
                )
        if report.error_count > errors_before:
            continue
        assert period is not None
        quarter_id, month_label = period
        attendances = sum(counts[name] or 0 for name in AE_ATTENDANCES)
        over_4_hours = sum(counts[name] or 0 for name in AE_OVER_4_HOURS)
        admissions = sum(counts[name] or 0 for name in AE_ADMISSIONS)
        waits = counts[AE_WAITS_12_HOURS] or 0
        if over_4_hours > attendances:
            report.add_error(
                line,
                AE_OVER_4_HOURS[0],
                str(over_4_hours),
                f"more attendances over 4 hours ({over_4_hours}) than attendances ({attendances})",
            )
            continue
        results: list[tuple[str, Decimal]] = []
        if attendances:
            results.append((AE_FOUR_HOURS, HUNDRED * (attendances - over_4_hours) / attendances))
        else:
            report.skip(f"{AE_FOUR_HOURS} not computed: no A&E attendances")
        if admissions:
            results.append((AE_TWELVE_HOURS, HUNDRED * waits / Decimal(admissions)))
        else:
            report.skip(f"{AE_TWELVE_HOURS} not computed: no emergency admissions via A&E")
        if report.rejected:
            continue
        for code, value in results:
            observations.put(
                (quarter_id, metrics[code], trust_id),
                {
                    "value": fit_decimal(value, value_field),
                    "reporting_period": month_label,
                    "is_synthetic": False,
                },
                line,
            )


def _ae_period(ctx: ImportContext, line: int, text: str) -> tuple[int, str] | None:
    """(quarter id, "May 2026") for a sitrep period like MSitAE-MAY-2026."""
    match = AE_PERIOD_FORMAT.fullmatch(text)
    month = MONTHS.index(match[1].upper()) + 1 if match and match[1].upper() in MONTHS else 0
    if not match or not month:
        ctx.report.add_error(line, AE_PERIOD, text, 'not a sitrep period like "MSitAE-MAY-2026"')
        return None
    year = int(match[2])
    year_start, number = quarter_of_month(year, month)
    return ctx.quarter_id(year_start, number), f"{MONTH_NAMES[month - 1]} {year}"


def _count(report: ImportReport, line: int, column: str, text: str) -> int | None:
    cleaned = text.strip().replace(",", "")
    if not (cleaned.isascii() and cleaned.isdigit()):
        report.add_error(line, column, text.strip(), "not a count (a whole number of 0 or more)")
        return None
    return int(cleaned)
