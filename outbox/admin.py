from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse

from outbox.models import UnqueuedTask


@admin.register(UnqueuedTask)
class UnqueuedTaskAdmin(admin.ModelAdmin):
    """What the broker refused and the beat will queue again: every regulator can see it, so a
    computation or import that seems stuck says why."""

    list_display = ["name", "arguments", "failed_at", "attempts", "last_attempt_at", "error"]
    readonly_fields = list_display

    @admin.display(description="arguments")
    def arguments(self, task: UnqueuedTask) -> str:
        return str(task).removeprefix(task.name)

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        waiting = UnqueuedTask.objects.count()
        if waiting:
            messages.warning(
                request,
                f"{waiting} task(s) could not be queued because the task broker was unreachable. "
                "They are recorded and the beat queues them again every minute once it answers.",
            )
        return super().changelist_view(request, extra_context)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
