"""The one rule for what a public address answers: it is read, never written to."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.views.decorators.csrf import csrf_exempt

READ_METHODS = ("GET", "HEAD")
ALLOW = ", ".join(READ_METHODS)

View = Callable[..., HttpResponseBase]


def not_allowed(request: HttpRequest) -> HttpResponse:
    """405 naming the methods that are answered; OPTIONS is answered with the same list and no
    body, as a client asking what it may do is not in error."""
    if request.method == "OPTIONS":
        response = HttpResponse(status=200)
    else:
        response = HttpResponse(
            f"{request.method} is not answered here: this address can only be read ({ALLOW}).\n",
            status=405,
            content_type="text/plain; charset=utf-8",
        )
    response["Allow"] = ALLOW
    response["Content-Length"] = str(len(response.content))
    return response


def read_only(view: View) -> View:
    """GET and HEAD reach the view; every other method gets 405 with Allow: GET, HEAD.

    Exempt from the CSRF check because no method that check guards ever reaches the view:
    without the exemption the CSRF middleware answers a POST with its own 403 page before the
    method is looked at, which tells the client the wrong thing (that a token is missing)."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method not in READ_METHODS:
            return not_allowed(request)
        return view(request, *args, **kwargs)

    return csrf_exempt(wrapped)
