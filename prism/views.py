from django.db.models import Count
from django.shortcuts import render

from donors.models import Donor
from lines.models import CellLine
from prism.models import Institution


def home(request):
    lines = CellLine.objects.visible_to(request.user)
    stats = {
        "lines": lines.count(),
        "donors": Donor.objects.filter(lines__in=lines).distinct().count(),
        "institutions": Institution.objects.filter(lines__in=lines).distinct().count(),
    }
    recent = lines.filter(released_at__isnull=False).order_by("-released_at")[:8]
    by_disease = (
        Donor.objects.filter(lines__in=lines).exclude(disease_label="")
        .values("disease_label").annotate(n=Count("lines", distinct=True)).order_by("-n")[:8]
    )
    return render(request, "home.html", {"stats": stats, "recent": recent, "by_disease": by_disease})
