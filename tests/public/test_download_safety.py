"""Downloads a spreadsheet opens safely: text that starts like a formula is shown, never run;
numbers stay numbers; the XLSX has a frozen, bold header, fitted widths and number formats."""

import csv
import io

import pytest
from openpyxl import load_workbook

from releases.models import TrustResult
from tests.public.conftest import publish
from trusts.models import Trust

pytestmark = pytest.mark.django_db

# Names that arrive through an import (a trust register, NHS England's file): each would be a
# live formula, or shift cells, if written as it is.
HOSTILE = [
    '=HYPERLINK("http://evil.example/","Kent")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1,2)",
    "\tTabbed Trust",
    "\rReturned Trust",
]


@pytest.fixture
def hostile(draft):
    """A table whose trusts arrived with hostile names (a table keeps the names it had)."""
    codes = list(draft.trust_results.order_by("rank").values_list("trust__ods_code", flat=True))[
        : len(HOSTILE)
    ]
    for code, name in zip(codes, HOSTILE, strict=True):
        Trust.objects.filter(ods_code=code).update(name=name, subtype=name)
        TrustResult.objects.filter(release=draft, trust__ods_code=code).update(
            trust_name=name, trust_subtype=name
        )
    return publish(draft)


def csv_cells(content: bytes) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(content.decode("utf-8-sig"))) for cell in row]


@pytest.mark.parametrize("filename", ["league-table.csv", "data.csv"])
def test_csv_downloads_neutralise_text_that_starts_like_a_formula(client, hostile, filename):
    content = client.get(f"{hostile.get_absolute_url()}{filename}").content
    cells = csv_cells(content)
    for name in HOSTILE:
        assert "'" + name in cells, (filename, name)
        assert name not in cells, (filename, name)
    dangerous = [c for c in cells if c[:1] in ("=", "+", "@", "\t", "\r")]
    assert dangerous == []
    # A leading "-" is left on numbers only.
    for cell in cells:
        if cell.startswith("-"):
            float(cell)


def test_the_xlsx_never_holds_a_formula_and_keeps_numbers_numeric(client, hostile):
    content = client.get(f"{hostile.get_absolute_url()}league-table.xlsx").content
    workbook = load_workbook(io.BytesIO(content))
    names_found = set()
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (sheet.title, cell.coordinate, cell.value)
                # XML reads a carriage return back as a line feed.
                value = cell.value.replace("\n", "\r") if isinstance(cell.value, str) else None
                if value in HOSTILE:
                    names_found.add(value)
                    assert cell.quotePrefix, (sheet.title, cell.coordinate)
    assert names_found == set(HOSTILE)

    table = workbook["League table"]
    header = [c.value for c in table[1]]
    first = [c for c in table[2]]
    average = first[header.index("Average_score")]
    assert isinstance(average.value, float | int)
    assert average.number_format == "0.00"
    rank = first[header.index("Rank")]
    assert isinstance(rank.value, int) and rank.number_format == "0"


def test_the_xlsx_has_a_frozen_bold_header_and_fitted_widths(client, published):
    content = client.get(f"{published.get_absolute_url()}league-table.xlsx").content
    workbook = load_workbook(io.BytesIO(content))
    for title in ("League table", "Metric data", "Metadata"):
        sheet = workbook[title]
        assert sheet.freeze_panes == "A2", title
        assert all(cell.font.b for cell in sheet[1] if cell.value), title
    table = workbook["League table"]
    header = [c.value for c in table[1]]
    widths = {
        name: table.column_dimensions[chr(ord("A") + i)].width for i, name in enumerate(header)
    }
    longest_name = max(len(str(c.value)) for c in table["C"])  # Trust_name
    assert widths["Trust_name"] >= longest_name
    assert widths["Rank"] < widths["Trust_name"]
    assert all(width <= 62 for width in widths.values())
