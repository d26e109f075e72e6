"""How a figure is rounded wherever the public site shows or publishes it.

One rule for the page, the CSV, the JSON, the spreadsheet and the API: half up on the stored
decimal value to 2 decimal places, as NHS England's files and a spreadsheet round (METHODOLOGY
section 5). Python's own rounding (and `Decimal.quantize` by default) rounds half to even, which
put a peer median stored as 8.765 at 8.76 on the trust page and 8.77 in the data file.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from metrics.units import quantity
from releases.engine.segments import round_half_up

SHOWN_PLACES = 2
ROUNDING_NOTE = (
    "Peer medians and quartiles are rounded half up to 2 decimal places from the stored value, "
    "as on the trust pages and in NHS England's trust data file. Domain scores are given as "
    "stored, to 4 decimal places (trailing zeros dropped): segments are set by the unrounded "
    "score, and the pages show it rounded half up to 2 decimal places (the spreadsheet by its "
    "number format)."
)


def shown(value: Decimal | float | None) -> Decimal | None:
    """The value as published: rounded half up to 2 d.p.; None stays None."""
    if value is None:
        return None
    return round_half_up(value, SHOWN_PLACES)


def shown_quantity(value: Decimal | float | None, unit: str = "") -> str:
    """`metrics.units.quantity` of the value as published ("8.77%", "£2,384,555")."""
    return quantity(shown(value), unit)


def _decimal(value: Decimal | float | str) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(str(value))


def _telling_places(exact: Decimal, threshold: Decimal) -> int:
    """The fewest decimal places (4 at least) at which `exact` no longer reads as `threshold`."""
    for places in range(4, 12):
        if round_half_up(exact, places) != threshold:
            return places
    return 12


def threshold_note(
    exact: Decimal | float | None, thresholds: Sequence[Decimal | float | None] | None
) -> str:
    """Why a score shown rounded sits in a segment its rounded figure does not point to, or "".

    Segments are set by the unrounded score (segment 1 up to and including t1, 2 up to t2, 3
    up to t3, 4 above: METHODOLOGY section 4), while the page shows it to 2 d.p.: an average
    of 2.4012 reads as 2.40, equal to a threshold of 2.4, yet is in the segment above it.
    """
    if exact is None or not thresholds or any(t is None for t in thresholds):
        return ""
    unrounded = _decimal(exact)
    rounded = shown(unrounded)
    for index, raw in enumerate(thresholds):
        threshold = _decimal(raw)  # type: ignore[arg-type]
        above = unrounded > threshold
        if above == (rounded > threshold):
            continue
        places = _telling_places(unrounded, threshold)
        side = "above" if above else "at or below"
        segment = index + 2 if above else index + 1
        return (
            f"{rounded} is rounded: the unrounded score {round_half_up(unrounded, places)} is "
            f"{side} the threshold {format(threshold.normalize(), 'f')}, so the score places it "
            f"in segment {segment}."
        )
    return ""
