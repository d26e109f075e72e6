"""Importer for the CQC's trust-level survey benchmark workbook (OpenDocument spreadsheet).

CQC publishes each NHS Patient Survey Programme survey's benchmark data as an .ods workbook. Its
`Trust_Scores` sheet has one row per trust: `TrustCode`, `trustname`, `n_tpat` (respondents)
and, per section x (S01, S02, ...), the mean score `meanSx` (0 to 10), the expected range at
90, 95 and 99.8% (`ll95Sx`, `ul95Sx`, ...) and CQC's band `bandSx` (1 "much worse than
expected" to 7 "much better than expected"; 0 "not applicable"). The `Guidance` sheet opens
with the survey's title and year ("NHS Adult Inpatient Survey 2022").

The workbook is read as a stream (`metrics.imports.ods`), and imported through
`metrics.imports.base` with the guarantees of every importer. The results are context on a
trust's page ("what patients say"), never scored.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import partial
from pathlib import Path

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports import ods
from metrics.imports.base import (
    FILE,
    BulkUpsert,
    ImportContext,
    ImportReport,
    KeyRegister,
    fit_decimal,
    parse_count,
    parse_decimal,
    required_columns,
    run_import,
)
from metrics.imports.errors import UnreadableFile
from metrics.models import ImportRun, SurveySectionResult
from trusts.models import Trust

SCORES_SHEET = "Trust_Scores"
TITLE_SHEET = "Guidance"
CODE = "TrustCode"
RESPONDENTS = "n_tpat"
SECTION_MEAN = re.compile(r"meanS(\d+)", re.IGNORECASE)
TITLE = re.compile(r"(?:NHS\s+)?(.+?)\s+(\d{4})")
SCORE_LOW, SCORE_HIGH = Decimal(0), Decimal(10)
NOT_APPLICABLE = 0


def import_patient_survey(
    path: str | Path, user: AbstractBaseUser | None = None, run: ImportRun | None = None
) -> ImportReport:
    """Import a CQC trust benchmark workbook's section results for the trusts in the register.

    One SurveySectionResult per survey, year, section and trust: the mean score, the 95%
    expected range and CQC's band. A section CQC marks "not applicable" (band 0, no score) is
    skipped and counted, as are trusts not in the register (trusts since merged). Invalid rows:
    a score outside 0 to 10 or not a number, a respondent count that is not a whole number of 0
    or more or too large to store, an expected range whose lower limit is above its upper, a
    band other than 0 to 7, a band without a score, and the same trust twice. Raises
    ImportRejected if any row is invalid.
    """

    def process(ctx: ImportContext) -> None:
        ctx.report.sheet = SCORES_SHEET
        try:
            title = ods.first_cell(ctx.path, TITLE_SHEET)
        except UnreadableFile as exc:
            ctx.report.add_error(1, FILE, "", str(exc))
            return
        match = TITLE.fullmatch(title)
        if not match:
            ctx.report.add_error(
                1,
                f"{TITLE_SHEET} sheet, first cell",
                title,
                'not a survey title with its year, like "NHS Adult Inpatient Survey 2022"',
            )
            return
        _import_rows(ctx, match[1], match[2])

    return run_import(
        ImportRun.Kind.SURVEY,
        path,
        user,
        process,
        run,
        read=partial(ods.sheet_rows, sheet=SCORES_SHEET),
        read_as="OpenDocument spreadsheet",
    )


def _import_rows(ctx: ImportContext, survey: str, year: str) -> None:
    report = ctx.report
    header = ctx.first_record()
    if header is None:
        report.add_error(1, FILE, "", f"the {SCORES_SHEET} sheet is empty")
        return
    sections = sorted(
        {match[1] for name in header[1] if (match := SECTION_MEAN.fullmatch(name.strip()))},
        key=int,
    )
    if not sections:
        report.add_error(
            1, "meanS01", "", "no section scores (meanS01, meanS02, ...) in the header"
        )
        return
    wanted = [CODE, RESPONDENTS]
    for number in sections:
        wanted.extend(f"{part}S{number}" for part in ("mean", "ll95", "ul95", "band"))
    columns = required_columns(ctx, tuple(wanted))
    if columns is None:
        return
    trusts = dict(Trust.objects.values_list("ods_code", "pk"))
    # Scores run from 0 to 10 (checked in `_section`), so every one fits these columns.
    decimal_field = SurveySectionResult._meta.get_field("mean")
    respondents_field = SurveySectionResult._meta.get_field("respondents")
    writer = BulkUpsert(
        ctx,
        SurveySectionResult,
        ("survey", "year", "section", "trust_id"),
        stamp={"import_run_id": ctx.run.pk},
        line_field="source_line",
    )
    seen = KeyRegister()
    for line, fields in ctx.rows():
        fields = fields + [""] * (len(header[1]) - len(fields))
        code = fields[columns[CODE]].strip().upper()
        if not code:
            report.add_error(line, CODE, "", "no trust code")
            continue
        trust_id = trusts.get(code)
        if trust_id is None:
            report.skip("trust not in the register (since merged, or not an NHS trust)")
            continue
        earlier = seen.first_line((survey, year, trust_id), line)
        if earlier:
            report.add_error(
                line, CODE, code, f"duplicate: this trust is already on line {earlier}"
            )
            continue
        respondents = parse_count(
            report, line, RESPONDENTS, fields[columns[RESPONDENTS]], respondents_field
        )
        for number in sections:
            result = _section(ctx, line, fields, columns, number)
            if result is None:
                continue
            mean, low, high, band = result
            writer.put(
                (survey, year, f"S{number}", trust_id),
                {
                    "mean": fit_decimal(mean, decimal_field),
                    "expected_low": fit_decimal(low, decimal_field),
                    "expected_high": fit_decimal(high, decimal_field),
                    "band": band,
                    "respondents": respondents,
                },
                line,
            )


def _section(
    ctx: ImportContext, line: int, fields: list[str], columns: dict[str, int], number: str
) -> tuple[Decimal, Decimal, Decimal, int] | None:
    """One section's (mean, expected low, expected high, band), or None (skipped or invalid)."""
    report = ctx.report
    names = {part: f"{part}S{number}" for part in ("mean", "ll95", "ul95", "band")}
    texts = {part: fields[columns[name]].strip() for part, name in names.items()}
    band = _band(ctx, line, names["band"], texts["band"])
    if band is None:
        return None
    if band == NOT_APPLICABLE:
        if texts["mean"]:
            report.add_error(
                line, names["band"], texts["band"], "band 0 (not applicable) beside a score"
            )
        else:
            report.skip(f"section S{number} not applicable to the trust (band 0)")
        return None
    values: dict[str, Decimal] = {}
    for part in ("mean", "ll95", "ul95"):
        number_ = parse_decimal(texts[part])
        if number_ is None or not SCORE_LOW <= number_ <= SCORE_HIGH:
            reason = "no score beside a band" if not texts[part] else "not a score from 0 to 10"
            report.add_error(line, names[part], texts[part], reason)
            continue
        values[part] = number_
    if len(values) < 3:
        return None
    if values["ll95"] > values["ul95"]:
        report.add_error(
            line,
            names["ll95"],
            texts["ll95"],
            f"the expected range's lower limit is above its upper limit ({texts['ul95']})",
        )
        return None
    return values["mean"], values["ll95"], values["ul95"], band


def _band(ctx: ImportContext, line: int, column: str, text: str) -> int | None:
    number = parse_decimal(text)
    if number is None or number != number.to_integral_value() or not 0 <= number <= 7:
        ctx.report.add_error(
            line, column, text, "not a CQC band (0 not applicable, 1 much worse ... 7 much better)"
        )
        return None
    return int(number)
