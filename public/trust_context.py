"""What a trust page shows beside the scores and is never scored: patient feedback and size.

Critics of league tables say they strip out context. Each figure here stands beside the
median of the trust's peer group (the trusts it is ranked against), with its source and date,
so a reader can judge a number against trusts like it. Reads only; a fixed number of queries
per page whatever the number of trusts.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet

from metrics.imports.ae import AE_ATTENDANCES_KEY
from metrics.models import ComplaintsYear, SurveySectionResult
from public.figures import shown
from trusts.models import ContextMeasure, Trust

SITES_KEY = "sites-total"
COMPLAINTS_SOURCE = "NHS England, Data on Written Complaints in the NHS (KO41a)"
SURVEY_SOURCE = "Care Quality Commission, NHS Patient Survey Programme"
SURVEY_BENCHMARKS_URL = (
    "https://nhssurveys.org/all-files/02-adults-inpatients/05-benchmarks-reports/"
)
BETTER_BANDS = frozenset(
    {
        SurveySectionResult.Band.SOMEWHAT_BETTER,
        SurveySectionResult.Band.BETTER,
        SurveySectionResult.Band.MUCH_BETTER,
    }
)
WORSE_BANDS = frozenset(
    {
        SurveySectionResult.Band.MUCH_WORSE,
        SurveySectionResult.Band.WORSE,
        SurveySectionResult.Band.SOMEWHAT_WORSE,
    }
)


def median(values: Iterable[float | Decimal | int]) -> float | None:
    numbers = [float(value) for value in values]
    return statistics.median(numbers) if numbers else None


@dataclass
class Fact:
    """One contextual figure beside its peer median, with where and when it comes from."""

    label: str
    value: float | None
    peer_median: float | None
    peers: int
    unit: str
    source: str
    period: str
    link: str = ""

    def display(self, number: float | None) -> str:
        if number is None:
            return "–"
        if self.unit == "%":
            return f"{number:.0f}%"
        if self.unit == "score":
            return f"{number:.1f}"
        # Half up to 2 d.p., as the estates table beside it shows the same median (59.5, not
        # Python's round-half-even 60).
        text = f"{shown(number):,f}"
        return text.rstrip("0").rstrip(".") if "." in text else text

    @property
    def value_display(self) -> str:
        return self.display(self.value)

    @property
    def median_display(self) -> str:
        return self.display(self.peer_median)


@dataclass
class SurveySection:
    result: SurveySectionResult
    peer_median: float | None
    peers: int


@dataclass
class Survey:
    name: str
    year: str
    respondents: int | None
    sections: list[SurveySection]
    better: int
    worse: int

    @property
    def source(self) -> str:
        return f"{SURVEY_SOURCE}, {self.name} {self.year}"


@dataclass
class PatientFeedback:
    complaints: ComplaintsYear | None = None
    complaint_facts: list[Fact] = field(default_factory=list)
    surveys: list[Survey] = field(default_factory=list)
    # The peer group's survey bands by (survey, year): {trust id: [band, ...]}.
    peer_bands: dict[tuple[str, str], dict[int, list[int]]] = field(default_factory=dict)

    @property
    def has_any(self) -> bool:
        return bool(self.complaints or self.surveys)


def patient_feedback(trust: Trust, peers: QuerySet | None = None) -> PatientFeedback:
    """The trust's latest complaints year and survey results, beside its peers' medians.

    `peers`: the trust ids to take medians over (public.selectors.peer_trust_ids, the trust's
    own among them); its peer group as it is now if not given. One query for the peers'
    complaints and one for their survey results.
    """
    feedback = PatientFeedback()
    if peers is None:
        peers = Trust.objects.filter(peer_group_id=trust.peer_group_id).values("pk")
    peer_complaints = list(ComplaintsYear.objects.filter(trust_id__in=peers).order_by("-year"))
    own_complaints = [c for c in peer_complaints if c.trust_id == trust.pk]
    if own_complaints:
        complaints = feedback.complaints = own_complaints[0]
        feedback.complaint_facts = _complaint_facts(
            complaints, [c for c in peer_complaints if c.year == complaints.year]
        )
    peer_results = list(
        SurveySectionResult.objects.filter(trust_id__in=peers).order_by(
            "survey", "-year", "section"
        )
    )
    latest: dict[str, str] = {}
    for result in peer_results:
        if result.trust_id == trust.pk:
            latest.setdefault(result.survey, result.year)
    for name, year in latest.items():
        edition = [r for r in peer_results if r.survey == name and r.year == year]
        own = [r for r in edition if r.trust_id == trust.pk]
        peer_means: dict[str, list[Decimal]] = {}
        bands: dict[int, list[int]] = {}
        for result in edition:
            peer_means.setdefault(result.section, []).append(result.mean)
            bands.setdefault(result.trust_id, []).append(result.band)
        feedback.peer_bands[(name, year)] = bands
        feedback.surveys.append(
            Survey(
                name=name,
                year=year,
                respondents=own[0].respondents if own else None,
                sections=[
                    SurveySection(
                        r, median(peer_means.get(r.section, [])), len(peer_means.get(r.section, []))
                    )
                    for r in own
                ],
                better=sum(1 for r in own if r.band in BETTER_BANDS),
                worse=sum(1 for r in own if r.band in WORSE_BANDS),
            )
        )
    return feedback


def _complaint_facts(complaints: ComplaintsYear, peers: list[ComplaintsYear]) -> list[Fact]:
    shares = [p.upheld_share for p in peers if p.upheld_share is not None]
    own_share = complaints.upheld_share
    return [
        Fact(
            "New written complaints",
            complaints.new,
            median(p.new for p in peers),
            len(peers),
            "count",
            COMPLAINTS_SOURCE,
            complaints.year,
        ),
        Fact(
            "Resolved complaints upheld in full or in part",
            None if own_share is None else own_share * 100,
            None if not shares else median(shares) * 100,
            len(shares),
            "%",
            COMPLAINTS_SOURCE,
            complaints.year,
        ),
    ]


def size_facts(trust: Trust, peer_measures: list[ContextMeasure]) -> list[Fact]:
    """The trust's size: A&E attendances (only where it has an A&E) and its sites, from the
    peer group's context measures (the trust's own among them)."""
    measures = sorted(
        (
            m
            for m in peer_measures
            if m.key in (AE_ATTENDANCES_KEY, SITES_KEY) and m.value is not None
        ),
        key=lambda m: m.year,
        reverse=True,
    )
    facts = []
    for key in (AE_ATTENDANCES_KEY, SITES_KEY):
        own = [m for m in measures if m.key == key and m.trust_id == trust.pk]
        if not own:
            continue
        measure = own[0]
        peers = [
            m.value
            for m in measures
            if m.key == key
            and m.year == measure.year
            # Peers without an A&E are not what a reader compares A&E attendances with.
            and (key != AE_ATTENDANCES_KEY or m.value > 0)
        ]
        label, source, period = measure.label, measure.source, measure.year
        if key == SITES_KEY:
            label = "Sites (hospitals, clinics and other premises)"
            source = "NHS England, Estates Returns Information Collection (ERIC)"
        elif ", " in measure.source:
            # "NHS England, A&E attendances and emergency admissions, May 2026"
            source, period = measure.source.rsplit(", ", 1)
        facts.append(
            Fact(label, float(measure.value), median(peers), len(peers), "count", source, period)
        )
    return facts


def context_facts(
    trust: Trust, feedback: PatientFeedback, peer_measures: list[ContextMeasure]
) -> list[Fact]:
    """The short block at the top of a trust page: size, then what patients say."""
    facts = size_facts(trust, peer_measures)
    facts.extend(feedback.complaint_facts)
    for survey in feedback.surveys:
        bands = feedback.peer_bands[(survey.name, survey.year)]
        for words, chosen, own in (
            ("better", BETTER_BANDS, survey.better),
            ("worse", WORSE_BANDS, survey.worse),
        ):
            facts.append(
                Fact(
                    f"{survey.name}: sections {words} than expected (of {len(survey.sections)})",
                    own,
                    median(sum(b in chosen for b in trust_bands) for trust_bands in bands.values()),
                    len(bands),
                    "count",
                    f"{SURVEY_SOURCE}, {survey.name}",
                    survey.year,
                    link="#what-patients-say",
                )
            )
    return facts
