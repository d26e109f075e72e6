"""Seeded synthetic values for the demonstration acute and ambulance frameworks.

NHS England's acute and ambulance metric values are not in our data, so the demo generates
plausible ones. Every value is stored with `is_synthetic=True` and shown as synthetic. The same
seed always gives the same values, so demo releases are reproducible.
"""

from dataclasses import dataclass
from decimal import Decimal

import numpy as np
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from metrics.models import ImportRun, Metric, Observation, Quarter, TrustQuarterStatus
from trusts.models import Trust


@dataclass(frozen=True)
class Distribution:
    """Peer-group spread of a metric; `better` says which way the trust's quality pushes it."""

    mean: float
    spread: float
    low: float
    high: float
    better: int  # +1 higher is better, -1 lower is better
    places: int = 1


DISTRIBUTIONS: dict[str, Distribution] = {
    "AE4H": Distribution(75, 7, 45, 99, +1),
    "AE12H": Distribution(8, 4, 0, 35, -1),
    "RTT18": Distribution(59, 6, 35, 90, +1),
    "RTT52": Distribution(1.5, 1.0, 0, 8, -1, 2),
    "CAN28": Distribution(77, 5, 55, 97, +1),
    "CAN62": Distribution(70, 8, 40, 95, +1),
    "CDIFF": Distribution(25, 8, 2, 60, -1),
    "ECOLI": Distribution(20, 6, 2, 45, -1),
    "FFTIP": Distribution(94, 2.5, 80, 100, +1),
    "FFTAE": Distribution(80, 5, 60, 98, +1),
    "OF0061": Distribution(6.3, 0.3, 5.2, 7.4, +1, 2),
    "OF0082": Distribution(5.0, 0.6, 3.0, 7.5, -1, 2),
    "OF0084": Distribution(6.8, 0.3, 5.8, 7.8, +1, 2),
    "OF0079": Distribution(-0.3, 1.2, -6, 4, +1),
    "OF0081": Distribution(-0.2, 0.6, -3, 2, +1),
    "AMBC1": Distribution(8.2, 0.8, 6.5, 11, -1, 2),
    "AMBC1P90": Distribution(14.5, 1.5, 11, 20, -1, 2),
    "AMBC2": Distribution(32, 8, 18, 60, -1, 2),
    "AMBHO": Distribution(10, 5, 0, 30, -1),
    "AMBFFT": Distribution(88, 4, 75, 99, +1),
}

PEER_GROUP_METRICS: dict[str, list[str]] = {
    "acute": [
        "AE4H",
        "AE12H",
        "RTT18",
        "RTT52",
        "CAN28",
        "CAN62",
        "CDIFF",
        "ECOLI",
        "FFTIP",
        "FFTAE",
        "OF0061",
        "OF0082",
        "OF0084",
        "OF0079",
        "OF0081",
    ],
    "ambulance": [
        "AMBC1",
        "AMBC1P90",
        "AMBC2",
        "AMBHO",
        "AMBFFT",
        "OF0061",
        "OF0082",
        "OF0084",
        "OF0079",
        "OF0081",
    ],
}

SOURCE_NAME = "synthetic demo values (seed {seed})"


@dataclass
class SyntheticReport:
    created: int
    skipped_existing: int

    def __str__(self) -> str:
        return (
            f"Synthetic demo values: {self.created} observations created, "
            f"{self.skipped_existing} already present."
        )


def generate_values(
    trust_count: int, codes: list[str], quarters: int, rng: np.random.Generator
) -> np.ndarray:
    """Values shaped trusts × quarters × metrics.

    A trust's latent quality moves all its metrics together, as real performance does, and
    drifts a little from quarter to quarter so segments and ranks move.
    """
    quality = rng.normal(0, 1, trust_count)
    values = np.empty((trust_count, quarters, len(codes)))
    for q in range(quarters):
        quality = quality + rng.normal(0, 0.25, trust_count)
        for m, code in enumerate(codes):
            d = DISTRIBUTIONS[code]
            own = rng.normal(0, 1, trust_count)
            z = 0.6 * quality + 0.8 * own
            values[:, q, m] = np.clip(d.mean + d.better * d.spread * z, d.low, d.high)
    return values


@transaction.atomic
def load_synthetic_values(seed: int = 2025, year_start: int = 2025) -> SyntheticReport:
    """Create the synthetic observations and flags; existing ones are left as they are."""
    rng = np.random.default_rng(seed)
    quarters = list(Quarter.objects.filter(year_start=year_start).order_by("number"))
    metrics = {m.code: m for m in Metric.objects.filter(code__in=DISTRIBUTIONS)}
    run = ImportRun.objects.create(
        kind=ImportRun.Kind.SYNTHETIC,
        file_name=SOURCE_NAME.format(seed=seed),
        checksum=f"synthetic-{seed}-{year_start}",
        status=ImportRun.Status.IMPORTED,
    )
    existing = set(
        Observation.objects.filter(quarter__in=quarters, metric__in=metrics.values()).values_list(
            "trust_id", "metric_id", "quarter_id"
        )
    )
    existing_flags = set(
        TrustQuarterStatus.objects.filter(quarter__in=quarters).values_list(
            "trust_id", "quarter_id"
        )
    )
    observations: list[Observation] = []
    statuses: list[TrustQuarterStatus] = []
    skipped = 0
    for peer_group, codes in PEER_GROUP_METRICS.items():
        trusts = list(Trust.objects.filter(peer_group__slug=peer_group).order_by("ods_code"))
        values = generate_values(len(trusts), codes, len(quarters), rng)
        # Two trusts of the larger peer group in the Recovery Support Programme in Q1 and Q2.
        recovery = set(
            rng.choice(len(trusts), size=2 if len(trusts) > 20 else 0, replace=False).tolist()
        )
        for t, trust in enumerate(trusts):
            for q, quarter in enumerate(quarters):
                for m, code in enumerate(codes):
                    metric = metrics[code]
                    if (trust.pk, metric.pk, quarter.pk) in existing:
                        skipped += 1
                        continue
                    places = DISTRIBUTIONS[code].places
                    observations.append(
                        Observation(
                            trust=trust,
                            metric=metric,
                            quarter=quarter,
                            value=Decimal(f"{values[t, q, m]:.{places}f}"),
                            reporting_period=quarter.label,
                            is_synthetic=True,
                            import_run=run,
                        )
                    )
                if (trust.pk, quarter.pk) not in existing_flags:
                    planned = values[t, q, codes.index("OF0079")]
                    statuses.append(
                        TrustQuarterStatus(
                            trust=trust,
                            quarter=quarter,
                            in_financial_deficit=bool(planned < -1.5),
                            in_recovery_support=t in recovery and quarter.number <= 2,
                            reason="Synthetic demo flag.",
                            import_run=run,
                        )
                    )
    bulk_create_with_history(
        observations, Observation, batch_size=2000, default_change_reason=run.file_name
    )
    bulk_create_with_history(
        statuses, TrustQuarterStatus, batch_size=2000, default_change_reason=run.file_name
    )
    run.created = len(observations)
    run.unchanged = skipped
    run.save(update_fields=["created", "unchanged"])
    return SyntheticReport(created=len(observations), skipped_existing=skipped)
