"""Error responses: JSON under the APIs (/api/, /trust-area/api/), Django's pages elsewhere."""

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.views import defaults

from adminkit import refusals
from leaguetable.middleware import JSON_PREFIXES

ADMIN_PREFIX = "/admin/"


def _wants_json(request: HttpRequest) -> bool:
    return request.path_info.startswith(JSON_PREFIXES)


def bad_request(request: HttpRequest, exception: Any) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Bad request."}, status=400)
    return defaults.bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Any) -> HttpResponse:
    """403 with the reason: the refusal's own message, or (in the admin) why that admin never
    does what was asked. Never Django's bare "403 Forbidden"."""
    reason = refusals.reason_of(exception)
    if _wants_json(request):
        return JsonResponse(
            {"detail": reason or "You do not have permission to do this."}, status=403
        )
    if (
        request.path_info.startswith(ADMIN_PREFIX)
        and getattr(request, "user", None)
        and (request.user.is_active and request.user.is_staff)
    ):
        return refusals.permission_denied(request, exception).render()
    return HttpResponse(
        render_to_string("403.html", {"reason": reason}, request=request), status=403
    )


def page_not_found(request: HttpRequest, exception: Any) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
