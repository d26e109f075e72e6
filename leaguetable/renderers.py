"""The API's renderers: JSON, and DRF's browsable HTML pages under a slightly wider policy."""

from typing import Any

from csp.constants import UNSAFE_INLINE
from rest_framework import renderers


class BrowsableAPIRenderer(renderers.BrowsableAPIRenderer):
    """DRF's HTML pages of the API carry inline style attributes (its templates and Bootstrap
    set them), so these pages alone allow inline styles; scripts stay as strict as elsewhere,
    and JSON responses are untouched."""

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: dict[str, Any] | None = None,
    ) -> Any:
        response = (renderer_context or {}).get("response")
        if response is not None:
            response._csp_update = {"style-src": [UNSAFE_INLINE]}
        return super().render(data, accepted_media_type, renderer_context)
