import datetime
from typing import Any

from rest_framework import serializers

from interventions.evidence import (
    clean_evidence_link,
    validate_evidence_file,
    validate_progress_date,
)
from interventions.models import (
    ActionUpdate,
    CriterionEvaluation,
    ExitCriterion,
    FreedomGrant,
    SupportAction,
    SupportPlan,
)
from releases.models import MetricResult, Release, TrustResult


class ReleaseSerializer(serializers.ModelSerializer):
    quarter = serializers.CharField(source="quarter.label")
    peer_group = serializers.CharField(source="peer_group.slug")
    embargoed = serializers.SerializerMethodField()

    class Meta:
        model = Release
        fields = ["id", "quarter", "peer_group", "revision", "status", "embargoed"]

    def get_embargoed(self, release: Release) -> bool:
        return release.status != Release.Status.PUBLISHED


class OwnResultSerializer(serializers.ModelSerializer):
    """One trust's own row; nothing about any other trust."""

    trust = serializers.CharField(source="trust.ods_code")

    class Meta:
        model = TrustResult
        fields = [
            "trust",
            "segment",
            "average_score",
            "average_low",
            "average_high",
            "rank",
            "rank_low",
            "rank_high",
            "in_financial_deficit",
            "in_recovery_support",
        ]


class OwnMetricScoreSerializer(serializers.ModelSerializer):
    metric = serializers.CharField(source="metric.code")
    name = serializers.CharField(source="metric.name")

    class Meta:
        model = MetricResult
        fields = ["metric", "name", "value", "value_text", "score"]


class FreedomGrantSerializer(serializers.ModelSerializer):
    trust = serializers.CharField(source="trust.ods_code")
    freedom = serializers.CharField(source="freedom_type.name")
    earned_by = serializers.CharField(source="earned_by.quarter.label")

    class Meta:
        model = FreedomGrant
        fields = [
            "id",
            "trust",
            "freedom",
            "earned_by",
            "status",
            "conditions",
            "start",
            "review_date",
            "status_reason",
        ]


class ISODateField(serializers.DateField):
    """YYYY-MM-DD in ASCII digits, as the web form's boxes take them.

    DRF's own parser also takes "٢٠٢٦-٠٣-١٥" (any Unicode digit), which the form refuses.
    """

    def to_internal_value(self, value: Any) -> datetime.date:
        if isinstance(value, str) and not value.isascii():
            self.fail("invalid", format="YYYY-MM-DD")
        return super().to_internal_value(value)


class ActionUpdateSerializer(serializers.ModelSerializer):
    date = ISODateField(required=False)
    author = serializers.CharField(source="author.get_username", read_only=True)
    evidence_file = serializers.FileField(write_only=True, required=False)
    # Checked as the web form checks it (clean_evidence_link), not by DRF's stricter URLField.
    evidence_link = serializers.CharField(required=False, allow_blank=True, max_length=500)
    has_evidence_file = serializers.SerializerMethodField()

    class Meta:
        model = ActionUpdate
        fields = [
            "id",
            "date",
            "text",
            "author",
            "evidence_file",
            "has_evidence_file",
            "evidence_link",
            "created_at",
        ]
        read_only_fields = ["id", "author", "created_at"]

    def get_has_evidence_file(self, update: ActionUpdate) -> bool:
        """Whether the file can be downloaded: one whose stored copy has gone is not there."""
        return update.evidence_size is not None

    # The web form's own checks (interventions.evidence), so the API accepts exactly what the
    # form accepts.
    def validate_date(self, date: datetime.date) -> datetime.date:
        validate_progress_date(date)
        return date

    def validate_evidence_file(self, file: Any) -> Any:
        validate_evidence_file(file)
        return file

    def validate_evidence_link(self, link: str) -> str:
        return clean_evidence_link(link)


class SupportActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = SupportAction
        fields = [
            "id",
            "plan",
            "description",
            "owner_name",
            "due_date",
            "status",
            "rag",
            "proposed_complete",
        ]
        read_only_fields = fields


class EvaluationSerializer(serializers.ModelSerializer):
    release = serializers.IntegerField(source="release_id")

    class Meta:
        model = CriterionEvaluation
        fields = ["release", "met", "figures", "summary"]


class ExitCriterionSerializer(serializers.ModelSerializer):
    description = serializers.CharField(source="__str__")

    class Meta:
        model = ExitCriterion
        fields = ["id", "kind", "description"]


class SupportPlanSerializer(serializers.ModelSerializer):
    trust = serializers.CharField(source="trust.ods_code")
    triggered_by = serializers.CharField(source="triggered_by.quarter.label")
    regulator_lead = serializers.SerializerMethodField()

    class Meta:
        model = SupportPlan
        fields = [
            "id",
            "trust",
            "level",
            "status",
            "triggered_by",
            "objectives",
            "regulator_lead",
            "trust_lead_name",
        ]
        read_only_fields = fields

    def get_regulator_lead(self, plan: SupportPlan) -> str | None:
        lead = plan.regulator_lead
        return None if lead is None else (lead.get_full_name() or lead.get_username())
