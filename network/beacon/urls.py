from django.urls import path

from network.beacon import views

urlpatterns = [
    path("", views.info, name="beacon-root"),
    path("info", views.info, name="beacon-info"),
    path("configuration", views.configuration, name="beacon-configuration"),
    path("map", views.beacon_map, name="beacon-map"),
    path("entry_types", views.entry_types, name="beacon-entry-types"),
    path("filtering_terms", views.filtering_terms, name="beacon-filtering-terms"),
    path("<str:endpoint>", views.entries, name="beacon-entries"),
]
