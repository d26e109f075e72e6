"""What a correction changed: every value, score, segment and rank that differs from the
revision it corrects.

The approver's review of a correction and the public correction note both read it here, so
the approver signs off exactly the list the public will read. A handful of queries whatever
the size of the table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from metrics.models import Metric
from metrics.units import quantity
from releases.engine import round_half_up
from releases.models import MetricPeerStatistics, MetricResult, Release, TrustResult
from releases.selectors import release_domains
from trusts.models import Trust

# Where the generated list starts in a stored correction note; what comes before is the
# regulator's own words.
CHANGES_HEADING = "What changed since revision"
NOTHING_CHANGED = "No value, score, segment or rank changed."
NONE_SHOWN = "none"
SEGMENT = "segment"
RANK = "rank"
PEER_FIGURES = (
    ("lower quartile", "lower_quartile"),
    ("median", "median"),
    ("upper quartile", "upper_quartile"),
)


def hand_written_note(note: str) -> str:
    """The regulator's part of a correction note, without the generated list of changes."""
    return note.split(CHANGES_HEADING, 1)[0].rstrip()


@dataclass(frozen=True)
class NoteParts:
    """A stored correction note read back: the regulator's words, the heading of the list
    ("What changed since revision 1:") and its items, without the "- " that marks them in
    the stored text."""

    written: str
    heading: str
    items: list[str]

    def as_text(self) -> str:
        """On one line, for a feed reader that shows text without line breaks."""
        if not self.heading:
            return self.written
        listed = "; ".join(item.rstrip(".") for item in self.items)
        return f"{self.written} {self.heading} {listed}.".strip()


def note_parts(note: str) -> NoteParts:
    written, heading, changes = (note or "").partition(CHANGES_HEADING)
    if not heading:
        return NoteParts(written.strip(), "", [])
    title, _, listed = changes.partition("\n")
    items = [line.strip().removeprefix("- ") for line in listed.splitlines() if line.strip()]
    return NoteParts(written.strip(), f"{heading}{title}", items)


@dataclass(frozen=True)
class Change:
    """One figure of a trust's row that differs: "segment 2 → 1"."""

    label: str
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.label} {self.before} → {self.after}"


@dataclass(frozen=True)
class MetricChange:
    """One trust's value or score on one metric that differs."""

    metric: Metric
    value_before: str
    value_after: str
    score_before: str
    score_after: str

    @property
    def value_changed(self) -> bool:
        return self.value_before != self.value_after

    @property
    def score_changed(self) -> bool:
        return self.score_before != self.score_after

    @property
    def score_kept(self) -> bool:
        """The value changed and its score did not: right only if the score still holds."""
        return self.value_changed and not self.score_changed and self.score_after != NONE_SHOWN

    def __str__(self) -> str:
        parts = []
        if self.value_changed:
            parts.append(f"{self.value_before} → {self.value_after}")
        if self.score_changed:
            parts.append(f"score {self.score_before} → {self.score_after}")
        return f"{self.metric.code} {self.metric.name.strip()} " + ", ".join(parts)


@dataclass
class TrustChanges:
    """Everything that differs for one trust, named as the corrected table names it."""

    trust: Trust
    name: str
    added: bool = False
    removed: bool = False
    metrics: list[MetricChange] = field(default_factory=list)
    table: list[Change] = field(default_factory=list)
    rank_after: int | None = None

    def __str__(self) -> str:
        who = f"{self.name} ({self.trust.ods_code})"
        if self.added:
            return f"{who}: added to the table"
        if self.removed:
            return f"{who}: no longer in the table"
        return f"{who}: " + "; ".join(map(str, [*self.metrics, *self.table]))


@dataclass(frozen=True)
class PeerChange:
    """A metric's peer median or quartiles that moved: every trust page shows them."""

    metric: Metric
    changes: list[Change]


@dataclass
class CorrectionChanges:
    release: Release
    corrected: Release
    trusts: list[TrustChanges] = field(default_factory=list)
    peers: list[PeerChange] = field(default_factory=list)

    @property
    def metric_changes(self) -> list[tuple[TrustChanges, MetricChange]]:
        return [(trust, change) for trust in self.trusts for change in trust.metrics]

    @property
    def table_changes(self) -> list[tuple[TrustChanges, Change]]:
        return [(trust, change) for trust in self.trusts for change in trust.table]

    @property
    def segments_changed(self) -> int:
        return sum(1 for _, change in self.table_changes if change.label == SEGMENT)

    @property
    def ranks_changed(self) -> int:
        return sum(1 for _, change in self.table_changes if change.label == RANK)

    @property
    def scores_kept(self) -> list[tuple[TrustChanges, MetricChange]]:
        return [(trust, change) for trust, change in self.metric_changes if change.score_kept]

    def lines(self) -> list[str]:
        """One line per trust, as the public correction note lists them."""
        return [str(trust) for trust in self.trusts] or [NOTHING_CHANGED]


def correction_changes(release: Release) -> CorrectionChanges | None:
    """What `release` changes in the revision it corrects; None unless it is a correction."""
    if release.supersedes_id is None:
        return None
    corrected = release.supersedes
    changes = CorrectionChanges(release, corrected)
    domains = {domain.slug: domain.name for domain in release_domains(release)}
    before = _rows(corrected)
    after = _rows(release)
    values_before, values_after = _metric_cells(corrected), _metric_cells(release)
    peers_before, peers_after = _peer_statistics(corrected), _peer_statistics(release)
    metrics = Metric.objects.in_bulk(
        {metric_id for _, metric_id in values_before.keys() | values_after.keys()}
        | peers_before.keys()
        | peers_after.keys()
    )
    by_trust: dict[int, TrustChanges] = {}

    def of(trust_id: int) -> TrustChanges:
        if trust_id not in by_trust:
            row = after.get(trust_id) or before[trust_id]
            rank = after[trust_id].rank if trust_id in after else None
            by_trust[trust_id] = TrustChanges(row.trust, row.trust_name, rank_after=rank)
        return by_trust[trust_id]

    for trust_id in before.keys() - after.keys():
        of(trust_id).removed = True
    for trust_id in after.keys() - before.keys():
        of(trust_id).added = True
    for trust_id in before.keys() & after.keys():
        table = _table_changes(before[trust_id], after[trust_id], domains)
        if table:
            of(trust_id).table = table
    for key in sorted(values_before.keys() | values_after.keys()):
        trust_id, metric_id = key
        if trust_id not in before or trust_id not in after:
            continue
        unit = metrics[metric_id].unit
        old, new = values_before.get(key), values_after.get(key)
        change = MetricChange(
            metrics[metric_id],
            _value(old, unit),
            _value(new, unit),
            _score(old[2] if old else None),
            _score(new[2] if new else None),
        )
        if change.value_changed or change.score_changed:
            of(trust_id).metrics.append(change)
    for trust in by_trust.values():
        trust.metrics.sort(key=lambda change: change.metric.code)
    # The trusts whose own data changed first, then the rest in the corrected table's order.
    changes.trusts = sorted(
        by_trust.values(),
        key=lambda t: (not t.metrics, t.rank_after is None, t.rank_after or 0, t.name),
    )
    changes.peers = _peer_changes(peers_before, peers_after, metrics)
    return changes


def _rows(release: Release) -> dict[int, TrustResult]:
    return {
        row.trust_id: row
        for row in TrustResult.objects.filter(release=release).select_related("trust")
    }


def _metric_cells(
    release: Release,
) -> dict[tuple[int, int], tuple[Decimal | None, str, Decimal | None]]:
    return {
        (trust_id, metric_id): (value, text, score)
        for trust_id, metric_id, value, text, score in MetricResult.objects.filter(
            release=release
        ).values_list("trust_id", "metric_id", "value", "value_text", "score")
    }


def _table_changes(old: TrustResult, new: TrustResult, domains: dict[str, str]) -> list[Change]:
    figures: list[tuple[str, object, object]] = []
    for slug, name in domains.items():
        figures.append(
            (
                f"{name} domain score",
                _score(old.domain_scores.get(slug)),
                _score(new.domain_scores.get(slug)),
            )
        )
        figures.append(
            (
                f"{name} domain segment",
                old.domain_segments.get(slug),
                new.domain_segments.get(slug),
            )
        )
    figures += [
        ("average score", _score(old.average_score), _score(new.average_score)),
        ("in financial deficit", _yes(old.in_financial_deficit), _yes(new.in_financial_deficit)),
        (
            "in the Recovery Support Programme",
            _yes(old.in_recovery_support),
            _yes(new.in_recovery_support),
        ),
        (SEGMENT, old.segment, new.segment),
        (RANK, old.rank, new.rank),
    ]
    return [
        Change(label, _shown(before), _shown(after))
        for label, before, after in figures
        if before != after
    ]


def _peer_statistics(release: Release) -> dict[int, MetricPeerStatistics]:
    return {p.metric_id: p for p in MetricPeerStatistics.objects.filter(release=release)}


def _peer_changes(
    old: dict[int, MetricPeerStatistics],
    new: dict[int, MetricPeerStatistics],
    metrics: dict[int, Metric],
) -> list[PeerChange]:
    peers = []
    for metric_id in sorted(old.keys() & new.keys(), key=lambda pk: metrics[pk].code):
        unit = metrics[metric_id].unit
        changes = [
            Change(
                label,
                quantity(getattr(old[metric_id], name), unit) or NONE_SHOWN,
                quantity(getattr(new[metric_id], name), unit) or NONE_SHOWN,
            )
            for label, name in PEER_FIGURES
            if getattr(old[metric_id], name) != getattr(new[metric_id], name)
        ]
        if changes:
            peers.append(PeerChange(metrics[metric_id], changes))
    return peers


def _value(cell: tuple[Decimal | None, str, Decimal | None] | None, unit: str) -> str:
    if cell is None:
        return NONE_SHOWN
    value, text, _ = cell
    if text:
        return text
    return quantity(value, unit) or NONE_SHOWN


def _score(score: Decimal | float | None) -> str:
    if score is None:
        return NONE_SHOWN
    return f"{round_half_up(score, 2):.2f}"


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"


def _shown(figure: object) -> str:
    return NONE_SHOWN if figure is None else str(figure)
