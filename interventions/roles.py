"""What each role may do with interventions, as data for the migration that grants it.

Regulators work in the admin; board members have none of these permissions and use the trust
area instead, where scoped querysets decide what they see (see the README of this app).
"""

from leaguetable.roles import ANALYST, APPROVER

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

INTERVENTION_PERMISSIONS: dict[str, list[str]] = {
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
