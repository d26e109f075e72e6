"""The admin's sign-in: regulators only.

Board members use their trust area; the admin refuses them at sign-in, saying where to go,
even if an account was mistakenly given staff status.
"""

from typing import Any

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse

from leaguetable.roles import BOARD_MEMBER
from trusts.models import BoardMembership


def is_board_member(user: Any) -> bool:
    return (
        BoardMembership.objects.filter(user=user).exists()
        or user.groups.filter(name=BOARD_MEMBER).exists()
    )


class RegulatorSignInForm(AdminAuthenticationForm):
    def confirm_login_allowed(self, user: Any) -> None:
        if is_board_member(user):
            raise ValidationError(
                "This is a trust board member's account. The admin is for regulators: sign in "
                f"to your trust area at {reverse('trust_area:login')} instead.",
                code="board_member",
            )
        super().confirm_login_allowed(user)
