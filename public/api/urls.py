"""The open API at /api/: v1 resources, the OpenAPI schema and its browsable docs.

Every URL here is covered by tests/public/test_leaks.py, which walks this list."""

from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from public.api import views
from public.views.methods import read_only

app_name = "api"


class Router(DefaultRouter):
    include_format_suffixes = False


router = Router()
router.register("releases", views.ReleaseViewSet, basename="release")
router.register("trusts", views.TrustViewSet, basename="trust")
router.register("metrics", views.MetricViewSet, basename="metric")
router.register("frameworks", views.FrameworkViewSet, basename="framework")

urlpatterns = [
    path(
        "v1/releases/<int:release_id>/rows/",
        views.LeagueTableRowList.as_view(),
        name="release-rows",
    ),
    path("v1/", include(router.urls)),
    path(
        "schema/",
        views.SchemaView.as_view(
            custom_settings={
                "PREPROCESSING_HOOKS": ["public.api.views.public_endpoints"],
                "POSTPROCESSING_HOOKS": [
                    "drf_spectacular.hooks.postprocess_schema_enums",
                    "public.api.views.documented_errors",
                ],
            }
        ),
        name="schema",
    ),
    # The split view serves Swagger UI's start-up script from a URL (no inline script), so the
    # docs work under the Content-Security-Policy.
    path(
        "docs/",
        # Read only, as every public page: DRF's OPTIONS answer needs a template this page
        # has not got (a 500).
        read_only(
            SpectacularSwaggerSplitView.as_view(
                url_name="api:schema", template_name="public/api_docs.html"
            )
        ),
        name="docs",
    ),
]
