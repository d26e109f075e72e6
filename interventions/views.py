"""The trust area: a board member's own trust's results, freedoms and support plan.

Every lookup goes through a scoped queryset (`visible_to`, `for_board_member`) and answers 404
for anything outside it, so another trust's pages cannot be told apart from pages that do not
exist. The only changes a board member can make are a progress update on an action of their
trust's active plan and a proposal that an action is complete.
"""

from collections.abc import Iterable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from interventions import selectors
from interventions.forms import ActionUpdateForm, ProposeCompleteForm
from interventions.models import ActionUpdate, FreedomGrant, SupportAction, SupportPlan
from interventions.services import InterventionError
from interventions.services import support as support_services
from interventions.services.support import latest_evaluation
from releases.models import Release
from trusts.models import Trust

LOGIN_URL = "trust_area:login"


@require_GET
@login_required(login_url=LOGIN_URL)
def home(request: HttpRequest) -> HttpResponse:
    trusts = list(Trust.objects.for_board_member(request.user))
    if len(trusts) == 1:
        return redirect("trust_area:trust", ods_code=trusts[0].ods_code)
    return render(request, "interventions/home.html", {"trusts": trusts})


@require_GET
@login_required(login_url=LOGIN_URL)
def trust_overview(request: HttpRequest, ods_code: str) -> HttpResponse:
    trust = selectors.board_trust_or_404(request.user, ods_code)
    latest = selectors.latest_published_result(trust)
    context = {
        "trust": trust,
        "latest": latest,
        "embargoed": selectors.embargoed_results(trust, request.user),
        "freedoms": FreedomGrant.objects.visible_to(request.user)
        .filter(trust=trust)
        .select_related("freedom_type", "earned_by__quarter"),
        "plans": SupportPlan.objects.visible_to(request.user)
        .filter(trust=trust)
        .select_related("triggered_by__quarter", "regulator_lead"),
    }
    return render(request, "interventions/trust.html", context)


@require_GET
@login_required(login_url=LOGIN_URL)
def trust_release(request: HttpRequest, ods_code: str, release_id: int) -> HttpResponse:
    """The trust's own row in one table: published, or an embargoed preview."""
    trust = selectors.board_trust_or_404(request.user, ods_code)
    release = get_object_or_404(selectors.viewable_releases(trust, request.user), pk=release_id)
    lines = selectors.own_metric_lines(release, trust)
    context = {
        "trust": trust,
        "release": release,
        "embargoed": release.status in Release.EMBARGOED_STATUSES,
        "result": selectors.own_result(release, trust),
        "lines": lines,
        "has_synthetic": any(line.synthetic for line in lines),
    }
    return render(request, "interventions/release.html", context)


@require_GET
@login_required(login_url=LOGIN_URL)
def plan_detail(request: HttpRequest, pk: int) -> HttpResponse:
    plan = get_object_or_404(
        SupportPlan.objects.visible_to(request.user).select_related(
            "trust", "triggered_by__quarter", "regulator_lead"
        ),
        pk=pk,
    )
    criteria = [
        (criterion, latest_evaluation(criterion))
        for criterion in plan.exit_criteria.select_related("metric")
    ]
    context = {
        "plan": plan,
        "actions": _marked_overdue(plan.actions.all()),
        "criteria": criteria,
        "can_contribute": plan.status == SupportPlan.Status.ACTIVE,
    }
    return render(request, "interventions/plan.html", context)


def _marked_overdue(actions: Iterable[SupportAction]) -> list[SupportAction]:
    today = timezone.localdate()
    marked = list(actions)
    for action in marked:
        action.overdue = action.is_overdue(today)
    return marked


def _visible_action(request: HttpRequest, pk: int) -> SupportAction:
    return get_object_or_404(
        SupportAction.objects.visible_to(request.user).select_related("plan__trust"), pk=pk
    )


@require_http_methods(["GET", "POST"])
@login_required(login_url=LOGIN_URL)
def action_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An action with its progress; POST adds a progress update with evidence."""
    action = _visible_action(request, pk)
    form = ActionUpdateForm(
        request.POST or None,
        request.FILES or None,
        initial={"date": timezone.localdate()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            support_services.add_action_update(
                action,
                request.user,
                form.cleaned_data["text"],
                date=form.cleaned_data["date"],
                evidence_file=form.cleaned_data.get("evidence_file") or None,
                evidence_link=form.cleaned_data.get("evidence_link") or "",
            )
        except InterventionError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(request, "Your update has been added.")
            return redirect("trust_area:action", pk=action.pk)
    return _action_page(request, action, form, ProposeCompleteForm())


def _action_page(
    request: HttpRequest,
    action: SupportAction,
    form: ActionUpdateForm,
    complete_form: ProposeCompleteForm,
) -> HttpResponse:
    """The action with the forms its state allows; a refusal of a form the page no longer
    offers (the action finished, proposed or its plan closed meanwhile) is shown at the top,
    since the form that would carry it is not drawn."""
    refusals = []
    for bound, why_not in (
        (form, action.closed_to_progress()),
        (complete_form, action.closed_to_proposal()),
    ):
        if bound.errors and why_not:
            refusals.extend(bound.non_field_errors() or [why_not])
    context = {
        "action": _marked_overdue([action])[0],
        "plan": action.plan,
        "updates": action.updates.select_related("author"),
        "form": form,
        "complete_form": complete_form,
        "offers_update": not action.closed_to_progress(),
        "offers_complete": not action.closed_to_proposal(),
        "refusals": list(dict.fromkeys(refusals)),
    }
    failed = form.errors or complete_form.errors
    return render(request, "interventions/action.html", context, status=400 if failed else 200)


@require_POST
@login_required(login_url=LOGIN_URL)
def propose_complete(request: HttpRequest, pk: int) -> HttpResponse:
    action = _visible_action(request, pk)
    form = ProposeCompleteForm(request.POST)
    if form.is_valid():
        try:
            support_services.propose_action_complete(
                action, request.user, form.cleaned_data["note"]
            )
        except InterventionError as refusal:
            form.add_error(None, str(refusal))
        else:
            messages.success(
                request, "The regulator has been asked to confirm the action complete."
            )
            return redirect("trust_area:action", pk=action.pk)
    update_form = ActionUpdateForm(initial={"date": timezone.localdate()})
    return _action_page(request, action, update_form, form)


@require_GET
@login_required(login_url=LOGIN_URL)
def evidence(request: HttpRequest, pk: int) -> HttpResponse:
    """Evidence files are only ever served here, after the same check as the action itself.

    A file whose stored copy has gone (a restore without the media, a removed upload) is a 410
    page that says so, with the update it belonged to, rather than a 500.
    """
    update = get_object_or_404(
        ActionUpdate.objects.filter(
            action__in=SupportAction.objects.visible_to(request.user)
        ).select_related("action"),
        pk=pk,
    )
    if not update.evidence_file:
        raise Http404("This update has no evidence file.")
    try:
        stored = update.evidence_file.open("rb")
    except OSError:
        return render(
            request, "interventions/evidence_missing.html", {"update": update}, status=410
        )
    return FileResponse(stored, as_attachment=True, filename=update.evidence_name)
