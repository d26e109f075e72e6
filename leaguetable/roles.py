"""The three roles, as Django groups with every app's permissions.

Kept as data so the migration that creates them and the tests that check them agree. The
project package is the one place that knows every app, so the table lives here; the apps check
permissions, never group names.

Regulators work in the admin; board members hold no interventions permission and use the trust
area instead, where scoped querysets decide what they see (see interventions/README.md).
"""

ANALYST = "Regulator analyst"
APPROVER = "Regulator approver"
BOARD_MEMBER = "Trust board member"

_VIEW_ALL = [
    "trusts.view_region",
    "trusts.view_peergroup",
    "trusts.view_trust",
    "trusts.view_contextmeasure",
    "trusts.view_boardmembership",
    "metrics.view_quarter",
    "metrics.view_framework",
    "metrics.view_domain",
    "metrics.view_metric",
    "metrics.view_metricdefinition",
    "metrics.view_thresholds",
    "metrics.view_importrun",
    "metrics.view_observation",
    "metrics.view_trustquarterstatus",
    "metrics.view_complaintsyear",
    "metrics.view_surveysectionresult",
    "releases.view_release",
    "releases.view_trustresult",
    "releases.view_metricresult",
    "releases.view_metricpeerstatistics",
]

_RELEASES: dict[str, list[str]] = {
    ANALYST: [
        *_VIEW_ALL,
        "metrics.add_importrun",
        "metrics.add_observation",
        "metrics.change_observation",
        "metrics.change_trustquarterstatus",
        "metrics.add_trustquarterstatus",
        "metrics.change_thresholds",
        "metrics.add_thresholds",
        "metrics.change_metricdefinition",
        "metrics.change_framework",
        "trusts.change_trust",
        "trusts.add_trust",
        "releases.add_release",
        "releases.change_release",
        "releases.compute_release",
        "releases.submit_release",
    ],
    APPROVER: [
        *_VIEW_ALL,
        "releases.change_release",
        "releases.approve_release",
        "releases.publish_release",
        "releases.withdraw_release",
        "metrics.change_trustquarterstatus",
    ],
    BOARD_MEMBER: [
        "releases.preview_release",
    ],
}


_VIEW = [
    "interventions.view_freedomtype",
    "interventions.view_freedomgrant",
    "interventions.view_supportplan",
    "interventions.view_supportaction",
    "interventions.view_actionupdate",
    "interventions.view_exitcriterion",
    "interventions.view_criterionevaluation",
]
# Analysts run plans day to day (objectives, actions, criteria); approvers also decide: confirm,
# decline, review, revoke and close. Nobody deletes: the history is the record.
_RUN_PLANS = [
    "interventions.change_supportplan",
    "interventions.add_supportaction",
    "interventions.change_supportaction",
    "interventions.add_actionupdate",
    "interventions.add_exitcriterion",
    "interventions.change_exitcriterion",
    "interventions.change_freedomgrant",
]

_INTERVENTIONS: dict[str, list[str]] = {
    ANALYST: [*_VIEW, *_RUN_PLANS],
    APPROVER: [
        *_VIEW,
        *_RUN_PLANS,
        "interventions.add_freedomtype",
        "interventions.change_freedomtype",
        "interventions.decide_freedomgrant",
        "interventions.decide_supportplan",
    ],
}

ROLE_PERMISSIONS: dict[str, list[str]] = {
    role: [*_RELEASES.get(role, []), *_INTERVENTIONS.get(role, [])]
    for role in (ANALYST, APPROVER, BOARD_MEMBER)
}
