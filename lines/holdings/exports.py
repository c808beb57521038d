"""A line record in the formats the ecosystem reads: /lines/<name>/cellosaurus.txt and
/lines/<name>/hpscreg.json, and the sitemap of the released lines (/sitemap.xml)."""

from django.contrib.auth.models import AnonymousUser
from django.contrib.sitemaps import Sitemap
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse

from lines.findable import cellosaurus_text, hpscreg_fields
from lines.holdings.representation import Viewer, line_summary
from lines.models import CellLine


def _line(request, name):
    return get_object_or_404(
        CellLine.objects.visible_to(request.user).select_related("donor", "institution"), name=name
    )


def cellosaurus_export(request, name):
    line = _line(request, name)
    response = HttpResponse(
        cellosaurus_text(line, line_summary(line, Viewer(request))), content_type="text/plain; charset=utf-8"
    )
    response["Content-Disposition"] = f'inline; filename="{line.name}.cellosaurus.txt"'
    return response


def hpscreg_export(request, name):
    line = _line(request, name)
    return JsonResponse(hpscreg_fields(line, line_summary(line, Viewer(request))))


class LineSitemap(Sitemap):
    """Released lines anyone may see (visible_to an anonymous caller)."""

    changefreq = "weekly"
    limit = 10000

    def items(self):
        return CellLine.objects.visible_to(AnonymousUser()).only("name", "updated_at").order_by("name")

    def location(self, item):
        return reverse("line-detail", args=[item.name])

    def lastmod(self, item):
        return item.updated_at


SITEMAPS = {"lines": LineSitemap}

urlpatterns = [
    path("<path:name>/cellosaurus.txt", cellosaurus_export, name="line-cellosaurus"),
    path("<path:name>/hpscreg.json", hpscreg_export, name="line-hpscreg"),
]
