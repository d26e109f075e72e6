"""Reading one sheet of an OpenDocument spreadsheet (.ods) row by row, in little memory.

CQC publishes its survey benchmarks as .ods workbooks whose content.xml is tens of megabytes
and whose sheets claim a million rows (trailing empty rows are written as one row "repeated"
1,048,574 times). Loading that with a DOM library takes hundreds of megabytes; here the zip
member is decompressed as a stream and parsed with `iterparse`, each row is turned into a list
of strings and then dropped, so memory depends on the width of one row, not the file.

defusedxml parses it: an uploaded file is untrusted, and it refuses DTDs and entity
declarations (no "billion laughs", no external entities) that a spreadsheet never needs.

Cells are read as a person sees them, with the stored value where it is more exact: a number's
`office:value` ("6.7504774946831896", not the displayed "6.750477495"), a text cell's
paragraphs. Repeated cells and rows are expanded only when they hold something, and never
beyond `MAX_COLUMNS` / `MAX_REPEATED_ROWS`, so a hostile repeat count cannot exhaust memory.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any
from xml.etree.ElementTree import Element, ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import iterparse

from metrics.imports.errors import UnreadableFile

ODS_MIMETYPE = "application/vnd.oasis.opendocument.spreadsheet"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
OFFICE = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
TEXT = "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}"
ROW = TABLE + "table-row"
CELLS = (TABLE + "table-cell", TABLE + "covered-table-cell")
# Wider than any NHS or CQC workbook (the survey benchmark's widest sheet has 507 columns).
MAX_COLUMNS = 5000
# A non-empty row repeated more often than this is not data anyone published.
MAX_REPEATED_ROWS = 10_000
# Stored value attributes by value type; text and anything else use the cell's paragraphs.
VALUE_ATTRIBUTES = {
    "float": "value",
    "percentage": "value",
    "currency": "value",
    "date": "date-value",
    "time": "time-value",
    "boolean": "boolean-value",
}


class SpreadsheetError(UnreadableFile):
    """The file is not a readable OpenDocument spreadsheet, or lacks the sheet asked for."""


@contextmanager
def open_content(path: Path) -> Iterator[IO[bytes]]:
    """The workbook's content.xml as a stream, after checking the file is an .ods at all."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise SpreadsheetError(
            "not an OpenDocument spreadsheet (.ods): the file is not a zip archive"
        ) from exc
    with archive:
        try:
            mimetype = archive.read("mimetype").decode("ascii", "replace").strip()
        except (KeyError, zipfile.BadZipFile, OSError):
            mimetype = ""
        if mimetype != ODS_MIMETYPE:
            raise SpreadsheetError(
                f'not an OpenDocument spreadsheet (.ods): its type is "{mimetype or "missing"}"'
            )
        try:
            stream = archive.open("content.xml")
        except (KeyError, zipfile.BadZipFile) as exc:
            raise SpreadsheetError(
                "not an OpenDocument spreadsheet: it has no readable content.xml"
            ) from exc
        with stream:
            yield stream


def cell_text(cell: Element) -> str:
    value_type = cell.get(OFFICE + "value-type")
    attribute = VALUE_ATTRIBUTES.get(value_type or "")
    if attribute is not None and cell.get(OFFICE + attribute) is not None:
        return cell.get(OFFICE + attribute, "")
    paragraphs = []
    for paragraph in cell.iter(TEXT + "p"):
        parts = [paragraph.text or ""]
        for child in paragraph.iter():
            if child is paragraph:
                continue
            if child.tag == TEXT + "s":
                parts.append(" " * int(child.get(TEXT + "c", "1")))
            elif child.tag == TEXT + "tab":
                parts.append("\t")
            else:
                parts.append(child.text or "")
            parts.append(child.tail or "")
        paragraphs.append("".join(parts))
    return "\n".join(paragraphs)


def row_cells(row: Element) -> list[str]:
    """A row's cells as strings, repeated cells expanded, trailing empty cells dropped."""
    cells: list[str] = []
    pending_empty = 0
    for cell in row:
        if cell.tag not in CELLS:
            continue
        repeat = _count(cell.get(TABLE + "number-columns-repeated"))
        text = cell_text(cell)
        if not text:
            pending_empty += repeat
            continue
        if len(cells) + pending_empty + repeat > MAX_COLUMNS:
            raise SpreadsheetError(f"a row is wider than {MAX_COLUMNS} columns")
        cells.extend([""] * pending_empty)
        pending_empty = 0
        cells.extend([text] * repeat)
    return cells


def _count(text: str | None) -> int:
    try:
        return max(int(text), 1) if text else 1
    except ValueError:
        return 1


def _events(stream: IO[bytes]) -> Iterator[tuple[str, Any]]:
    try:
        yield from iterparse(stream, events=("start", "end"), forbid_dtd=True)
    except (ParseError, DefusedXmlException) as exc:
        raise SpreadsheetError(f"the spreadsheet's content is not well-formed: {exc}") from exc
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise SpreadsheetError(f"the spreadsheet is damaged: {exc}") from exc


def sheet_rows(path: Path, sheet: str) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for each non-empty row of `sheet`; row 1 is the sheet's first row.

    Raises SpreadsheetError if the file is not an .ods or has no such sheet (naming the sheets
    it has). Stops reading the file as soon as the sheet ends.
    """
    names: list[str] = []
    with open_content(path) as stream:
        stack: list[Element] = []
        in_sheet = False
        number = 0
        for event, element in _events(stream):
            if event == "start":
                stack.append(element)
                if element.tag == TABLE + "table":
                    names.append(element.get(TABLE + "name", ""))
                    in_sheet = names[-1] == sheet
                continue
            stack.pop()
            if element.tag == ROW:
                repeat = _count(element.get(TABLE + "number-rows-repeated"))
                if in_sheet:
                    cells = row_cells(element)
                    if cells:
                        if repeat > MAX_REPEATED_ROWS:
                            raise SpreadsheetError(
                                f"row {number + 1} of sheet {sheet} is repeated {repeat} times"
                            )
                        for offset in range(repeat):
                            yield number + offset + 1, cells
                    number += repeat
                # Drop the finished row from the tree: memory stays one row deep.
                element.clear()
                if stack:
                    stack[-1].remove(element)
            elif element.tag == TABLE + "table":
                element.clear()
                if in_sheet:
                    return
                if stack:
                    stack[-1].remove(element)
    listed = ", ".join(names) or "none"
    raise SpreadsheetError(f'the workbook has no sheet named "{sheet}" (its sheets: {listed})')


def first_cell(path: Path, sheet: str) -> str:
    """The first non-empty cell of `sheet` (a workbook's title), or ""."""
    for _, cells in sheet_rows(path, sheet):
        for cell in cells:
            if cell.strip():
                return cell.strip()
    return ""
