"""The page a locked-out sign-in gets (django-axes' AXES_LOCKOUT_CALLABLE).

Axes' own answer is a bare line of text. This one is drawn in the layout of the sign-in that
was refused, the admin's for regulators and the trust area's for board members, and says that
the account is locked, for how long, and whom to ask; `Retry-After` says the same to a client.
Every failed attempt during the lockout starts the cool-off again
(AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT), so the whole cool-off counts from now.
"""

import datetime
import math
from typing import Any

from axes.conf import settings
from axes.helpers import get_cool_off, get_failure_limit
from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict | None
) -> HttpResponse:
    cool_off = get_cool_off(request) or datetime.timedelta(0)
    minutes = max(1, math.ceil(cool_off.total_seconds() / 60))
    in_admin = request.path_info.startswith("/admin/")
    context: dict[str, Any] = {
        "failure_limit": get_failure_limit(request, credentials),
        "minutes": minutes,
        "until": timezone.localtime() + datetime.timedelta(minutes=minutes),
    }
    if in_admin:
        context.update(admin.site.each_context(request), title="Account locked")
    template = "admin/locked_out.html" if in_admin else "interventions/locked_out.html"
    response = render(request, template, context, status=settings.AXES_HTTP_RESPONSE_CODE)
    response["Retry-After"] = str(minutes * 60)
    return response
