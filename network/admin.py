from django.contrib import admin

from network.models import Peer


@admin.register(Peer)
class PeerAdmin(admin.ModelAdmin):
    list_display = ("name", "base_url", "kind", "active")
    list_filter = ("kind", "active")
    search_fields = ("name", "base_url")
