"""The STR search page: paste a profile, see the hits coloured by how to read them.
A plain form POST (works without JavaScript); a batch file comes back as CSV."""

import re

from django import forms
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_http_methods

from donors.disclosure import may_see_genetic_data
from lines.models import CellLine, StrIndexEntry
from lines.str.batch import MAX_BATCH_PROFILES, BatchError, batch_csv, read_batch, run_batch
from lines.str.matching import (
    ALGORITHMS,
    DEFAULT_MAX_RESULTS,
    DEFAULT_MIN_MARKERS,
    DEFAULT_SCORE_FILTER,
    MODES,
    best_source_profile,
    check_profile,
    is_possible_mixture,
    marker_comparison,
    scored_marker_count,
    similarity_band,
)
from lines.str.search import search_profiles

ALGORITHM_LABELS = {
    "tanabe": "Tanabe",
    "masters_query": "Masters vs query",
    "masters_reference": "Masters vs reference",
}
MODE_LABELS = {
    "non_empty": "Non-empty markers",
    "query": "Query markers",
    "reference": "Reference markers",
}

# "D5S818: 10,13", "TH01 = 6, 9.3", "Penta D<TAB>9,12", Cellosaurus' "ST   vWA: 17,19".
_SEPARATED = re.compile(r"^\s*(?:ST\s+)?(?P<marker>[^:=\t]+?)\s*[:=\t]\s*(?P<alleles>.*?)\s*$")
_SPACED = re.compile(r"^\s*(?P<marker>\S+)\s+(?P<alleles>[0-9XYNxyn].*?)\s*$")


_CELLS = re.compile(r"\t|\s{2,}")


def _line_page_table(lines):
    """The profile as a line page shows it, copied from its table: a row of markers
    headed "Marker" and a row of alleles headed "Alleles", tab- (or space-) separated."""
    rows = [line for line in lines if line.strip()]
    if len(rows) != 2:
        return None
    markers, alleles = (_CELLS.split(row.strip()) for row in rows)
    if markers[0].strip().lower() != "marker" or alleles[0].strip().lower() != "alleles":
        return None
    if len(markers) != len(alleles):
        return None
    return {m.strip(): a.strip() for m, a in zip(markers[1:], alleles[1:], strict=True)}


def parse_pasted_profile(text):
    """A marker → alleles mapping from pasted lines ("D5S818: 10,13", one per line, or
    the line page's two-row table); returns (raw, problems by line)."""
    table = _line_page_table(text.splitlines())
    if table is not None:
        return table, {}
    raw, problems = {}, {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.strip().startswith("#"):
            continue
        match = _SEPARATED.match(line) or _SPACED.match(line)
        if not match:
            problems[f"line {number}"] = f"expected 'marker: alleles', got {line.strip()!r}"
            continue
        alleles = re.sub(r"\s*\([^)]*\)", "", match["alleles"])  # "29,30 (ATCC)" → "29,30"
        raw[match["marker"]] = alleles
    return raw, problems


class StrSearchForm(forms.Form):
    profile = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 12, "cols": 40, "spellcheck": "false"}),
        help_text="One marker per line, e.g. “D5S818: 10,13”, or the table copied from a line page. "
        "ND for not determined.",
    )
    algorithm = forms.ChoiceField(choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS], initial="tanabe")
    mode = forms.ChoiceField(choices=[(m, MODE_LABELS[m]) for m in MODES], initial="non_empty", label="Scoring mode")
    include_amelogenin = forms.BooleanField(required=False, label="Include Amelogenin in the score")
    min_markers = forms.IntegerField(min_value=1, max_value=40, initial=DEFAULT_MIN_MARKERS, label="Minimum markers")
    score_filter = forms.FloatField(min_value=0, max_value=100, initial=DEFAULT_SCORE_FILTER, label="Score filter (%)")
    max_results = forms.IntegerField(min_value=1, max_value=1000, initial=DEFAULT_MAX_RESULTS, label="Maximum results")

    def clean(self):
        data = super().clean()
        if "profile" not in data:
            return data
        raw, problems = parse_pasted_profile(data["profile"])
        profile, marker_problems = check_profile(raw, keep_empty_markers=True)
        problems.update(marker_problems)
        for where, problem in problems.items():
            self.add_error("profile", f"{where}: {problem}")
        if not problems and "min_markers" in data:
            count = scored_marker_count(profile, include_amelogenin=data.get("include_amelogenin", False))
            if count < data["min_markers"]:
                self.add_error(
                    "profile",
                    f"too few markers: {count} with alleles; at least {data['min_markers']} "
                    "are needed (change “Minimum markers” to search anyway)",
                )
        data["parsed_profile"] = profile
        return data


class StrBatchForm(forms.Form):
    file = forms.FileField(
        help_text=f"CSV, TSV or XLSX in CLASTR's batch layout; at most {MAX_BATCH_PROFILES} profiles."
    )
    algorithm = forms.ChoiceField(choices=[(a, ALGORITHM_LABELS[a]) for a in ALGORITHMS], initial="tanabe")


def _line_profile_text(user, name):
    """A visible line's STR profile as the search form reads it, when its donor's consent
    lets this user see it (the line page's "search with this profile" link: the profile
    itself never goes into a URL)."""
    line = CellLine.objects.visible_to(user).select_related("donor__consent").filter(name=name).first()
    if line is None or not line.str_profile or not may_see_genetic_data(user, line.donor):
        return None
    return "\n".join(f"{marker}: {','.join(alleles)}" for marker, alleles in line.str_profile.items())


def _hit_markers(hits, query, options):
    """Each hit's marker-by-marker comparison with the query (against the source group
    its score came from)."""
    if not hits:
        return
    wanted = Q()
    for hit in hits:
        wanted |= Q(kind=hit.kind, object_id=hit.object_id)
    entries = {
        (e.kind, e.object_id): e
        for e in StrIndexEntry.objects.filter(wanted, removed=False).only("kind", "object_id", "profile", "conflicts")
    }
    for hit in hits:
        entry = entries.get((hit.kind, hit.object_id))
        if entry is None:
            hit.comparison = []
            continue
        reference = best_source_profile(query, entry.profile, entry.conflicts, **options)
        hit.comparison = marker_comparison(query, reference)


@require_http_methods(["GET", "POST"])
def str_search_page(request):
    if request.method == "GET" and request.GET.get("line"):
        text = _line_profile_text(request.user, request.GET["line"][:40])
        if text is None:
            form = StrSearchForm()
            form.prefill_error = "That line has no STR profile you may see."
        else:
            form = StrSearchForm({**{k: v.initial for k, v in StrSearchForm.base_fields.items()}, "profile": text})
    else:
        form = StrSearchForm(request.POST or None)
    batch_form = StrBatchForm()
    context = {
        "form": form,
        "batch_form": batch_form,
        "searched": False,
        "from_line": request.GET.get("line", "")[:40],
        "prefill_error": getattr(form, "prefill_error", ""),
    }
    if form.is_bound and form.is_valid():
        data = form.cleaned_data
        profile = data["parsed_profile"]
        hits = search_profiles(
            profile,
            user=request.user,
            algorithm=data["algorithm"],
            mode=data["mode"],
            include_amelogenin=data["include_amelogenin"],
            min_markers=data["min_markers"],
            score_filter=data["score_filter"],
            max_results=data["max_results"],
        )
        for hit in hits:
            hit.band = similarity_band(hit.score, data["algorithm"])
        _hit_markers(
            hits,
            profile,
            {"algorithm": data["algorithm"], "mode": data["mode"], "include_amelogenin": data["include_amelogenin"]},
        )
        context.update(
            searched=True,
            hits=hits,
            query=profile,
            query_mixture=is_possible_mixture(profile),
            algorithm_label=ALGORITHM_LABELS[data["algorithm"]],
        )
    status = 400 if form.is_bound and not form.is_valid() else 200
    return render(request, "str/search.html", context, status=status)


@require_http_methods(["POST"])
def str_batch_download(request):
    batch_form = StrBatchForm(request.POST, request.FILES)
    problems = []
    if batch_form.is_valid():
        upload = batch_form.cleaned_data["file"]
        try:
            samples = read_batch(upload.read(), upload.name)
        except BatchError as error:
            problems = error.problems
        else:
            algorithm = batch_form.cleaned_data["algorithm"]
            results = run_batch(samples, user=request.user, algorithm=algorithm, max_results=20)
            response = HttpResponse(batch_csv(results, algorithm), content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = 'attachment; filename="str-batch-results.csv"'
            return response
    context = {
        "form": StrSearchForm(),
        "batch_form": batch_form,
        "batch_problems": problems,
        "searched": False,
    }
    return render(request, "str/search.html", context, status=400)


urlpatterns = [
    path("", str_search_page, name="str-search"),
    path("batch/", str_batch_download, name="str-batch"),
]
