"""Requests no view can read are answered 400 before any view or database sees them.

PostgreSQL refuses a NUL character in any text it is asked to compare ("A string literal
cannot contain NUL"), so a NUL byte in a path or query string would reach the database as a
500; SQLite would compare it quietly. Neither is a server fault: the request is malformed, on
every page, the open API and the trust area alike, and is refused in one place.
"""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.template.loader import render_to_string

# Longer than any address the portal makes (the longest is a revision's download, ~110), far
# shorter than what a database index or a log line should be asked to hold.
MAX_PATH_LENGTH = 1000
MAX_QUERY_STRING_LENGTH = 4000
JSON_PREFIXES = ("/api/", "/trust-area/api/")


def unreadable(request: HttpRequest) -> str | None:
    """Why a request cannot be read, or None."""
    if "\x00" in request.path_info:
        return "The address contains a NUL character (%00)."
    if len(request.path_info) > MAX_PATH_LENGTH:
        return f"The address is longer than {MAX_PATH_LENGTH} characters."
    query = request.META.get("QUERY_STRING", "")
    if len(query) > MAX_QUERY_STRING_LENGTH:
        return f"The query string is longer than {MAX_QUERY_STRING_LENGTH} characters."
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            return f'The query parameter "{name.replace(chr(0), "")}" contains a NUL character.'
    return None


class RefuseUnreadableRequests:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        problem = unreadable(request)
        if problem is None:
            return self.get_response(request)
        if request.path_info.startswith(JSON_PREFIXES):
            return JsonResponse({"detail": problem}, status=400)
        return HttpResponseBadRequest(
            render_to_string("400.html", {"problem": problem}, request=request)
        )
