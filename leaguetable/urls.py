from django.contrib import admin
from django.urls import include, path

from leaguetable import assets, errors
from leaguetable.signin import RegulatorSignInForm
from public.views.methods import read_only

admin.site.login_form = RegulatorSignInForm
# The regulators' workspace says whose it is, not "Django administration".
admin.site.site_header = "NHS trust league tables: regulators"
admin.site.site_title = "League tables regulators"
admin.site.index_title = "Your to-do list and the quarter's data"
# The app list is on the front page; beside a list and its filters the sidebar would push the
# columns a regulator decides on off a 1280 px screen.
admin.site.enable_nav_sidebar = False

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("public.api.urls")),
    path("trust-area/", include("interventions.urls")),
    path("assets/images/<str:name>", read_only(assets.nhsuk_image), name="nhsuk-image"),
    path("", include("public.urls")),
]

# The APIs answer in JSON even where no view was found (a malformed id, an unknown path);
# a refusal says why, in the admin on the admin's own page.
handler400 = errors.bad_request
handler403 = errors.permission_denied
handler404 = errors.page_not_found
handler500 = errors.server_error
