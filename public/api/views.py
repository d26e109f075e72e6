"""The open API: read-only, anonymous, cached per publication generation, only visible releases."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import django_filters
from django.db.models import Q, QuerySet
from django.http import Http404
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularAPIView
from rest_framework import generics, status, viewsets
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import AllowAny
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from metrics.models import Framework, Metric, MetricDefinition
from public import selectors
from public.api import serializers
from public.filtersets import LeagueTableFilterSet
from releases.models import Release, TrustResult
from releases.synthetic import synthetic_values_of
from trusts.models import Trust

# Every operation may answer these, in JSON; `documented_errors` adds them to the schema.
ERROR_SCHEMAS: dict[str, dict[str, Any]] = {
    "NotFound": {
        "type": "object",
        "properties": {
            "detail": {"type": "string"},
            "withdrawal_reason": {
                "type": "string",
                "description": "Only for a withdrawn release: why it was withdrawn.",
            },
        },
        "required": ["detail"],
    },
    "BadRequest": {
        "type": "object",
        "description": "`detail`, or each parameter that could not be used with the reasons.",
        "properties": {"detail": {"type": "string"}},
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
}
ERROR_RESPONSES = {
    "400": ("BadRequest", "A parameter or address the API cannot use, named with why."),
    "404": (
        "NotFound",
        "Not published: no such resource, or a withdrawn release (its notice and reason are "
        "given; its numbers are no longer published).",
    ),
}


def public_endpoints(endpoints: list[tuple], **kwargs: Any) -> list[tuple]:
    """drf-spectacular hook: the public schema describes the open API only (not the trust area)."""
    return [endpoint for endpoint in endpoints if endpoint[0].startswith("/api/v1/")]


class Withdrawn(APIException):
    """The rows of a withdrawn release: not published any more, so a 404 with the notice.

    A 404 rather than 410: the address is well formed and was valid, and clients treat 404 as
    "nothing published here"; the body says why.
    """

    status_code = status.HTTP_404_NOT_FOUND
    default_code = "withdrawn"

    def __init__(self, release: Release) -> None:
        super().__init__(detail=f"{release} was withdrawn: its numbers are no longer published.")
        self.withdrawal_reason = release.withdrawal_reason


def withdrawn_response(exc: Withdrawn) -> Response:
    return Response(
        {"detail": str(exc.detail), "withdrawal_reason": exc.withdrawal_reason},
        status=exc.status_code,
    )


def documented_errors(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular hook: every operation may answer 400 (a parameter it cannot use, or a
    malformed address) and 404, in JSON, and the schema says so."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(ERROR_SCHEMAS)
    for path_item in result.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.setdefault("responses", {})
            for code, (name, description) in ERROR_RESPONSES.items():
                responses[code] = {
                    "content": {
                        "application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}
                    },
                    "description": description,
                }
    return result


class StrictFilterBackend(DjangoFilterBackend):
    """Filters as the schema documents them: an empty value for a filter with fixed values
    (a segment, a status, true or false) is refused, not read as "no filter" as the page's
    form does with its "All" option."""

    def get_filterset(self, request: Request, queryset: QuerySet, view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        errors = {
            name: ["Give one of the documented values, or leave the parameter out."]
            for name, declared in filterset.filters.items()
            if request.query_params.get(name) == ""
            and isinstance(declared, django_filters.ChoiceFilter | django_filters.BooleanFilter)
            and not isinstance(declared, django_filters.ModelChoiceFilter)
        }
        if errors:
            raise ValidationError(errors)
        return filterset


class PublicPagination(LimitOffsetPagination):
    """`limit` 1 to 500 and `offset` 0 to 1,000,000, or a 400 saying so (never silently clamped:
    a client asking for 10,000 rows must learn it got 500)."""

    default_limit = 100
    max_limit = 500
    max_offset = 1_000_000

    def get_limit(self, request: Request) -> int:
        return self._bounded(request, self.limit_query_param, 1, self.max_limit, self.default_limit)

    def get_offset(self, request: Request) -> int:
        return self._bounded(request, self.offset_query_param, 0, self.max_offset, 0)

    @staticmethod
    def _bounded(request: Request, name: str, low: int, high: int, default: int) -> int:
        text = request.query_params.get(name)
        if text is None:
            return default
        if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
            raise ValidationError({name: [f"A whole number from {low} to {high}."]})
        return int(text)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: (1, self.max_limit),
            self.offset_query_param: (0, self.max_offset),
        }
        for parameter in parameters:
            low, high = bounds[parameter["name"]]
            parameter["schema"].update({"minimum": low, "maximum": high})
        return parameters


class CachedPublicMixin:
    """Anonymous, read-only and the same for everyone: the public cache stores the rendered
    bytes of each response (public.caching.PublicCacheMiddleware), keyed by URL, the Accept
    header (JSON or the browsable API) and the publication generation. Throttles still apply
    to every request, stored or not.
    """

    public_cache_vary = ("Accept",)
    # What API clients send as they come (curl and most libraries `*/*`, JSON clients their
    # type): answers for these are kept for every process; any other Accept header only in the
    # process that rendered it (public.caching.shared).
    public_cache_shared_values = {"Accept": ("*/*", "application/json")}
    # Everyone is anonymous here: the same published data for all, throttled alike, and no
    # session lookup when a signed-in regulator happens to call the open API.
    authentication_classes: list = []
    permission_classes = [AllowAny]
    filter_backends = [StrictFilterBackend]

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().list(request, *args, **kwargs)  # type: ignore[misc]
        except Withdrawn as gone:
            return withdrawn_response(gone)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            return super().retrieve(request, *args, **kwargs)  # type: ignore[misc]
        except Withdrawn as gone:
            return withdrawn_response(gone)


class ReleaseFilterSet(django_filters.FilterSet):
    peer_group = django_filters.CharFilter(field_name="peer_group__slug", label="Peer group slug")
    quarter = django_filters.CharFilter(method="in_quarter", label='Quarter, e.g. "2025-26-q4"')
    status = django_filters.ChoiceFilter(
        choices=[(s.value, s.label) for s in Release.PUBLIC_STATUSES]
    )

    class Meta:
        model = Release
        fields: list[str] = []

    def in_quarter(self, queryset: QuerySet[Release], name: str, value: str) -> QuerySet:
        try:
            year_start, number = selectors.parse_quarter_slug(value)
        except Http404:
            return queryset.none()
        return queryset.filter(quarter__year_start=year_start, quarter__number=number)


@extend_schema_view(
    list=extend_schema(summary="Published, superseded and withdrawn releases"),
    retrieve=extend_schema(summary="One release", responses={200: serializers.ReleaseSerializer}),
)
class ReleaseViewSet(CachedPublicMixin, viewsets.ReadOnlyModelViewSet):
    """League table releases. A withdrawn release shows only its withdrawal notice."""

    serializer_class = serializers.ReleaseSerializer
    filterset_class = ReleaseFilterSet
    pagination_class = PublicPagination

    def get_queryset(self) -> QuerySet[Release]:
        return selectors.visible_releases().order_by(
            "-quarter__year_start", "-quarter__number", "peer_group__display_order", "-revision"
        )


@extend_schema(
    summary="Rows of a league table",
    description="Filter and sort as on the league table page: `region`, `subtype`, `segment`, "
    "`deficit`, `q` (trust name or ODS code) and `sort` (e.g. `-average`).",
    responses={200: serializers.LeagueTableRowSerializer(many=True)},
)
class LeagueTableRowList(CachedPublicMixin, generics.ListAPIView):
    serializer_class = serializers.LeagueTableRowSerializer
    filterset_class = LeagueTableFilterSet
    pagination_class = PublicPagination
    queryset = TrustResult.objects.none()  # for the schema; get_queryset scopes it

    release: Release | None = None

    def get_queryset(self) -> QuerySet[TrustResult]:
        if getattr(self, "swagger_fake_view", False):
            return TrustResult.objects.none()
        try:
            self.release = selectors.readable_release(self.kwargs["release_id"])
        except selectors.ReleaseWithdrawn as withdrawn:
            raise Withdrawn(withdrawn.release) from None
        return selectors.league_table_rows(
            self.release, Release.objects.published().previous_of(self.release)
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.release is not None:
            context[serializers.SYNTHETIC_RELEASES] = synthetic_values_of([self.release])
        return context

    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.list(request, *args, **kwargs)


class TrustFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label="Trust name or ODS code")
    region = django_filters.CharFilter(field_name="region__slug")
    peer_group = django_filters.CharFilter(field_name="peer_group__slug")

    class Meta:
        model = Trust
        fields: list[str] = []

    def search(self, queryset: QuerySet[Trust], name: str, value: str) -> QuerySet:
        return queryset.filter(Q(name__icontains=value) | Q(ods_code__iexact=value.strip()))


@extend_schema_view(
    list=extend_schema(summary="Trusts"),
    retrieve=extend_schema(
        summary="A trust with its published history",
        responses={200: serializers.TrustDetailSerializer},
    ),
)
class TrustViewSet(CachedPublicMixin, viewsets.ReadOnlyModelViewSet):
    lookup_field = "ods_code"
    lookup_value_regex = "[A-Za-z0-9]+"
    filterset_class = TrustFilterSet
    pagination_class = PublicPagination

    def get_queryset(self) -> QuerySet[Trust]:
        return Trust.objects.select_related("region", "peer_group").order_by("name")

    def get_serializer_class(self) -> type:
        if self.action == "retrieve":
            return serializers.TrustDetailSerializer
        return serializers.TrustSerializer

    def get_object(self) -> Trust:
        return selectors.trust_or_404(self.kwargs["ods_code"])

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        if self.action == "retrieve" and "ods_code" in self.kwargs:
            history = list(
                TrustResult.objects.filter(
                    trust__ods_code__iexact=self.kwargs["ods_code"],
                    release__status=Release.Status.PUBLISHED,
                )
                .select_related("release", "release__quarter")
                .order_by("-release__quarter__year_start", "-release__quarter__number")
            )
            context["history"] = history
            context[serializers.SYNTHETIC_RELEASES] = synthetic_values_of(
                row.release for row in history
            )
        return context


@extend_schema_view(
    list=extend_schema(summary="Metrics"),
    retrieve=extend_schema(
        summary="A metric, with the published tables that score it",
        responses={200: serializers.MetricDetailSerializer},
    ),
)
class MetricViewSet(CachedPublicMixin, viewsets.ReadOnlyModelViewSet):
    """Metrics; each says whether its values are synthetic, overall and table by table."""

    lookup_field = "code"
    lookup_value_regex = "[A-Za-z0-9]+"
    serializer_class = serializers.MetricDetailSerializer
    pagination_class = PublicPagination
    queryset = Metric.objects.order_by("code")

    def get_object(self) -> Metric:
        # Any case, as a trust's ODS code is read: /metrics/of0084/ is OF0084.
        metric = self.get_queryset().filter(code__iexact=self.kwargs["code"]).first()
        if metric is None:
            raise Http404("No metric with this code.")
        self.check_object_permissions(self.request, metric)
        return metric

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        releases = list(
            Release.objects.readable()
            .select_related("quarter", "peer_group")
            .order_by("-quarter__year_start", "-quarter__number", "peer_group", "-revision")
        )
        synthetic = synthetic_values_of(releases)
        by_framework: dict[int, list[Release]] = defaultdict(list)
        for release in releases:
            by_framework[release.framework_id].append(release)
        by_metric: dict[int, list[Release]] = defaultdict(list)
        for framework_id, metric_id in MetricDefinition.objects.filter(
            framework_id__in=by_framework
        ).values_list("framework_id", "metric_id"):
            by_metric[metric_id].extend(by_framework[framework_id])
        order = {release.pk: index for index, release in enumerate(releases)}
        for scored in by_metric.values():
            scored.sort(key=lambda release: order[release.pk])
        context[serializers.SYNTHETIC_RELEASES] = synthetic
        context[serializers.SYNTHETIC_METRICS] = {
            metric_id for values in synthetic.values() for metric_id in values.metrics
        }
        context["releases_by_metric"] = by_metric
        return context


@extend_schema_view(
    list=extend_schema(summary="Frameworks of published tables, with their metric definitions"),
    retrieve=extend_schema(summary="A framework", responses={200: serializers.FrameworkSerializer}),
)
class FrameworkViewSet(CachedPublicMixin, viewsets.ReadOnlyModelViewSet):
    """Frameworks that at least one published (or superseded) table was computed with."""

    serializer_class = serializers.FrameworkSerializer
    pagination_class = PublicPagination

    def get_queryset(self) -> QuerySet[Framework]:
        return (
            Framework.objects.filter(releases__in=Release.objects.readable())
            .distinct()
            .with_method()
            .order_by("peer_group__display_order", "slug", "version")
        )

    def get_serializer_context(self) -> dict[str, Any]:
        context = super().get_serializer_context()
        by_framework: dict[int, list[Release]] = defaultdict(list)
        for release in (
            Release.objects.readable()
            .select_related("quarter", "peer_group", "framework")
            .order_by("quarter__year_start", "quarter__number", "revision")
        ):
            by_framework[release.framework_id].append(release)
        context["releases_by_framework"] = by_framework
        synthetic = synthetic_values_of(
            release for releases in by_framework.values() for release in releases
        )
        context[serializers.SYNTHETIC_RELEASES] = synthetic
        context["synthetic_metrics_by_framework"] = {
            framework_id: {
                metric_id for release in releases for metric_id in synthetic[release.pk].metrics
            }
            for framework_id, releases in by_framework.items()
        }
        return context


class SchemaView(SpectacularAPIView):
    """The OpenAPI schema, in YAML or JSON as asked; a refusal (an unknown ?format=, a method
    other than GET) is the API's usual JSON {"detail": ...}, not a YAML body sent as an OpenAPI
    document."""

    def handle_exception(self, exc: Exception) -> Response:
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response
