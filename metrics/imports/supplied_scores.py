"""A file that changes a value must not leave beside it the score supplied for the old value.

NHS England's data file gives a metric's value (OF0057) and, on another row, its score
(OF1057); a release replaying the file uses that score as given. A correction that brings only a
new value would keep the old score: 95.5% scored 2.06, above the peer upper quartile yet shown as
the trust's metric with most room to improve, and a correction note saying nothing changed. So
every import that changes a value whose stored score was supplied is refused, naming the trust,
the metric, the quarter and the stale score, unless the same file gives a new score for that
trust, metric and quarter.

A file that gives the old score again beside a new value is refused too: that is what a whole
file with one value edited looks like, and nothing in it says the score was checked. Where the
score does hold for the new value, the regulator changes the value in the admin and confirms
the score there (`metrics.admin.ObservationForm`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from metrics.imports.base import ImportContext
from metrics.models import Metric, Observation, Quarter, stale_score_reason, written
from trusts.models import Trust

# Fields whose change makes a supplied score stale.
VALUE_FIELDS = ("value", "value_text")
SCORE_FIELD = "supplied_score"

# Observation keys as the importers write them: (quarter_id, metric_id, trust_id).
Key = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class _Stale:
    observation_id: int
    line: int
    field: str
    before: Decimal | str | None
    after: Decimal | str | None
    score: Decimal
    # The file's score row for it was in the same chunk and gave the stored score again.
    restated: bool


# Stored scores looked up at once when the file is finished.
LOOKUP_BATCH = 500


class SuppliedScoreKept:
    """A `BulkUpsert` check for Observation writers (keys (quarter_id, metric_id, trust_id)).

    `column` is the file's column the refused value came from (or, where a value is worked
    out from several, a function of the metric naming the one to show). `score_given(key)`
    says whether the file has a score row for the key anywhere (asked once the whole file has
    been read); an importer whose files carry no scores passes None. `remedy(trust, metric,
    quarter, restated)` is what the person importing should do, appended to the reason;
    `restated` is true where the file's score row gives the old score again.

    Only changes that may be refused are remembered, so memory stays flat however long the
    file.
    """

    def __init__(
        self,
        ctx: ImportContext,
        column: str | Callable[[Metric], str],
        remedy: Callable[[str, Metric, str, bool], str],
        score_given: Callable[[Key], bool] | None = None,
    ) -> None:
        self.ctx = ctx
        self.column = column
        self.remedy = remedy
        self.score_given = score_given
        self._pending: dict[Key, _Stale] = {}

    def __call__(
        self,
        key: Key,
        stored: Any,
        patch: Mapping[str, Any],
        changed: Sequence[str],
        lines: Mapping[str, int],
    ) -> None:
        if stored.supplied_score is None or SCORE_FIELD in changed:
            return  # no score to go stale, or a new one with the new value
        if stored.import_run_id == self.ctx.run.pk:
            # Written earlier in this very file, which (values never repeating) was its
            # score row changing the score: the new value has the file's new score.
            return
        field = next((name for name in VALUE_FIELDS if name in changed), None)
        if field is None:
            return
        self._pending[key] = _Stale(
            stored.pk,
            lines[field],
            field,
            getattr(stored, field),
            patch[field],
            stored.supplied_score,
            restated=SCORE_FIELD in patch,
        )

    def finish(self) -> None:
        pending, self._pending = self._pending, {}
        stale: dict[Key, _Stale] = {}
        # A score row further on than the value's chunk was written after it: look at what
        # the file left stored.
        later = {
            key: change
            for key, change in pending.items()
            if not change.restated and self.score_given is not None and self.score_given(key)
        }
        now = self._stored_scores([change.observation_id for change in later.values()])
        for key, change in pending.items():
            if key in later:
                if now.get(change.observation_id) != change.score:
                    continue  # the file's score row changed the score
                change = replace(change, restated=True)
            stale[key] = change
        if stale:
            self._report(stale)

    def _stored_scores(self, ids: list[int]) -> dict[int, Decimal | None]:
        scores: dict[int, Decimal | None] = {}
        for start in range(0, len(ids), LOOKUP_BATCH):
            scores.update(
                Observation.objects.filter(pk__in=ids[start : start + LOOKUP_BATCH]).values_list(
                    "pk", SCORE_FIELD
                )
            )
        return scores

    def _report(self, stale: dict[Key, _Stale]) -> None:
        quarters = {q.pk: q.label for q in Quarter.objects.filter(pk__in={k[0] for k in stale})}
        metrics = Metric.objects.in_bulk({key[1] for key in stale})
        trusts = dict(
            Trust.objects.filter(pk__in={key[2] for key in stale}).values_list("pk", "ods_code")
        )
        for key, change in sorted(stale.items(), key=lambda item: item[1].line):
            quarter, metric, trust = quarters[key[0]], metrics[key[1]], trusts[key[2]]
            reason = stale_score_reason(
                trust, metric, quarter, change.before, change.after, change.score
            )
            remedy = self.remedy(trust, metric, quarter, change.restated)
            self.ctx.report.add_error(
                change.line,
                self.column if isinstance(self.column, str) else self.column(metric),
                written(change.after),
                f"{reason}: {remedy}",
            )
