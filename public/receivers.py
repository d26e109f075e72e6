"""What the public site does when a release is published or withdrawn."""

from __future__ import annotations

from typing import Any

from public.caching import wait_for_leases


def wait_before_reporting(sender: Any, **kwargs: Any) -> None:
    """Hold the publication or withdrawal (still after its commit) until no web process
    trusts a generation read before it: only then is it reported done (GenerationLease)."""
    wait_for_leases()
