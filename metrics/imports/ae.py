"""Importer for NHS England's A&E monthly sitrep (provider level).

It streams the file through `metrics.imports.base`, so it shares the guarantees of every
importer: one transaction per file, nothing saved if any row is invalid, every invalid row
reported, bulk writes audited by simple-history, and an ImportRun for every attempt.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports.base import (
    FILE,
    BulkUpsert,
    FixedByRelease,
    ImportContext,
    ImportReport,
    KeyRegister,
    fit_decimal,
    parse_count,
    plain,
    run_import,
    too_large_to_store,
    with_columns,
)
from metrics.imports.supplied_scores import SuppliedScoreKept
from metrics.models import ImportRun, Metric, Observation, Quarter
from trusts.models import ContextMeasure, Trust

HUNDRED = Decimal(100)
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
# The trust's size as A&E sees it: context beside its results, never scored.
AE_ATTENDANCES_KEY = "ae-attendances-month"


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
    Counts that are not whole numbers of 0 or more, or too large to be plausible (above
    `COUNT_MAXIMUM`), and unreadable periods are invalid rows. The Observation's reporting
    period names the month ("May 2026"): a later month of the same quarter replaces it. A trust
    with attendances also gets them as a context measure (the month's attendances, filed under
    the financial year: a later month replaces it). Raises ImportRejected if any row is invalid.
    """

    return run_import(ImportRun.Kind.AE, path, user, with_columns(AE_COLUMNS, _import_ae_rows), run)


def _import_ae_rows(ctx: ImportContext, columns: dict[str, int]) -> None:
    report = ctx.report
    trusts = dict(Trust.objects.values_list("ods_code", "pk"))
    catalogue = {
        metric.code: metric
        for metric in Metric.objects.filter(code__in=[AE_FOUR_HOURS, AE_TWELVE_HOURS])
    }
    metrics = {code: metric.pk for code, metric in catalogue.items()}
    for code in (AE_FOUR_HOURS, AE_TWELVE_HOURS):
        if code not in metrics:
            report.add_error(1, FILE, code, "metric missing from the metric catalogue")
    if report.rejected:
        return
    value_field = Observation._meta.get_field("value")
    measure_field = ContextMeasure._meta.get_field("value")
    observations = BulkUpsert(
        ctx,
        Observation,
        ("quarter_id", "metric_id", "trust_id"),
        stamp={"import_run_id": ctx.run.pk},
        line_field="source_line",
        guard=FixedByRelease(AE_ORG, {pk: code for code, pk in trusts.items()}),
        check=SuppliedScoreKept(ctx, _value_column, _no_scores_in_a_sitrep),
    )
    measures = BulkUpsert(ctx, ContextMeasure, ("year", "key", "trust_id"))
    seen = KeyRegister()

    for line, fields in ctx.complete_rows(columns):
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
            name: parse_count(report, line, name, fields[columns[name]])
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
        quarter_id, month_label, financial_year = period
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
        fitted: list[tuple[str, Decimal]] = []
        for code, value in results:
            column = AE_WAITS_12_HOURS if code == AE_TWELVE_HOURS else AE_OVER_4_HOURS[0]
            problem = catalogue[code].range_problem(value)
            stored = fit_decimal(value, value_field)
            if problem:
                report.add_error(line, column, f"{value:.2f}", f"{code} would be {problem}")
            elif stored is None:
                report.add_error(
                    line, column, f"{value:.2f}", f"{code} is {too_large_to_store(value_field)}"
                )
            else:
                fitted.append((code, stored))
        # Each count is below COUNT_MAXIMUM, so six of them fit a context measure; checked all
        # the same, so that a wider count can never reach the database unchecked.
        measure = fit_decimal(Decimal(attendances), measure_field)
        if measure is None:
            report.add_error(
                line,
                AE_ATTENDANCES[0],
                plain(attendances),
                f"the attendances add up to more than a context measure holds: "
                f"{too_large_to_store(measure_field)}",
            )
        if report.rejected:
            continue
        if attendances:
            measures.put(
                (financial_year, AE_ATTENDANCES_KEY, trust_id),
                {
                    "label": f"A&E attendances in {month_label}",
                    "unit": "attendances",
                    "value": measure,
                    "source": f"NHS England, A&E attendances and emergency admissions, "
                    f"{month_label}",
                },
                line,
            )
        for code, value in fitted:
            observations.put(
                (quarter_id, metrics[code], trust_id),
                {
                    "value": value,
                    "reporting_period": month_label,
                    "is_synthetic": False,
                },
                line,
            )


def _value_column(metric: Metric) -> str:
    """The column a value is mostly worked out from, as its range errors name it."""
    return AE_WAITS_12_HOURS if metric.code == AE_TWELVE_HOURS else AE_OVER_4_HOURS[0]


def _no_scores_in_a_sitrep(trust_code: str, metric: Metric, quarter: str, restated: bool) -> str:
    return (
        "a sitrep carries no scores, so import the value with its score in a NOF data file, "
        f"or first clear the supplied score of {trust_code}'s {metric.code} in {quarter} "
        "(admin: Observations) if the score is to be computed"
    )


def _ae_period(ctx: ImportContext, line: int, text: str) -> tuple[int, str, str] | None:
    """(quarter id, "May 2026", "2026/27") for a sitrep period like MSitAE-MAY-2026."""
    match = AE_PERIOD_FORMAT.fullmatch(text)
    month = MONTHS.index(match[1].upper()) + 1 if match and match[1].upper() in MONTHS else 0
    if not match or not month:
        ctx.report.add_error(line, AE_PERIOD, text, 'not a sitrep period like "MSitAE-MAY-2026"')
        return None
    year = int(match[2])
    year_start, number = Quarter.of_month(year, month)
    return (
        ctx.quarter_id(year_start, number),
        f"{MONTH_NAMES[month - 1]} {year}",
        f"{year_start}/{(year_start + 1) % 100:02d}",
    )
