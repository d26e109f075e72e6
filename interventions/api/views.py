"""The trust area's API: the same scoped querysets as the pages, for the same people.

Each view resolves what the URL is about in `initial()`, before DRF picks the handler, so a
request about another trust's trust, plan or action is a 404 whatever its method.
"""

from typing import Any

from django.db.models import Model
from django.shortcuts import get_object_or_404
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from interventions import selectors
from interventions.api.serializers import (
    ActionUpdateSerializer,
    EvaluationSerializer,
    ExitCriterionSerializer,
    FreedomGrantSerializer,
    OwnMetricScoreSerializer,
    OwnResultSerializer,
    ReleaseSerializer,
    SupportActionSerializer,
    SupportPlanSerializer,
)
from interventions.models import FreedomGrant, SupportAction, SupportPlan
from interventions.services import InterventionError
from interventions.services import support as support_services
from interventions.services.support import latest_evaluation
from releases.applicability import Coverage
from trusts.models import Trust


class TrustAreaAPIView(APIView):
    # The board's own session, with its CSRF check on every write; never HTTP Basic, which
    # would let a page on another site post with credentials a browser remembers.
    authentication_classes = [SessionAuthentication]
    permission_classes = [IsAuthenticated]
    # The board members' private API is not part of the public, documented open API.
    schema = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.subject = self.resolve(request, **kwargs)

    def resolve(self, request: Request, **kwargs: Any) -> Model | None:
        """The object the URL is about, from a scoped queryset; Http404 if out of scope."""
        return None


class TrustList(TrustAreaAPIView):
    def get(self, request: Request) -> Response:
        trusts = Trust.objects.for_board_member(request.user)
        return Response([{"ods_code": t.ods_code, "name": t.name} for t in trusts])


class TrustDetail(TrustAreaAPIView):
    def resolve(self, request: Request, **kwargs: Any) -> Trust:
        return selectors.board_trust_or_404(request.user, kwargs["ods_code"])

    def get(self, request: Request, ods_code: str) -> Response:
        trust = self.subject
        latest = selectors.latest_published_result(trust)
        freedoms = FreedomGrant.objects.visible_to(request.user).filter(trust=trust)
        plans = SupportPlan.objects.visible_to(request.user).filter(trust=trust)
        return Response(
            {
                "ods_code": trust.ods_code,
                "name": trust.name,
                "latest_published": None
                if latest is None
                else {
                    "release": ReleaseSerializer(latest.release).data,
                    "result": OwnResultSerializer(latest).data,
                },
                "releases": ReleaseSerializer(
                    selectors.viewable_releases(trust, request.user), many=True
                ).data,
                "freedoms": FreedomGrantSerializer(
                    freedoms.select_related("trust", "freedom_type", "earned_by__quarter"),
                    many=True,
                ).data,
                "support_plans": SupportPlanSerializer(
                    plans.select_related("trust", "triggered_by__quarter", "regulator_lead"),
                    many=True,
                ).data,
            }
        )


class TrustRelease(TrustAreaAPIView):
    """The trust's own row and metric scores in a published or embargoed release."""

    def resolve(self, request: Request, **kwargs: Any) -> Any:
        trust = selectors.board_trust_or_404(request.user, kwargs["ods_code"])
        release = get_object_or_404(
            selectors.viewable_releases(trust, request.user), pk=kwargs["release_id"]
        )
        return (trust, release)

    def get(self, request: Request, ods_code: str, release_id: int) -> Response:
        trust, release = self.subject
        lines = selectors.own_metric_lines(release, trust)
        return Response(
            {
                "release": ReleaseSerializer(release).data,
                "result": OwnResultSerializer(selectors.own_result(release, trust)).data,
                "metrics": OwnMetricScoreSerializer(
                    selectors.own_metric_scores(release, trust), many=True
                ).data,
                # The table's other metrics: not reported by the trust (missing), or not
                # measuring its kind of trust (not applicable, not missing).
                "not_reported": [
                    line.code for line in lines if line.coverage == Coverage.NOT_REPORTED
                ],
                "not_applicable": [
                    {"metric": line.code, "name": line.name, "why": line.not_applicable_text}
                    for line in lines
                    if line.coverage == Coverage.NOT_APPLICABLE
                ],
            }
        )


class FreedomList(TrustAreaAPIView):
    def get(self, request: Request) -> Response:
        grants = FreedomGrant.objects.visible_to(request.user).select_related(
            "trust", "freedom_type", "earned_by__quarter"
        )
        return Response(FreedomGrantSerializer(grants, many=True).data)


class PlanList(TrustAreaAPIView):
    def get(self, request: Request) -> Response:
        plans = SupportPlan.objects.visible_to(request.user).select_related(
            "trust", "triggered_by__quarter", "regulator_lead"
        )
        return Response(SupportPlanSerializer(plans, many=True).data)


class PlanDetail(TrustAreaAPIView):
    def resolve(self, request: Request, **kwargs: Any) -> SupportPlan:
        return get_object_or_404(
            SupportPlan.objects.visible_to(request.user).select_related(
                "trust", "triggered_by__quarter", "regulator_lead"
            ),
            pk=kwargs["pk"],
        )

    def get(self, request: Request, pk: int) -> Response:
        plan = self.subject
        criteria = []
        for criterion in plan.exit_criteria.select_related("metric"):
            latest = latest_evaluation(criterion)
            criteria.append(
                {
                    **ExitCriterionSerializer(criterion).data,
                    "latest_evaluation": None
                    if latest is None
                    else EvaluationSerializer(latest).data,
                }
            )
        return Response(
            {
                **SupportPlanSerializer(plan).data,
                "actions": SupportActionSerializer(plan.actions.all(), many=True).data,
                "exit_criteria": criteria,
            }
        )


class ActionScoped(TrustAreaAPIView):
    def resolve(self, request: Request, **kwargs: Any) -> SupportAction:
        return get_object_or_404(
            SupportAction.objects.visible_to(request.user).select_related("plan"), pk=kwargs["pk"]
        )


class ActionDetail(ActionScoped):
    def get(self, request: Request, pk: int) -> Response:
        return Response(SupportActionSerializer(self.subject).data)


class ActionUpdates(ActionScoped):
    def get(self, request: Request, pk: int) -> Response:
        updates = self.subject.updates.select_related("author")
        return Response(ActionUpdateSerializer(updates, many=True).data)

    def post(self, request: Request, pk: int) -> Response:
        serializer = ActionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            update = support_services.add_action_update(
                self.subject,
                request.user,
                data["text"],
                date=data.get("date"),
                evidence_file=data.get("evidence_file"),
                evidence_link=data.get("evidence_link", ""),
            )
        except InterventionError as refusal:
            raise ValidationError({"detail": str(refusal)}) from refusal
        return Response(ActionUpdateSerializer(update).data, status=status.HTTP_201_CREATED)


class ProposeCompleteSerializer(serializers.Serializer):
    note = serializers.CharField()


class ActionProposeComplete(ActionScoped):
    def post(self, request: Request, pk: int) -> Response:
        serializer = ProposeCompleteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            action = support_services.propose_action_complete(
                self.subject, request.user, serializer.validated_data["note"]
            )
        except InterventionError as refusal:
            raise ValidationError({"detail": str(refusal)}) from refusal
        return Response(SupportActionSerializer(action).data)
