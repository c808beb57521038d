"""The catalog's web pages: /lines/ (search, facets, sortable table), /lines/<name>/
(one line laid out for a scientist) and /lines/compare/ (two to four side by side).

The pages read exactly what the holdings API reads: the same FilterSet
(lines.holdings.filters.CellLineFilter, so the query parameters are the API's), the same
facet counts (lines.holdings.facets.facet_counts, selected facets widened) and the same representation rules
(lines.holdings.representation), so a page can never show a user more than the API would.
Everything starts from CellLine.objects.visible_to(user).

With htmx the filter form swaps only the catalog region and pushes the URL; without
JavaScript the same form submits as a plain GET and the server renders the page.
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q
from django.http import Http404
from django.shortcuts import render
from django.urls import path, reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import push_url
from rest_framework.exceptions import ValidationError as ApiValidationError

from core.catalog_version import cached
from core.models import DiseaseTerm, DuoTerm
from core.roles import depositing_institution, is_curator, may_request
from donors.clinical import clinical_facts
from donors.disclosure import may_see_clinical_course
from donors.models import Ancestry, Sex, Variant
from lines.availability import is_requestable
from lines.availability import term as availability_term
from lines.holdings import representation as rep
from lines.holdings.facets import FACETS, STATUS_FACET, facet_counts
from lines.holdings.filters import LINE_ORDERINGS, CellLineFilter, commercial_use_q, isogenic_q
from lines.models import CellLine
from lines.selectors import tombstone, tombstone_facts

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50
COMPARE_MIN, COMPARE_MAX = 2, 4
# Parameters of the page itself, not filters: kept out of the API export link.
PAGE_PARAMS = ("page", "page_size", "ordering")

# The table's sort keys: the API's (so the export can follow) plus columns the page shows.
SORT_KEYS = {
    **LINE_ORDERINGS,
    "disease": "donor__disease_label",
    "sex": "donor__sex",
    "qc": "qc_status",
    "availability": "availability",
}

# Facets shown in the sidebar: (facet name in facet_counts = filter parameter, heading).
SIDEBAR_FACETS = (
    ("affection_status", "Patients and controls"),
    ("gene", "Gene"),
    ("disease", "Disease"),
    ("sex", "Donor sex"),
    ("ancestry", "Ancestry"),
    ("qc_status", "QC status"),
    ("availability", "Availability"),
    ("modification_type", "Modification"),
    ("reprogramming_method", "Reprogramming"),
    ("institution", "Institution"),
    ("status", "Curation status"),
)
# One-click yes/no filters at the top of the sidebar.
QUICK_FILTERS = (
    ("qc_passed", "Full QC panel passed"),
    ("commercial_use", "Commercial use allowed"),
    ("has_isogenic_control", "Has an isogenic control"),
    ("in_stock", "Vials in stock now"),
)


def _line_rows_queryset(queryset):
    """Lines with what a table row needs, in a fixed number of queries however many rows."""
    variant_fields = ("id", "gene", "protein", "legacy_name", "line_id", "donor_id")
    return (
        queryset.select_related("donor__consent", "institution")
        .defer(
            "search_text",
            "search_text_restricted",
            "str_profile",
            "str_conflicts",
            "comments",
            "modification_description",
            "donor__str_profile",
            "donor__clinical_data",
            "donor__viral_screening",
        )
        .annotate(parental_name=F("parental_line__name"))
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.only(*variant_fields)),
            Prefetch("donor__variants", queryset=Variant.objects.only(*variant_fields)),
            Prefetch("donor__consent__codes", queryset=DuoTerm.objects.only("curie", "shorthand")),
        )
    )


def variant_label(variant):
    name = variant.legacy_name or (variant.protein or "").removeprefix("p.")
    return f"{variant.gene} {name}".strip()


def _row(line, viewer):
    """One catalog row: the API's summary plus the variant names the user may see."""
    summary = rep.line_summary(line, viewer)
    summary["variant_labels"] = sorted({variant_label(v) for v in rep.visible_variants(line, viewer)})
    summary["page_url"] = reverse("line-detail", args=[line.name])
    return summary


def _clean_params(querydict):
    """The query string without empty values, as a list of pairs (repeated keys kept)."""
    return [(key, value) for key in querydict for value in querydict.getlist(key) if value.strip() != ""]


def _query(pairs, **changes):
    """A query string from pairs with some keys replaced (None removes the key)."""
    kept = [(k, v) for k, v in pairs if k not in changes]
    kept += [(k, v) for k, v in changes.items() if v is not None]
    return urlencode(kept)


def _ordering(raw):
    """(model ordering, public key, descending) from `ordering=`; unknown keys fall back to name."""
    raw = (raw or "name").strip()
    descending = raw.startswith("-")
    key = raw.lstrip("-")
    if key not in SORT_KEYS:
        key, descending = "name", False
    path_ = SORT_KEYS[key]
    order = [f"-{path_}" if descending else path_]
    if key != "name":
        order.append("name")
    return order, key, descending


def _page_size(raw):
    try:
        size = int(raw)
    except (TypeError, ValueError):
        return DEFAULT_PAGE_SIZE
    return size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE


# What the page calls a filter in its messages (the API keeps the parameter names).
FILTER_LABELS = {
    "age_min": "Donor age from",
    "age_max": "Donor age to",
    "affection_status": "Patients and controls",
    "qc_status": "QC status",
    "purpose": "Research purpose",
    "purpose_disease": "Disease studied",
    "page_size": "Lines per page",
}


def _filter_label(name):
    return FILTER_LABELS.get(name, name.replace("_", " ").capitalize())


def _error_text(text):
    for name, label in FILTER_LABELS.items():
        text = text.replace(name, f"“{label}”")
    return text


def _filter_errors(filterset):
    errors = []
    for name, messages in filterset.form.errors.items():
        for message in messages:
            errors.append(f"{_filter_label(name)}: {_error_text(str(message))}")
    return errors


def _counts(request, filterset, pairs):
    """(facets to show, totals) for the filtered lines."""
    user = request.user
    visible = filterset.queryset
    names = FACETS
    if is_curator(user) or depositing_institution(user) is not None:
        # Only curators and depositors see lines other than released ones: for them, a
        # status facet too.
        names = (*FACETS, STATUS_FACET)
    # The facet query also gives the total and the QC-passed count, so the page needs
    # no COUNT of its own.
    counts = facet_counts(filterset, names)
    totals = {"total": counts.total, "qc_passed": counts.qc_passed}
    filtered = filterset.qs
    # Separate COUNTs, not FILTER (WHERE EXISTS …) in one aggregate: PostgreSQL turns an
    # EXISTS in WHERE into a semi-join, but runs it once per row inside an aggregate
    # (6.6 s against 1.3 s for both at 200,000 lines).
    chosen = dict(pairs)
    for name, q in (
        ("commercial_use", commercial_use_q),
        ("has_isogenic_control", lambda: isogenic_q(visible)),
        ("in_stock", lambda: Q(vials_in_stock__gt=0)),  # kept by stock.availability
    ):
        # Already filtered on it: every line (or none) has it, no need to count.
        if chosen.get(name) in ("true", "false"):
            totals[name] = totals["total"] if chosen[name] == "true" else 0
        else:
            totals[name] = filtered.filter(q()).count()
    return counts.facets, totals


def visibility_key(user):
    """Users who see the same lines and the same genetic data share cached counts."""
    if is_curator(user):
        return "curator"
    institution = depositing_institution(user)
    return f"institution-{institution.pk}" if institution is not None else "public"


def _cached_counts(request, pairs, filterset):
    """The counts, in the shared cache under who is looking, the filters and the catalog
    version (core/catalog_version.py): paging and sorting the same search (the common
    case) then costs no facet query, and any write (a line, a consent, a QC record, a
    lot) changes the version, so its counts show at once on every web process.
    Searches with a research purpose depend on the user's profile: not cached."""
    filters = sorted((k, v) for k, v in pairs if k not in PAGE_PARAMS)
    if any(k.startswith("purpose") for k, _ in filters):
        return _counts(request, filterset, pairs)
    return cached("catalog-counts", (visibility_key(request.user), filters), lambda: _counts(request, filterset, pairs))


def catalog(request):
    user = request.user
    visible = CellLine.objects.visible_to(user)
    # The default page size is left out of links, so a shared address stays short.
    pairs = [(k, v) for k, v in _clean_params(request.GET) if (k, v) != ("page_size", str(DEFAULT_PAGE_SIZE))]
    filter_data = request.GET.copy()
    for name in PAGE_PARAMS:
        filter_data.pop(name, None)
    filterset = CellLineFilter(filter_data, queryset=visible, request=request)
    errors = []
    filtered = visible.none()
    if filterset.is_valid():
        try:
            # A cross-field error (age_min > age_max, a purpose the eligibility rules
            # cannot read) is raised here; it becomes a message, not a 500.
            filtered = filterset.qs
        except ApiValidationError as error:
            detail = error.detail if isinstance(error.detail, dict) else {"filters": error.detail}
            errors = [f"{_filter_label(k)}: {_error_text(' '.join(str(m) for m in v))}" for k, v in detail.items()]
            filtered = visible.none()
    else:
        errors = _filter_errors(filterset)

    order, sort_key, descending = _ordering(request.GET.get("ordering"))
    page_size = _page_size(request.GET.get("page_size"))
    no_counts = {"total": 0, "qc_passed": 0, "commercial_use": 0, "has_isogenic_control": 0, "in_stock": 0}
    facets, totals = _cached_counts(request, pairs, filterset) if not errors else ({}, no_counts)
    paginator = Paginator(_line_rows_queryset(filtered).order_by(*order), page_size)
    paginator.count = totals["total"]  # counted by the facet query: no second COUNT
    page = paginator.get_page(request.GET.get("page"))
    viewer = rep.Viewer(request)
    rows = [_row(line, viewer) for line in page.object_list]

    selected = {}
    for key, value in pairs:
        selected.setdefault(key, set()).add(value)
    sidebar = []
    for name, heading in SIDEBAR_FACETS:
        values = [v for v in facets.get(name, []) if v["value"] is not None]
        # A selected value with no matching line still shows, checked, so it can be cleared.
        present = {v["value"] for v in values}
        values += [{"value": v, "label": v, "count": 0} for v in sorted(selected.get(name, ())) if v not in present]
        for v in values:
            v["checked"] = v["value"] in selected.get(name, ())
        if values:
            sidebar.append(
                {
                    "name": name,
                    "heading": heading,
                    "values": values,
                    "open": bool(selected.get(name)) or name in ("affection_status", "gene", "disease", "sex"),
                }
            )
    quick = [
        {
            "name": name,
            "label": label,
            "checked": "true" in selected.get(name, ()),
            "count": totals.get(name),
        }
        for name, label in QUICK_FILTERS
    ]

    filter_pairs = [(k, v) for k, v in pairs if k not in PAGE_PARAMS]
    export_pairs = list(filter_pairs)
    if sort_key in LINE_ORDERINGS and request.GET.get("ordering"):
        export_pairs.append(("ordering", f"-{sort_key}" if descending else sort_key))
    columns = []
    for key, label in (
        ("name", "Line"),
        (None, "Gene / variant"),
        ("disease", "Disease"),
        ("sex", "Sex"),
        ("age", "Age"),
        ("qc", "QC"),
        ("availability", "Availability"),
    ):
        column = {"key": key, "label": label}
        if key:
            active = key == sort_key
            column["sort"] = ("descending" if descending else "ascending") if active else None
            next_key = f"-{key}" if active and not descending else key
            column["url"] = "?" + _query(pairs, ordering=next_key, page=None)
        columns.append(column)

    context = {
        "rows": rows,
        "page": page,
        "paginator": paginator,
        "total": totals["total"],
        "sidebar": sidebar,
        "quick": quick,
        "errors": errors,
        "columns": columns,
        "search": request.GET.get("search", ""),
        "age_min": request.GET.get("age_min", ""),
        "age_max": request.GET.get("age_max", ""),
        "page_size": page_size,
        "page_sizes": PAGE_SIZES,
        "ordering": request.GET.get("ordering", ""),
        "hidden_pairs": [
            (k, v)
            for k, v in pairs
            if k
            in (
                "purpose",
                "purpose_disease",
                "variant",
                "zygosity",
                "family_history",
                "onset_site",
                "source_cell_type",
                "purpose_commercial",
                "purpose_organisation_type",
            )
        ],
        "filters_active": bool(filter_pairs),
        "export_csv": reverse("api-line-export-csv") + ("?" + urlencode(export_pairs) if export_pairs else ""),
        "export_json": reverse("api-line-export-json") + ("?" + urlencode(export_pairs) if export_pairs else ""),
        "api_url": reverse("api-line-list") + ("?" + urlencode(export_pairs) if export_pairs else ""),
        "prev_url": "?" + _query(pairs, page=page.previous_page_number()) if page.has_previous() else None,
        "next_url": "?" + _query(pairs, page=page.next_page_number()) if page.has_next() else None,
        "canonical": reverse("catalog") + ("?" + urlencode(pairs) if pairs else ""),
    }
    partial = request.htmx and not request.htmx.history_restore_request
    # An htmx swap answers 200 even for filters it cannot read: htmx swaps no 4xx, and
    # the page would keep the stale count; the error shows in place of the results.
    response = render(
        request,
        "lines/_catalog_swap.html" if partial else "lines/catalog.html",
        context,
        status=400 if errors and not partial else 200,
    )
    if partial:
        # The address bar shows the search without the form's empty fields.
        push_url(response, context["canonical"])
    patch_vary_headers(response, ["HX-Request"])
    return response


# --- one line ---------------------------------------------------------------------


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


# --- compare ----------------------------------------------------------------------


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


urlpatterns = [
    path("", catalog, name="catalog"),
    path("compare/", compare, name="line-compare"),
    # path: Cellosaurus names may hold a "/" (066MD-CUMC/INSERM).
    path("<path:name>/", line_detail, name="line-detail"),
]
