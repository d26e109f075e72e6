"""Reference lists that do not change between quarters: regions and peer groups.

Kept in one place so the data migration, the importers and the tests agree on them.
"""

# slug, name, name as NHS England's league tables write it
REGIONS: list[tuple[str, str, str]] = [
    ("east-of-england", "East of England", "East"),
    ("london", "London", "London"),
    ("midlands", "Midlands", "Midlands"),
    ("north-east-and-yorkshire", "North East and Yorkshire", "North East and Yorkshire"),
    ("north-west", "North West", "North West"),
    ("south-east", "South East", "South East"),
    ("south-west", "South West", "South West"),
]

# How the different NHS files spell the regions, normalised to upper case without the
# "COMMISSIONING REGION" / "NHS ENGLAND" wrapping, mapped to our slugs.
REGION_ALIASES: dict[str, str] = {
    "EAST OF ENGLAND": "east-of-england",
    "EAST": "east-of-england",
    "LONDON": "london",
    "MIDLANDS": "midlands",
    "NORTH EAST AND YORKSHIRE": "north-east-and-yorkshire",
    "NORTH WEST": "north-west",
    "SOUTH EAST": "south-east",
    "SOUTH WEST": "south-west",
}

# slug, name, description, trust type as the league table CSV writes it
PEER_GROUPS: list[tuple[str, str, str, str]] = [
    (
        "acute",
        "Acute trusts",
        "Hospital trusts providing emergency and planned care.",
        "Acute trust",
    ),
    (
        "mental-health-community",
        "Mental health and community trusts",
        "Trusts providing mental health, learning disability and community services.",
        "Mental health and community trust",
    ),
    (
        "ambulance",
        "Ambulance trusts",
        "Trusts providing emergency ambulance services and 111.",
        "Ambulance trust",
    ),
]

# ERIC `Trust Type` -> (peer group slug, subtype shown on the public pages).
TRUST_TYPES: dict[str, tuple[str, str]] = {
    "ACUTE - TEACHING": ("acute", "Teaching"),
    "ACUTE - LARGE": ("acute", "Large"),
    "ACUTE - MEDIUM": ("acute", "Medium"),
    "ACUTE - SMALL": ("acute", "Small"),
    "ACUTE - SPECIALIST": ("acute", "Specialist"),
    "ACUTE - MULTI-SERVICE": ("acute", "Multi-service"),
    "MENTAL HEALTH AND LEARNING DISABILITY": (
        "mental-health-community",
        "Mental Health and Learning Disability",
    ),
    "COMMUNITY": ("mental-health-community", "Community"),
    "CARE TRUST": ("mental-health-community", "Care Trust"),
    "AMBULANCE": ("ambulance", "Ambulance"),
}


def region_slug(name: str) -> str | None:
    """The region slug for a region as any NHS file writes it, or None if unrecognised."""
    key = " ".join(name.upper().split())
    for wrapper in ("COMMISSIONING REGION", "NHS ENGLAND", "REGION"):
        key = key.replace(wrapper, " ")
    return REGION_ALIASES.get(" ".join(key.split()))
