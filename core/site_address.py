"""The address the site is reached at, for links in e-mails when SITE_URL is not set."""

from django.conf import settings
from django.utils import timezone

from core.models import SiteAddress

MACHINE_PATHS = ("/health/", "/metrics")


class SiteAddressMiddleware:
    """Remember the address the site is reached at (scheme and host, which
    ALLOWED_HOSTS has vetted), so that e-mails link back to it when SITE_URL is not
    set. Written only when it changes; a process remembers what it last wrote."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.known = None

    def __call__(self, request):
        # Health checks and metrics scrapes reach the site by an internal name
        # (compose asks http://localhost/health/): that is not where people find it.
        if not settings.SITE_URL and not request.path.startswith(MACHINE_PATHS):
            address = request.build_absolute_uri("/").rstrip("/")
            if address != self.known:
                SiteAddress.objects.update_or_create(pk=1, defaults={"address": address, "seen_at": timezone.now()})
                self.known = address
        return self.get_response(request)


def site_url() -> str:
    """Where links in e-mails point: SITE_URL, else the address the site was last
    reached at, else the embedded default's."""
    if settings.SITE_URL:
        return settings.SITE_URL.rstrip("/")
    seen = SiteAddress.objects.filter(pk=1).values_list("address", flat=True).first()
    return seen or "http://127.0.0.1:8000"
