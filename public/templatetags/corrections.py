"""A correction note as the public reads it: the regulator's words, then what changed as a list.

The stored note ends with the generated list of changes ("- RYY: segment 2 → 1" lines) so the
downloads and the feed carry it as plain text; on a page those lines are a bulleted list, not
text with stray dashes.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from releases.corrections import NOTHING_CHANGED, note_parts

register = template.Library()


@register.filter
def correction_note(note: str, trust_code: str = "") -> SafeString:
    """The note with its changes as a list; with `trust_code` (on a trust's own page), only
    that trust's changes, and how many other trusts' the table lists."""
    parts = note_parts(note)
    html = format_html("{}", parts.written)
    if not parts.heading:
        return html
    items = parts.items
    if trust_code:
        items = [item for item in parts.items if is_about(item, trust_code)]
        others = sum(
            1 for item in parts.items if not is_about(item, trust_code) and item != NOTHING_CHANGED
        )
        if not items and others:
            items = ["This trust's figures did not change."]
        if others:
            who = "1 other trust's" if others == 1 else f"{others} other trusts'"
            items.append(f"{who} changes are listed with the table.")
        if not items:
            items = [NOTHING_CHANGED]
    return format_html(
        '{} <span class="lt-changes">{}</span><ul class="nhsuk-list nhsuk-list--bullet">{}</ul>',
        html,
        parts.heading,
        format_html_join("", "<li>{}</li>", ((item,) for item in items)),
    )


def is_about(item: str, trust_code: str) -> bool:
    """Whether a listed change is a trust's: "Name (RYY): ..." or, in older notes, "RYY: ..."."""
    return f"({trust_code}): " in item or item.startswith(f"{trust_code}: ")
