"""A small world of trusts, observations and releases for tests that need no real file.

Uses the default mental health and community framework installed by the data migration, so
tests exercise the real framework definitions; scores are supplied (as in NHS England's data
file) so any number of trusts can be made quickly.
"""

from decimal import Decimal

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from leaguetable.roles import BOARD_MEMBER
from metrics.models import Metric, MetricDefinition, Observation, Quarter, TrustQuarterStatus
from releases.models import Release
from releases.services import computation
from releases.services.drafts import draft_release
from trusts.models import BoardMembership, PeerGroup, Region, Trust

PEER_GROUP = "mental-health-community"


def make_trusts(count: int, peer_group: str = PEER_GROUP, prefix: str = "T") -> list[Trust]:
    group = PeerGroup.objects.get(slug=peer_group)
    regions = list(Region.objects.order_by("slug"))
    return Trust.objects.bulk_create(
        Trust(
            ods_code=f"{prefix}{i:03d}",
            name=f"Test Trust {prefix}{i:03d} NHS Foundation Trust",
            trust_type="COMMUNITY",
            subtype="Community" if i % 2 else "Mental Health and Learning Disability",
            region=regions[i % len(regions)],
            peer_group=group,
        )
        for i in range(count)
    )


def quarter(number: int = 4, year_start: int = 2025) -> Quarter:
    return Quarter.objects.get(year_start=year_start, number=number)


def make_observations(
    trusts: list[Trust],
    quarter_: Quarter,
    seed: int = 7,
    deficit: set[str] = frozenset(),
    recovery: set[str] = frozenset(),
) -> None:
    """Supplied scores and values for every counted metric of the MH&C framework."""
    rng = np.random.default_rng(seed)
    definitions = MetricDefinition.objects.filter(
        framework__peer_group__slug=PEER_GROUP, counted=True
    ).select_related("metric")
    rows = []
    for trust in trusts:
        quality = rng.normal(2.4, 0.4)
        for definition in definitions:
            score = float(np.clip(quality + rng.normal(0, 0.6), 1, 4))
            rows.append(
                Observation(
                    trust=trust,
                    metric=definition.metric,
                    quarter=quarter_,
                    value=Decimal(f"{rng.uniform(0, 100):.2f}"),
                    supplied_score=Decimal(f"{score:.2f}"),
                    reporting_period=quarter_.label,
                )
            )
    Observation.objects.bulk_create(rows)
    TrustQuarterStatus.objects.bulk_create(
        TrustQuarterStatus(
            trust=trust,
            quarter=quarter_,
            in_financial_deficit=trust.ods_code in deficit,
            in_recovery_support=trust.ods_code in recovery,
        )
        for trust in trusts
    )


def computed_release(
    trust_count: int = 10, quarter_number: int = 4, replicates: int = 200, **kwargs: object
) -> Release:
    """A computed draft release of `trust_count` synthetic trusts."""
    q = quarter(quarter_number)
    trusts = list(Trust.objects.filter(peer_group__slug=PEER_GROUP))
    if not trusts:
        trusts = make_trusts(trust_count)
    if not Observation.objects.filter(quarter=q, trust__in=trusts).exists():
        make_observations(trusts, q, **kwargs)
    release = draft_release(q, PEER_GROUP)
    release.replicates = replicates
    release.save()
    computation.compute(release.pk)
    release.refresh_from_db()
    return release


def user_with_role(username: str, role: str, trust: Trust | None = None, **extra: object):
    extra.setdefault("is_staff", role != BOARD_MEMBER)  # board members never use the admin
    user = get_user_model().objects.create_user(
        username=username,
        password="correct horse battery staple",
        email=f"{username}@example.org",
        **extra,
    )
    user.groups.add(Group.objects.get(name=role))
    if trust is not None:
        BoardMembership.objects.create(user=user, trust=trust)
    return user


def metric(code: str) -> Metric:
    return Metric.objects.get(code=code)
