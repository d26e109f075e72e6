"""Finding a trust the way people type it: "guys" finds Guy's, "st thomas" finds St Thomas'.

Names are compared after folding case, dropping accents and apostrophes and treating any other
punctuation as a space; every word typed must appear in the name. An ODS code matches exactly,
whatever its case. The matching is done in Python over the trust register (a few hundred rows,
one query) because SQLite and PostgreSQL fold accents differently, and the same words must find
the same trusts on both.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode

from django.db.models import QuerySet

from releases.models import Release, TrustResult
from trusts.models import Trust

APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`´]")
NOT_A_WORD = re.compile(r"[^0-9a-z]+")


def fold(text: str) -> str:
    """Lower case, no accents, no apostrophes, punctuation as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = APOSTROPHES.sub("", plain.casefold()).replace("&", " and ")
    return NOT_A_WORD.sub(" ", plain).strip()


def matches(trust_name: str, ods_code: str, query: str) -> bool:
    folded = fold(query)
    if not folded:
        return False
    if query.strip().casefold() == ods_code.casefold():
        return True
    name = f" {fold(trust_name)} "
    # Each word typed starts a word of the name: "guy" and "guys" find Guy's, "thom" Thomas.
    return all(f" {word}" in name for word in folded.split())


def matching_trust_ids(query: str, trusts: QuerySet[Trust] | None = None) -> list[int]:
    """Ids of the trusts (of `trusts`, else the register) that `query` finds."""
    candidates = (trusts if trusts is not None else Trust.objects.all()).values_list(
        "pk", "name", "ods_code"
    )
    return [pk for pk, name, code in candidates if matches(name, code, query)]


@dataclass
class ElsewhereMatch:
    """A trust the search finds that is not in the table searched: where it is ranked."""

    trust: Trust
    table: Release | None
    table_url: str


def found_elsewhere(query: str, release: Release, limit: int = 5) -> list[ElsewhereMatch]:
    """Trusts `query` finds that are not in `release`, each with its own peer group's table.

    The table is its peer group's published table for the same quarter, else the latest
    published one that includes it.
    """
    ids = set(matching_trust_ids(query))
    if not ids:
        return []
    ids -= set(
        TrustResult.objects.filter(release=release, trust_id__in=ids).values_list(
            "trust_id", flat=True
        )
    )
    trusts = list(
        Trust.objects.filter(pk__in=ids).select_related("peer_group").order_by("name")[:limit]
    )
    tables: dict[int, Release] = {}
    for row in (
        TrustResult.objects.filter(trust__in=trusts, release__in=Release.objects.published())
        .select_related("release", "release__peer_group", "release__quarter")
        .order_by("-release__quarter__year_start", "-release__quarter__number")
    ):
        current = tables.get(row.trust_id)
        if current is None or (
            row.release.quarter_id == release.quarter_id
            and current.quarter_id != release.quarter_id
        ):
            tables[row.trust_id] = row.release
    found = []
    for trust in trusts:
        table = tables.get(trust.pk)
        url = f"{table.get_absolute_url()}?{urlencode({'q': trust.ods_code})}" if table else ""
        found.append(ElsewhereMatch(trust, table, url))
    return found
