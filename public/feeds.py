"""The Atom feed of publications: every published revision, correction and withdrawal."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from public import selectors
from releases.corrections import note_parts
from releases.models import Release
from releases.synthetic import releases_with_synthetic_values

SYNTHETIC_NOTE = (
    " Contains synthetic values: generated for demonstration, not published NHS data, as are "
    "the scores, segments and ranks computed from them."
)

FEED_LENGTH = 50


class ReleasesFeed(Feed):
    feed_type = Atom1Feed
    title = "NHS trust league tables: publications"
    # Atom needs an author for every entry; the publisher is the portal's regulator.
    author_name = "NHS trust league tables"
    subtitle = (
        "Every published league table, correction and withdrawal. Contains public sector "
        "information licensed under the Open Government Licence v3.0."
    )

    def link(self) -> str:
        return reverse("public:releases")

    def items(self) -> list[Release]:
        items = list(selectors.visible_releases().order_by("-published_at", "-pk")[:FEED_LENGTH])
        synthetic = releases_with_synthetic_values(
            item for item in items if item.status != Release.Status.WITHDRAWN
        )
        for item in items:
            item.contains_synthetic = item.pk in synthetic
        return items

    def item_title(self, item: Release) -> str:
        if item.status == Release.Status.WITHDRAWN:
            return f"Withdrawn: {item}"
        marked = " (synthetic values)" if item.contains_synthetic else ""
        if item.supersedes_id:
            return f"Corrected: {item}{marked}"
        return f"Published: {item}{marked}"

    def item_description(self, item: Release) -> str:
        if item.status == Release.Status.WITHDRAWN:
            return f"This league table was withdrawn. {item.withdrawal_reason}"
        text = (
            f"{item.peer_group.name} league table for {item.quarter.label}, revision "
            f"{item.revision}, computed with {item.framework.name} v{item.framework.version}."
        )
        if item.correction_note:
            # The note's list of changes on one line: a feed reader shows no line breaks.
            text += f" Correction: {note_parts(item.correction_note).as_text()}"
        if item.status == Release.Status.SUPERSEDED:
            text += " Since superseded by a later revision."
        if item.contains_synthetic:
            text += SYNTHETIC_NOTE
        return text

    def item_link(self, item: Release) -> str:
        if item.status == Release.Status.PUBLISHED or item.status == Release.Status.WITHDRAWN:
            return item.get_absolute_url()
        return reverse(
            "public:league-table-revision",
            kwargs={
                "peer_group": item.peer_group.slug,
                "quarter": item.quarter.slug,
                "revision": item.revision,
            },
        )

    def item_author_name(self, item: Release) -> str:
        return self.author_name

    def item_guid(self, item: Release) -> str:
        """A tag: URI (RFC 4151), as Atom's entry ids must be IRIs: one per release and state,
        so a correction or withdrawal is a new entry while a reader's old one keeps its id."""
        host = urlsplit(settings.SITE_URL).hostname or "localhost"
        return f"tag:{host},2025:league-tables/releases/{item.pk}/{item.status}"

    item_guid_is_permalink = False

    def item_pubdate(self, item: Release) -> datetime | None:
        return item.published_at

    def item_updateddate(self, item: Release) -> datetime | None:
        return item.published_at
