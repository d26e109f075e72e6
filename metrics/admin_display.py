"""How admin lists show the columns a regulator decides on: short, coloured, never cut off."""

import datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.safestring import SafeString

TAG_COLOURS = {
    # Status and RAG values to the colour their tag takes in every list.
    "red": "red",
    "amber": "amber",
    "green": "green",
    "proposed": "blue",
    "submitted": "blue",
    "approved": "blue",
    "scheduled": "blue",
    "active": "green",
    "granted": "green",
    "published": "green",
    "under_review": "amber",
    "failed": "red",
}


def tag(value: str, label: str) -> SafeString:
    colour = TAG_COLOURS.get(value, "grey")
    return format_html('<span class="lt-tag lt-tag--{}">{}</span>', colour, label)


def review_date(date: datetime.date | None, in_force: bool) -> SafeString | str:
    """A review date, flagged once it has passed while the thing reviewed is still in force."""
    if date is None:
        return "–"
    shown = date_format(date, "j M Y")
    if in_force and date < timezone.localdate():
        return format_html("{} {}", shown, tag("red", "Review passed"))
    return shown
