"""Everything under /api/v1/. Each app keeps its endpoints in its own module."""

from django.urls import include, path

urlpatterns = [
    path("", include("lines.holdings.api")),
    path("", include("lines.holdings.phenopacket_api")),
    path("", include("lines.holdings.donor_api")),
    path("", include("lines.str.api")),
    path("", include("lines.submissions.api")),
    path("", include("lines.submissions.findings_api")),
    path("", include("lines.submissions.protocol_api")),
    path("", include("stock.api")),
    path("", include("distribution.api")),
    path("", include("results.api")),
    path("", include("cohorts.api")),
]
