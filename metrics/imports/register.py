"""Loading the trust register from NHS files.

`import_trusts` recognises two layouts:

* NHS England's ERIC trust-level CSV (Estates Returns Information Collection): every NHS trust
  with its ODS code, name, commissioning region and trust type, plus estates columns, some of
  which are kept as context measures. This is the file that creates trusts, because it is the
  one that says which league table (peer group) a trust belongs to.
* The ODS `etr.csv` extract (NHS trusts, no header, 27 columns): it keeps names, regions and
  open/closed status up to date, but carries no trust type, so it only updates trusts the
  register already knows.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from django.utils import timezone

from metrics.imports.base import (
    FILE,
    ROW,
    BulkUpsert,
    ImportContext,
    ImportReport,
    KeyRegister,
    NotANumber,
    column_indexes,
    normalise_header,
    parse_count,
    read_number,
    run_import,
    storable_decimal,
)
from metrics.models import ImportRun
from trusts.models import ContextMeasure, PeerGroup, Region, Trust
from trusts.reference import TRUST_TYPES, region_slug

ODS_CODE = re.compile(r"[A-Z0-9]{3,10}")
YEAR_ARGUMENT = re.compile(r"(\d{4})/(\d{2})")
YEAR_IN_FILE_NAME = re.compile(r"(?<!\d)(\d{4})[-_ ]?(\d{2})(?!\d)")

ERIC_CODE = "Trust Code"
ERIC_NAME = "Trust Name"
ERIC_REGION = "Commissioning Region"
ERIC_TYPE = "Trust Type"
ERIC_COLUMNS = (ERIC_CODE, ERIC_NAME, ERIC_REGION, ERIC_TYPE)
NOT_APPLICABLE = frozenset({"", "not applicable", "n/a", "na"})

# ERIC column -> (key, label, unit). Context, not performance: shown beside a trust's results.
CONTEXT_COLUMNS: list[tuple[str, str, str, str]] = [
    (
        "Number of sites - General acute hospital (No.)",
        "sites-general-acute",
        "Sites: general acute hospitals",
        "sites",
    ),
    (
        "Number of sites - Specialist hospital (acute only) (No.)",
        "sites-specialist",
        "Sites: specialist hospitals",
        "sites",
    ),
    (
        "Number of sites - Mixed service hospital (No.)",
        "sites-mixed-service",
        "Sites: mixed service hospitals",
        "sites",
    ),
    (
        "Number of sites - Mental Health (including Specialist services) (No.)",
        "sites-mental-health",
        "Sites: mental health",
        "sites",
    ),
    (
        "Number of sites - Learning Disabilities (No.)",
        "sites-learning-disabilities",
        "Sites: learning disabilities",
        "sites",
    ),
    (
        "Number of sites - Mental Health and Learning Disabilities (No.)",
        "sites-mental-health-learning-disabilities",
        "Sites: mental health and learning disabilities",
        "sites",
    ),
    (
        "Number of sites - Community hospital (with inpatient beds) (No.)",
        "sites-community-hospital",
        "Sites: community hospitals",
        "sites",
    ),
    (
        "Number of sites - Other inpatient (No.)",
        "sites-other-inpatient",
        "Sites: other inpatient",
        "sites",
    ),
    (
        "Number of sites - Non inpatient (No.)",
        "sites-non-inpatient",
        "Sites: non-inpatient",
        "sites",
    ),
    (
        "Number of sites - Support facilities (No.)",
        "sites-support-facilities",
        "Sites: support facilities",
        "sites",
    ),
    ("Number of sites - Unoccupied (No.)", "sites-unoccupied", "Sites: unoccupied", "sites"),
    ("Total number of sites (No.)", "sites-total", "Sites: total", "sites"),
    (
        "Capital investment for new build (£)",
        "capital-new-build",
        "Capital investment: new build",
        "£",
    ),
    (
        "Capital investment for changing/improving existing buildings (£)",
        "capital-improving-buildings",
        "Capital investment: improving existing buildings",
        "£",
    ),
    (
        "Capital investment for maintaining (lifecycle) existing buildings (£)",
        "capital-maintaining-buildings",
        "Capital investment: maintaining existing buildings",
        "£",
    ),
    (
        "Capital investment for equipment (£)",
        "capital-equipment",
        "Capital investment: equipment",
        "£",
    ),
    ("Fires recorded (No.)", "fires-recorded", "Fires recorded", "count"),
]

# etr.csv columns (0-based), after NHS Digital's published layout.
ETR_WIDTH = 27
ETR_CODE, ETR_NAME, ETR_GROUPING = 0, 1, 2
ETR_OPEN_DATE, ETR_CLOSE_DATE = 10, 11
# etr.csv "National Grouping" codes are NHS England's regions.
NATIONAL_GROUPINGS: dict[str, str] = {
    "Y56": "london",
    "Y58": "south-west",
    "Y59": "south-east",
    "Y60": "midlands",
    "Y61": "east-of-england",
    "Y62": "north-west",
    "Y63": "north-east-and-yorkshire",
}

# Official NHS names keep these words in lower case except at the start...
LOWER_CASE_WORDS = frozenset({"and", "of", "the", "for", "in", "on", "at", "with", "upon"})
# ...and these in upper case everywhere.
UPPER_CASE_WORDS = frozenset({"NHS"})


def official_name(name: str) -> str:
    """An upper-case NHS file name in the official mixed case.

    "LEEDS AND YORK PARTNERSHIP NHS FOUNDATION TRUST" -> "Leeds and York Partnership NHS
    Foundation Trust"; "GUY'S AND ST THOMAS' ..." -> "Guy's and St Thomas' ...". A name
    already in mixed case is returned as it is: someone has cased it by hand.
    """
    words = name.split()
    if not words or any(char.islower() for char in name):
        return " ".join(words)
    cased = []
    for position, word in enumerate(words):
        parts = word.split("-")
        cased.append(
            "-".join(
                _case_word(part, first=position == 0 and index == 0)
                for index, part in enumerate(parts)
            )
        )
    return " ".join(cased)


def _case_word(word: str, first: bool) -> str:
    bare = word.strip(",.;:()&'")
    if bare.upper() in UPPER_CASE_WORDS:
        return word.upper()
    if not first and bare.lower() in LOWER_CASE_WORDS:
        return word.lower()
    # Split on apostrophes: a possessive stays lower case (KING'S -> King's, THOMAS' ->
    # Thomas'), a name after an apostrophe is capitalised (O'NEILL -> O'Neill).
    pieces = word.split("'")
    return "'".join(
        _capitalise(piece) if index == 0 or len(piece) > 1 else piece.lower()
        for index, piece in enumerate(pieces)
    )


def _capitalise(text: str) -> str:
    lower = text.lower()
    for index, char in enumerate(lower):
        if char.isalpha():
            return lower[:index] + char.upper() + lower[index + 1 :]
    return lower


def financial_year(year: str | None, path: Path) -> str | None:
    """The financial year ("2024/25") given, or else the one a name like eric-2024-25-... has.

    Raises ValueError for an argument that is not a financial year; None if the name has none.
    """
    if year is not None:
        match = YEAR_ARGUMENT.fullmatch(year.strip())
        if not match or (int(match[1]) + 1) % 100 != int(match[2]):
            raise ValueError(f'"{year}" is not a financial year like 2024/25')
        return year.strip()
    for match in YEAR_IN_FILE_NAME.finditer(path.name):
        if (int(match[1]) + 1) % 100 == int(match[2]):
            return f"{match[1]}/{match[2]}"
    return None


def import_trusts(
    path: str | Path,
    user: AbstractBaseUser | None = None,
    year: str | None = None,
    run: ImportRun | None = None,
) -> ImportReport:
    """Import a trust register file, recognising ERIC or ODS etr.csv by its content.

    ERIC creates and updates trusts (name, trust type, subtype, peer group, region) and stores
    context measures for `year` (default: the year in the file name, e.g. "eric-2024-25-..."
    gives "2024/25"). An unknown trust type or region is an invalid row, and so is a context
    measure that is not a count (sites, fires: a whole number of 0 or more) or an amount of
    pounds spent (0 or more), or that is too large to store.

    etr.csv only updates trusts already in the register: name, region (from the national
    grouping code) and open/closed status (`closed_on` from the close date). It carries no
    trust type, so an open trust it lists that the register does not know is an invalid row
    ("trust type unknown: load the ERIC file first"). Closed organisations the register does
    not know, and organisations outside NHS England's regions (Welsh trusts), are skipped and
    counted: the real extract lists decades of closed trusts.

    Any other file is rejected with an error saying what was expected. Raises ImportRejected if
    any row is invalid (nothing is saved), ValueError for a `year` that is not like 2024/25.
    """
    path = Path(path)
    context_year = financial_year(year, path)

    def process(ctx: ImportContext) -> None:
        first = ctx.first_record()
        if first is None:
            ctx.report.add_error(1, FILE, "", "the file is empty")
            return
        line, fields = first
        header = {normalise_header(cell) for cell in fields}
        if all(normalise_header(column) in header for column in ERIC_COLUMNS):
            if context_year is None:
                ctx.report.add_error(
                    1,
                    FILE,
                    path.name,
                    "financial year unknown: name the file like eric-2024-25-... or pass the "
                    "year (e.g. --year 2024/25)",
                )
                return
            _import_eric(ctx, context_year)
        elif len(fields) == ETR_WIDTH and re.fullmatch(r"\d{8}", fields[ETR_OPEN_DATE].strip()):
            _import_etr(ctx)
        else:
            ctx.report.add_error(
                line,
                FILE,
                ",".join(fields[:4]),
                f"{path.name} is not a recognised trust file: expected the ERIC trust CSV "
                "(a header row with Trust Code, Trust Name, Commissioning Region, Trust Type) "
                f"or the ODS etr.csv (no header, {ETR_WIDTH} columns, open date YYYYMMDD in "
                "column 11)",
            )

    return run_import(ImportRun.Kind.TRUSTS, path, user, process, run)


def _import_eric(ctx: ImportContext, year: str) -> None:
    report = ctx.report
    header = ctx.read_header() or []
    columns, missing = column_indexes(header, ERIC_COLUMNS)
    for name in missing:
        report.add_error(1, name, "", "column missing from the header")
    if missing:
        return
    context_columns, absent = column_indexes(header, [spec[0] for spec in CONTEXT_COLUMNS])
    for name in absent:
        report.notes.append(
            f'column "{name}" is not in the file: that context measure is left as it was'
        )
    measures_wanted = [
        (context_columns[name], key, label, unit)
        for name, key, label, unit in CONTEXT_COLUMNS
        if name in context_columns
    ]
    width = max([*columns.values(), *context_columns.values()]) + 1
    regions = dict(Region.objects.values_list("slug", "pk"))
    peer_groups = dict(PeerGroup.objects.values_list("slug", "pk"))
    source = f"ERIC {year}"

    # A new trust has no id until its chunk is written, so its measures wait for that.
    waiting: dict[str, list[tuple[str, dict[str, Any], int]]] = {}

    def write_measures(ids: dict[tuple[Any, ...], int]) -> None:
        for (code,), trust_id in ids.items():
            for key, patch, line in waiting.pop(code, []):
                measures.put((year, key, trust_id), patch, line)

    trusts = BulkUpsert(ctx, Trust, ("ods_code",), on_flush=write_measures)
    # Made after `trusts`, so the final flush writes the last trusts before their measures.
    measures = BulkUpsert(ctx, ContextMeasure, ("year", "key", "trust_id"))
    seen = KeyRegister()

    for line, fields in ctx.rows():
        if len(fields) < width:
            report.add_error(
                line,
                ROW,
                f"{len(fields)} fields",
                f"expected {len(header)} fields as in the header",
            )
            continue
        errors_before = report.error_count
        code = fields[columns[ERIC_CODE]].strip().upper()
        if not ODS_CODE.fullmatch(code):
            report.add_error(line, ERIC_CODE, code, "not an ODS code")
        name = official_name(fields[columns[ERIC_NAME]])
        if not name:
            report.add_error(line, ERIC_NAME, "", "empty")
        region_text = fields[columns[ERIC_REGION]]
        region_id = regions.get(region_slug(region_text) or "")
        if region_id is None:
            report.add_error(line, ERIC_REGION, region_text.strip(), "unknown region")
        trust_type = " ".join(fields[columns[ERIC_TYPE]].split()).upper()
        if trust_type not in TRUST_TYPES:
            report.add_error(
                line,
                ERIC_TYPE,
                trust_type,
                f"unknown trust type (expected one of {', '.join(sorted(TRUST_TYPES))})",
            )
            peer_group_id, subtype = None, ""
        else:
            peer_group_slug, subtype = TRUST_TYPES[trust_type]
            peer_group_id = peer_groups.get(peer_group_slug)
            if peer_group_id is None:
                report.add_error(
                    line, ERIC_TYPE, trust_type, f'peer group "{peer_group_slug}" is not set up'
                )
        if ODS_CODE.fullmatch(code):
            earlier = seen.first_line((code,), line)
            if earlier:
                report.add_error(
                    line, ERIC_CODE, code, f"trust listed twice: also on line {earlier}"
                )
        values: list[tuple[str, dict[str, Any]]] = []
        for index, key, label, unit in measures_wanted:
            text = fields[index].strip()
            value = None
            if text.casefold() not in NOT_APPLICABLE:
                value = _measure(report, line, header[index].strip(), text, unit)
                if value is None:
                    continue
            values.append((key, {"label": label, "unit": unit, "value": value, "source": source}))
        if report.error_count > errors_before or report.rejected:
            continue
        waiting[code] = [(key, patch, line) for key, patch in values]
        trusts.put(
            (code,),
            {
                "name": name,
                "trust_type": trust_type,
                "subtype": subtype,
                "region_id": region_id,
                "peer_group_id": peer_group_id,
            },
            line,
        )


# Context measures counted in whole things (sites, fires), and those that are money spent.
COUNTED_UNITS = frozenset({"sites", "count"})
MONEY = "£"


def _measure(report: ImportReport, line: int, column: str, text: str, unit: str) -> Decimal | None:
    """An ERIC context measure's value as stored, or None with the cell reported.

    Sites and fires are counts: whole numbers of 0 or more. Capital investment is pounds spent,
    never below 0. Each must fit the context measure's value column.
    """
    value_field = ContextMeasure._meta.get_field("value")
    if unit in COUNTED_UNITS:
        count = parse_count(report, line, column, text, value_field)
        return None if count is None else Decimal(count)
    try:
        number = read_number(text.replace(MONEY, ""))
    except NotANumber as problem:
        report.add_error(line, column, text, str(problem))
        return None
    if unit == MONEY and number < 0:
        report.add_error(line, column, text, "an amount spent cannot be below 0")
        return None
    return storable_decimal(report, line, column, text, number, value_field)


def _import_etr(ctx: ImportContext) -> None:
    report = ctx.report
    known = set(Trust.objects.values_list("ods_code", flat=True))
    regions = dict(Region.objects.values_list("slug", "pk"))
    today = timezone.localdate()
    trusts = BulkUpsert(ctx, Trust, ("ods_code",))
    seen = KeyRegister()

    for line, fields in ctx.rows():
        if len(fields) != ETR_WIDTH:
            report.add_error(
                line,
                ROW,
                f"{len(fields)} fields",
                f"expected {ETR_WIDTH} fields (ODS etr.csv layout)",
            )
            continue
        errors_before = report.error_count
        code = fields[ETR_CODE].strip().upper()
        name = official_name(fields[ETR_NAME])
        grouping = fields[ETR_GROUPING].strip().upper()
        if not ODS_CODE.fullmatch(code):
            report.add_error(line, "Organisation code", code, "not an ODS code")
            continue
        _etr_date(report, line, "Open date", fields[ETR_OPEN_DATE], required=True)
        closed_on = _etr_date(report, line, "Close date", fields[ETR_CLOSE_DATE], required=False)
        earlier = seen.first_line((code,), line)
        if earlier:
            report.add_error(
                line,
                "Organisation code",
                code,
                f"organisation listed twice: also on line {earlier}",
            )
        if report.error_count > errors_before:
            continue
        if code not in known:
            if closed_on is not None:
                report.skip("closed, and not in the trust register")
            elif grouping not in NATIONAL_GROUPINGS:
                report.skip("outside NHS England's regions, not in the trust register")
            else:
                report.add_error(
                    line, "Organisation code", code, "trust type unknown: load the ERIC file first"
                )
            continue
        patch: dict[str, Any] = {
            "closed_on": closed_on,
            "is_open": closed_on is None or closed_on > today,
        }
        if name:
            patch["name"] = name
        region_id = regions.get(NATIONAL_GROUPINGS.get(grouping, ""))
        if region_id is not None:
            patch["region_id"] = region_id
        elif patch["is_open"]:
            report.add_error(
                line,
                "National grouping",
                grouping,
                "not one of NHS England's regions (Y56, Y58 to Y63)",
            )
            continue
        if not report.rejected:
            trusts.put((code,), patch, line)


def _etr_date(
    report: ImportReport, line: int, column: str, text: str, required: bool
) -> date | None:
    text = text.strip()
    if not text:
        if required:
            report.add_error(line, column, text, "missing (expected YYYYMMDD)")
        return None
    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        report.add_error(line, column, text, "not a date in the form YYYYMMDD")
        return None
