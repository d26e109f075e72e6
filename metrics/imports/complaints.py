"""Importer for NHS England's KO41a written complaints, organisation level (CSV).

"Data on Written Complaints in the NHS", secondary care: one row per organisation and year with
new, resolved, upheld, partly upheld and not upheld complaints and new complaints by subject.
It streams the file through `metrics.imports.base`, so it shares the guarantees of every
importer: one transaction per file, nothing saved if any row is invalid, every invalid row
reported, bulk writes audited by simple-history, and an ImportRun for every attempt.

The figures are context on a trust's page ("what patients say"), never scored.
"""

from __future__ import annotations

import re
from pathlib import Path

from django.contrib.auth.base_user import AbstractBaseUser

from metrics.imports.base import (
    BulkUpsert,
    ImportContext,
    ImportReport,
    KeyRegister,
    parse_count,
    run_import,
    with_columns,
)
from metrics.models import ComplaintsYear, ImportRun
from trusts.models import Trust

YEAR = "Year"
CODE = "Organisation_Code"
ORG_TYPE = "Organisation_Type"
NEW = "Complaints_Total_New"
RESOLVED = "Complaints_Total_Resolved"
UPHELD = "Complaints_Number_Upheld"
PARTLY_UPHELD = "Complaints_Number_Partially_Upheld"
NOT_UPHELD = "Complaints_Number_Not_Upheld"
SUBJECTS_TOTAL = "Subject_Area_Sub_Total"
COUNTS = {
    NEW: "new",
    RESOLVED: "resolved",
    UPHELD: "upheld",
    PARTLY_UPHELD: "partly_upheld",
    NOT_UPHELD: "not_upheld",
}
# KO41a's subject areas, in the words of its metadata workbook.
SUBJECTS = {
    "Subject_Area_Access_To_Treatment_Or_Drugs": "Access to treatment or drugs",
    "Subject_Area_Admissions_Discharge_And_Transfers": "Admissions, discharge and transfers",
    "Subject_Area_Appointments": "Appointments",
    "Subject_Area_Commissioning_Services": "Commissioning services",
    "Subject_Area_Communications": "Communications",
    "Subject_Area_Consent_To_Treatment": "Consent to treatment",
    "Subject_Area_End_Of_Life_Care": "End of life care",
    "Subject_Area_Facilities_Services": "Facilities services",
    "Subject_Area_Integrated_Care": "Integrated care",
    "Subject_Area_Patient_Care_Including_Nutrition_Hydration": (
        "Patient care, including nutrition and hydration"
    ),
    "Subject_Area_Mortuary_And_Post_Mortem_Arrangements": "Mortuary and post-mortem arrangements",
    "Subject_Area_Prescribing_Errors": "Prescribing errors",
    "Subject_Area_Privacy_Dignity_And_Wellbeing": "Privacy, dignity and wellbeing",
    "Subject_Area_Restraint": "Restraint",
    "Subject_Area_Staffing_Numbers": "Staffing numbers",
    "Subject_Area_Transport": "Transport",
    "Subject_Area_Trust_Administration": "Trust administration",
    "Subject_Area_Values_And_Behaviours": "Values and behaviours",
    "Subject_Area_Waiting_Times": "Waiting times",
    "Subject_Area_Other": "Other",
}
COLUMNS = (YEAR, CODE, ORG_TYPE, *COUNTS, *SUBJECTS, SUBJECTS_TOTAL)
FINANCIAL_YEAR = re.compile(r"(\d{4})[-/](\d{2})")


def import_complaints(
    path: str | Path, user: AbstractBaseUser | None = None, run: ImportRun | None = None
) -> ImportReport:
    """Import KO41a written complaints (organisation level) for the trusts in the register.

    One ComplaintsYear per trust and financial year ("2024-25" is stored as 2024/25). Rows for
    organisations that are not trusts in the register (integrated care boards, independent
    providers, trusts since merged) are skipped and counted by KO41a's organisation type.
    Invalid rows: a year that is not a financial year, a count that is not a whole number of 0
    or more or is larger than its column holds (`COUNT_MAXIMUM`), resolved complaints that are
    not the sum of upheld, partly upheld and not upheld, subjects that do not add up to KO41a's
    own subject total, and the same organisation twice in a year. Raises ImportRejected if any
    row is invalid.
    """

    return run_import(
        ImportRun.Kind.COMPLAINTS, path, user, with_columns(COLUMNS, _import_rows), run
    )


def _import_rows(ctx: ImportContext, columns: dict[str, int]) -> None:
    report = ctx.report
    trusts = dict(Trust.objects.values_list("ods_code", "pk"))
    writer = BulkUpsert(
        ctx,
        ComplaintsYear,
        ("year", "trust_id"),
        stamp={"import_run_id": ctx.run.pk},
        line_field="source_line",
    )
    seen = KeyRegister()
    model_field = ComplaintsYear._meta.get_field
    stored_in = {name: model_field(field) for name, field in COUNTS.items()}
    stored_in.update(dict.fromkeys((*SUBJECTS, SUBJECTS_TOTAL), model_field(COUNTS[NEW])))
    for line, fields in ctx.complete_rows(columns):
        code = fields[columns[CODE]].strip().upper()
        trust_id = trusts.get(code)
        if trust_id is None:
            kind = fields[columns[ORG_TYPE]].strip() or "organisation"
            report.skip(f"{kind}: not a trust in the register")
            continue
        errors_before = report.error_count
        year = _financial_year(ctx, line, fields[columns[YEAR]].strip())
        # Each count is checked against the column it is stored in; the subjects, kept
        # together in one JSON column, against the new complaints' column they break down.
        parsed = {
            name: parse_count(report, line, name, fields[columns[name]], stored_in[name])
            for name in (*COUNTS, *SUBJECTS, SUBJECTS_TOTAL)
        }
        counts = {name: number or 0 for name, number in parsed.items()}
        if year is not None:
            earlier = seen.first_line((year, trust_id), line)
            if earlier:
                report.add_error(
                    line, CODE, code, f"duplicate: this organisation and year are on line {earlier}"
                )
        if report.error_count > errors_before:
            continue
        outcomes = counts[UPHELD] + counts[PARTLY_UPHELD] + counts[NOT_UPHELD]
        if outcomes != counts[RESOLVED]:
            report.add_error(
                line,
                RESOLVED,
                str(counts[RESOLVED]),
                f"resolved complaints must be upheld + partly upheld + not upheld ({outcomes})",
            )
            continue
        subjects_sum = sum(counts[name] for name in SUBJECTS)
        if subjects_sum != counts[SUBJECTS_TOTAL]:
            report.add_error(
                line,
                SUBJECTS_TOTAL,
                str(counts[SUBJECTS_TOTAL]),
                f"the subject columns add up to {subjects_sum}, not this total",
            )
            continue
        patch: dict[str, object] = {field: counts[name] for name, field in COUNTS.items()}
        patch["subjects"] = {label: counts[name] for name, label in SUBJECTS.items()}
        assert year is not None
        writer.put((year, trust_id), patch, line)


def _financial_year(ctx: ImportContext, line: int, text: str) -> str | None:
    """ "2024/25" from KO41a's "2024-25"."""
    match = FINANCIAL_YEAR.fullmatch(text)
    if not match or (int(match[1]) + 1) % 100 != int(match[2]):
        ctx.report.add_error(line, YEAR, text, 'not a financial year like "2024-25"')
        return None
    return f"{match[1]}/{match[2]}"
