"""The approver reviews a correction against the revision it corrects, and the public note lists
what changed.

The real case: a correction of NHS England's published Q4 2025/26 mental health and community
table, RYY's OF0057 (Urgent Community Response 2-hour performance) corrected from 86.02% to
95.5% with its score OF1057 corrected from 2.06 to 1.00.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import feedparser
import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from metrics.imports.nof import import_nof
from metrics.models import Observation
from releases.models import Release
from releases.services import computation, lifecycle
from releases.services.computation import compute
from releases.services.drafts import draft_release
from tests.conftest import NOF_FILE
from tests.factories import quarter

pytestmark = pytest.mark.django_db

Status = Release.Status
MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
REASON = "RYY's Urgent Community Response 2-hour performance was misreported: 95.5%, not 86.02%."
RYY_LINE = (
    "Kent Community Health NHS Foundation Trust (RYY): OF0057 Urgent Community Response 2-hour "
    "performance 86.02% → 95.5%, score 2.06 → 1.00"
)


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user, backend=MODEL_BACKEND)
    return client


def ryy_rows(value: str, score: str) -> list[list[str]]:
    with NOF_FILE.open(encoding="utf-8-sig", newline="") as handle:
        header, *rows = list(csv.reader(handle))
    at = {name: header.index(name) for name in ("Quarter", "Trust_code", "Metric_ID", "Value")}
    picked = {
        row[at["Metric_ID"]]: list(row)
        for row in rows
        if (row[at["Quarter"]], row[at["Trust_code"]]) == ("Q4 2025/26", "RYY")
        and row[at["Metric_ID"]] in ("OF0057", "OF1057")
    }
    picked["OF0057"][at["Value"]] = value
    picked["OF1057"][at["Value"]] = score
    return [header, picked["OF0057"], picked["OF1057"]]


@pytest.fixture
def ryy_correction(
    real_nof: None,
    maker: Any,
    checker: Any,
    tmp_path: Path,
    django_capture_on_commit_callbacks: Any,
) -> tuple[Release, Release]:
    """NHS England's Q4 table published, then corrected by importing RYY's two rows."""
    published = draft_release(quarter(4), "mental-health-community")
    published.replicates = 50
    published.save()
    computation.compute(published.pk)
    published.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.submit(published, maker)
        lifecycle.approve(published, checker)
        lifecycle.publish_now(published, checker)
    correction = lifecycle.start_correction(published, maker, REASON)
    path = tmp_path / "ryy-of0057-correction.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(ryy_rows("95.5", "1.0"))
    with django_capture_on_commit_callbacks(execute=True):
        import_nof(path)  # computes the correction draft, as an upload's import does
    correction.refresh_from_db()
    assert correction.computation == Release.Computation.COMPUTED
    return published, correction


def changed_ranks(old: Release, new: Release) -> dict[str, tuple[int, int]]:
    before = dict(old.trust_results.values_list("trust__ods_code", "rank"))
    return {
        code: (before[code], rank)
        for code, rank in new.trust_results.values_list("trust__ods_code", "rank")
        if before[code] != rank
    }


def test_the_review_compares_the_correction_with_the_revision_it_corrects(
    ryy_correction: tuple[Release, Release], maker: Any, checker: Any
) -> None:
    published, correction = ryy_correction
    lifecycle.submit(correction, maker)

    page = signed_in(checker).get(reverse("admin:releases_release_review", args=[correction.pk]))

    assert page.status_code == 200
    review = page.context["review"]
    assert review.previous is None  # not last quarter
    changes = review.correction.changes
    assert changes.corrected == published
    [(trust, metric)] = changes.metric_changes
    assert (trust.trust.ods_code, metric.metric.code) == ("RYY", "OF0057")
    assert (metric.value_before, metric.value_after) == ("86.02%", "95.5%")
    assert (metric.score_before, metric.score_after) == ("2.06", "1.00")
    table = {(t.trust.ods_code, c.label): (c.before, c.after) for t, c in changes.table_changes}
    assert table[("RYY", "average score")] == ("1.53", "1.38")
    assert table[("RYY", "Effectiveness and experience domain score")] == ("2.06", "1.00")
    assert table[("RYY", "Effectiveness and experience domain segment")] == ("2", "1")
    # Every rank and segment that differs is listed, and nothing that does not.
    listed_ranks = {code for code, label in table if label == "rank"}
    assert listed_ranks == set(changed_ranks(published, correction))
    for code, (before, after) in changed_ranks(published, correction).items():
        assert table[(code, "rank")] == (str(before), str(after))
    segments = {
        code
        for code, segment in correction.trust_results.values_list("trust__ods_code", "segment")
        if published.trust_results.get(trust__ods_code=code).segment != segment
    }
    assert {code for code, label in table if label == "segment"} == segments
    assert not changes.scores_kept
    [peer] = changes.peers
    assert peer.metric.code == "OF0057"
    assert [str(c) for c in peer.changes] == [
        "median 87.18% → 87.73%",
        "upper quartile 89.7% → 90.25%",
    ]

    text = page.content.decode()
    assert "What this correction changes" in text
    assert "Changes since the previous quarter" not in text
    assert f"revision {published.revision}</a>, the revision it corrects: published" in text
    assert escape(REASON) in text
    assert f"Started by {maker}" in text
    assert "86.02%" in text and "<strong>95.5%</strong>" in text
    assert "<strong>1.00</strong>" in text
    assert RYY_LINE in text  # the public note the approver signs off


def test_the_public_correction_note_lists_what_changed(
    ryy_correction: tuple[Release, Release],
    maker: Any,
    checker: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    published, correction = ryy_correction
    lifecycle.submit(correction, maker)
    stored_note = correction.correction_note
    lifecycle.approve(correction, checker)
    with django_capture_on_commit_callbacks(execute=True):
        lifecycle.publish_now(correction, checker)

    assert correction.correction_note.startswith(REASON + "\n\nWhat changed since revision 1:\n")
    assert f"- {RYY_LINE}; Effectiveness and experience domain score 2.06 → 1.00" in (
        correction.correction_note
    )
    assert "No value, score, segment or rank changed" not in correction.correction_note

    client = Client()
    for url in (
        reverse("public:trust", args=["RYY"]),
        correction.get_absolute_url(),
        reverse("public:releases"),
    ):
        html = client.get(url).content.decode()
        note = html[html.index(escape(REASON)) :]
        assert "What changed since revision 1:" in note, url
        items = re.findall(r"<li>([^<]*)</li>", note[: note.index("</ul>")])
        assert items[0].startswith(RYY_LINE), url
        assert "average score 1.53 → 1.38" in items[0], url
        # A list, not text with dashes: no item or line starts with "- ".
        assert not any(item.startswith("-") for item in items), url
        assert not re.search(r"(^|>|\n)\s*- ", note[: note.index("</ul>")]), url
    # Another trust's page names no other trust's figures: it says its own did not change.
    unchanged = (
        correction.trust_results.exclude(
            trust__ods_code__in=re.findall(r"\((\w+)\): ", stored_note)
        )
        .values_list("trust__ods_code", flat=True)
        .first()
    )
    html = client.get(reverse("public:trust", args=[unchanged])).content.decode()
    note = html[html.index(escape(REASON)) :]
    assert "<li>This trust&#x27;s figures did not change.</li>" in note
    assert "changes are listed with the table.</li>" in note
    assert "(RYY)" not in note
    [entry] = [
        e
        for e in feedparser.parse(client.get("/releases/feed.atom").content).entries
        if e.title.startswith("Corrected")
    ]
    assert f"What changed since revision 1: {RYY_LINE}" in entry.summary
    assert " - " not in entry.summary
    superseded = client.get(
        reverse(
            "public:league-table-revision",
            kwargs={
                "peer_group": published.peer_group.slug,
                "quarter": published.quarter.slug,
                "revision": published.revision,
            },
        )
    ).content.decode()
    assert "Revision 1 was superseded by a correction" in superseded
    assert RYY_LINE in superseded


def test_the_review_warns_of_a_value_that_kept_its_supplied_score(
    release: Release, move: Callable, maker: Any, checker: Any
) -> None:
    """Data stored before imports refused this (or confirmed in the admin) still shows."""
    published = move(release, Status.PUBLISHED)
    correction = lifecycle.start_correction(published, maker, "A value was misreported.")
    observation = (
        Observation.objects.filter(quarter=published.quarter, supplied_score__isnull=False)
        .exclude(value=None)
        .select_related("trust", "metric")
        .order_by("trust__ods_code", "metric__code")
        .first()
    )
    Observation.objects.filter(pk=observation.pk).update(value=observation.value + 10)
    compute(correction.pk)

    page = signed_in(checker).get(reverse("admin:releases_release_review", args=[correction.pk]))

    [(trust, kept)] = page.context["review"].correction.changes.scores_kept
    assert (trust.trust, kept.metric) == (observation.trust, observation.metric)
    text = page.content.decode()
    assert "1 value changed but kept its score" in text
    assert f"{observation.trust.ods_code} {observation.metric.code}" in text


def test_the_review_warns_when_a_correction_changes_nothing(
    release: Release, move: Callable, maker: Any, checker: Any
) -> None:
    published = move(release, Status.PUBLISHED)
    correction = lifecycle.start_correction(published, maker, "Wrong file, we thought.")
    compute(correction.pk)
    correction.refresh_from_db()

    page = signed_in(checker).get(reverse("admin:releases_release_review", args=[correction.pk]))

    assert "Nothing differs from revision 1" in page.content.decode()
    lifecycle.submit(correction, maker)
    assert correction.correction_note.endswith(
        "What changed since revision 1:\n- No value, score, segment or rank changed."
    )


def test_a_correction_that_moves_a_trust_lists_every_rank_and_segment_that_changed(
    release: Release, move: Callable, maker: Any, checker: Any
) -> None:
    published = move(release, Status.PUBLISHED)
    correction = lifecycle.start_correction(published, maker, "The top trust's scores were wrong.")
    top = published.trust_results.order_by("rank").first()
    Observation.objects.filter(
        quarter=published.quarter, trust=top.trust, supplied_score__isnull=False
    ).update(supplied_score=Decimal(4))
    compute(correction.pk)
    correction.refresh_from_db()

    changes = (
        signed_in(checker)
        .get(reverse("admin:releases_release_review", args=[correction.pk]))
        .context["review"]
        .correction.changes
    )

    moved = changed_ranks(published, correction)
    assert len(moved) > 1  # the top trust fell, and others rose
    table = {(t.trust.ods_code, c.label): (c.before, c.after) for t, c in changes.table_changes}
    assert {code for code, label in table if label == "rank"} == set(moved)
    assert table[(top.trust.ods_code, "segment")] == (str(top.segment), "4")
    assert changes.trusts[0].trust == top.trust  # the trust whose data changed comes first
    assert all(change.score_after == "4.00" for change in changes.trusts[0].metrics)
    lifecycle.submit(correction, maker)
    for code in moved:
        assert f"({code}): " in correction.correction_note
