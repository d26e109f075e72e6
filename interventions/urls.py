from django.contrib.auth import views as auth_views
from django.urls import path

from interventions import views
from interventions.api import views as api
from interventions.forms import SignInForm

app_name = "trust_area"

urlpatterns = [
    path(
        "login/",
        auth_views.LoginView.as_view(
            template_name="interventions/login.html",
            next_page="trust_area:home",
            authentication_form=SignInForm,
        ),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(next_page="trust_area:login"), name="logout"),
    path("", views.home, name="home"),
    path("plans/<int:pk>/", views.plan_detail, name="plan"),
    path("actions/<int:pk>/", views.action_detail, name="action"),
    path("actions/<int:pk>/propose-complete/", views.propose_complete, name="propose-complete"),
    path("updates/<int:pk>/evidence/", views.evidence, name="evidence"),
    path("api/trusts/", api.TrustList.as_view(), name="api-trusts"),
    path("api/trusts/<str:ods_code>/", api.TrustDetail.as_view(), name="api-trust"),
    path(
        "api/trusts/<str:ods_code>/releases/<int:release_id>/",
        api.TrustRelease.as_view(),
        name="api-trust-release",
    ),
    path("api/freedoms/", api.FreedomList.as_view(), name="api-freedoms"),
    path("api/plans/", api.PlanList.as_view(), name="api-plans"),
    path("api/plans/<int:pk>/", api.PlanDetail.as_view(), name="api-plan"),
    path("api/actions/<int:pk>/", api.ActionDetail.as_view(), name="api-action"),
    path("api/actions/<int:pk>/updates/", api.ActionUpdates.as_view(), name="api-action-updates"),
    path(
        "api/actions/<int:pk>/propose-complete/",
        api.ActionProposeComplete.as_view(),
        name="api-action-propose-complete",
    ),
    # Last: an ODS code is any short string, so it must not shadow the paths above.
    path("<str:ods_code>/", views.trust_overview, name="trust"),
    path("<str:ods_code>/releases/<int:release_id>/", views.trust_release, name="release"),
]
