"""Open API representations: only of visible releases; a withdrawn one carries no numbers."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from metrics.models import Domain, Framework, Metric, MetricDefinition
from public.uncertainty import is_segment_uncertain
from releases.applicability import shown_metric_codes
from releases.models import Release, TrustResult
from releases.synthetic import NOTHING_SYNTHETIC, SyntheticValues, synthetic_values_of
from trusts.models import Trust

# Serializer context keys: release id -> what of it is synthetic (filled as releases are
# serialized, a list at a time); metric ids with synthetic values in the releases in question.
SYNTHETIC_RELEASES = "synthetic_releases"
SYNTHETIC_METRICS = "synthetic_metric_ids"
# Release id -> the codes of the metrics it has data for (releases.applicability).
SHOWN_METRICS = "shown_metrics"
SYNTHETIC_HELP = (
    "Synthetic: generated for demonstration, not published NHS England data (NHS England's "
    "acute and ambulance metric values are not public). Scores, averages, segments and ranks "
    "computed from a synthetic value are synthetic too."
)


def synthetic_of(context: dict[str, Any], release_id: int) -> SyntheticValues:
    """What of a release is synthetic: as the view loaded it for every release in the
    response at once, or else loaded now."""
    known = context.setdefault(SYNTHETIC_RELEASES, {})
    if release_id not in known:
        known.update(synthetic_values_of(Release.objects.filter(pk=release_id)))
    return known.get(release_id, NOTHING_SYNTHETIC)


DOMAIN_SCORES_HELP = (
    "Domain slug → the domain score as stored, to 4 decimal places (a JSON number drops "
    "trailing zeros: 2.4 is 2.4000). Its domain segment is set by this unrounded score; pages "
    "and NHS England's data file show it rounded half up to 2 decimal places."
)


def _number(**kwargs: Any) -> serializers.DecimalField:
    return serializers.DecimalField(
        max_digits=8, decimal_places=2, coerce_to_string=False, read_only=True, **kwargs
    )


class DomainThresholdsSerializer(serializers.Serializer):
    """How one domain's scores were placed in domain segments 1 to 4 (METHODOLOGY 4.6)."""

    method = serializers.ChoiceField(
        choices=[("fixed", "Set by the regulator"), ("quartiles", "Quartiles of the peer group")],
        help_text="fixed: set by the regulator; quartiles: of the peer group's domain scores.",
    )
    t1 = serializers.FloatField(help_text="Segment 1 up to this domain score.")
    t2 = serializers.FloatField(help_text="Segment 2 up to this domain score.")
    t3 = serializers.FloatField(help_text="Segment 3 up to this; segment 4 above.")


DOMAIN_SEGMENTS_HELP = (
    "Domain slug -> segment 1 (best) to 4 (worst) of the trust's domain score, by the "
    "release's domain thresholds. A domain the trust has no scores in is absent."
)


class ReleaseListSerializer(serializers.ListSerializer):
    """Releases, with what of each is synthetic and the metrics each shows loaded for them all
    at once."""

    def to_representation(self, data: Any) -> list[dict[str, Any]]:
        releases = list(data.all() if hasattr(data, "all") else data)
        known = self.context.setdefault(SYNTHETIC_RELEASES, {})
        known.update(synthetic_values_of(r for r in releases if r.pk not in known))
        shown = self.context.setdefault(SHOWN_METRICS, {})
        shown.update(shown_metric_codes(r for r in releases if r.pk not in shown))
        return super().to_representation(releases)


class ReleaseSerializer(serializers.ModelSerializer):
    """A published, superseded or withdrawn release; thresholds only where numbers may show."""

    peer_group = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    peer_group_name = serializers.CharField(source="peer_group.name", read_only=True)
    quarter = serializers.CharField(source="quarter.label", read_only=True)
    quarter_slug = serializers.CharField(source="quarter.slug", read_only=True)
    framework = serializers.CharField(source="framework.slug", read_only=True)
    framework_name = serializers.CharField(source="framework.name", read_only=True)
    framework_version = serializers.IntegerField(source="framework.version", read_only=True)
    status = serializers.ChoiceField(
        choices=[
            (s.value, s.label)
            for s in (Release.Status.PUBLISHED, Release.Status.SUPERSEDED, Release.Status.WITHDRAWN)
        ],
        read_only=True,
    )
    supersedes = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)
    threshold_method = serializers.SerializerMethodField()
    thresholds = serializers.SerializerMethodField()
    domain_thresholds = serializers.SerializerMethodField()
    likely_range_replicates = serializers.SerializerMethodField()
    is_synthetic = serializers.SerializerMethodField(
        help_text="Whether any value in this table, or any score, average, segment or rank "
        f"computed from one, is synthetic. {SYNTHETIC_HELP} Null for a withdrawn release."
    )
    synthetic_metrics = serializers.SerializerMethodField(
        help_text="Codes of the metrics with synthetic values (or scores computed from "
        "synthetic values) in this table; empty when none. Null for a withdrawn release."
    )
    metrics = serializers.SerializerMethodField(
        help_text="Codes of the framework's metrics this release has data for, in the "
        "framework's order; a metric no trust reported that quarter is left out. Null for a "
        "withdrawn release."
    )
    page_url = serializers.SerializerMethodField()
    rows_url = serializers.SerializerMethodField()

    class Meta:
        model = Release
        list_serializer_class = ReleaseListSerializer
        fields = [
            "id",
            "peer_group",
            "peer_group_name",
            "quarter",
            "quarter_slug",
            "revision",
            "status",
            "published_at",
            "framework",
            "framework_name",
            "framework_version",
            "supersedes",
            "correction_note",
            "withdrawal_reason",
            "threshold_method",
            "thresholds",
            "domain_thresholds",
            "likely_range_replicates",
            "is_synthetic",
            "synthetic_metrics",
            "metrics",
            "page_url",
            "rows_url",
        ]
        read_only_fields = fields

    def _withdrawn(self, release: Release) -> bool:
        return release.status == Release.Status.WITHDRAWN

    @extend_schema_field(
        serializers.ChoiceField(choices=Release.ThresholdMethod.choices, allow_null=True)
    )
    def get_threshold_method(self, release: Release) -> str | None:
        return None if self._withdrawn(release) else release.threshold_method

    @extend_schema_field(
        serializers.ListField(
            child=serializers.FloatField(), min_length=3, max_length=3, allow_null=True
        )
    )
    def get_thresholds(self, release: Release) -> list[float] | None:
        if self._withdrawn(release) or release.thresholds is None:
            return None
        return list(release.thresholds)

    @extend_schema_field(
        serializers.DictField(
            child=DomainThresholdsSerializer(),
            allow_null=True,
            help_text="Domain slug -> the three thresholds of its domain segments. Null for a "
            "withdrawn release.",
        )
    )
    def get_domain_thresholds(self, release: Release) -> dict[str, dict[str, Any]] | None:
        if self._withdrawn(release):
            return None
        return {
            slug: {
                "method": entry.get("method"),
                **{name: float(entry[name]) for name in ("t1", "t2", "t3")},
            }
            for slug, entry in release.domain_thresholds.items()
            if entry.get("t1")
        }

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_likely_range_replicates(self, release: Release) -> int | None:
        return None if self._withdrawn(release) else release.replicates

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_synthetic(self, release: Release) -> bool | None:
        if self._withdrawn(release):
            return None
        return synthetic_of(self.context, release.pk).release

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_synthetic_metrics(self, release: Release) -> list[str] | None:
        if self._withdrawn(release):
            return None
        return list(synthetic_of(self.context, release.pk).metric_codes)

    @extend_schema_field(serializers.ListField(child=serializers.CharField(), allow_null=True))
    def get_metrics(self, release: Release) -> list[str] | None:
        if self._withdrawn(release):
            return None
        shown = self.context.setdefault(SHOWN_METRICS, {})
        if release.pk not in shown:
            shown.update(shown_metric_codes([release]))
        return shown[release.pk]

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, release: Release) -> str:
        if release.status == Release.Status.SUPERSEDED:
            path = reverse(
                "public:league-table-revision",
                kwargs={
                    "peer_group": release.peer_group.slug,
                    "quarter": release.quarter.slug,
                    "revision": release.revision,
                },
            )
        else:
            path = release.get_absolute_url()
        return self._absolute(path)

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_rows_url(self, release: Release) -> str | None:
        if self._withdrawn(release):
            return None
        return self._absolute(reverse("api:release-rows", kwargs={"release_id": release.pk}))

    def _absolute(self, path: str) -> str:
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class LeagueTableRowSerializer(serializers.ModelSerializer):
    trust = serializers.CharField(source="trust.ods_code", read_only=True)
    # As the release has them: a later rename shows on /api/v1/trusts/, not here.
    trust_name = serializers.CharField(read_only=True)
    region = serializers.CharField(source="region.slug", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    subtype = serializers.CharField(source="trust_subtype", read_only=True)
    average_score = _number(allow_null=True)
    average_low = _number(allow_null=True)
    average_high = _number(allow_null=True)
    previous_published_rank = serializers.IntegerField(read_only=True, allow_null=True)
    movement = serializers.IntegerField(
        read_only=True,
        allow_null=True,
        help_text="Places gained since the published table of "
        "the previous quarter (positive is up the table).",
    )
    domain_scores = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text=DOMAIN_SCORES_HELP
    )
    segment_uncertain = serializers.BooleanField(
        read_only=True,
        help_text="The likely range of the average score crosses a segment threshold, so the "
        "segment could well be another.",
    )
    domain_segments = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=4),
        read_only=True,
        help_text=DOMAIN_SEGMENTS_HELP,
    )
    is_synthetic = serializers.SerializerMethodField(
        help_text="Whether any score counted in this trust's average (and so its average, "
        f"segment and rank) comes from synthetic values. {SYNTHETIC_HELP}"
    )
    trust_url = serializers.SerializerMethodField()

    class Meta:
        model = TrustResult
        fields = [
            "rank",
            "rank_low",
            "rank_high",
            "trust",
            "trust_name",
            "region",
            "region_name",
            "subtype",
            "segment",
            "segment_uncertain",
            "unadjusted_segment",
            "average_score",
            "average_low",
            "average_high",
            "metrics_scored",
            "in_financial_deficit",
            "in_recovery_support",
            "previous_published_rank",
            "movement",
            "domain_scores",
            "domain_segments",
            "is_synthetic",
            "trust_url",
        ]
        read_only_fields = fields

    def get_is_synthetic(self, row: TrustResult) -> bool:
        return synthetic_of(self.context, row.release_id).row(row.trust_id)

    @extend_schema_field(OpenApiTypes.URI)
    def get_trust_url(self, row: TrustResult) -> str:
        request = self.context.get("request")
        path = reverse("api:trust-detail", kwargs={"ods_code": row.trust.ods_code})
        return request.build_absolute_uri(path) if request else path


class TrustSerializer(serializers.ModelSerializer):
    region = serializers.CharField(source="region.slug", read_only=True)
    region_name = serializers.CharField(source="region.name", read_only=True)
    peer_group = serializers.CharField(source="peer_group.slug", read_only=True)
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Trust
        fields = [
            "ods_code",
            "name",
            "trust_type",
            "subtype",
            "region",
            "region_name",
            "peer_group",
            "is_open",
            "closed_on",
            "page_url",
        ]
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, trust: Trust) -> str:
        request = self.context.get("request")
        path = trust.get_absolute_url()
        return request.build_absolute_uri(path) if request else path


class TrustHistorySerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id", read_only=True)
    quarter = serializers.CharField(source="release.quarter.label", read_only=True)
    revision = serializers.IntegerField(source="release.revision", read_only=True)
    average_score = _number(allow_null=True)
    average_low = _number(allow_null=True)
    average_high = _number(allow_null=True)
    domain_scores = serializers.DictField(
        child=serializers.FloatField(), read_only=True, help_text=DOMAIN_SCORES_HELP
    )
    segment_uncertain = serializers.SerializerMethodField(
        help_text="The likely range of the average score crosses a segment threshold."
    )
    domain_segments = serializers.DictField(
        child=serializers.IntegerField(min_value=1, max_value=4),
        read_only=True,
        help_text=DOMAIN_SEGMENTS_HELP,
    )
    is_synthetic = serializers.SerializerMethodField(
        help_text="Whether the trust's result in this table comes from synthetic values. "
        + SYNTHETIC_HELP
    )

    class Meta:
        model = TrustResult
        fields = [
            "release",
            "quarter",
            "revision",
            "segment",
            "segment_uncertain",
            "rank",
            "rank_low",
            "rank_high",
            "average_score",
            "average_low",
            "average_high",
            "in_financial_deficit",
            "in_recovery_support",
            "domain_scores",
            "domain_segments",
            "is_synthetic",
        ]
        read_only_fields = fields

    def get_segment_uncertain(self, row: TrustResult) -> bool:
        return is_segment_uncertain(row, row.release)

    def get_is_synthetic(self, row: TrustResult) -> bool:
        return synthetic_of(self.context, row.release_id).row(row.trust_id)


class TrustDetailSerializer(TrustSerializer):
    history = serializers.SerializerMethodField()

    class Meta(TrustSerializer.Meta):
        fields = [*TrustSerializer.Meta.fields, "history"]
        read_only_fields = fields

    @extend_schema_field(TrustHistorySerializer(many=True))
    def get_history(self, trust: Trust) -> list[dict[str, Any]]:
        return TrustHistorySerializer(self.context["history"], many=True, context=self.context).data


class MetricSerializer(serializers.ModelSerializer):
    direction = serializers.ChoiceField(choices=Metric.Direction.choices, read_only=True)
    is_synthetic = serializers.SerializerMethodField(
        help_text="Whether the metric is a demonstration metric, or any of its values (or "
        "scores computed from them) in the published tables is synthetic; in a framework, "
        f"in the tables computed with that framework. {SYNTHETIC_HELP}"
    )

    class Meta:
        model = Metric
        fields = ["code", "name", "unit", "direction", "is_patient_experience", "is_synthetic"]
        read_only_fields = fields

    def get_is_synthetic(self, metric: Metric) -> bool:
        return metric.is_synthetic or metric.pk in self.context.get(SYNTHETIC_METRICS, ())


class MetricReleaseSerializer(serializers.Serializer):
    """A published or superseded table that scores a metric, and whether its values of the
    metric are synthetic there."""

    id = serializers.IntegerField()
    peer_group = serializers.CharField()
    quarter = serializers.CharField()
    revision = serializers.IntegerField()
    status = serializers.CharField()
    is_synthetic = serializers.BooleanField(
        help_text="Whether the metric's values in this table, or scores computed from them, "
        "are synthetic."
    )
    url = serializers.URLField(help_text="The release in this API.")


class MetricDetailSerializer(MetricSerializer):
    releases = serializers.SerializerMethodField(
        help_text="Every published or superseded table computed with a framework that "
        "defines this metric, newest first, with whether its values there are synthetic."
    )

    class Meta(MetricSerializer.Meta):
        fields = [*MetricSerializer.Meta.fields, "releases"]
        read_only_fields = fields

    @extend_schema_field(MetricReleaseSerializer(many=True))
    def get_releases(self, metric: Metric) -> list[dict[str, Any]]:
        request = self.context.get("request")
        known = self.context.get(SYNTHETIC_RELEASES, {})
        answers = []
        for release in self.context.get("releases_by_metric", {}).get(metric.pk, []):
            path = reverse("api:release-detail", kwargs={"pk": release.pk})
            answers.append(
                {
                    "id": release.pk,
                    "peer_group": release.peer_group.slug,
                    "quarter": release.quarter.slug,
                    "revision": release.revision,
                    "status": release.status,
                    "is_synthetic": known.get(release.pk, NOTHING_SYNTHETIC).metric(metric.pk),
                    "url": request.build_absolute_uri(path) if request else path,
                }
            )
        return MetricReleaseSerializer(answers, many=True).data


class DefinitionSerializer(serializers.ModelSerializer):
    metric = serializers.SerializerMethodField()
    params = serializers.JSONField(read_only=True)
    applies_to_subtypes = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="The trust subtypes the metric measures; empty: every subtype. For a trust of "
        "another subtype that did not report it, it is not applicable (not missing).",
    )

    class Meta:
        model = MetricDefinition
        fields = [
            "metric",
            "sub_domain",
            "method",
            "params",
            "pool",
            "counted",
            "assumptions",
            "applies_to_subtypes",
            "not_applicable_note",
        ]
        read_only_fields = fields

    @extend_schema_field(MetricSerializer)
    def get_metric(self, definition: MetricDefinition) -> dict[str, Any]:
        # Synthetic as far as the tables of this definition's framework go.
        by_framework = self.context.get("synthetic_metrics_by_framework", {})
        context = {
            **self.context,
            SYNTHETIC_METRICS: by_framework.get(definition.framework_id, set()),
        }
        return MetricSerializer(definition.metric, context=context).data


class DomainSerializer(serializers.ModelSerializer):
    definitions = DefinitionSerializer(many=True, read_only=True)

    class Meta:
        model = Domain
        fields = ["slug", "name", "score_code", "segment_code", "definitions"]
        read_only_fields = fields


class FrameworkSerializer(serializers.ModelSerializer):
    peer_group = serializers.CharField(source="peer_group.slug", read_only=True)
    domains = DomainSerializer(many=True, read_only=True)
    releases = serializers.SerializerMethodField()

    class Meta:
        model = Framework
        fields = [
            "id",
            "slug",
            "version",
            "name",
            "description",
            "peer_group",
            "use_supplied_scores",
            "freedom_max_segment",
            "freedom_requires_no_deficit",
            "domains",
            "releases",
        ]
        read_only_fields = fields

    @extend_schema_field(ReleaseSerializer(many=True))
    def get_releases(self, framework: Framework) -> list[dict[str, Any]]:
        releases = self.context.get("releases_by_framework", {}).get(framework.pk, [])
        return ReleaseSerializer(releases, many=True, context=self.context).data
