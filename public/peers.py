"""Learning from peers ("taking the best of the NHS to the rest").

For each of a trust's three weakest counted metrics, three trusts of its peer group that score
best on it, trusts of the same subtype first, so a board knows whom to call. Reads only: one
query for the peers' results, whatever the number of trusts.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from releases.models import MetricResult, Release
from trusts.models import Trust

WEAKEST = 3
EXEMPLARS = 3


@dataclass
class Exemplar:
    trust: Trust
    result: MetricResult
    same_subtype: bool


@dataclass
class PeerLesson:
    """One weak metric of the trust and the peers that do best on it."""

    line: Any  # public.selectors.MetricLine: the trust's own value, score and peer median
    exemplars: list[Exemplar] = field(default_factory=list)


def weakest_lines(lines: list[Any], count: int = WEAKEST) -> list[Any]:
    """The counted metrics with the worst scores (4.00 worst), worst first; none at the best."""
    scored = [
        line
        for line in lines
        if line.definition.counted
        and line.result is not None
        and line.result.score is not None
        and line.result.score > 1
    ]
    scored.sort(key=lambda line: (-line.result.score, line.metric.code))
    return scored[:count]


def learning_from_peers(
    trust: Trust, release: Release | None, lines: list[Any]
) -> list[PeerLesson]:
    """For each of the trust's weakest counted metrics, the best-scoring peers, same subtype
    first among those that score better than it does."""
    if release is None:
        return []
    weakest = weakest_lines(lines)
    if not weakest:
        return []
    by_metric: dict[int, list[MetricResult]] = defaultdict(list)
    for result in (
        MetricResult.objects.filter(
            release=release,
            metric_id__in=[line.definition.metric_id for line in weakest],
            score__isnull=False,
        )
        .exclude(trust=trust)
        .select_related("trust")
    ):
        by_metric[result.metric_id].append(result)
    lessons = []
    for line in weakest:
        results = by_metric[line.definition.metric_id]
        better = sorted(
            (r for r in results if r.score < line.result.score),
            key=lambda r: (r.score, r.trust.name),
        )
        # "Best" is the best quarter of the peer group on this metric; within it, trusts of the
        # same subtype come first (their circumstances are most alike), then the rest by score.
        cut = best_quarter(sorted(r.score for r in results))
        alike = [r for r in better if r.trust.subtype == trust.subtype and r.score <= cut]
        ordered = alike + [r for r in better if r not in alike]
        lessons.append(
            PeerLesson(
                line,
                [
                    Exemplar(r.trust, r, r.trust.subtype == trust.subtype)
                    for r in ordered[:EXEMPLARS]
                ],
            )
        )
    return lessons


def best_quarter(scores: list[Any]) -> Any:
    """The score at the edge of the best quarter (lowest scores), nearest rank."""
    if not scores:
        return None
    return scores[max(0, (len(scores) + 3) // 4 - 1)]
