"""The public site. Every URL here is covered by tests/public/test_leaks.py, which walks this
list: a new URL is tested for leaks of unpublished releases without anyone adding it."""

from django.urls import path

from public.caching import cached_public
from public.feeds import ReleasesFeed
from public.views import downloads, pages
from public.views.methods import read_only

app_name = "public"

TABLE = "league-tables/<slug:peer_group>/<str:quarter>/"
REVISION = TABLE + "revisions/<int:revision>/"

urlpatterns = [
    path("", pages.home, name="home"),
    path(TABLE, pages.league_table, name="league-table"),
    path(REVISION, pages.league_table, name="league-table-revision"),
    path(TABLE + "domains/", pages.league_table_domains, name="league-table-domains"),
    path(
        REVISION + "domains/",
        pages.league_table_domains,
        name="league-table-domains-revision",
    ),
    *(
        path(TABLE + filename, downloads.download, {"filename": filename}, name="download")
        for filename in downloads.FORMATS
    ),
    *(
        path(
            REVISION + filename,
            downloads.download,
            {"filename": filename},
            name="download-revision",
        )
        for filename in downloads.FORMATS
    ),
    path("trusts/", pages.trust_index, name="trust-index"),
    path("trusts/<str:ods_code>/", pages.trust, name="trust"),
    path("compare/", pages.compare, name="compare"),
    path("methodology/", pages.methodology, name="methodology"),
    path("releases/", pages.releases, name="releases"),
    path("releases/feed.atom", read_only(cached_public(ReleasesFeed())), name="releases-feed"),
    path("sitemap.xml", pages.sitemap, name="sitemap"),
]
