"""The machinery every data importer shares: read a file safely, write it in bulk, report.

An importer (trust register, NOF data file, A&E sitrep) is one function that hands
`run_import` a `process` callback. The callback reads rows from the `ImportContext`, validates
them, and puts records into `BulkUpsert` writers. This module owns everything else:

* the encoding (UTF-8 with or without BOM, else Windows-1252) and the SHA-256 of the bytes;
* physical line numbers as a spreadsheet user counts them (header = line 1);
* one transaction per file, written a chunk at a time with one query per chunk to find the
  existing rows, and django-simple-history's bulk helpers so bulk changes are audited;
* all-or-nothing: if any row is invalid, every error is collected, the transaction is rolled
  back and `ImportRejected` is raised;
* an `ImportRun` recording who loaded what and what it did, kept even when rejected.

Memory stays flat whatever the file size: rows are streamed, at most two chunks are buffered
(records still expecting rows are carried into the next chunk once), and duplicate detection
(`KeyRegister`) costs about four bytes per distinct key.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, models, transaction
from django.db.backends.base.operations import BaseDatabaseOperations
from django.db.models import Q
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from metrics import input_locks
from metrics.imports.errors import UnreadableFile
from metrics.models import ImportRun, Observation, Quarter, TrustQuarterStatus
from metrics.signals import observations_changed
from trusts.models import Trust

CHUNK_SIZE = 2000
MAX_STORED_ERRORS = 1000
# SQLite refuses expressions nested deeper than 1,000; an OR of key groups nests one level per
# group, so a chunk whose keys fall into very many groups is looked up in several queries.
MAX_KEY_GROUPS_PER_QUERY = 200
READ_BLOCK_SIZE = 1 << 20
MAX_SHOWN_VALUE = 80

# Where a problem concerns the file or the row rather than one cell.
FILE = "(file)"
ROW = "(row)"


@dataclass(frozen=True, slots=True)
class RowError:
    """One invalid cell (or row, or file), as the person who must fix the file needs it."""

    line: int
    column: str
    value: str
    reason: str

    def describe(self, file_name: str) -> str:
        value = self.value if len(self.value) <= MAX_SHOWN_VALUE else self.value[:77] + "..."
        return f'{file_name}:{self.line}: column "{self.column}" value "{value}": {self.reason}'

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "reason": self.reason,
        }


@dataclass
class ChangeCounts:
    """What one file did to one model.

    `created` and `updated` count records: `updated` only those that existed before this file.
    `merged` counts rows that completed a record this same file wrote in an earlier chunk (a
    NOF value and its score arrive on different rows). `unchanged` counts rows whose values
    were already stored.
    """

    created: int = 0
    updated: int = 0
    merged: int = 0
    unchanged: int = 0

    def __str__(self) -> str:
        parts = [f"{self.created} created", f"{self.updated} updated"]
        if self.merged:
            parts.append(f"{self.merged} completed by a later row")
        if self.unchanged:
            parts.append(f"{self.unchanged} rows unchanged")
        return ", ".join(parts)


@dataclass
class ImportReport:
    """The outcome of importing one file; `str()` is the text shown to the person importing."""

    kind: str
    file_name: str
    checksum: str = ""
    encoding: str = ""
    rows_read: int = 0
    changes: dict[str, ChangeCounts] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    notes: list[str] = field(default_factory=list)
    import_run_id: int | None = None
    # For a spreadsheet: the sheet the line numbers count rows of.
    sheet: str = ""

    @property
    def created(self) -> int:
        return sum(c.created for c in self.changes.values())

    @property
    def updated(self) -> int:
        return sum(c.updated for c in self.changes.values())

    @property
    def unchanged(self) -> int:
        return sum(c.unchanged for c in self.changes.values())

    @property
    def skipped_count(self) -> int:
        return sum(self.skipped.values())

    @property
    def rejected(self) -> bool:
        return self.error_count > 0

    def add_error(self, line: int, column: str, value: str, reason: str) -> None:
        self.error_count += 1
        # Counted in full, stored up to a cap: a file with a million bad rows must not take a
        # million objects of memory to say so.
        if len(self.errors) < MAX_STORED_ERRORS:
            self.errors.append(RowError(line, column, value, reason))

    def skip(self, reason: str, count: int = 1) -> None:
        self.skipped[reason] += count

    def counts_for(self, label: str) -> ChangeCounts:
        return self.changes.setdefault(label, ChangeCounts())

    @property
    def location(self) -> str:
        return f"{self.file_name}, sheet {self.sheet}" if self.sheet else self.file_name

    def error_lines(self) -> list[str]:
        lines = [error.describe(self.location) for error in self.errors]
        if self.error_count > len(self.errors):
            lines.append(
                f"... and {self.error_count - len(self.errors)} more invalid rows "
                f"(only the first {len(self.errors)} are listed)"
            )
        return lines

    def __str__(self) -> str:
        kind = ImportRun.Kind(self.kind).label if self.kind in ImportRun.Kind.values else self.kind
        lines = [f"{kind}: {self.file_name}"]
        if self.checksum:
            lines.append(f"  sha256 {self.checksum}, read as {self.encoding or 'unknown'}")
        if self.sheet:
            lines.append(f"  sheet {self.sheet} (line numbers are its row numbers)")
        lines.append(f"  {self.rows_read} rows read")
        if self.rejected:
            lines.append(f"REJECTED: {self.error_count} invalid rows; nothing was saved.")
            lines.extend(f"  {line}" for line in self.error_lines())
        else:
            for label, counts in self.changes.items():
                lines.append(f"  {label}: {counts}")
        if self.skipped:
            lines.append("  skipped (rows, or values not computed):")
            lines.extend(f"    {n} {reason}" for reason, n in self.skipped.most_common())
        lines.extend(f"  note: {note}" for note in self.notes)
        return "\n".join(lines)


class ImportRejected(Exception):
    """The file had invalid rows, so nothing was saved; `report` lists every one."""

    def __init__(self, report: ImportReport) -> None:
        self.report = report
        super().__init__(f"{report.file_name}: {report.error_count} invalid rows, nothing saved")


# Reading ------------------------------------------------------------------------------------


def file_checksum(path: str | Path) -> str:
    """SHA-256 of a file's bytes, as ImportRun.checksum stores it (to spot a file seen before)."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        while block := handle.read(READ_BLOCK_SIZE):
            digest.update(block)
    return digest.hexdigest()


SAVE_AS_CSV = (
    'save it as CSV first: in Excel, File > Save As > "CSV UTF-8 (Comma delimited)"; in '
    'LibreOffice, File > Save As > "Text CSV" with UTF-8'
)
# How much of a file's start decides what kind of file it is.
SNIFF_BYTES = 8192


def what_the_file_is(start: bytes) -> str | None:
    """What a file that is not CSV text looks like, from its first bytes; None if it may be CSV.

    A person who uploads the workbook instead of its CSV export should be told that once, not
    shown five "column missing from the header" errors. A stray NUL byte in an otherwise
    textual file is left to the rows, which report it where it is.
    """
    # UTF-32's little-endian mark begins with UTF-16's, so it is looked for first.
    if start.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "UTF-32 text, not UTF-8 CSV"
    if start.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return 'UTF-16 text (Excel\'s "Unicode Text"), not UTF-8 CSV'
    if start.startswith((b"\x89PNG", b"\xff\xd8\xff", b"GIF8")):
        return "an image, not CSV"
    if start.startswith(b"PK\x03\x04") or start.startswith(b"PK\x05\x06"):
        if b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet" in start:
            return "an OpenDocument spreadsheet (.ods), not CSV"
        if b"xl/" in start or b"[Content_Types].xml" in start:
            return "an Excel workbook (.xlsx), not CSV"
        return "a ZIP archive, not CSV"
    if start.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return "an Excel 97-2003 workbook (.xls), not CSV"
    if start.startswith(b"%PDF"):
        return "a PDF document, not CSV"
    if start.startswith(b"\x1f\x8b"):
        return "a gzip-compressed file, not CSV"
    if not start:
        return None
    nul = start.count(0)
    if nul * 4 >= len(start):
        # ASCII written as UTF-16 without a byte order mark: every other byte is NUL.
        even, odd = start[0::2], start[1::2]
        even_nul, odd_nul = even.count(0) / len(even), odd.count(0) / max(len(odd), 1)
        if max(even_nul, odd_nul) > 0.5 and min(even_nul, odd_nul) < 0.2:
            return "UTF-16 text without a byte order mark, not UTF-8 CSV"
        return "a binary file, not CSV text"
    controls = sum(1 for byte in start if byte < 32 and byte not in (0, 9, 10, 13))
    if controls * 20 >= len(start):
        return "a binary file, not CSV text"
    return None


def inspect_file(path: Path) -> tuple[str, str | None, str]:
    """SHA-256 of the bytes, the encoding to read them with, and why if there is none.

    One streamed pass: both decoders are fed block by block, so a large file is never held in
    memory. UTF-8 is preferred; anything that is not valid UTF-8 is tried as Windows-1252 (what
    Excel on Windows writes, e.g. the ERIC file's "£" as byte 0xA3). cp1252 leaves five bytes
    undefined, so a binary or UTF-16 file usually fails both.
    """
    digest = hashlib.sha256()
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    problem = ""
    starts_with_bom = False
    offset = 0
    with path.open("rb") as handle:
        while block := handle.read(READ_BLOCK_SIZE):
            if offset == 0:
                starts_with_bom = block.startswith(codecs.BOM_UTF8)
            digest.update(block)
            if utf8_ok:
                try:
                    utf8.decode(block)
                except UnicodeDecodeError:
                    utf8_ok = False
            if cp1252_ok:
                try:
                    cp1252.decode(block)
                except UnicodeDecodeError as exc:
                    cp1252_ok = False
                    bad = block[exc.start : exc.start + 1]
                    problem = f"byte 0x{bad.hex()} at offset {offset + exc.start}"
            offset += len(block)
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if utf8_ok:
        return digest.hexdigest(), "utf-8-sig" if starts_with_bom else "utf-8", ""
    if cp1252_ok:
        return digest.hexdigest(), "cp1252", ""
    return digest.hexdigest(), None, problem


def normalise_header(name: str) -> str:
    """Header cells compared loosely: case, stray BOMs and runs of spaces do not matter."""
    return " ".join(name.replace("\ufeff", "").split()).casefold()


def column_indexes(
    header: Sequence[str], wanted: Sequence[str]
) -> tuple[dict[str, int], list[str]]:
    """Where each wanted column is in the header, and which wanted columns are missing."""
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        positions.setdefault(normalise_header(name), index)
    found = {
        name: positions[normalise_header(name)]
        for name in wanted
        if normalise_header(name) in positions
    }
    return found, [name for name in wanted if name not in found]


# A number as NHS files write it: ASCII digits, an optional sign, thousands separators only in
# groups of three (1,234,567), an optional decimal point and exponent (Excel's 1E-05).
NUMBER = re.compile(r"[+-]?(?:\d{1,3}(?:,\d{3})+|\d+)?(?:\.\d+)?(?:[eE][+-]?\d+)?", re.ASCII)
NOT_FINITE = frozenset({"nan", "inf", "infinity", "-inf", "+inf", "-infinity", "+infinity"})


class NotANumber(ValueError):
    """Why a cell is not read as a number; the message is the reason shown for the cell."""


def read_number(text: str) -> Decimal:
    """A finite number written as in NHS files, or NotANumber saying why not.

    Strict on purpose: "1,5" is a decimal comma, not fifteen; "١٢" (Arabic-Indic digits) is not
    12 to a person checking the file against its source, and NaN or infinity is no value.
    """
    cleaned = text.strip()
    if not cleaned:
        raise NotANumber("empty: a number is required")
    if cleaned.casefold() in NOT_FINITE:
        raise NotANumber("not a finite number")
    if any(ch.isdigit() and not ch.isascii() for ch in cleaned):
        raise NotANumber("only the digits 0 to 9 are read: this has other digits")
    if not NUMBER.fullmatch(cleaned) or not any(ch.isdigit() for ch in cleaned):
        if "," in cleaned and NUMBER.fullmatch(cleaned.replace(",", "")):
            raise NotANumber(
                "a comma must separate thousands in groups of three digits (1,234); "
                "write a decimal with a point (1.5)"
            )
        raise NotANumber("not a number")
    try:
        return Decimal(cleaned.replace(",", ""))
    except InvalidOperation:
        # An exponent beyond what any decimal can hold (1e99999999999999999999).
        raise NotANumber("not a number that can be stored: its exponent is too large") from None


def parse_decimal(text: str) -> Decimal | None:
    """`read_number`, or None where the cell is not a number (the caller says why)."""
    try:
        return read_number(text)
    except NotANumber:
        return None


# The largest whole number an integer column holds on every database the portal runs on
# (PostgreSQL's integer; SQLite would take more, but a file accepted in development must be
# accepted in production). Counts in NHS files are far below it: no trust has two billion of
# anything in a month or a year, so a larger count is a mistake in the file.
INTEGER_RANGES = BaseDatabaseOperations.integer_field_ranges
COUNT_MAXIMUM = INTEGER_RANGES["PositiveIntegerField"][1]


def largest_whole_number(model_field: models.Field) -> int:
    """The largest whole number `model_field` (an integer or decimal column) can store."""
    if isinstance(model_field, models.DecimalField):
        return 10 ** (model_field.max_digits - model_field.decimal_places) - 1
    return INTEGER_RANGES[model_field.get_internal_type()][1]


def plain(number: int) -> str:
    """A whole number as a person writes it: 1,234,567."""
    return f"{number:,}"


def parse_count(
    report: ImportReport,
    line: int,
    column: str,
    text: str,
    model_field: models.Field | None = None,
) -> int | None:
    """A count (a whole number of 0 or more, thousands in groups of three), else an error.

    A count must also be plausible and storable: at most COUNT_MAXIMUM, and at most what
    `model_field`, the column it is stored in (if any), can hold. Checked before the number is
    made an int, so a "1e999999" cell costs nothing.
    """
    shown = text.strip()
    try:
        number = read_number(text)
    except NotANumber as problem:
        report.add_error(line, column, shown, f"not a count: {problem}")
        return None
    if number < 0 or number != number.to_integral_value():
        report.add_error(line, column, shown, "not a count (a whole number of 0 or more)")
        return None
    maximum = COUNT_MAXIMUM
    if model_field is not None:
        maximum = min(maximum, largest_whole_number(model_field))
    if number > maximum:
        report.add_error(
            line,
            column,
            shown,
            f"not a plausible count: too large (a count may be at most {plain(maximum)})",
        )
        return None
    return int(number)


def fit_decimal(number: Decimal, model_field: models.DecimalField) -> Decimal | None:
    """`number` rounded to what the column stores, or None if it is too large to store.

    Rounding here, not in the database, means what is compared for "unchanged" is exactly what
    is stored, so a re-import finds nothing to update.
    """
    integer_digits = model_field.max_digits - model_field.decimal_places
    # Checked before rounding too: quantize() refuses results beyond Decimal's precision.
    if number.adjusted() >= integer_digits:
        return None
    rounded = number.quantize(Decimal(1).scaleb(-model_field.decimal_places))
    return None if rounded.adjusted() >= integer_digits else rounded


def too_large_to_store(model_field: models.DecimalField) -> str:
    """The reason given for a number `fit_decimal` cannot store in `model_field`."""
    digits = model_field.max_digits - model_field.decimal_places
    return f"too large to store: the database keeps at most {digits} digits before the point"


def storable_decimal(
    report: ImportReport,
    line: int,
    column: str,
    text: str,
    number: Decimal,
    model_field: models.DecimalField,
) -> Decimal | None:
    """`fit_decimal`, reporting the cell (as written) if its number is too large to store."""
    fitted = fit_decimal(number, model_field)
    if fitted is None:
        report.add_error(line, column, text.strip(), too_large_to_store(model_field))
    return fitted


class KeyRegister:
    """The keys a file has used so far and the line each first appeared on.

    Keys are tuples whose last part varies fastest (a trust) under a prefix that repeats (a
    quarter and a metric). Each prefix gets an array of 4-byte line numbers indexed by a dense
    number for the last part, so a million distinct keys cost about 4 MB, where a set of tuples
    would cost well over 100 MB.
    """

    def __init__(self) -> None:
        self._index: dict[Hashable, int] = {}
        self._lines: dict[tuple[Hashable, ...], array[int]] = {}

    def first_line(self, key: tuple[Hashable, ...], line: int) -> int | None:
        """Record `key` as seen on `line`; if it was seen before, the earlier line instead."""
        prefix, last = key[:-1], key[-1]
        index = self._index.setdefault(last, len(self._index))
        lines = self._lines.get(prefix)
        if lines is None:
            lines = self._lines[prefix] = array("I")
        if index >= len(lines):
            lines.extend([0] * (len(self._index) - len(lines)))
        earlier = lines[index]
        if earlier:
            return earlier
        lines[index] = line
        return None

    def line_of(self, key: tuple[Hashable, ...]) -> int | None:
        """The line `key` was first seen on, or None; records nothing."""
        index = self._index.get(key[-1])
        lines = self._lines.get(key[:-1])
        if index is None or lines is None or index >= len(lines):
            return None
        return lines[index] or None


# Writing ------------------------------------------------------------------------------------


# Reads a file that is not CSV text (a spreadsheet's sheet) as (line, cells) records.
RecordReader = Callable[[Path], Iterator[tuple[int, list[str]]]]


class ImportContext:
    """One file being imported: its rows, its report, its ImportRun, its audit details."""

    def __init__(
        self,
        path: Path,
        encoding: str,
        report: ImportReport,
        run: ImportRun,
        user: AbstractBaseUser | None,
        read: RecordReader | None = None,
    ) -> None:
        self.path = path
        self.encoding = encoding
        self.report = report
        self.run = run
        self.user = user
        self.change_reason = f"Imported from {path.name}"
        self._records = self._read() if read is None else self._read_with(read)
        self._peeked: tuple[int, list[str]] | None = None
        self.header: list[str] | None = None
        self._quarters: dict[tuple[int, int], int] = {}
        self._writers: list[BulkUpsert] = []
        # Quarters whose data this file created or changed: draft releases of them recompute.
        self.changed_quarters: set[int] = set()

    def add_writer(self, writer: BulkUpsert) -> None:
        self._writers.append(writer)

    def close(self) -> None:
        """Close the file, even if the importer stopped reading part way."""
        self._records.close()

    def flush(self) -> None:
        """Write what every writer still holds, in the order the writers were made.

        Order matters: a writer's `on_flush` may feed a later writer (new trusts get their ids
        before their context measures are written).
        """
        for writer in self._writers:
            writer.flush(final=True)
        # Once everything is written, each check knows every row the file holds.
        for writer in self._writers:
            if writer.check is not None:
                writer.check.finish()

    def _read_with(self, read: RecordReader) -> Iterator[tuple[int, list[str]]]:
        """Records from a spreadsheet reader; a file it cannot read is one file error."""
        try:
            yield from read(self.path)
        except UnreadableFile as exc:
            self.report.add_error(1, FILE, "", str(exc))

    def _read(self) -> Iterator[tuple[int, list[str]]]:
        with self.path.open(encoding=self.encoding, newline="") as handle:
            reader = csv.reader(handle)
            end_of_previous = 0
            while True:
                try:
                    fields = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    self.report.add_error(
                        end_of_previous + 1, FILE, "", f"not readable as CSV: {exc}"
                    )
                    return
                # A quoted cell may span lines: report the line the record starts on.
                start = end_of_previous + 1
                end_of_previous = reader.line_num
                if not any(cell.strip() for cell in fields):
                    continue
                if any("\x00" in cell for cell in fields):
                    # PostgreSQL refuses NUL in text and SQLite would store it in a name: the
                    # row is invalid wherever the byte is, and says which cell holds it.
                    self._refuse_nul(start, fields)
                    continue
                yield start, fields

    def _refuse_nul(self, line: int, fields: list[str]) -> None:
        for index, cell in enumerate(fields):
            if "\x00" in cell:
                column = (
                    self.header[index].strip()
                    if self.header is not None and index < len(self.header)
                    else f"column {index + 1}"
                )
                self.report.add_error(
                    line,
                    column,
                    cell.replace("\x00", "\\0"),
                    "contains a NUL byte (\\0): not text a CSV cell may hold",
                )

    def first_record(self) -> tuple[int, list[str]] | None:
        """The first non-blank record, left in place for `read_header` or `rows`."""
        if self._peeked is None:
            self._peeked = next(self._records, None)
        return self._peeked

    def read_header(self) -> list[str] | None:
        """Consume the first record as a header (not counted as a row)."""
        record = self.first_record()
        self._peeked = None
        self.header = None if record is None else record[1]
        return self.header

    def rows(self) -> Iterator[tuple[int, list[str]]]:
        """The remaining records with their line numbers, each counted in `rows_read`."""
        if self._peeked is not None:
            record, self._peeked = self._peeked, None
            self.report.rows_read += 1
            yield record
        for record in self._records:
            self.report.rows_read += 1
            yield record

    def complete_rows(self, columns: Mapping[str, int]) -> Iterator[tuple[int, list[str]]]:
        """The remaining rows long enough to hold every column found; a shorter one is an
        invalid row."""
        width = max(columns.values()) + 1
        for line, fields in self.rows():
            if len(fields) < width:
                self.report.add_error(
                    line, ROW, f"{len(fields)} fields", f"expected at least {width} fields"
                )
                continue
            yield line, fields

    def quarter_id(self, year_start: int, number: int) -> int:
        """The id of a quarter, created (with its dates) the first time a file names it."""
        key = (year_start, number)
        if key not in self._quarters:
            start, end = Quarter.dates(year_start, number)
            quarter, created = Quarter.objects.get_or_create(
                year_start=year_start,
                number=number,
                defaults={"start_date": start, "end_date": end},
            )
            if created:
                self.report.counts_for("quarters").created += 1
            self._quarters[key] = quarter.pk
        return self._quarters[key]


@dataclass
class _Pending:
    """What a chunk's rows say about one record: the fields, and the line each came from."""

    patch: dict[str, Any]
    lines: dict[str, int]
    rows: int = 1
    carried: bool = False

    def line_of(self, fields: Iterable[str]) -> int:
        return max(self.lines[name] for name in fields)


class ChangeCheck(Protocol):
    """Looks at every change a writer is about to make to a stored record, and once the whole
    file is written reports the changes the file may not make (see `BulkUpsert`)."""

    def __call__(
        self,
        key: tuple[Any, ...],
        stored: models.Model,
        patch: Mapping[str, Any],
        changed: Sequence[str],
        lines: Mapping[str, int],
    ) -> None: ...

    def finish(self) -> None: ...


class BulkUpsert:
    """Creates or updates one model's records from a file, one chunk at a time.

    Records are identified by `key_fields` (attnames, e.g. ("quarter_id", "metric_id",
    "trust_id"); put the field that varies fastest last, the lookup groups on the others).
    Each row contributes a patch: the fields that row owns. Patches for the same key merge, so
    a NOF value row and its score row fill one Observation. `stamp` fields (the ImportRun) and
    `line_field` (the source line) are written with every change but never compared, so a
    re-import of the same data writes nothing.

    `complete(key, patch)` says whether a record still expects rows: one that does is carried
    into the next chunk, once, so that its other rows usually arrive before it is written. In
    NHS England's NOF file a value and its score are about 1,300 rows apart; without this the
    record would be written twice, with two history entries.

    `guard(key)` may refuse a record that would be created or changed, returning the (column,
    value, reason) of the row error; unchanged records are never refused, so re-importing a
    file is always harmless.

    Per chunk: one query for the existing records, then bulk_create / bulk_update, through
    simple-history's helpers when the model keeps history. Once the file has an invalid row
    nothing more is written (the transaction will be rolled back anyway), but a guarded writer
    still compares, so that every refused row is reported.

    `check` is shown every change to a stored record before it is made (the stored record,
    the file's fields for it, which of them change, and the line of each), and reports what it
    refuses once the whole file has been read: whether the file makes a change consistent may
    depend on a row further on (a NOF score row follows its value row by a thousand lines).
    """

    def __init__(
        self,
        ctx: ImportContext,
        model: type[models.Model],
        key_fields: Sequence[str],
        *,
        defaults: Mapping[str, Any] | None = None,
        stamp: Mapping[str, Any] | None = None,
        line_field: str | None = None,
        on_flush: Callable[[dict[tuple[Any, ...], int]], None] | None = None,
        guard: Callable[[tuple[Any, ...]], tuple[str, str, str] | None] | None = None,
        complete: Callable[[tuple[Any, ...], dict[str, Any]], bool] | None = None,
        check: ChangeCheck | None = None,
        chunk_size: int | None = None,
    ) -> None:
        self.ctx = ctx
        self.model = model
        self.key_fields = tuple(key_fields)
        self.defaults = dict(defaults or {})
        self.stamp = dict(stamp or {})
        self.line_field = line_field
        self.on_flush = on_flush
        self.guard = guard
        self.complete = complete
        self.check = check
        self.chunk_size = chunk_size or CHUNK_SIZE
        self.counts = ctx.report.counts_for(str(model._meta.verbose_name_plural))
        self.has_history = hasattr(model._meta, "simple_history_manager_attribute")
        self._buffer: dict[tuple[Any, ...], _Pending] = {}
        self._carried = 0
        self._quarter_at = (
            self.key_fields.index("quarter_id") if "quarter_id" in self.key_fields else None
        )
        ctx.add_writer(self)

    def put(self, key: tuple[Any, ...], patch: Mapping[str, Any], line: int) -> None:
        pending = self._buffer.get(key)
        if pending is None:
            self._buffer[key] = _Pending(dict(patch), dict.fromkeys(patch, line))
        else:
            pending.patch.update(patch)
            pending.lines.update(dict.fromkeys(patch, line))
            pending.rows += 1
        # Carried records do not count against the chunk: each gets a full chunk of new rows.
        if len(self._buffer) >= self.chunk_size + self._carried:
            self.flush()

    def flush(self, final: bool = False) -> None:
        """Write the buffered chunk (all of it if `final`, else less what is carried over)."""
        pending, self._buffer = self._buffer, {}
        if self.complete is not None and not final:
            for key, item in list(pending.items()):
                if not item.carried and not self.complete(key, item.patch):
                    item.carried = True
                    self._buffer[key] = pending.pop(key)
        self._carried = len(self._buffer)
        if not pending or (self.ctx.report.rejected and self.guard is None):
            return
        existing = self._fetch(list(pending))
        to_create: list[models.Model] = []
        to_update: list[models.Model] = []
        update_fields: set[str] = set()
        touched: list[tuple[Any, ...]] = []
        for key, item in pending.items():
            record = existing.get(key)
            if record is None:
                if self._refused(key, item, item.patch):
                    continue
                record = self.model(
                    **dict(zip(self.key_fields, key, strict=True)), **self.defaults, **item.patch
                )
                self._stamp(record, item.line_of(item.patch))
                to_create.append(record)
                touched.append(key)
                self.counts.created += 1
                continue
            changed = [name for name, value in item.patch.items() if getattr(record, name) != value]
            if not changed:
                self.counts.unchanged += item.rows
                continue
            if self._refused(key, item, changed):
                continue
            if self.check is not None:
                self.check(key, record, item.patch, changed, item.lines)
            if self.stamp and all(
                getattr(record, name) == value for name, value in self.stamp.items()
            ):
                self.counts.merged += item.rows
            else:
                self.counts.updated += 1
            for name in changed:
                setattr(record, name, item.patch[name])
            self._stamp(record, item.line_of(changed))
            update_fields.update(changed)
            to_update.append(record)
            touched.append(key)
        if self.ctx.report.rejected:
            return
        if self._quarter_at is not None:
            self.ctx.changed_quarters.update(key[self._quarter_at] for key in touched)
        created = self._create(to_create)
        if to_update:
            update_fields.update(self.stamp)
            if self.line_field:
                update_fields.add(self.line_field)
            self._update(to_update, sorted(update_fields))
        if self.on_flush:
            ids = {key: record.pk for key, record in existing.items()}
            ids.update((self._key_of(record), record.pk) for record in created)
            self.on_flush(ids)

    def _refused(self, key: tuple[Any, ...], item: _Pending, fields: Iterable[str]) -> bool:
        """Ask the guard; if it refuses, report each row that would have changed the record."""
        problem = self.guard(key) if self.guard else None
        if problem is not None:
            for line in sorted({item.lines[name] for name in fields}):
                self.ctx.report.add_error(line, *problem)
        return problem is not None

    def _stamp(self, record: models.Model, line: int) -> None:
        for name, value in self.stamp.items():
            setattr(record, name, value)
        if self.line_field:
            setattr(record, self.line_field, line)

    def _key_of(self, record: models.Model) -> tuple[Any, ...]:
        return tuple(getattr(record, name) for name in self.key_fields)

    def _fetch(self, keys: list[tuple[Any, ...]]) -> dict[tuple[Any, ...], models.Model]:
        """The stored records for `keys`, in one query for any sensibly ordered file.

        Keys are grouped by all but their last field, giving `(a=1 AND b=2 AND c IN (...)) OR
        ...`: exact, index-friendly, and a handful of groups when the file is sorted.
        """
        *prefix_fields, last_field = self.key_fields
        groups: dict[tuple[Any, ...], list[Any]] = defaultdict(list)
        for key in keys:
            groups[key[:-1]].append(key[-1])
        conditions = [
            Q(**dict(zip(prefix_fields, prefix, strict=True)), **{f"{last_field}__in": lasts})
            for prefix, lasts in groups.items()
        ]
        found: dict[tuple[Any, ...], models.Model] = {}
        for start in range(0, len(conditions), MAX_KEY_GROUPS_PER_QUERY):
            condition = Q()
            for part in conditions[start : start + MAX_KEY_GROUPS_PER_QUERY]:
                condition |= part
            for record in self.model._default_manager.filter(condition):
                found[self._key_of(record)] = record
        return found

    def _create(self, records: list[models.Model]) -> list[models.Model]:
        if not records:
            return []
        if self.has_history:
            return bulk_create_with_history(
                records,
                self.model,
                default_user=self.ctx.user,
                default_change_reason=self.ctx.change_reason,
            )
        return self.model._default_manager.bulk_create(records)

    def _update(self, records: list[models.Model], fields: list[str]) -> None:
        # bulk_update writes one CASE per field over the batch; 500 keeps each statement modest.
        if self.has_history:
            bulk_update_with_history(
                records,
                self.model,
                fields,
                batch_size=500,
                default_user=self.ctx.user,
                default_change_reason=self.ctx.change_reason,
            )
        else:
            self.model._default_manager.bulk_update(records, fields, batch_size=500)


def run_import(
    kind: str,
    path: str | Path,
    user: AbstractBaseUser | None,
    process: Callable[[ImportContext], None],
    run: ImportRun | None = None,
    *,
    read: RecordReader | None = None,
    read_as: str = "",
) -> ImportReport:
    """Import one file with `process`, all or nothing, and record the ImportRun (`run`, when the
    caller already has one, as an admin upload does).

    A CSV file is read as text in the encoding `inspect_file` finds. Any other format (an
    OpenDocument spreadsheet) passes `read`, which yields its records and raises
    `UnreadableFile` if it cannot, and `read_as`, the format's name for the report.

    The ImportRun is created first ("validating"), so a long import is visible while it runs
    and a crash leaves a trace. Success is recorded inside the file's transaction, so the run
    says "imported" exactly when the data is there. A rejection is recorded after the rollback.
    """
    path = Path(path)
    report = ImportReport(kind=kind, file_name=path.name)
    if read is None:
        report.checksum, encoding, problem = inspect_file(path)
    else:
        report.checksum, encoding, problem = file_checksum(path), read_as, ""
    report.encoding = encoding or ""
    if run is None:
        run = ImportRun.objects.create(
            kind=kind,
            file_name=path.name[:300],
            checksum=report.checksum,
            imported_by=user if user is not None and user.is_authenticated else None,
        )
    # else: an admin upload's own run, so the upload and the records' provenance are one row.
    report.import_run_id = run.pk
    looks_like = None
    # The CQC survey importer reads OpenDocument workbooks itself (metrics.imports.ods); every
    # other importer reads CSV, and a workbook or binary given to it is refused at once.
    if path.suffix.lower() != ".ods":
        with path.open("rb") as handle:
            looks_like = what_the_file_is(handle.read(SNIFF_BYTES))
    if looks_like is not None:
        report.add_error(1, FILE, looks_like, f"this is not a CSV file: {SAVE_AS_CSV}")
        _finish(run, report)
        raise ImportRejected(report)
    if encoding is None:
        report.add_error(
            1, FILE, problem, f"not UTF-8 or Windows-1252 (cp1252) text: {SAVE_AS_CSV}"
        )
        _finish(run, report)
        raise ImportRejected(report)
    ctx = ImportContext(path, encoding, report, run, run.imported_by, read)
    try:
        with transaction.atomic():
            process(ctx)
            if report.rows_read == 0 and not report.rejected:
                # A header and nothing under it (or blank lines): confirming it would import
                # nothing and say it had, so it is refused like any other file in error.
                report.add_error(
                    1, FILE, "", f"{report.location} has no data rows: there is nothing to import"
                )
            ctx.flush()
            if report.rejected:
                transaction.set_rollback(True)
            else:
                _finish(run, report)
                _announce(ctx)
                _refresh_statistics(report)
    except PermissionDenied as exc:
        # The models refuse bulk writes to data a release beyond draft was computed from. The
        # importers' guards report those row by row; this catches whatever they did not foresee.
        report.changes.clear()
        report.add_error(1, FILE, "", f"refused, nothing saved: {exc}")
    except Exception as exc:
        # The transaction is rolled back; leave the run saying so rather than "validating".
        report.changes.clear()
        report.add_error(1, FILE, "", f"import failed, nothing saved: {exc!r}")
        _finish(run, report)
        raise
    finally:
        ctx.close()
    if report.rejected:
        # Everything the transaction wrote is gone; counts of would-be changes would mislead.
        report.changes.clear()
        _finish(run, report)
        raise ImportRejected(report)
    return report


# Past this many rows written, refresh the planner's statistics straight away (below).
ANALYZE_AFTER_ROWS = 10_000


def _refresh_statistics(report: ImportReport) -> None:
    """Refresh PostgreSQL's statistics after a large import, once it has committed.

    Until autovacuum gets round to it, the planner believes the table is as small as it was
    and picks nested loops that turn a release's two-second load into a minute (measured with
    10,000 providers x 40 metrics: 63 s before ANALYZE).
    """
    if connection.vendor != "postgresql" or report.created + report.updated < ANALYZE_AFTER_ROWS:
        return

    def analyze() -> None:
        with connection.cursor() as cursor:
            for model in (Trust, Observation, TrustQuarterStatus):
                cursor.execute(f"ANALYZE {model._meta.db_table}")

    transaction.on_commit(analyze, robust=True)


def _announce(ctx: ImportContext) -> None:
    """Tell whoever follows the data (draft releases) which quarters changed, once committed.

    On commit, not now: a receiver queuing a recompute must not run before the rows exist.
    """
    if not ctx.changed_quarters:
        return
    quarter_ids = sorted(ctx.changed_quarters)
    run_id = ctx.run.pk
    transaction.on_commit(
        lambda: observations_changed.send(
            sender=ImportRun, quarter_ids=quarter_ids, import_run_id=run_id
        ),
        robust=True,
    )


def _finish(run: ImportRun, report: ImportReport) -> None:
    run.status = ImportRun.Status.REJECTED if report.rejected else ImportRun.Status.IMPORTED
    run.finished_at = timezone.now()
    run.rows_read = report.rows_read
    run.created = report.created
    run.updated = report.updated
    run.unchanged = report.unchanged
    run.skipped = report.skipped_count
    run.errors = [error.as_dict() for error in report.errors]
    run.report = str(report)
    run.save(
        update_fields=[
            "status",
            "finished_at",
            "rows_read",
            "created",
            "updated",
            "unchanged",
            "skipped",
            "errors",
            "report",
        ]
    )


# Management commands ------------------------------------------------------------------------


class ImportCommand(BaseCommand):
    """Base of the thin `import_*` commands: FILE [--user USERNAME], report printed.

    A rejected file prints every invalid row to stderr and exits non-zero, so a script or CI
    step that loads data stops there.
    """

    file_help = "the CSV file to import"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help=self.file_help)
        parser.add_argument(
            "--user", help="username recorded as the importer in the ImportRun and history"
        )

    def import_file(
        self, path: Path, user: AbstractBaseUser | None, options: dict[str, Any]
    ) -> ImportReport:
        raise NotImplementedError

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"{path}: no such file")
        user = None
        if options["user"]:
            user_model = get_user_model()
            try:
                user = user_model._default_manager.get_by_natural_key(options["user"])
            except user_model.DoesNotExist as exc:
                raise CommandError(f'there is no user "{options["user"]}"') from exc
        try:
            report = self.import_file(path, user, options)
        except ImportRejected as exc:
            self.stderr.write(str(exc.report))
            raise CommandError(
                f"{path.name} rejected: {exc.report.error_count} invalid rows, nothing saved"
            ) from exc
        self.stdout.write(str(report))


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
            self._fixed[quarter_id] = input_locks.fixed_trusts(quarter_id)
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


def with_columns(
    wanted: tuple[str, ...],
    import_rows: Callable[[ImportContext, dict[str, int]], None],
    optional: tuple[str, ...] = (),
) -> Callable[[ImportContext], None]:
    """An importer's `process`: read the header, then the rows if no wanted column is missing."""

    def process(ctx: ImportContext) -> None:
        columns = required_columns(ctx, wanted, optional)
        if columns is not None:
            import_rows(ctx, columns)

    return process


def required_columns(
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
