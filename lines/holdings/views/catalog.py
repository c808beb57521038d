"""/lines/: the catalog page (search, facets, sortable table).

The page reads exactly what the holdings API reads: the same FilterSet
(lines.holdings.filters.CellLineFilter, so the query parameters are the API's), the same
facet counts (lines.holdings.facets.facet_counts, selected facets widened) and the same
representation rules (lines.holdings.representation), so it can never show a user more
than the API would. Everything starts from CellLine.objects.visible_to(user).

With htmx the filter form swaps only the catalog region and pushes the URL; without
JavaScript the same form submits as a plain GET and the server renders the page.
"""

from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.db.models import F, Prefetch
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django_htmx.http import push_url
from rest_framework.exceptions import ValidationError as ApiValidationError

from core.catalog_version import cached
from core.models import DuoTerm
from core.roles import depositing_institution, is_curator
from donors.models import Variant
from lines.holdings import representation as rep
from lines.holdings.facet_index import facet_counts, filtered_lines
from lines.holdings.facets import FACETS, QUICK_COUNTS, STATUS_FACET
from lines.holdings.filters import LINE_ORDERINGS, CellLineFilter
from lines.models import CellLine

PAGE_SIZES = (25, 50, 100, 200)
DEFAULT_PAGE_SIZE = 50

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
    names = FACETS
    if is_curator(user) or depositing_institution(user) is not None:
        # Only curators and depositors see lines other than released ones: for them, a
        # status facet too.
        names = (*FACETS, STATUS_FACET)
    chosen = dict(pairs)
    # Already filtered on a quick filter: every line (or none) has it, no need to count.
    quick = [name for name in QUICK_COUNTS if chosen.get(name) not in ("true", "false")]
    # The facet counts also give the total and the QC-passed count, so the page needs
    # no COUNT of its own.
    counts = facet_counts(filterset, names, quick=quick)
    totals = {"total": counts.total, "qc_passed": counts.qc_passed, **counts.quick}
    for name in QUICK_COUNTS:
        if name not in quick:
            totals[name] = totals["total"] if chosen[name] == "true" else 0
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
            # A selective search: the matching lines by id from the facet index.
            filtered = filtered_lines(filterset)
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
