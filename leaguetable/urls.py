from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("leaguetable.api.urls")),
    path("trust-area/", include("interventions.urls")),
    path("", include("leaguetable.public_urls")),
]
