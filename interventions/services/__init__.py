"""State transitions and domain operations of interventions: the only code that writes them.

One function per transition. Each checks the current state inside `transaction.atomic()` with
the row locked (`select_for_update`), saves only the fields it changes and records who and why in
the history (django-simple-history's user and change reason) in the same transaction. Admin
actions, the trust area, the API, the Celery tasks and the tests all call these functions.
"""


class InterventionError(Exception):
    """A transition that cannot happen as asked; the message says why, for the person asking."""
