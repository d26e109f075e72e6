"""Where the layer above decides whether stored inputs may still change.

A release that an approver has signed off fixes the observations and trust flags it was computed
from, and the framework version it was scored with (its metrics, domains, method and the
quarter's thresholds). Releases are built on this app, so this app cannot import them: instead
the releases app registers its lock at start-up (`ReleasesConfig.ready()`), and the models and
importers here ask it through the functions below. With nothing registered (this app used on its
own) every input is editable.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol


class InputLock(Protocol):
    def releases_fixing_observations(self, quarter_ids: Iterable[int]) -> list[Any]: ...

    def fixed_trusts(self, quarter: Any) -> dict[int, Any]: ...

    def assert_observations_editable(
        self, trust_ids: Iterable[int], quarter: Any, metric_ids: Iterable[int] | None = None
    ) -> None: ...

    def releases_fixing_framework(self, framework_ids: Iterable[int]) -> list[Any]: ...

    def releases_fixing_thresholds(self, framework_id: int, quarter_id: int) -> list[Any]: ...

    def releases_fixing_metrics(self, metric_ids: Iterable[int]) -> list[Any]: ...


_registered: InputLock | None = None


def register(lock: InputLock) -> None:
    global _registered
    _registered = lock


def releases_fixing_observations(quarter_ids: Iterable[int]) -> list[Any]:
    """The releases that fix inputs of these quarters (empty when none, or none registered)."""
    return _registered.releases_fixing_observations(quarter_ids) if _registered else []


def fixed_trusts(quarter: Any) -> dict[int, Any]:
    """Trust id → the release that fixes that trust's inputs in this quarter."""
    return _registered.fixed_trusts(quarter) if _registered else {}


def assert_observations_editable(
    trust_ids: Iterable[int], quarter: Any, metric_ids: Iterable[int] | None = None
) -> None:
    """Raise the lock's own error (a PermissionDenied) if these inputs are fixed."""
    if _registered:
        _registered.assert_observations_editable(trust_ids, quarter, metric_ids)


def releases_fixing_framework(framework_ids: Iterable[int]) -> list[Any]:
    """The signed-off releases scored with one of these framework versions, oldest first."""
    return _registered.releases_fixing_framework(framework_ids) if _registered else []


def releases_fixing_thresholds(framework_id: int, quarter_id: int) -> list[Any]:
    """The signed-off releases that used this framework's thresholds for this quarter."""
    return _registered.releases_fixing_thresholds(framework_id, quarter_id) if _registered else []


def releases_fixing_metrics(metric_ids: Iterable[int]) -> list[Any]:
    """The signed-off releases whose framework scores one of these metrics."""
    return _registered.releases_fixing_metrics(metric_ids) if _registered else []
