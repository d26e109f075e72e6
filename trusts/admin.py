from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from adminkit.history import HistoryAdmin
from trusts.models import BoardMembership, ContextMeasure, PeerGroup, Region, Trust

# League tables print these as they stood when each table was computed (NHS England's CSV
# writes the region's published name and the peer group's trust type), so once a table refers
# to one they are read-only here: a reorganisation is a new region, and trusts move to it.
REGION_AS_PUBLISHED = ("name", "published_name", "slug")
PEER_GROUP_AS_PUBLISHED = ("name", "slug", "trust_type_label")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "published_name", "slug"]
    search_fields = ["name"]

    def get_readonly_fields(self, request: HttpRequest, obj: Region | None = None) -> Any:
        if obj is not None and obj.published_results.exists():
            return REGION_AS_PUBLISHED
        return ()


@admin.register(PeerGroup)
class PeerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "trust_type_label", "display_order"]

    def get_readonly_fields(self, request: HttpRequest, obj: PeerGroup | None = None) -> Any:
        if obj is not None and obj.releases.exists():
            return PEER_GROUP_AS_PUBLISHED
        return ()


class ContextMeasureInline(admin.TabularInline):
    model = ContextMeasure
    extra = 0
    readonly_fields = ["year", "key", "label", "unit", "value", "source"]
    can_delete = False


class BoardMembershipInline(admin.TabularInline):
    model = BoardMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Trust)
class TrustAdmin(HistoryAdmin):
    list_display = ["ods_code", "name", "peer_group", "subtype", "region", "is_open"]
    list_filter = ["peer_group", "region", "subtype", "is_open"]
    list_select_related = ["peer_group", "region"]
    search_fields = ["ods_code", "name"]
    autocomplete_fields = ["successor"]
    inlines = [BoardMembershipInline, ContextMeasureInline]


@admin.register(ContextMeasure)
class ContextMeasureAdmin(admin.ModelAdmin):
    list_display = ["trust", "year", "label", "value", "unit"]
    list_filter = ["year", "key", "trust__peer_group"]
    list_select_related = ["trust"]
    search_fields = ["trust__ods_code", "trust__name", "label"]


@admin.register(BoardMembership)
class BoardMembershipAdmin(HistoryAdmin):
    list_display = ["user", "trust", "role_title"]
    list_select_related = ["user", "trust"]
    search_fields = ["user__username", "trust__ods_code", "trust__name"]
    autocomplete_fields = ["user", "trust"]
