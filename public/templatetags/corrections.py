"""A correction note as the public reads it: the regulator's words, then what changed as a list.

The stored note ends with the generated list of changes ("- RYY: segment 2 → 1" lines) so the
downloads and the feed carry it as plain text; on a page those lines are a bulleted list, not
text with stray dashes.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from releases.services.lifecycle import CHANGES_HEADING

register = template.Library()


@register.filter
def correction_note(note: str) -> SafeString:
    written, heading, changes = (note or "").partition(CHANGES_HEADING)
    html = format_html("{}", written.strip())
    if not heading:
        return html
    title, _, listed = changes.partition("\n")
    items = [line.strip().removeprefix("- ") for line in listed.splitlines() if line.strip()]
    return format_html(
        '{} <span class="lt-changes">{}{}</span><ul class="nhsuk-list nhsuk-list--bullet">{}</ul>',
        html,
        heading,
        title,
        format_html_join("", "<li>{}</li>", ((item,) for item in items)),
    )
