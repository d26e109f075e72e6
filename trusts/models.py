from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from simple_history.models import HistoricalRecords


class Region(models.Model):
    """One of NHS England's seven commissioning regions."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100, unique=True)
    published_name = models.CharField(
        max_length=100, help_text='As NHS England\'s league tables write it, e.g. "East".'
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class PeerGroup(models.Model):
    """A league table: trusts are only ever ranked against their own peer group."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    trust_type_label = models.CharField(
        max_length=100, help_text='As the league table CSV writes it, e.g. "Ambulance trust".'
    )
    display_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["display_order", "name"]

    def __str__(self) -> str:
        return self.name


class TrustQuerySet(models.QuerySet["Trust"]):
    def open(self) -> "TrustQuerySet":
        return self.filter(is_open=True)

    def for_board_member(self, user: Any) -> "TrustQuerySet":
        if not user.is_authenticated:
            return self.none()
        return self.filter(board_memberships__user=user)


class Trust(models.Model):
    """An NHS trust, identified by its ODS code."""

    ods_code = models.CharField("ODS code", max_length=10, unique=True)
    name = models.CharField(max_length=200, help_text="Official name as published.")
    trust_type = models.CharField(
        max_length=100, help_text="Type as the source file gives it, e.g. ACUTE - TEACHING."
    )
    subtype = models.CharField(
        max_length=100, help_text="Shown and filterable; does not split the league table."
    )
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="trusts")
    peer_group = models.ForeignKey(PeerGroup, on_delete=models.PROTECT, related_name="trusts")
    is_open = models.BooleanField(default=True)
    closed_on = models.DateField(null=True, blank=True)
    successor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="predecessors",
        help_text="The trust this one merged into, if it closed in a merger.",
    )
    history = HistoricalRecords()

    objects = TrustQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["peer_group", "region"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.ods_code})"

    def get_absolute_url(self) -> str:
        return reverse("public:trust", kwargs={"ods_code": self.ods_code})


class ContextMeasure(models.Model):
    """A fact about a trust that is context, not performance (sites, floor area, backlog)."""

    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="context_measures")
    year = models.CharField(max_length=7, help_text="Financial year, e.g. 2024/25.")
    key = models.SlugField(max_length=80)
    label = models.CharField(max_length=200)
    unit = models.CharField(max_length=30, blank=True)
    value = models.DecimalField(max_digits=20, decimal_places=4, null=True, blank=True)
    source = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["trust", "year", "key"]
        constraints = [
            models.UniqueConstraint(fields=["trust", "year", "key"], name="unique_context_measure")
        ]

    def __str__(self) -> str:
        return f"{self.trust.ods_code} {self.year} {self.label}: {self.value}"


class BoardMembership(models.Model):
    """Gives a user sight of one trust's own results, including embargoed previews."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="board_memberships"
    )
    trust = models.ForeignKey(Trust, on_delete=models.CASCADE, related_name="board_memberships")
    role_title = models.CharField(max_length=100, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["trust", "user"]
        constraints = [
            models.UniqueConstraint(fields=["user", "trust"], name="unique_board_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user} on the board of {self.trust.ods_code}"
