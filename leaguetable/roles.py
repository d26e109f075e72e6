"""The three roles, as Django groups with their permissions.

Kept as data so the migration that creates them and the tests that check them agree.
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
    "leaguetable.view_release",
    "leaguetable.view_trustresult",
    "leaguetable.view_metricresult",
    "leaguetable.view_metricpeerstatistics",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
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
        "leaguetable.add_release",
        "leaguetable.change_release",
        "leaguetable.compute_release",
        "leaguetable.submit_release",
    ],
    APPROVER: [
        *_VIEW_ALL,
        "leaguetable.change_release",
        "leaguetable.approve_release",
        "leaguetable.publish_release",
        "leaguetable.withdraw_release",
        "metrics.change_trustquarterstatus",
    ],
    BOARD_MEMBER: [
        "leaguetable.preview_release",
    ],
}
