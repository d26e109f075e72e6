"""How a figure is rounded wherever the public site shows or publishes it.

One rule for the page, the CSV, the JSON, the spreadsheet and the API: half up on the stored
decimal value to 2 decimal places, as NHS England's files and a spreadsheet round (METHODOLOGY
section 5). Python's own rounding (and `Decimal.quantize` by default) rounds half to even, which
put a peer median stored as 8.765 at 8.76 on the trust page and 8.77 in the data file.
"""

from __future__ import annotations

from decimal import Decimal

from metrics.units import quantity
from releases.engine.segments import round_half_up

SHOWN_PLACES = 2
ROUNDING_NOTE = (
    "Peer medians and quartiles are rounded half up to 2 decimal places from the stored value, "
    "as on the trust pages and in NHS England's trust data file."
)


def shown(value: Decimal | float | None) -> Decimal | None:
    """The value as published: rounded half up to 2 d.p.; None stays None."""
    if value is None:
        return None
    return round_half_up(value, SHOWN_PLACES)


def shown_quantity(value: Decimal | float | None, unit: str = "") -> str:
    """`metrics.units.quantity` of the value as published ("8.77%", "£2,384,555")."""
    return quantity(shown(value), unit)
