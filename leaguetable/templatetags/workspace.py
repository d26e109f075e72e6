"""The regulator's to-do list on the admin's front page (see leaguetable.workspace)."""

from typing import Any

from django import template

from leaguetable.workspace import regulator_todo as todo_for

register = template.Library()


@register.simple_tag(takes_context=True)
def regulator_todo(context: dict[str, Any]) -> dict[str, Any]:
    """{"sections": [...], "anything": bool}; no sections for a user with no regulator role."""
    sections = todo_for(context["request"].user)
    return {"sections": sections, "anything": any(section.items for section in sections)}
