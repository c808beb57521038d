from csp.decorators import csp_update
from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from core.health import health
from lines.holdings.exports import SITEMAPS
from network.federation import views as network_views
from pages import passwords, views
from prism.metrics import metrics

urlpatterns = [
    path("", views.home, name="home"),
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("accounts/token/", views.api_token, name="api-token"),
    # Before Django's own: these two also replace the API token (pages.passwords).
    path("accounts/password_change/", passwords.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/reset/<uidb64>/<token>/",
        passwords.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("accounts/", include("django.contrib.auth.urls")),
    path("lines/", include("lines.holdings.exports")),
    path("lines/", include("lines.holdings.views")),
    path("sitemap.xml", sitemap, {"sitemaps": SITEMAPS}, name="sitemap"),
    path("curator/", views.curator_dashboard, name="curator-dashboard"),
    path("admin/", admin.site.urls),
    path("api/v1/", include("prism.api_urls")),
    # Apart from cohorts/api.py (the builder's): the cohort as a zip of phenopackets.
    path("api/v1/", include("cohorts.phenopacket_urls")),
    path("api/beacon/v2/", include("network.beacon.urls")),
    path("api/v1/", include(network_views.api_urls)),
    path("network/", include(network_views.page_urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    # Redoc's sidebar always shows Redocly's logo from their CDN: allowed on this page only.
    path(
        "api/redoc/",
        csp_update({"img-src": ["https://cdn.redoc.ly"]})(SpectacularRedocView.as_view(url_name="api-schema")),
        name="api-redoc",
    ),
    path("api-auth/", include("rest_framework.urls")),
    path("submissions/", include("lines.submissions.views")),
    path("protocol/", include("lines.submissions.protocol_views")),
    path("distribution/", include("distribution.urls")),
    path("str/", include("lines.str.views")),
    path("stock/", include("stock.views")),
    path("stock/", include("distribution.stock_views")),
    path("results/", include("results.urls")),
    path("cohorts/", include("cohorts.views")),
]

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

# API clients get JSON errors for unmatched URLs too, as the schema documents.
handler400 = "core.api.bad_request"
handler403 = "core.api.permission_denied"
handler404 = "core.api.not_found"
handler500 = "core.api.server_error"
