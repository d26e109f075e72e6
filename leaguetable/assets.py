"""The NHS.UK stylesheet's own asset paths.

nhsuk-frontend's CSS refers to its icons at the site root (url(/assets/images/nhsuk-icon-*.svg))
while Django serves the package under STATIC_URL; without this every page loading the
stylesheet asks for four icons that are not there.
"""

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponsePermanentRedirect
from django.templatetags.static import static

ASSET_DIRECTORY = "nhsuk/assets/images"


def nhsuk_image(request: HttpRequest, name: str) -> HttpResponsePermanentRedirect:
    """Redirect to the image's static file, if the design system has one by that name."""
    folder = settings.NHSUK_FRONTEND_DIR / ASSET_DIRECTORY
    if "/" in name or name.startswith(".") or not (folder / name).is_file():
        raise Http404("No such NHS.UK asset.")
    return HttpResponsePermanentRedirect(static(f"{ASSET_DIRECTORY}/{name}"))
