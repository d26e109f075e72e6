from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from trusts.models import BoardMembership, ContextMeasure, PeerGroup, Region, Trust


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "published_name", "slug"]
    search_fields = ["name"]


@admin.register(PeerGroup)
class PeerGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "trust_type_label", "display_order"]


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
class TrustAdmin(SimpleHistoryAdmin):
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
class BoardMembershipAdmin(SimpleHistoryAdmin):
    list_display = ["user", "trust", "role_title"]
    list_select_related = ["user", "trust"]
    search_fields = ["user__username", "trust__ods_code", "trust__name"]
    autocomplete_fields = ["user", "trust"]
