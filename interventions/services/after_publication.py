"""What interventions do when a release is published or withdrawn.

Each step is its own transaction and is idempotent, so a signal delivered twice, or a task run
again after a failure part-way, leaves exactly one proposal and one evaluation of each kind.
"""

from dataclasses import dataclass

from interventions.services import freedoms, support
from releases.models import Release


@dataclass(frozen=True)
class PublicationOutcome:
    freedoms_proposed: int
    plans_proposed: int
    criteria_evaluated: int
    freedoms_flagged: int
    proposals_superseded: int
    escalations_proposed: int


def handle_release_published(release: Release) -> PublicationOutcome:
    # Evaluate before proposing, so a plan proposed on this table is not judged by it (the
    # evaluation skips such plans anyway; the order just makes the intent plain).
    evaluated = support.evaluate_exit_criteria(release)
    flagged = freedoms.flag_reviews_for_release(release)
    # Supersede before proposing: the new table's proposals then never sit beside an older
    # table's, so no trust has a plan proposed and freedoms proposed at once.
    superseded = freedoms.supersede_earlier_proposals(release)
    superseded_plans = support.supersede_earlier_proposals(release)
    escalated = support.propose_escalations(release)
    proposed_freedoms = freedoms.propose_for_release(release)
    proposed_plans = support.propose_for_release(release)
    return PublicationOutcome(
        freedoms_proposed=len(proposed_freedoms),
        plans_proposed=len(proposed_plans),
        criteria_evaluated=len(evaluated),
        freedoms_flagged=len(flagged),
        proposals_superseded=len(superseded) + len(superseded_plans),
        escalations_proposed=len(escalated),
    )


def handle_release_withdrawn(release: Release) -> int:
    """Decline what the withdrawn table proposed and nobody has decided yet."""
    declined = freedoms.decline_proposals_of_withdrawn(release)
    declined_plans = support.decline_proposals_of_withdrawn(release)
    return len(declined) + len(declined_plans)
