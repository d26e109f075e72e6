"""Learning from peers, and the rank chart drawn against the whole peer group."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.test import Client

from releases.models import MetricResult, Release, TrustResult
from tests.public.conftest import publish
from trusts.models import Trust

pytestmark = pytest.mark.django_db


def lessons_of(html: str) -> str:
    start = html.index('id="learning-from-peers"')
    return html[start : html.index("Segment and rank over time", start)]


def test_each_of_the_three_weakest_metrics_names_the_best_peers_same_subtype_first(
    client: Client, draft: Release
) -> None:
    trust = Trust.objects.get(ods_code="T001")
    own = {
        r.metric.code: r
        for r in MetricResult.objects.filter(release=draft, trust=trust).select_related("metric")
        if r.score is not None
    }
    # The metrics the trust scores worst on, as the page must pick them.
    weakest = sorted(own.values(), key=lambda r: (-r.score, r.metric.code))[:3]
    publish(draft)

    html = client.get("/trusts/T001/").content.decode()
    lessons = lessons_of(html)
    codes = re.findall(r"\((OF\d+)\)</span></h3>", lessons)
    assert codes == [r.metric.code for r in weakest]
    for result in weakest:
        section = lessons[lessons.index(f"({result.metric.code})") :]
        section = section[: section.index("</ul>")] if "</ul>" in section else section
        named = re.findall(r'href="/trusts/(T\d+)/"', section)
        assert 1 <= len(named) <= 3 and "T001" not in named
        peers = {
            r.trust.ods_code: r
            for r in MetricResult.objects.filter(
                release=draft, metric=result.metric
            ).select_related("trust")
        }
        # Every trust named scores better than T001 on the metric.
        assert all(peers[code].score < result.score for code in named)
        best = min(r.score for code, r in peers.items() if code != "T001")
        # The best score among the peers is always among those named (unless three trusts of
        # the same subtype in the best quarter come first).
        named_scores = [peers[code].score for code in named]
        same_subtype_first = all(peers[c].trust.subtype == trust.subtype for c in named)
        assert best in named_scores or same_subtype_first


def test_a_trust_at_the_best_score_everywhere_has_nothing_to_learn(
    client: Client, draft: Release
) -> None:
    trust = Trust.objects.get(ods_code="T002")
    MetricResult.objects.filter(release=draft, trust=trust, score__isnull=False).update(
        score=Decimal("1.0")
    )
    publish(draft)
    assert 'id="learning-from-peers"' not in client.get("/trusts/T002/").content.decode()


def test_the_rank_axis_runs_to_the_number_of_peers_with_likely_ranges_and_segments(
    client: Client, draft: Release
) -> None:
    TrustResult.objects.filter(release=draft, trust__ods_code="T003").update(
        rank=2, rank_low=1, rank_high=5, segment=2
    )
    publish(draft)
    ranked = TrustResult.objects.filter(release=draft, rank__isnull=False).count()

    html = client.get("/trusts/T003/").content.decode()
    chart = html[html.index('<figure class="lt-chart') : html.index("</figure>")]
    assert f">{ranked}th</text>" in chart  # the bottom of the axis: the last of the peers
    assert ">1st</text>" in chart
    assert chart.count('class="lt-chart__range"') == 1  # the likely range, 1st to 5th
    assert ">Segment 2</text>" in chart
    # The table alternative gives the same figures.
    assert f"2 of {ranked} (1 to 5)" in html
