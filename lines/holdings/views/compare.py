"""/lines/compare/: two to four lines side by side (the API's representation rules)."""

from django.db.models import F
from django.shortcuts import render
from django.urls import reverse

from lines.holdings import representation as rep
from lines.models import CellLine

COMPARE_MIN, COMPARE_MAX = 2, 4


def compare(request):
    names = []
    for raw in request.GET.getlist("names"):
        for name in raw.split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    problem = None
    columns = []
    if not names:
        pass  # the page explains how to choose lines
    elif len(names) < COMPARE_MIN or len(names) > COMPARE_MAX:
        problem = (
            f"Choose between {COMPARE_MIN} and {COMPARE_MAX} lines to compare "
            f"(you chose {len(names)}). Tick them in the catalog, or give names=… in the address."
        )
    else:
        queryset = (
            CellLine.objects.visible_to(request.user)
            .filter(name__in=names)
            .select_related("donor__consent", "institution")
            .defer("search_text", "search_text_restricted", "str_conflicts")
            .annotate(parental_name=F("parental_line__name"))
            .prefetch_related("variants", "donor__variants", "donor__consent__codes", "qc_records")
        )
        found = {line.name: line for line in queryset}
        missing = [n for n in names if n not in found]
        if missing:
            problem = f"No line visible to you is called {', '.join(missing)}."
        viewer = rep.Viewer(request)
        for name in names:
            line = found.get(name)
            if line is None:
                continue
            summary = rep.line_summary(line, viewer)
            summary["variants"] = [rep.variant_facts(v) for v in rep.visible_variants(line, viewer)]
            summary["qc"] = rep.qc_summary(line, list(line.qc_records.all()), viewer)
            summary["consent"] = rep.consent_terms(getattr(line.donor, "consent", None) if line.donor else None)
            summary["page_url"] = reverse("line-detail", args=[line.name])
            summary["line"] = line
            columns.append(summary)
    qc_tests = []
    for column in columns:
        for test in column["qc"]["tests"]:
            if test["test"] not in [t["test"] for t in qc_tests]:
                qc_tests.append({"test": test["test"], "label": test["label"]})
    for test in qc_tests:
        test["results"] = [
            next((t["result"] for t in c["qc"]["tests"] if t["test"] == test["test"]), None) for c in columns
        ]
    return render(
        request,
        "lines/compare.html",
        {
            "columns": columns,
            "problem": problem,
            "names": names,
            "qc_tests": qc_tests,
            "min": COMPARE_MIN,
            "max": COMPARE_MAX,
            "slots": (names + [""] * COMPARE_MAX)[: max(COMPARE_MAX, len(names))],
        },
        status=400 if problem and not columns else 200,
    )
