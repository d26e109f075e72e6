"""Domain segment thresholds from a file: `compute_release --domain-thresholds FILE`.

The file is a CSV with the header ``Domain_ID,t1,t2,t3`` and one row per domain of the
release's framework, keyed by NHS England's domain score IDs (OF4000, OF4002 ... OF4005). It is
checked whole before anything is saved: every problem is reported with its line, column, value
and reason, and a file with any problem changes nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from pathlib import Path

from metrics.imports.base import FILE, ROW, RowError, normalise_header
from metrics.models import Domain, Framework
from releases.models import DOMAIN_FIXED, DOMAIN_QUARTILES

HEADER = ("Domain_ID", "t1", "t2", "t3")
DOMAIN_ID = HEADER[0]
THRESHOLD_COLUMNS = HEADER[1:]
# Scores run from 1.00 (best) to 4.00 (worst); a threshold outside that places nobody apart.
LOWEST_SCORE, HIGHEST_SCORE = Decimal(1), Decimal(4)
MOST_BYTES = 64 * 1024


class DomainThresholdFileRefused(Exception):
    """The file has problems, listed one a line; nothing was saved."""

    def __init__(self, file_name: str, errors: list[RowError]) -> None:
        self.file_name = file_name
        self.errors = errors
        lines = "\n".join(f"  {error.describe(file_name)}" for error in errors)
        super().__init__(
            f"{file_name}: {len(errors)} problem{'s' if len(errors) != 1 else ''}; "
            f"no domain thresholds were saved.\n{lines}"
        )


def read_domain_threshold_file(path: Path, framework: Framework) -> dict[str, dict[str, str]]:
    """Release.domain_thresholds (domain slug -> fixed t1, t2, t3) from a file, or refused."""
    name = str(path)
    try:
        data = path.read_bytes()[: MOST_BYTES + 1]
    except OSError as error:
        raise DomainThresholdFileRefused(
            name, [RowError(0, FILE, "", f"cannot be read: {error.strerror or error}")]
        ) from error
    if len(data) > MOST_BYTES:
        raise DomainThresholdFileRefused(
            name,
            [RowError(0, FILE, "", f"larger than {MOST_BYTES // 1024} KB: not a threshold file")],
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DomainThresholdFileRefused(
            name, [RowError(0, FILE, "", f"not UTF-8 text (byte {error.start})")]
        ) from error
    return parse_domain_thresholds(name, text, framework)


def parse_domain_thresholds(
    file_name: str, text: str, framework: Framework
) -> dict[str, dict[str, str]]:
    """The checks behind read_domain_threshold_file, on text already read."""
    domains = list(framework.domains.order_by("display_order"))
    by_id = {domain.score_code.upper(): domain for domain in domains if domain.score_code}
    errors: list[RowError] = [
        RowError(
            0,
            FILE,
            domain.name,
            f"the framework's domain {domain.name!r} has no NHS England domain score ID: set "
            "it in the admin (Domains of the framework) first",
        )
        for domain in domains
        if not domain.score_code
    ]
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows or [normalise_header(cell) for cell in rows[0]] != [
        normalise_header(cell) for cell in HEADER
    ]:
        found = ",".join(rows[0]) if rows else ""
        errors.append(RowError(1, ROW, found, f"the header must be {','.join(HEADER)}"))
        raise DomainThresholdFileRefused(file_name, errors)

    thresholds: dict[str, dict[str, str]] = {}
    first_line: dict[str, int] = {}
    last_line = 1
    for line, fields in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in fields):
            continue
        last_line = line
        errors.extend(_row_errors(line, fields, by_id, first_line, thresholds, framework))
    for domain_id, domain in by_id.items():
        if domain_id not in first_line:
            errors.append(
                RowError(
                    last_line + 1,
                    DOMAIN_ID,
                    domain_id,
                    f"no row for {domain.name}: every domain of {framework} needs t1, t2 and t3",
                )
            )
    if errors:
        raise DomainThresholdFileRefused(file_name, errors)
    return thresholds


def _row_errors(
    line: int,
    fields: list[str],
    by_id: dict[str, Domain],
    first_line: dict[str, int],
    thresholds: dict[str, dict[str, str]],
    framework: Framework,
) -> Iterable[RowError]:
    if len(fields) != len(HEADER):
        yield RowError(line, ROW, ",".join(fields), f"{len(fields)} fields; expected {len(HEADER)}")
        return
    domain_id = fields[0].strip().upper()
    domain = by_id.get(domain_id)
    row_ok = True
    if domain is None:
        known = ", ".join(by_id) or "none"
        yield RowError(
            line, DOMAIN_ID, fields[0], f"not a domain of {framework} (its domains: {known})"
        )
        row_ok = False
    elif domain_id in first_line:
        yield RowError(
            line, DOMAIN_ID, fields[0], f"{domain_id} is already on line {first_line[domain_id]}"
        )
        row_ok = False
    else:
        first_line[domain_id] = line
    values: list[Decimal] = []
    for column, cell in zip(THRESHOLD_COLUMNS, fields[1:], strict=True):
        value = _number(cell)
        if value is None:
            yield RowError(line, column, cell, "not a number")
            row_ok = False
        elif not LOWEST_SCORE <= value <= HIGHEST_SCORE:
            yield RowError(
                line, column, cell, "outside the score scale 1.00 (best) to 4.00 (worst)"
            )
            row_ok = False
        else:
            values.append(value)
    if len(values) == len(THRESHOLD_COLUMNS) and not values[0] < values[1] < values[2]:
        yield RowError(
            line,
            ",".join(THRESHOLD_COLUMNS),
            ",".join(cell.strip() for cell in fields[1:]),
            "out of order: thresholds must increase, t1 < t2 < t3",
        )
        row_ok = False
    if row_ok and domain is not None:
        thresholds[domain.slug] = {
            "method": DOMAIN_FIXED,
            **{
                column: format(value.normalize(), "f")
                for column, value in zip(THRESHOLD_COLUMNS, values, strict=True)
            },
        }


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def all_quartiles(framework: Framework) -> dict[str, dict[str, str]]:
    """Every domain of the framework segmented by quartiles of the peer group's scores."""
    return {
        slug: {"method": DOMAIN_QUARTILES}
        for slug in framework.domains.values_list("slug", flat=True)
    }
