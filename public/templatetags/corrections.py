"""A correction note as the public reads it: the regulator's words, then what changed as a list.

The stored note ends with the generated list of changes ("- RYY: segment 2 → 1" lines) so the
downloads and the feed carry it as plain text; on a page those lines are a bulleted list, not
text with stray dashes.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from releases.corrections import note_parts

register = template.Library()


@register.filter
def correction_note(note: str) -> SafeString:
    parts = note_parts(note)
    html = format_html("{}", parts.written)
    if not parts.heading:
        return html
    return format_html(
        '{} <span class="lt-changes">{}</span><ul class="nhsuk-list nhsuk-list--bullet">{}</ul>',
        html,
        parts.heading,
        format_html_join("", "<li>{}</li>", ((item,) for item in parts.items)),
    )
