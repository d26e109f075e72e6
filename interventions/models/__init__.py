"""Earned autonomy (freedoms) and support for struggling trusts (plans, actions, exit criteria)."""

from interventions.models.freedoms import FreedomGrant, FreedomType
from interventions.models.support import (
    ActionUpdate,
    CriterionEvaluation,
    ExitCriterion,
    ReminderSent,
    SupportAction,
    SupportPlan,
)

__all__ = [
    "ActionUpdate",
    "CriterionEvaluation",
    "ExitCriterion",
    "FreedomGrant",
    "FreedomType",
    "ReminderSent",
    "SupportAction",
    "SupportPlan",
]
