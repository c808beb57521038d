"""/lines/<name>/: one line laid out for a scientist (the API's representation rules,
lines.holdings.representation), or its tombstone once withdrawn."""

from urllib.parse import urlencode

from django.db.models import F, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from core.models import DiseaseTerm
from core.roles import may_request
from donors.clinical import clinical_facts
from donors.disclosure import may_see_clinical_course
from donors.models import Ancestry, Sex
from lines.availability import is_requestable
from lines.availability import term as availability_term
from lines.holdings import representation as rep
from lines.models import CellLine
from lines.selectors import tombstone, tombstone_facts


def _visible_line(request, name):
    if len(name) > 40:
        raise Http404("No such line.")
    queryset = (
        CellLine.objects.visible_to(request.user)
        .select_related("donor__consent", "donor__institution", "institution", "parental_line")
        .defer("search_text", "search_text_restricted")
        .annotate(parental_name=F("parental_line__name"))
        .prefetch_related("variants", "donor__variants", "donor__consent__codes", "qc_records")
    )
    line = queryset.filter(name=name).first()
    if line is None:
        raise Http404("No line of that name is visible to you.")
    return line


def _relatives(request, line):
    """Parent, siblings, subclones and same-donor lines the user may see (as the API)."""
    visible = CellLine.objects.visible_to(request.user).only(
        "id", "name", "parental_line_id", "donor_id", "modification_type", "modification_description"
    )
    family_ids = Q(pk=line.parental_line_id) | Q(parental_line_id=line.pk)
    if line.parental_line_id:
        family_ids |= Q(parental_line_id=line.parental_line_id)
    if line.donor_id:
        family_ids |= Q(donor_id=line.donor_id)
    relatives = [r for r in visible.filter(family_ids).order_by("name") if r.pk != line.pk]
    parent = next((r for r in relatives if r.pk == line.parental_line_id), None)
    return {
        "parent": parent,
        "siblings": [r for r in relatives if line.parental_line_id and r.parental_line_id == line.parental_line_id],
        "subclones": [r for r in relatives if r.parental_line_id == line.pk],
        "same_donor": [r for r in relatives if line.donor_id and r.donor_id == line.donor_id],
    }


def _value_text(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value_text(v) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_value_text(v)}" for k, v in value.items())
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def qc_values(details):
    """A record's details as (label, text) pairs a scientist reads: markers with their
    % positive, karyotype and band resolution, germ layers detected, …"""
    rows = []
    for key, value in (details or {}).items():
        label = key.replace("_", " ").capitalize()
        if key == "markers" and isinstance(value, dict):
            text = ", ".join(f"{m} {v} %" if isinstance(v, int | float) else f"{m} {v}" for m, v in value.items())
        elif key == "germ_layers" and isinstance(value, dict):
            parts = []
            for layer, facts in value.items():
                if isinstance(facts, dict):
                    seen = "detected" if facts.get("detected") else "not detected"
                    markers = ", ".join(facts.get("markers", []))
                    parts.append(f"{layer} {seen}" + (f" ({markers})" if markers else ""))
                else:
                    parts.append(f"{layer}: {_value_text(facts)}")
            text = "; ".join(parts)
        elif key == "profile" and isinstance(value, dict):
            label = "STR profile"
            text = "; ".join(f"{m} {a}" for m, a in value.items())
        else:
            text = _value_text(value)
        rows.append((label, text))
    return rows


def line_detail(request, name):
    try:
        line = _visible_line(request, name)
    except Http404:
        gone = tombstone(name) if len(name) <= 40 else None
        if gone is None:
            raise
        # 410 Gone: the line was public and is withdrawn for good; the page says when and why.
        return render(request, "lines/tombstone.html", {"line": gone, "facts": tombstone_facts(gone)}, status=410)
    viewer = rep.Viewer(request)
    relatives = _relatives(request, line)
    records = list(line.qc_records.all())
    data = rep.line_detail(line, viewer, qc_records=records, **relatives)
    latest = {}
    for record in records:
        current = latest.get(record.test)
        if current is None or (record.tested_on, record.pk) > (current.tested_on, current.pk):
            latest[record.test] = record
    for test in data["qc"]["tests"]:
        record = latest.get(test["test"])
        shown = rep.qc_record(record, viewer)["details"] if record else None
        test["values"] = qc_values(shown)
        test["details_hidden"] = bool(record and record.details and shown is None)
    family_root = relatives["parent"] or (line if relatives["subclones"] else None)
    family_children = (
        sorted([*relatives["siblings"], line], key=lambda r: r.name) if relatives["parent"] else relatives["subclones"]
    )
    variants = [
        {**v, "origin_label": "engineered" if v["origin"] == "engineered" else "germline"} for v in data["variants"]
    ]
    institution = line.institution
    restriction = (data["consent"] or {}).get("disease_restriction")
    restriction_label = (
        DiseaseTerm.objects.filter(curie=restriction).values_list("label", flat=True).first() if restriction else None
    )
    return render(
        request,
        "lines/detail.html",
        {
            "restriction_label": restriction_label,
            "clinical_facts": clinical_facts(data["donor"]["clinical_data"]) if data["donor"] else [],
            "line": line,
            "data": data,
            "donor": data["donor"],
            "consent": data["consent"],
            "variants": variants,
            "family_root": family_root,
            "family_children": family_children,
            "institution": institution,
            "may_request": may_request(request.user),
            "requestable": is_requestable(line),
            "availability_sentence": availability_term(line.availability, line.status).sentence,
            "sex_labels": dict(Sex.choices),
            "ancestry_labels": dict(Ancestry.choices),
            "str_markers": sorted((data["str_profile"] or {}).items()),
            "api_url": reverse("api-line-detail", args=[line.name]),
            "phenopacket_url": reverse("api-donor-phenopacket", args=[line.donor.code])
            if line.donor_id and may_see_clinical_course(request.user, line.donor)
            else None,
            "str_search_url": f"{reverse('str-search')}?{urlencode({'line': line.name})}",
        },
    )
