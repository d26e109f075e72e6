"""The default frameworks, as data.

NOF 2025/26 for mental health and community trusts is exactly as NHS England published it (see
METHODOLOGY.md). The acute and ambulance frameworks are realistic demonstrations: NHS England's
acute and ambulance metric lists are not in our data, so their metrics are plausible choices and
their values in the demo are synthetic, marked as such wherever they are stored and shown.

A data migration installs these once; after that they are the regulators' to edit in the admin.
"""

from collections.abc import Callable
from typing import Any

from django.utils import timezone

from metrics.scoring_params import validate_params

HIGHER = "higher"
LOWER = "lower"

DOMAINS: list[tuple[str, str]] = [
    ("access-to-services", "Access to services"),
    ("effectiveness-and-experience", "Effectiveness and experience"),
    ("patient-safety", "Patient safety"),
    ("people-and-workforce", "People and workforce"),
    ("finance-and-productivity", "Finance and productivity"),
]

# NHS England's IDs of each domain's score and segment rows in its data file.
DOMAIN_IDS: dict[str, tuple[str, str]] = {
    "access-to-services": ("OF4000", "OF4100"),
    "patient-safety": ("OF4002", "OF4102"),
    "finance-and-productivity": ("OF4003", "OF4103"),
    "people-and-workforce": ("OF4004", "OF4104"),
    "effectiveness-and-experience": ("OF4005", "OF4105"),
}

# METHODOLOGY section 4.6: domain thresholds (t1, t2, t3) chosen inside the intervals NHS
# England's published 2025/26 domain segments leave open (it did not publish the thresholds),
# so that replaying the published scores reproduces every published OF4100 to OF4105. Where
# the replayed unrounded domain score of a trust is a half-hundredth off its published 2 d.p.
# score, the threshold also keeps it on its published side.
MH_COMMUNITY_DOMAIN_THRESHOLDS: dict[int, dict[str, tuple[str, str, str]]] = {
    1: {
        "OF4000": ("1.82", "2.37", "2.87"),
        "OF4002": ("2.14", "2.56", "3.09"),
        "OF4003": ("1.76", "2.21", "2.69"),
        "OF4004": ("1.99", "2.53", "2.99"),
        "OF4005": ("1.89", "2.16", "2.45"),
    },
    2: {
        "OF4000": ("1.88", "2.38", "2.84"),
        "OF4002": ("2.13", "2.55", "3.05"),
        "OF4003": ("1.70", "2.19", "2.74"),
        "OF4004": ("2.04", "2.545", "3.05"),
        "OF4005": ("1.92", "2.19", "2.51"),
    },
    3: {
        "OF4000": ("1.89", "2.37", "2.90"),
        "OF4002": ("2.103", "2.48", "2.90"),
        "OF4003": ("1.74", "2.31", "2.84"),
        "OF4004": ("1.99", "2.53", "3.06"),
        "OF4005": ("1.90", "2.21", "2.51"),
    },
    4: {
        "OF4000": ("1.81", "2.225", "2.75"),
        "OF4002": ("2.05", "2.46", "3.09"),
        "OF4003": ("1.63", "2.13", "2.725"),
        "OF4004": ("1.96", "2.57", "3.04"),
        "OF4005": ("1.893", "2.22", "2.53"),
    },
}
MH_COMMUNITY_DOMAIN_THRESHOLD_SOURCE = (
    "Chosen inside the intervals NHS England's published 2025/26 domain segments leave open "
    "(METHODOLOGY 4.6); NHS England did not publish its domain thresholds."
)

DEMO_DOMAIN_THRESHOLD_SOURCE = (
    "Quartiles of the peer group's domain scores: a demonstration on synthetic values."
)

# code, score code, name, unit, direction, patient experience, synthetic
METRICS: list[tuple[str, str, str, str, str, bool, bool]] = [
    (
        "OF0005",
        "OF1005",
        "Percentage of patients waiting over 52 weeks for community services",
        "%",
        LOWER,
        False,
        False,
    ),
    (
        "OF0016",
        "OF1016",
        "Percentage of patients in mental health crisis to receive face-to-face "
        "contact within 24 hours",
        "%",
        HIGHER,
        False,
        False,
    ),
    (
        "OF1035",
        "OF1035",
        "CQC community mental health survey satisfaction rate",
        "score",
        LOWER,
        True,
        False,
    ),
    (
        "OF0041",
        "OF1041",
        "Annual change in the number of children and young people accessing NHS-funded MH services",
        "percentage points",
        HIGHER,
        False,
        False,
    ),
    ("OF0057", "OF1057", "Urgent Community Response 2-hour performance", "%", HIGHER, False, False),
    (
        "OF0061",
        "OF1061",
        "NHS Staff survey - raising concerns sub-score",
        "out of 10",
        HIGHER,
        False,
        False,
    ),
    (
        "OF0063",
        "OF1063",
        "Percentage of inpatients with >60 day length of stay",
        "%",
        LOWER,
        False,
        False,
    ),
    ("OF1067", "OF1067", "CQC safe inspection", "rating", LOWER, False, False),
    ("OF0079", "OF1079", "Planned surplus/deficit", "%", HIGHER, False, False),
    ("OF1080", "OF1080", "Combined finance", "score", LOWER, False, False),
    ("OF0081", "OF1081", "Variance year-to-date to financial plan", "%", HIGHER, False, False),
    ("OF0082", "OF1082", "Sickness absence rate", "%", LOWER, False, False),
    (
        "OF0084",
        "OF1084",
        "NHS staff survey engagement theme sub-score",
        "out of 10",
        HIGHER,
        False,
        False,
    ),
    ("OF0086", "OF1086", "Relative difference in costs", "%", LOWER, False, False),
    # Acute (demonstration; values synthetic except the real A&E sitrep month).
    ("AE4H", "", "A&E attendances seen within 4 hours", "%", HIGHER, False, False),
    (
        "AE12H",
        "",
        "Patients waiting over 12 hours from decision to admit, as a share of "
        "emergency admissions via A&E",
        "%",
        LOWER,
        False,
        False,
    ),
    (
        "RTT18",
        "",
        "Patients on the elective waiting list waiting under 18 weeks",
        "%",
        HIGHER,
        False,
        True,
    ),
    (
        "RTT52",
        "",
        "Patients on the elective waiting list waiting over 52 weeks",
        "%",
        LOWER,
        False,
        True,
    ),
    ("CAN28", "", "Cancer 28-day Faster Diagnosis Standard", "%", HIGHER, False, True),
    ("CAN62", "", "Cancer 62-day referral to treatment", "%", HIGHER, False, True),
    ("CDIFF", "", "C. difficile infections per 100,000 bed days", "rate", LOWER, False, True),
    (
        "ECOLI",
        "",
        "E. coli bloodstream infections per 100,000 bed days",
        "rate",
        LOWER,
        False,
        True,
    ),
    (
        "FFTIP",
        "",
        "Friends and Family Test: inpatients rating care good or very good",
        "%",
        HIGHER,
        True,
        True,
    ),
    (
        "FFTAE",
        "",
        "Friends and Family Test: A&E patients rating care good or very good",
        "%",
        HIGHER,
        True,
        True,
    ),
    # Ambulance (demonstration; values synthetic).
    ("AMBC1", "", "Category 1 mean response time", "minutes", LOWER, False, True),
    ("AMBC1P90", "", "Category 1 90th centile response time", "minutes", LOWER, False, True),
    ("AMBC2", "", "Category 2 mean response time", "minutes", LOWER, False, True),
    ("AMBHO", "", "Hospital handovers taking over 60 minutes", "%", LOWER, False, True),
    (
        "AMBFFT",
        "",
        "Friends and Family Test: ambulance patients rating care good or very good",
        "%",
        HIGHER,
        True,
        True,
    ),
]

FINANCE_BANDS_PLANNED = {
    "bands": [
        {"min": 0, "score": 1},
        {"min": -1, "score": 2},
        {"min": -2, "score": 3},
        {"min": None, "score": 4},
    ]
}
FINANCE_BANDS_VARIANCE = {
    "bands": [
        {"min": 0, "score": 1},
        {"min": -0.5, "score": 2},
        {"min": -1, "score": 3},
        {"min": None, "score": 4},
    ]
}
# The pairs seen in NHS England's published data (METHODOLOGY.md section 3). The others are
# unknown: a release that needs one refuses to compute until a regulator sets it.
COMBINED_FINANCE_PUBLISHED = {
    "1,1": 1,
    "1,2": 1,
    "1,3": 2,
    "1,4": 3,
    "2,1": 2,
    "3,1": 2,
    "3,2": 3,
    "3,4": 4,
    "4,1": 2,
    "4,2": 3,
    "4,4": 4,
}
# For the demonstration frameworks only: the unseen pairs completed by a stated assumption
# (the worse of the two scores), so synthetic data can be scored.
COMBINED_FINANCE_DEMO = {
    **COMBINED_FINANCE_PUBLISHED,
    "2,2": 2,
    "2,3": 3,
    "2,4": 4,
    "3,3": 3,
    "4,3": 4,
}
CQC_RATINGS = {
    "categories": {
        "Outstanding": 1,
        "Good": 2,
        "Requires improvement": 3,
        "Inadequate": 4,
    }
}

BANDS_ASSUMPTION = (
    "Band boundaries inferred from the published scores; where no published value lies near a "
    "boundary it is an assumption."
)
LOOKUP_ASSUMPTION = (
    "Only the pairs seen in NHS England's data are set; a release needing another pair refuses "
    "to compute until a regulator sets it."
)
DEMO_LOOKUP_ASSUMPTION = (
    "Pairs (2,2), (2,3), (2,4), (3,3), (4,3) are not published; set here to the worse of the two "
    "scores for the demonstration only."
)


def _finance(lookup: dict[str, int], assumption: str) -> list[dict[str, Any]]:
    return [
        {
            "code": "OF0079",
            "domain": "finance-and-productivity",
            "sub_domain": "Finance",
            "method": "banded",
            "params": FINANCE_BANDS_PLANNED,
            "counted": False,
            "assumptions": BANDS_ASSUMPTION,
        },
        {
            "code": "OF0081",
            "domain": "finance-and-productivity",
            "sub_domain": "Finance",
            "method": "banded",
            "params": FINANCE_BANDS_VARIANCE,
            "counted": False,
            "assumptions": BANDS_ASSUMPTION,
        },
        {
            "code": "OF1080",
            "domain": "finance-and-productivity",
            "sub_domain": "Finance",
            "method": "lookup",
            "params": {"inputs": ["OF0079", "OF0081"], "table": lookup},
            "assumptions": assumption,
        },
    ]


def _ranked(code: str, domain: str, sub_domain: str, pool: str = "peer") -> dict[str, Any]:
    return {
        "code": code,
        "domain": domain,
        "sub_domain": sub_domain,
        "method": "ranked",
        "pool": pool,
    }


NATIONAL_POOL_NOTE = (
    "NHS England ranks this metric over all trusts nationally that report it, so its published "
    "scores cannot be reproduced from the mental health and community file alone; releases "
    "use the published score."
)

FRAMEWORKS: list[dict[str, Any]] = [
    {
        "slug": "nof-2025-26-mental-health-community",
        "name": "NHS Oversight Framework 2025/26: mental health and community trusts",
        "peer_group": "mental-health-community",
        "description": "NHS England's published framework, reproduced from its 2025/26 data "
        "file and methodology.",
        "use_supplied_scores": True,
        "thresholds": {
            1: ("2.05", "2.325", "2.625"),
            2: ("2.065", "2.345", "2.665"),
            3: ("2.07", "2.355", "2.72"),
            4: ("2.065", "2.30", "2.585"),
        },
        "threshold_source": "Reproduces NHS England's published 2025/26 segments "
        "(derived from quartiles).",
        "definitions": [
            {
                **_ranked("OF0005", "access-to-services", "Elective care", "national"),
                "assumptions": NATIONAL_POOL_NOTE,
            },
            _ranked("OF0041", "access-to-services", "Mental health care"),
            {
                "code": "OF1035",
                "domain": "effectiveness-and-experience",
                "sub_domain": "Patient experience",
                "method": "supplied",
                "assumptions": "CQC survey banding, imported as published.",
            },
            _ranked("OF0057", "effectiveness-and-experience", "Effective out of hospital care"),
            _ranked("OF0063", "effectiveness-and-experience", "Effective flow and discharge"),
            {
                **_ranked("OF0016", "patient-safety", "Patient safety", "national"),
                "assumptions": NATIONAL_POOL_NOTE,
            },
            _ranked("OF0061", "patient-safety", "Patient safety"),
            {
                "code": "OF1067",
                "domain": "patient-safety",
                "sub_domain": "Patient safety",
                "method": "categorical",
                "params": CQC_RATINGS,
                "assumptions": "Only ratings awarded after August 2023 count.",
            },
            {
                **_ranked("OF0082", "people-and-workforce", "Retention and culture", "national"),
                "assumptions": NATIONAL_POOL_NOTE,
            },
            _ranked("OF0084", "people-and-workforce", "Retention and culture"),
            *_finance(COMBINED_FINANCE_PUBLISHED, LOOKUP_ASSUMPTION),
            _ranked("OF0086", "finance-and-productivity", "Productivity"),
        ],
    },
    {
        "slug": "demo-2025-26-acute",
        "name": "Demonstration framework 2025/26: acute trusts",
        "peer_group": "acute",
        "description": "A realistic acute framework for demonstration. Values are synthetic "
        "except the real A&E sitrep month.",
        "use_supplied_scores": False,
        "thresholds": {n: None for n in range(1, 5)},
        "threshold_source": "Quartiles of the acute peer group's average scores.",
        "definitions": [
            _ranked("AE4H", "access-to-services", "Urgent and emergency care"),
            _ranked("AE12H", "access-to-services", "Urgent and emergency care"),
            _ranked("RTT18", "access-to-services", "Elective care"),
            _ranked("RTT52", "access-to-services", "Elective care"),
            _ranked("CAN28", "access-to-services", "Cancer"),
            _ranked("CAN62", "access-to-services", "Cancer"),
            _ranked("FFTIP", "effectiveness-and-experience", "Patient experience"),
            _ranked("FFTAE", "effectiveness-and-experience", "Patient experience"),
            _ranked("CDIFF", "patient-safety", "Infection prevention"),
            _ranked("ECOLI", "patient-safety", "Infection prevention"),
            _ranked("OF0061", "patient-safety", "Patient safety"),
            _ranked("OF0082", "people-and-workforce", "Retention and culture"),
            _ranked("OF0084", "people-and-workforce", "Retention and culture"),
            *_finance(COMBINED_FINANCE_DEMO, DEMO_LOOKUP_ASSUMPTION),
        ],
    },
    {
        "slug": "demo-2025-26-ambulance",
        "name": "Demonstration framework 2025/26: ambulance trusts",
        "peer_group": "ambulance",
        "description": "A realistic ambulance framework for demonstration. Values are synthetic.",
        "use_supplied_scores": False,
        "thresholds": {n: None for n in range(1, 5)},
        "threshold_source": "Quartiles of the ambulance peer group's average scores.",
        "definitions": [
            _ranked("AMBC1", "access-to-services", "Urgent and emergency care"),
            _ranked("AMBC1P90", "access-to-services", "Urgent and emergency care"),
            _ranked("AMBC2", "access-to-services", "Urgent and emergency care"),
            _ranked("AMBHO", "effectiveness-and-experience", "Effective flow and discharge"),
            _ranked("AMBFFT", "effectiveness-and-experience", "Patient experience"),
            _ranked("OF0061", "patient-safety", "Patient safety"),
            _ranked("OF0082", "people-and-workforce", "Retention and culture"),
            _ranked("OF0084", "people-and-workforce", "Retention and culture"),
            *_finance(COMBINED_FINANCE_DEMO, DEMO_LOOKUP_ASSUMPTION),
        ],
    },
]

QUARTERS_2025_26: list[tuple[int, str, str]] = [
    (1, "2025-04-01", "2025-06-30"),
    (2, "2025-07-01", "2025-09-30"),
    (3, "2025-10-01", "2025-12-31"),
    (4, "2026-01-01", "2026-03-31"),
]


def install(apps: Any) -> None:
    """Create the default metrics, frameworks and 2025/26 quarters (used by a data migration)."""
    Metric = apps.get_model("metrics", "Metric")
    Framework = apps.get_model("metrics", "Framework")
    Domain = apps.get_model("metrics", "Domain")
    MetricDefinition = apps.get_model("metrics", "MetricDefinition")
    Thresholds = apps.get_model("metrics", "Thresholds")
    Quarter = apps.get_model("metrics", "Quarter")
    PeerGroup = apps.get_model("trusts", "PeerGroup")

    quarters = {}
    for number, start, end in QUARTERS_2025_26:
        quarters[number], _ = Quarter.objects.get_or_create(
            year_start=2025, number=number, defaults={"start_date": start, "end_date": end}
        )
    metrics = {}
    for code, score_code, name, unit, direction, experience, synthetic in METRICS:
        metrics[code], _ = Metric.objects.get_or_create(
            code=code,
            defaults={
                "score_code": score_code,
                "name": name,
                "unit": unit,
                "direction": direction,
                "is_patient_experience": experience,
                "is_synthetic": synthetic,
            },
        )
    for spec in FRAMEWORKS:
        framework, created = Framework.objects.get_or_create(
            slug=spec["slug"],
            version=1,
            defaults={
                "name": spec["name"],
                "description": spec["description"],
                "peer_group": PeerGroup.objects.get(slug=spec["peer_group"]),
                "status": "active",
                "use_supplied_scores": spec["use_supplied_scores"],
            },
        )
        if not created:
            continue
        framework.quarters.set(quarters.values())
        domains = {
            slug: Domain.objects.create(
                framework=framework, slug=slug, name=name, display_order=order
            )
            for order, (slug, name) in enumerate(DOMAINS)
        }
        for order, definition in enumerate(spec["definitions"]):
            # Historical models skip MetricDefinition.save(), so the migration checks here.
            validate_params(
                definition["method"],
                definition.get("params", {}),
                metrics.keys(),
                metric=definition["code"],
            )
            MetricDefinition.objects.create(
                framework=framework,
                metric=metrics[definition["code"]],
                domain=domains[definition["domain"]],
                sub_domain=definition["sub_domain"],
                method=definition["method"],
                params=definition.get("params", {}),
                pool=definition.get("pool", "peer"),
                counted=definition.get("counted", True),
                assumptions=definition.get("assumptions", ""),
                display_order=order,
            )
        for number, values in spec["thresholds"].items():
            if values is None:
                Thresholds.objects.create(
                    framework=framework,
                    quarter=quarters[number],
                    method="quartiles",
                    source=spec["threshold_source"],
                )
            else:
                t1, t2, t3 = values
                Thresholds.objects.create(
                    framework=framework,
                    quarter=quarters[number],
                    method="fixed",
                    t1=t1,
                    t2=t2,
                    t3=t3,
                    source=spec["threshold_source"],
                )


def install_domain_ids(apps: Any) -> None:
    """Give the default domains NHS England's IDs (used by a data migration)."""
    Domain = apps.get_model("metrics", "Domain")
    for slug, (score_code, segment_code) in DOMAIN_IDS.items():
        Domain.objects.filter(slug=slug, score_code="").update(
            score_code=score_code, segment_code=segment_code
        )


def install_domain_thresholds(
    apps: Any, is_fixed: Callable[[Any, Any], bool] = lambda framework, quarter: False
) -> int:
    """Domain thresholds for the 2025/26 quarters, where none are set yet: for the MH&C
    framework the ones that reproduce NHS England's published domain segments; for the
    demonstration frameworks quartiles of the peer group's domain scores, labelled as such.
    `is_fixed(framework, quarter)` says where a signed-off release forbids adding any. Returns
    how many were set."""
    DomainThresholds = apps.get_model("metrics", "DomainThresholds")
    Framework = apps.get_model("metrics", "Framework")
    created = 0
    for spec in FRAMEWORKS:
        framework = Framework.objects.filter(slug=spec["slug"], version=1).first()
        if framework is None:
            continue
        fixed = MH_COMMUNITY_DOMAIN_THRESHOLDS if spec is FRAMEWORKS[0] else {}
        for quarter in framework.quarters.filter(year_start=2025):
            if is_fixed(framework, quarter):
                # A signed-off release used this quarter's framework as it was; a correction
                # of it, or the next framework version, can take domain thresholds.
                continue
            by_domain = fixed.get(quarter.number, {})
            for domain in framework.domains.all():
                values = by_domain.get(domain.score_code)
                defaults: dict[str, Any] = (
                    {
                        "method": "fixed",
                        "t1": values[0],
                        "t2": values[1],
                        "t3": values[2],
                        "source": MH_COMMUNITY_DOMAIN_THRESHOLD_SOURCE,
                    }
                    if values
                    else {"method": "quartiles", "source": DEMO_DOMAIN_THRESHOLD_SOURCE}
                )
                _, made = DomainThresholds.objects.get_or_create(
                    framework=framework, quarter=quarter, domain=domain, defaults=defaults
                )
                created += made
    return created


# Valid ranges by unit: a percentage is 0 to 100, a score 1 to 4, a count, rate or time 0 or
# more. Metrics whose values may fall outside their unit's usual range say so here.
UNIT_RANGES: dict[str, tuple[int | None, int | None]] = {
    "%": (0, 100),
    "out of 10": (0, 10),
    "score": (1, 4),
    "rate": (0, None),
    "minutes": (0, None),
    "count": (0, None),
}
METRIC_RANGES: dict[str, tuple[int | None, int | None]] = {
    # Surplus or deficit and its variance from plan, as a share of income: either sign.
    "OF0079": (-100, 100),
    "OF0081": (-100, 100),
    # Costs relative to the expected: 138% is a trust a third more costly than expected.
    "OF0086": (0, None),
    # An annual change in the number of people seen: a fall is at most 100%, a rise unbounded.
    "OF0041": (-100, None),
}


def default_range(code: str, unit: str) -> tuple[int | None, int | None]:
    """The valid range a metric starts with; regulators edit it in the admin."""
    if code in METRIC_RANGES:
        return METRIC_RANGES[code]
    return UNIT_RANGES.get(unit, (None, None))


def set_default_ranges(apps: Any) -> None:
    """Give every metric without a range its default (used by a data migration)."""
    Metric = apps.get_model("metrics", "Metric")
    for metric in Metric.objects.filter(minimum__isnull=True, maximum__isnull=True):
        metric.minimum, metric.maximum = default_range(metric.code, metric.unit)
        metric.save(update_fields=["minimum", "maximum"])


# Which trust subtypes an MH&C metric measures, where it is not every subtype (METHODOLOGY 2).
# Read from NHS England's 2025/26 data file: of its 14 community trusts none reports these three
# in any quarter, except R1A (Herefordshire and Worcestershire Health and Care, which also runs
# mental health services: all three) and RYV (crisis care, Q2 and Q3 only), while 44 of the 45
# mental health trusts and the care trusts do. A community trust that reports one is scored on
# it, as NHS England scores it. tests/metrics/test_applicability_data.py checks this against the
# file. Every other metric is reported by trusts of every subtype and applies to all.
MENTAL_HEALTH_SUBTYPES = ["Mental Health and Learning Disability", "Care Trust"]
MH_COMMUNITY_APPLICABILITY: dict[str, tuple[list[str], str]] = {
    "OF0016": (MENTAL_HEALTH_SUBTYPES, "a mental health crisis service"),
    "OF0063": (MENTAL_HEALTH_SUBTYPES, "mental health inpatient care"),
    "OF1035": (MENTAL_HEALTH_SUBTYPES, "a survey of community mental health services"),
}


APPLICABILITY_REASON = (
    "Applies to mental health and care trusts: read from NHS England's 2025/26 data file"
)


def install_applicability(apps: Any, is_fixed: Callable[[Any], bool]) -> int:
    """Say which subtypes the MH&C framework's mental health metrics apply to, on each version
    no signed-off release has fixed (`is_fixed(framework)`) and where a regulator has not said
    already (used by a data migration). Returns how many definitions were set."""
    Framework = apps.get_model("metrics", "Framework")
    MetricDefinition = apps.get_model("metrics", "MetricDefinition")
    History = apps.get_model("metrics", "HistoricalMetricDefinition")
    fields = [field.attname for field in MetricDefinition._meta.concrete_fields]
    updated = 0
    for framework in Framework.objects.filter(slug=FRAMEWORKS[0]["slug"]):
        if is_fixed(framework):
            # Its published tables keep saying what they said; a new version can say more.
            continue
        for code, (subtypes, note) in MH_COMMUNITY_APPLICABILITY.items():
            for definition in MetricDefinition.objects.filter(
                framework=framework, metric__code=code, not_applicable_note=""
            ):
                if definition.applies_to_subtypes:
                    continue
                definition.applies_to_subtypes = subtypes
                definition.not_applicable_note = note
                definition.save(update_fields=["applies_to_subtypes", "not_applicable_note"])
                # Historical models bypass simple-history: the change is recorded here.
                History.objects.create(
                    **{name: getattr(definition, name) for name in fields},
                    history_date=timezone.now(),
                    history_type="~",
                    history_change_reason=APPLICABILITY_REASON,
                )
                updated += 1
    return updated
