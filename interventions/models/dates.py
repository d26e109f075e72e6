"""The window a regulator's planning date (a review, a freedom's start, a due date) must fall in.

Nothing is planned before the quarter whose published table it follows, nor more than
`YEARS_AHEAD` years from today: 1900 and 9999 are typing slips, and a review date nobody will
live to see hides a plan from every "review due" list.
"""

import datetime

from django.utils import timezone

YEARS_AHEAD = 10


def latest_planning_date(today: datetime.date | None = None) -> datetime.date:
    today = today or timezone.localdate()
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def planning_date_error(value: datetime.date, *, not_before: datetime.date, what: str) -> str:
    """Why `value` is outside the window, in words a regulator can act on; "" if it is fine."""
    if value < not_before:
        return (
            f"{what} ({value:%-d %B %Y}) cannot be before {not_before:%-d %B %Y}, the start of "
            "the quarter whose table it follows."
        )
    latest = latest_planning_date()
    if value > latest:
        return (
            f"{what} ({value:%-d %B %Y}) is more than {YEARS_AHEAD} years ahead: set it no "
            f"later than {latest:%-d %B %Y}."
        )
    return ""
