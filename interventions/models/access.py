"""Who may see which trust's interventions: the one rule every queryset and view goes through."""

from typing import Any

from django.db import models
from django.db.models import Q

# Regulators see every trust's freedoms and plans; the view permission is what makes a regulator
# here (both regulator groups hold it, board members never do).
REGULATOR_PERMISSION = "interventions.view_supportplan"


def is_regulator(user: Any) -> bool:
    """Holds the regulators' view permission and sits on no trust board.

    A board seat wins: a board member granted the permission by mistake (or a regulator who
    also sits on a board) still sees only their own trust, never every trust.
    """
    if not (user.is_authenticated and user.is_active and user.has_perm(REGULATOR_PERMISSION)):
        return False
    return not user.board_memberships.exists()


def board_trust_filter(user: Any, trust_path: str = "trust") -> Q | None:
    """A filter to the trusts `user` sits on the board of; None when they see no trust at all."""
    if not (user.is_authenticated and user.is_active):
        return None
    return Q(**{f"{trust_path}__board_memberships__user": user})


class BoardScopedQuerySet(models.QuerySet):
    """`visible_to`: regulators see every row; a board member sees their own trust's rows in
    the model's BOARD_VISIBLE_STATUSES (proposals stay with the regulator until decided)."""

    def visible_to(self, user: Any) -> "BoardScopedQuerySet":
        if is_regulator(user):
            return self.all()
        trust_filter = board_trust_filter(user)
        if trust_filter is None:
            return self.none()
        return self.filter(trust_filter).filter(status__in=self.model.BOARD_VISIBLE_STATUSES)
