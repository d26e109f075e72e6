"""Publication events, for the cross-cutting concerns that follow them.

Sent by the release lifecycle service *after* the transaction commits (transaction.on_commit),
never inside it, so receivers see the committed state. Receivers: interventions (proposes
freedoms and support plans, evaluates exit criteria) and the public site, whose cache keys
follow the releases' state in the database and which holds the change back from being reported
done until no web process still trusts a generation read before it (public/caching.py).
Workflow transitions themselves never happen in receivers.

Every signal is sent with `release` (the Release instance concerned).
"""

from django.dispatch import Signal

# A release became the published table of its quarter and peer group (also a correction; then
# `release.supersedes` is the revision it replaced).
release_published = Signal()
# A published release was withdrawn: the public may see only its withdrawal notice.
release_withdrawn = Signal()
