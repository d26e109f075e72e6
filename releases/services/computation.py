"""The thin layer between the ORM and the pure scoring engine.

Loads a release's inputs in a handful of queries, fingerprints them, runs the engine and writes
every result back in bulk inside one transaction, so a reader sees the old results or the new
ones, never a mix; a failure leaves the previous results as they were.
"""

import csv
import hashlib
import io
import itertools
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from operator import attrgetter
from typing import Any

import numpy as np
from django.db import (
    DatabaseError,
    InterfaceError,
    OperationalError,
    connection,
    connections,
    transaction,
)
from django.db.models import FloatField, Q
from django.db.models.functions import Cast
from django.utils import timezone

from metrics.models import (
    Domain,
    DomainThresholds,
    MetricDefinition,
    Observation,
    Thresholds,
    TrustQuarterStatus,
)
from metrics.scoring_params import params_problems
from releases.engine import (
    Direction,
    FrameworkIncomplete,
    MetricRule,
    QuarterInput,
    QuarterResult,
    ScoringMethod,
    compute_quarter,
    round_half_up,
)
from releases.models import (
    DOMAIN_FIXED,
    DOMAIN_QUARTILES,
    MetricPeerStatistics,
    MetricResult,
    Release,
    TrustResult,
)
from trusts.models import Trust

logger = logging.getLogger(__name__)

# A running computation writes a heartbeat with every progress report (the engine reports every
# few percent, seconds apart even at national scale). One silent this long is taken to have died
# with its worker or its database connection: the beat marks it failed (every 30 seconds) and a
# recompute may take it over, so a crash shows as failed within about 90 seconds.
STALE_COMPUTATION = timedelta(seconds=60)


class ReleaseNotComputable(Exception):
    """The release cannot be computed as it stands; the message says why."""


@dataclass
class LoadedInputs:
    quarter_input: QuarterInput
    trusts: list[Trust]
    definitions: list[MetricDefinition]
    checksum: str


def _decimal(value: float) -> Decimal | None:
    if value is None or np.isnan(value):
        return None
    return Decimal(repr(float(value)))


def _rule(definition: MetricDefinition) -> MetricRule:
    return MetricRule(
        code=definition.metric.code,
        domain=definition.domain.slug,
        direction=Direction(definition.metric.direction),
        method=ScoringMethod(definition.method),
        counted=definition.counted,
        params=definition.params,
    )


def _as_float(name: str) -> Any:
    """A decimal column read as a float: cast by PostgreSQL, which rounds the exact decimal to
    the nearest float as float(Decimal) does, so both databases give the engine the same input.
    SQLite's decimals come back as Decimal (None stays None either way); NumPy converts them."""
    if connection.vendor == "postgresql":
        return Cast(name, FloatField())
    return name


def _rows(query: Any) -> list[tuple]:
    """A values_list query's rows. On PostgreSQL straight from the cursor: its columns need no
    conversion, and Django's per-value converters cost a third of a second at national scale."""
    if connection.vendor != "postgresql":
        return list(query)
    with connection.cursor() as cursor:
        cursor.execute(*query.query.sql_with_params())
        return cursor.fetchall()


def _positions(keys: list[int], wanted: Iterable[int]) -> np.ndarray:
    """The index in `keys` (distinct) of every id in `wanted`, all of which are among them."""
    keys_array = np.array(keys, dtype=np.int64)
    order = np.argsort(keys_array, kind="stable")
    found = np.searchsorted(keys_array[order], np.array(wanted, dtype=np.int64))
    return order[found]


def _columns(rows: list[tuple]) -> list[list]:
    """Query rows as five columns (five empty ones for no rows)."""
    return [[row[k] for row in rows] for k in range(5)]


def load_inputs(release: Release) -> LoadedInputs:
    """Everything the engine needs for one release, from stored observations."""
    definitions = list(
        MetricDefinition.objects.filter(framework=release.framework)
        .select_related("metric", "domain")
        .order_by("display_order", "metric__code")
    )
    if not definitions:
        raise ReleaseNotComputable(f"The framework {release.framework} has no metrics.")
    # Saving a definition validates it; this catches a row written behind the models' back
    # with the same message, rather than a KeyError from the engine.
    known = {d.metric.code for d in definitions}
    for definition in definitions:
        problems = params_problems(definition.method, definition.params, known)
        if problems:
            raise ReleaseNotComputable(
                f"{definition.metric.code} in {release.framework}: {' '.join(problems)}"
            )
    metric_ids = [d.metric_id for d in definitions]
    column = {metric_id: j for j, metric_id in enumerate(metric_ids)}

    observations = Observation.objects.filter(
        quarter=release.quarter,
        metric_id__in=metric_ids,
        trust__peer_group=release.peer_group,
    ).order_by()  # The model's ordering joins three tables to sort what the matrices place.
    # One row per observation, read as plain tuples: at national scale (400,000 observations)
    # a Decimal per cell and a Python loop filling the matrices were most of the loading time.
    trust_of, metric_of, value_of, text_of, supplied_of = _columns(
        _rows(
            observations.values_list(
                "trust_id",
                "metric_id",
                _as_float("value"),
                "value_text",
                _as_float("supplied_score"),
            )
        )
    )
    if not trust_of:
        raise ReleaseNotComputable(
            f"No observations for {release.peer_group} in {release.quarter}: import its data first."
        )
    # The trusts with observations, selected by the database: ten thousand ids as parameters
    # took longer to compile than the query took to run.
    trusts = list(Trust.objects.filter(pk__in=observations.values("trust_id")).order_by("ods_code"))
    trust_ids = [trust.pk for trust in trusts]
    n, m = len(trusts), len(definitions)
    rows = _positions(trust_ids, trust_of)
    cols = _positions(metric_ids, metric_of)
    values = np.full((n, m), np.nan)
    supplied = np.full((n, m), np.nan)
    # None becomes NaN: no value, as for a cell with no observation.
    values[rows, cols] = np.array(value_of, dtype=float)
    supplied[rows, cols] = np.array(supplied_of, dtype=float)
    categorical = {
        column[d.metric_id]: d.metric.code
        for d in definitions
        if d.method == MetricDefinition.Method.CATEGORICAL
    }
    categories: dict[str, list[str | None]] = {code: [None] * n for code in categorical.values()}
    if categorical:
        for i, j, text in zip(rows.tolist(), cols.tolist(), text_of, strict=True):
            if text and j in categorical:
                categories[categorical[j]][i] = text

    pool_values: dict[str, np.ndarray] = {}
    national = [
        d
        for d in definitions
        if d.pool == MetricDefinition.Pool.NATIONAL and d.method == MetricDefinition.Method.RANKED
    ]
    for definition in national:
        pool = Observation.objects.filter(
            quarter=release.quarter, metric=definition.metric, value__isnull=False
        ).values_list(_as_float("value"), flat=True)
        pool_values[definition.metric.code] = np.array(list(pool), dtype=float)

    in_deficit = np.zeros(n, dtype=bool)
    in_recovery = np.zeros(n, dtype=bool)
    row_of = {trust.pk: i for i, trust in enumerate(trusts)}
    for trust_id, deficit, recovery in TrustQuarterStatus.objects.filter(
        quarter=release.quarter, trust_id__in=observations.values("trust_id")
    ).values_list("trust_id", "in_financial_deficit", "in_recovery_support"):
        in_deficit[row_of[trust_id]] = deficit
        in_recovery[row_of[trust_id]] = recovery

    thresholds = release.thresholds if release.threshold_method == "fixed" else None
    if release.threshold_method == "fixed" and thresholds is None:
        raise ReleaseNotComputable("Fixed thresholds were chosen but t1, t2 and t3 are not set.")
    quarter_input = QuarterInput(
        trust_codes=[t.ods_code for t in trusts],
        rules=[_rule(d) for d in definitions],
        values=values,
        supplied_scores=supplied,
        category_values=categories,
        pool_values=pool_values,
        in_deficit=in_deficit,
        in_recovery_support=in_recovery,
        thresholds=thresholds,
        quartile_pool_averages=None,
        domain_thresholds=_domain_thresholds(release),
        replicates=release.replicates,
        seed=release.seed,
        use_supplied_scores=release.use_supplied_scores,
        rank_on_adjusted_segment=release.framework.rank_recovery_support_by_adjusted_segment,
    )
    checksum = _checksum(release, definitions, quarter_input)
    return LoadedInputs(quarter_input, trusts, definitions, checksum)


def _domain_thresholds(release: Release) -> dict[str, tuple[float, float, float]]:
    """The release's fixed domain thresholds, checked: three increasing numbers per domain of
    its framework."""
    domains = set(Domain.objects.filter(framework=release.framework).values_list("slug", flat=True))
    for slug, entry in release.domain_thresholds.items():
        if slug not in domains:
            raise ReleaseNotComputable(
                f"Domain thresholds are set for {slug!r}, which is not a domain of "
                f"{release.framework}."
            )
        if entry.get("method") not in (DOMAIN_FIXED, DOMAIN_QUARTILES):
            raise ReleaseNotComputable(
                f"Domain thresholds of {slug}: method {entry.get('method')!r} is neither "
                f"{DOMAIN_FIXED!r} nor {DOMAIN_QUARTILES!r}."
            )
        if entry["method"] != DOMAIN_FIXED:
            continue
        try:
            values = [Decimal(str(entry[name])) for name in ("t1", "t2", "t3")]
        except (KeyError, ArithmeticError) as error:
            raise ReleaseNotComputable(
                f"Fixed domain thresholds of {slug} need three numbers t1, t2 and t3."
            ) from error
        if not all(value.is_finite() for value in values) or not (
            values[0] < values[1] < values[2]
        ):
            raise ReleaseNotComputable(
                f"Domain thresholds of {slug} must be numbers that increase: t1 < t2 < t3."
            )
    return release.fixed_domain_thresholds()


def _checksum(
    release: Release, definitions: list[MetricDefinition], quarter_input: QuarterInput
) -> str:
    """SHA-256 of everything that decides the results; equal checksums mean equal results.

    The observations enter as the engine's own input matrices, digested whole: exactly what
    it computes from, at a fraction of the cost of a text line per observation."""
    matrices = hashlib.sha256()
    for matrix in (quarter_input.values, quarter_input.supplied_scores):
        # One NaN bit pattern, whatever produced it, and one byte order.
        canonical = np.where(np.isnan(matrix), np.nan, matrix).astype("<f8")
        matrices.update(repr(canonical.shape).encode())
        matrices.update(canonical.tobytes())
    for code, pool in sorted(quarter_input.pool_values.items()):
        matrices.update(code.encode() + b"\0")
        matrices.update(np.sort(pool).astype("<f8").tobytes())
    codes = quarter_input.trust_codes
    document = {
        "framework": [
            release.framework.slug,
            release.framework.version,
            release.framework.rank_recovery_support_by_adjusted_segment,
        ],
        "definitions": [
            [
                d.metric.code,
                d.domain.slug,
                d.metric.direction,
                d.method,
                d.params,
                d.pool,
                d.counted,
            ]
            for d in definitions
        ],
        # Quartile thresholds are an output, stored on the release after computing it.
        "thresholds": [release.threshold_method]
        + (
            [str(release.t1), str(release.t2), str(release.t3)]
            if release.threshold_method == Release.ThresholdMethod.FIXED
            else []
        ),
        # As above: only fixed domain thresholds are an input.
        "domain_thresholds": {
            slug: [str(entry["t1"]), str(entry["t2"]), str(entry["t3"])]
            for slug, entry in sorted(release.domain_thresholds.items())
            if entry.get("method") == DOMAIN_FIXED
        },
        "replicates": release.replicates,
        "seed": release.seed,
        "use_supplied_scores": release.use_supplied_scores,
        "trusts": codes,
        "matrices": matrices.hexdigest(),
        "categories": quarter_input.category_values,
        "deficit": [c for c, flag in zip(codes, quarter_input.in_deficit, strict=True) if flag],
        "recovery": [
            c for c, flag in zip(codes, quarter_input.in_recovery_support, strict=True) if flag
        ],
    }
    encoded = json.dumps(document, sort_keys=True, default=str).encode()
    return hashlib.sha256(encoded).hexdigest()


def apply_framework_thresholds(release: Release) -> None:
    """Copy the framework's thresholds for the quarter, overall and per domain, onto a release
    that has none yet. With none stored, quartiles are taken."""
    apply_framework_domain_thresholds(release)
    stored = Thresholds.objects.filter(framework=release.framework, quarter=release.quarter).first()
    if stored is None:
        release.threshold_method = Release.ThresholdMethod.QUARTILES
        return
    release.threshold_method = stored.method
    if stored.method == Thresholds.Method.FIXED:
        release.t1, release.t2, release.t3 = stored.t1, stored.t2, stored.t3


def apply_framework_domain_thresholds(release: Release) -> None:
    """Copy the framework's domain thresholds for the quarter onto a release; a domain with
    none set takes quartiles."""
    release.domain_thresholds = {
        stored.domain.slug: domain_threshold_entry(stored.method, stored.t1, stored.t2, stored.t3)
        for stored in DomainThresholds.objects.filter(
            framework=release.framework, quarter=release.quarter
        ).select_related("domain")
    }


def domain_threshold_entry(
    method: str, t1: Decimal | None, t2: Decimal | None, t3: Decimal | None
) -> dict[str, str]:
    """One domain's entry in Release.domain_thresholds: decimals as text, kept exact."""
    if method != DOMAIN_FIXED:
        return {"method": DOMAIN_QUARTILES}
    return {"method": DOMAIN_FIXED, "t1": _text(t1), "t2": _text(t2), "t3": _text(t3)}


def _text(value: Decimal | float | None) -> str:
    if value is None:
        return ""
    exact = value if isinstance(value, Decimal) else Decimal(repr(float(value)))
    return format(exact.normalize(), "f")


class ComputationAbandoned(ReleaseNotComputable):
    """This computation was given up for dead (or taken over) while it ran: it must not write."""


def worker_label() -> str:
    """Which process is computing, shown to regulators and used to match a lost worker."""
    return f"{socket.gethostname()} (process {os.getpid()})"


def _stalled(now: datetime) -> Q:
    """Running computations with no heartbeat for STALE_COMPUTATION."""
    stale_before = now - STALE_COMPUTATION
    return Q(computation=Release.Computation.RUNNING) & (
        Q(heartbeat_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, computation_started_at__lt=stale_before)
        | Q(heartbeat_at__isnull=True, computation_started_at__isnull=True)
    )


def _acquire(release_id: int) -> datetime | None:
    """Mark the release as computing unless a live computation holds it (compare-and-set), and
    return the start time that identifies this computation from then on.

    One UPDATE decides the race on every database: of two workers, exactly one changes the row.
    A computation whose heartbeat has stopped is taken over.
    """
    now = timezone.now()
    taken = (
        Release.objects.filter(pk=release_id, status=Release.Status.DRAFT)
        .filter(~Q(computation=Release.Computation.RUNNING) | _stalled(now))
        .update(
            computation=Release.Computation.RUNNING,
            computation_started_at=now,
            heartbeat_at=now,
            computation_worker=worker_label()[:200],
            progress=0,
            progress_message="Loading observations",
            failure_reason="",
        )
    )
    return now if taken else None


def _owned(release_id: int, token: datetime) -> Any:
    """The release's row while this computation (started at `token`) still holds it."""
    return Release.objects.filter(
        pk=release_id, computation=Release.Computation.RUNNING, computation_started_at=token
    )


def fail_stalled(release_ids: Iterable[int] | None = None) -> int:
    """Mark failed, with the reason, every computation whose heartbeat stopped; the previous
    results are untouched. Run by the beat, and before the admin shows or queues a release."""
    now = timezone.now()
    stalled = Release.objects.filter(_stalled(now))
    if release_ids is not None:
        stalled = stalled.filter(pk__in=list(release_ids))
    failed = 0
    for pk, started, beat, progress, message, worker in stalled.values_list(
        "pk",
        "computation_started_at",
        "heartbeat_at",
        "progress",
        "progress_message",
        "computation_worker",
    ):
        last = timezone.localtime(beat or started or now)
        reason = (
            f"The computation stopped at {progress:.0%} ({message or 'starting'}): no sign of "
            f"life since {last:%d %b %Y %H:%M:%S}, so its worker ({worker or 'unknown'}) "
            "stopped or lost its database connection. The previous results are unchanged; "
            "recompute it."
        )
        # Compare-and-set on the start time: a computation that took over meanwhile is left be.
        failed += Release.objects.filter(
            pk=pk, computation=Release.Computation.RUNNING, computation_started_at=started
        ).update(
            computation=Release.Computation.FAILED,
            failure_reason=reason,
            progress_message="Failed",
        )
    if failed:
        logger.warning("Marked %s stalled computation(s) failed", failed)
    return failed


def fail_lost_worker(release_id: int, reason: str) -> bool:
    """The worker process computing the release died (the pool saw it go): mark the release
    failed at once rather than waiting for its heartbeat to go stale."""
    host = f"{socket.gethostname()} "
    return bool(
        Release.objects.filter(
            pk=release_id,
            computation=Release.Computation.RUNNING,
            computation_worker__startswith=host,
        ).update(
            computation=Release.Computation.FAILED,
            failure_reason=f"The worker computing it died: {reason}. The previous results are "
            "unchanged; recompute it.",
            progress_message="Failed",
        )
    )


class ComputationOutcome:
    COMPUTED = "computed"
    UNCHANGED = "unchanged"
    BUSY = "busy"


def compute(
    release_id: int, *, force: bool = False, progress: Callable[[float, str], None] | None = None
) -> str:
    """Compute one release and store its results; the one entry point for every caller."""
    release = Release.objects.select_related("framework", "quarter", "peer_group").get(
        pk=release_id
    )
    if release.status != Release.Status.DRAFT:
        raise ReleaseNotComputable(
            f"{release} is {release.get_status_display().lower()}: only a draft can be "
            "recomputed. Corrections are made in a new revision."
        )
    token = _acquire(release_id)
    if token is None:
        return ComputationOutcome.BUSY
    started = time.perf_counter()

    def report(fraction: float, message: str) -> None:
        # Progress is the heartbeat; a computation given up for dead stops here.
        if not _owned(release_id, token).update(
            progress=round(fraction, 3),
            progress_message=message[:200],
            heartbeat_at=timezone.now(),
        ):
            raise ComputationAbandoned(
                f"{release}: this computation was given up for dead or taken over while it ran."
            )
        if progress:
            progress(fraction, message)

    try:
        loaded = load_inputs(release)
        if (
            not force
            and loaded.checksum == release.input_checksum
            and release.computed_at is not None
        ):
            _owned(release_id, token).update(
                computation=Release.Computation.COMPUTED,
                progress=1,
                progress_message="Inputs unchanged since the last computation",
            )
            return ComputationOutcome.UNCHANGED
        report(0.05, "Scoring")
        result = compute_quarter(
            loaded.quarter_input, progress=lambda f, msg: report(0.05 + 0.85 * f, msg)
        )
        report(0.9, "Writing results")
        write_results(release, loaded, result, time.perf_counter() - started, token=token)
    except ComputationAbandoned:
        raise
    except (FrameworkIncomplete, ReleaseNotComputable) as error:
        _fail(release_id, token, str(error))
        raise
    except (OperationalError, InterfaceError) as error:
        if connection.connection is not None and connection.is_usable():
            _fail(release_id, token, f"{type(error).__name__}: {error}")
            raise
        logger.exception("Computing release %s lost its database connection", release_id)
        _fail(
            release_id,
            token,
            f"The computation lost its database connection ({type(error).__name__}: "
            f"{str(error).strip()}). The previous results are unchanged; recompute it.",
        )
        raise
    except Exception as error:
        logger.exception("Computing release %s failed", release_id)
        _fail(release_id, token, f"{type(error).__name__}: {error}")
        raise
    if progress:
        progress(1.0, "Computed")
    return ComputationOutcome.COMPUTED


def _fail(release_id: int, token: datetime, reason: str) -> None:
    """Record the failure of this computation, on a fresh connection if its own has died (a
    terminated backend, a restarted database): otherwise the release would stay "computing"."""
    for attempt in (1, 2):
        try:
            _owned(release_id, token).update(
                computation=Release.Computation.FAILED,
                failure_reason=reason,
                progress_message="Failed",
            )
            return
        except DatabaseError:
            if attempt == 2 or connection.in_atomic_block:
                raise
            connection.close()


def write_results(
    release: Release,
    loaded: LoadedInputs,
    result: QuarterResult,
    seconds: float,
    *,
    token: datetime | None = None,
) -> None:
    """Replace the release's results in one transaction, in bulk.

    With `token` (the computation's start time), only while that computation still holds the
    release: one given up for dead must not overwrite what a later one wrote.
    """
    previous = Release.objects.published().previous_of(release)
    previous_rows: dict[int, tuple[int | None, int | None]] = {}
    if previous is not None:
        previous_rows = {
            trust_id: (rank, segment)
            for trust_id, rank, segment in previous.trust_results.values_list(
                "trust_id", "rank", "segment"
            )
        }
    trust_rows = []
    domain_codes = list(result.domain_scores)
    for i, trust in enumerate(loaded.trusts):
        previous_rank, previous_segment = previous_rows.get(trust.pk, (None, None))
        segment = int(result.final_segment[i]) or None
        trust_rows.append(
            TrustResult(
                release=release,
                trust=trust,
                trust_name=trust.name,
                trust_subtype=trust.subtype,
                region_id=trust.region_id,
                average_score=result.average[i],
                average_exact=None
                if np.isnan(result.average_exact[i])
                else float(result.average_exact[i]),
                average_low=_round2(result.average_range[i, 0]),
                average_high=_round2(result.average_range[i, 1]),
                metrics_scored=int(result.metrics_counted[i]),
                unadjusted_segment=int(result.unadjusted_segment[i]) or None,
                in_financial_deficit=bool(loaded.quarter_input.in_deficit[i]),
                in_recovery_support=bool(loaded.quarter_input.in_recovery_support[i]),
                segment=segment,
                rank=int(result.rank[i]) or None,
                rank_low=int(result.rank_range[i, 0]) or None,
                rank_high=int(result.rank_range[i, 1]) or None,
                previous_rank=previous_rank,
                previous_segment=previous_segment,
                domain_scores={
                    code: round(float(result.domain_scores[code][i]), 4)
                    for code in domain_codes
                    if not np.isnan(result.domain_scores[code][i])
                },
                domain_segments={
                    code: int(result.domain_segments[code][i])
                    for code in domain_codes
                    if result.domain_segments[code][i]
                },
            )
        )
    metric_rows = _metric_result_rows(loaded, result)
    statistics = []
    for j, definition in enumerate(loaded.definitions):
        column = loaded.quarter_input.values[:, j]
        statistics.append(
            MetricPeerStatistics(
                release=release,
                metric=definition.metric,
                trusts_reporting=int(np.count_nonzero(~np.isnan(column))),
                median=_decimal(result.metric_median[j]),
                lower_quartile=_decimal(result.metric_lower_quartile[j]),
                upper_quartile=_decimal(result.metric_upper_quartile[j]),
            )
        )
    t1, t2, t3 = result.thresholds
    with transaction.atomic():
        locked = Release.objects.select_for_update().get(pk=release.pk)
        if locked.status != Release.Status.DRAFT:
            raise ReleaseNotComputable(f"{locked} left draft while it was being computed.")
        if token is not None and (
            locked.computation != Release.Computation.RUNNING
            or locked.computation_started_at != token
        ):
            raise ComputationAbandoned(
                f"{locked}: this computation was given up for dead or taken over while it ran."
            )
        TrustResult.objects.filter(release=release).delete()
        MetricResult.objects.filter(release=release).delete()
        MetricPeerStatistics.objects.filter(release=release).delete()
        insert_results(trust_rows)
        insert_metric_results(release.pk, metric_rows)
        insert_results(statistics)
        locked.t1, locked.t2, locked.t3 = (Decimal(str(round(t, 5))) for t in (t1, t2, t3))
        locked.domain_thresholds = _used_domain_thresholds(release, result)
        locked.input_checksum = loaded.checksum
        locked.computation = Release.Computation.COMPUTED
        locked.computed_at = timezone.now()
        locked.computation_seconds = round(seconds, 3)
        locked.progress = 1
        locked.progress_message = f"Computed {len(trust_rows)} trusts"
        locked.failure_reason = ""
        locked._change_reason = "Recomputed"
        locked.save()


def _used_domain_thresholds(release: Release, result: QuarterResult) -> dict[str, dict[str, str]]:
    """What each domain was segmented with: the fixed thresholds as entered (also of a domain
    with no metric yet), and the quartiles taken for the others (stored, like the overall
    quartile thresholds, after computing)."""
    used = {
        slug: dict(entry)
        for slug, entry in release.domain_thresholds.items()
        if entry.get("method") == DOMAIN_FIXED
    }
    for slug, (t1, t2, t3) in result.domain_thresholds.items():
        if slug not in used:
            rounded = (round_half_up(t, 5) for t in (t1, t2, t3))
            used[slug] = {
                **domain_threshold_entry(DOMAIN_FIXED, *rounded),
                "method": DOMAIN_QUARTILES,
            }
    return used


@dataclass
class MetricResultColumns:
    """A release's metric results, column by column: trusts x metrics cells at national scale,
    so they are never a Python object per cell."""

    trust_ids: list[int]
    metric_ids: list[int]
    values: list[float | None]
    ratings: list[str]
    scores: list[float | None]

    def of(self, release_id: int) -> Iterator[tuple]:
        """(release, trust, metric, value, rating, score) rows, in the table's column order."""
        return zip(
            itertools.repeat(release_id, len(self.trust_ids)),
            self.trust_ids,
            self.metric_ids,
            self.values,
            self.ratings,
            self.scores,
            strict=True,
        )


def _nullable(column: np.ndarray) -> list[float | None]:
    """Floats as Python floats, NaN as None, without a Python loop over the cells."""
    objects = column.astype(object)
    objects[np.isnan(column)] = None
    return objects.tolist()


def _metric_result_rows(loaded: LoadedInputs, result: QuarterResult) -> MetricResultColumns:
    """(trust, metric, value, rating, score) for every cell with anything to show.

    Built with NumPy masks rather than a loop over cells: at national scale that is 400,000
    cells, and per-cell Python work was the largest part of writing the results.
    """
    quarter_input = loaded.quarter_input
    values = quarter_input.values
    scores = np.round(result.scores, 4)
    ratings = np.full(values.shape, "", dtype=object)
    for j, definition in enumerate(loaded.definitions):
        column = quarter_input.category_values.get(definition.metric.code)
        if column:
            ratings[:, j] = [text or "" for text in column]
    shown = ~np.isnan(values) | ~np.isnan(scores) | (ratings != "")
    rows, columns = np.nonzero(shown)
    return MetricResultColumns(
        trust_ids=np.array([trust.pk for trust in loaded.trusts])[rows].tolist(),
        metric_ids=np.array([d.metric_id for d in loaded.definitions])[columns].tolist(),
        values=_nullable(values[rows, columns]),
        ratings=ratings[rows, columns].tolist(),
        scores=_nullable(scores[rows, columns]),
    )


def insert_results(rows: list[TrustResult] | list[MetricPeerStatistics]) -> None:
    """Insert league table rows or peer statistics: one COPY on PostgreSQL.

    The caller holds the release's row lock and has checked that it is a draft, which is what
    the model-level guard would check.
    """
    if not rows:
        return
    model = type(rows[0])
    if connection.vendor != "postgresql":
        model.objects.bulk_create(rows, batch_size=2000)
        return
    fields = [field for field in model._meta.concrete_fields if not field.primary_key]
    names = ", ".join(connection.ops.quote_name(field.column) for field in fields)
    # The connection itself, not the thread-local proxy: every attribute read through the proxy
    # is a lookup.
    database = connections[connection.alias]
    values = attrgetter(*(field.attname for field in fields))
    # Only the fields whose database value differs from the Python one (JSON) go through
    # Django's preparation: for the others it would hand psycopg the very value it was given,
    # and asking it was half the cost of writing 10,000 league table rows.
    prepared = [
        (i, field.get_db_prep_save)
        for i, field in enumerate(fields)
        if field.get_internal_type() not in _COPIED_AS_THEY_ARE
    ]
    with (
        database.cursor() as cursor,
        cursor.cursor.copy(f"COPY {model._meta.db_table} ({names}) FROM STDIN") as copy,
    ):
        for row in rows:
            record = list(values(row))
            for i, save in prepared:
                record[i] = save(record[i], database)
            copy.write_row(record)


# Field types whose values the engine's rows hold as the int, str, bool, float or Decimal that
# PostgreSQL's column takes (Django's preparation of them on PostgreSQL is the identity).
_COPIED_AS_THEY_ARE = frozenset(
    {
        "BooleanField",
        "CharField",
        "DecimalField",
        "FloatField",
        "ForeignKey",
        "PositiveSmallIntegerField",
        "PositiveIntegerField",
        "IntegerField",
        "SmallIntegerField",
        "BigIntegerField",
    }
)


def insert_metric_results(release_id: int, rows: MetricResultColumns) -> None:
    """Insert a release's metric results: the largest write, trusts x metrics rows.

    On PostgreSQL one COPY of a CSV buffer that the csv module writes in C, row loop included:
    at national scale (400,000 rows) the cost is close to that of COPY itself. Floats go in as
    their shortest text, which the numeric columns store exactly as Decimal(repr(x)) would; an
    empty field is NULL except in value_text (FORCE_NOT_NULL), where it is "".
    """
    if connection.vendor != "postgresql":
        MetricResult.objects.bulk_create(
            (
                MetricResult(
                    release_id=release_id,
                    trust_id=trust_id,
                    metric_id=metric_id,
                    value=_decimal(value),
                    value_text=text,
                    score=_decimal_score(score),
                )
                for _, trust_id, metric_id, value, text, score in rows.of(release_id)
            ),
            batch_size=5000,
        )
        return
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(rows.of(release_id))
    table = MetricResult._meta.db_table
    columns = "release_id, trust_id, metric_id, value, value_text, score"
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv, FORCE_NOT_NULL (value_text))"
        ) as copy,
    ):
        copy.write(buffer.getvalue())


def _round2(value: float) -> Decimal | None:
    if value is None or np.isnan(value):
        return None
    return Decimal(repr(float(value))).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _decimal_score(value: float) -> Decimal | None:
    if value is None or np.isnan(value):
        return None
    return Decimal(repr(float(value))).quantize(Decimal("0.0001"))
