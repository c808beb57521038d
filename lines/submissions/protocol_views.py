"""/protocol/<n>/: the submission protocol as a page, rendered from the same rule table
(lines.submissions.protocol.RULES) the validator's rule ids come from, with the version's thresholds."""

import json

from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path

from lines.models import ProtocolVersion
from lines.submissions.formats import COLUMNS, example_json_document
from lines.submissions.protocol import RULES


def latest(request):
    version = ProtocolVersion.objects.order_by("-number").first()
    if version is None:
        return render(request, "protocol/detail.html", {"version": None}, status=404)
    return redirect("protocol-page", number=version.number)


def detail(request, number):
    version = get_object_or_404(ProtocolVersion, number=number)
    groups = []
    for rule_id, severity, text, example in RULES:
        family = rule_id.split("-")[0]
        if not groups or groups[-1]["family"] != family:
            groups.append({"family": family, "rules": []})
        groups[-1]["rules"].append({"id": rule_id, "severity": severity, "text": text, "example": example})
    return render(
        request,
        "protocol/detail.html",
        {
            "version": version,
            "versions": ProtocolVersion.objects.order_by("number"),
            "groups": groups,
            "settings": sorted((version.settings or {}).items()),
            "example": json.dumps(example_json_document(), indent=2, ensure_ascii=False),
            "columns": {
                sheet: [(c, kind, help_text) for c, (kind, help_text) in cols.items()]
                for sheet, cols in COLUMNS.items()
            },
        },
    )


urlpatterns = [
    path("", latest, name="protocol-latest"),
    path("<int:number>/", detail, name="protocol-page"),
]
