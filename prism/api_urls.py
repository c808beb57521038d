"""Everything under /api/v1/. Each app keeps its endpoints in its own module."""

from django.urls import include, path

urlpatterns = [
    path("", include("lines.api")),
    path("", include("donors.api")),
    path("", include("lines.str_api")),
    path("", include("lines.submission_api")),
    path("", include("lines.protocol_api")),
    path("", include("distribution.api")),
]
