"""/cohorts/: the cohort builder page (htmx; no inline JS) and a saved cohort's page.

The form states up to three arms (a name, catalog filters as a query string, a
size, an arm to match to), the purpose and the seed; "Propose" answers the
proposal (members, balance, exclusions) in place, "Save" saves it and opens the
cohort's page, where the plate map is downloaded and one request submitted."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import path
from django.views.decorators.http import require_POST

from cohorts.actions import CohortNotFound, request_cohort, save_cohort
from cohorts.builder import CohortImpossible, build, constraint_words
from cohorts.definition import DefinitionError, parse_definition
from cohorts.plates import EDGES, LAYOUTS
from cohorts.selectors import member_rows, visible_cohort, visible_cohorts
from distribution.models import WorkflowError
from donors import duo

ARM_SLOTS = 3
PURPOSE_CHOICES = [
    (duo.GRU, "General research use (GRU)"),
    (duo.HMB, "Health/medical/biomedical (HMB)"),
    (duo.DS, "Disease-specific research (DS)"),
    (duo.POA, "Population origins/ancestry (POA)"),
]
EXAMPLE_ARMS = [
    ("C9orf72", "gene=C9orf72&affection_status=affected", 4, ""),
    ("sporadic", "family_history=sporadic&affection_status=affected", 4, ""),
    ("control", "affection_status=unaffected", 4, "1"),
]


def _int(value, default):
    value = (value or "").strip()
    return int(value) if value.isdigit() else value or default


def definition_from_form(post) -> dict:
    """The JSON definition the form states (parse_definition checks it)."""
    arms = []
    names = {str(i): (post.get(f"arm{i}_name") or "").strip() for i in range(1, ARM_SLOTS + 1)}
    for i in range(1, ARM_SLOTS + 1):
        if not names[str(i)] and not (post.get(f"arm{i}_filters") or "").strip():
            continue
        matched = post.get(f"arm{i}_matched_to") or ""
        arms.append(
            {
                "name": names[str(i)],
                "filters": (post.get(f"arm{i}_filters") or "").strip(),
                "size": _int(post.get(f"arm{i}_size"), None),
                "matched_to": names.get(matched) or None,
            }
        )
    return {
        "seed": _int(post.get("seed"), 0),
        "purpose": {
            "codes": post.getlist("purpose"),
            "disease": (post.get("purpose_disease") or "").strip() or None,
            "commercial": post.get("commercial") == "on",
        },
        "matching": {"on": post.getlist("match_on") or [], "age_tolerance": _int(post.get("age_tolerance"), None)},
        "one_line_per_donor": post.get("several_per_donor") != "on",
        "isogenic_partners": post.get("isogenic") == "on",
        "arms": arms,
    }


def _form_state(post=None):
    if post is None:
        arms = [
            {"i": i + 1, "name": n, "filters": f, "size": s, "matched_to": m}
            for i, (n, f, s, m) in enumerate(EXAMPLE_ARMS)
        ]
        return {
            "arms": arms,
            # Health/medical research, controls of the same sex within ten years: an
            # example the demo catalog can fill (tests/demo/test_demo_cohort_example.py);
            # its balance table shows the ancestry a researcher may add to the matching.
            "purpose": [duo.HMB],
            "seed": 42,
            "age_tolerance": "10",
            "match_on": ["sex", "age"],
            "isogenic": True,
            "several_per_donor": False,
            "purpose_disease": "",
            "name": "",
        }
    arms = [
        {
            "i": i,
            "name": post.get(f"arm{i}_name", ""),
            "filters": post.get(f"arm{i}_filters", ""),
            "size": post.get(f"arm{i}_size", ""),
            "matched_to": post.get(f"arm{i}_matched_to", ""),
        }
        for i in range(1, ARM_SLOTS + 1)
    ]
    return {
        "arms": arms,
        "purpose": post.getlist("purpose"),
        "seed": post.get("seed", ""),
        "age_tolerance": post.get("age_tolerance", ""),
        "match_on": post.getlist("match_on"),
        "isogenic": post.get("isogenic") == "on",
        "several_per_donor": post.get("several_per_donor") == "on",
        "purpose_disease": post.get("purpose_disease", ""),
        "name": post.get("name", ""),
    }


def _answer(request, definition):
    """(proposal, error) for a definition: the error a dict the template words."""
    try:
        return build(parse_definition(definition), request.user), None
    except DefinitionError as error:
        return None, {"detail": "The cohort definition has problems.", "problems": error.problems}
    except CohortImpossible as error:
        return None, error.as_dict()


def _page(request, proposal=None, error=None, form=None):
    form = form or _form_state()
    context = {
        "form": form,
        "purposes": PURPOSE_CHOICES,
        "proposal": proposal,
        "error": error,
        # What the page calls each constraint: matching names the covariates the form matches on.
        "constraints": constraint_words(form["match_on"]),
        "cohorts": list(visible_cohorts(request.user).select_related("owner")[:50]),
    }
    if request.headers.get("HX-Request"):
        return render(request, "cohorts/_proposal.html", context)
    return render(request, "cohorts/builder.html", context)


def builder(request):
    return _page(request)


@login_required
@require_POST
def propose(request):
    proposal, error = _answer(request, definition_from_form(request.POST))
    return _page(request, proposal, error, _form_state(request.POST))


@login_required
@require_POST
def save(request):
    definition = definition_from_form(request.POST)
    name = (request.POST.get("name") or "").strip() or "Untitled cohort"
    try:
        cohort, _ = save_cohort(
            request.user,
            definition,
            name=name[:200],
            shared=request.POST.get("shared") == "on",
            public_id=(request.POST.get("public_id") or "").strip() or None,
        )
    except (DefinitionError, CohortImpossible, CohortNotFound):
        proposal, error = _answer(request, definition)
        error = error or {"detail": "You have no cohort with that id."}
        response = _page(request, proposal, error, _form_state(request.POST))
        response.status_code = 400
        return response
    messages.success(request, f"Saved as {cohort.label}.")
    return redirect("cohorts:detail", cohort.public_id)


def detail(request, public_id):
    version = request.GET.get("version")
    cohort = visible_cohort(request.user, public_id, int(version) if version and version.isdigit() else None)
    if cohort is None:
        raise Http404("No such cohort, or not visible to you.")
    members = member_rows(cohort)
    arms = {}
    for member in members:
        arms.setdefault(member["arm"], []).append(member)
    excluded = (cohort.exclusions or {}).get("lines", [])
    return render(
        request,
        "cohorts/detail.html",
        {
            "cohort": cohort,
            "arms": arms,
            "arm_names": list(arms),
            "excluded": excluded,
            "arm_summaries": (cohort.exclusions or {}).get("arms", []),
            "layouts": sorted(LAYOUTS),
            "edges": EDGES,
            "mine": request.user.is_authenticated and cohort.owner_id == request.user.pk,
        },
    )


@login_required
@require_POST
def make_request(request, public_id):
    cohort = visible_cohort(request.user, public_id)
    if cohort is None:
        raise Http404("No such cohort, or not visible to you.")
    try:
        made = request_cohort(request.user, cohort, shipping_address=request.POST.get("shipping_address", ""))
    except WorkflowError as error:
        messages.error(request, error.message)
        return redirect("cohorts:detail", cohort.public_id)
    messages.success(request, f"Request {made.pk} drafted with the cohort's {cohort.members.count()} lines: submit it.")
    return redirect("distribution:request-detail", made.pk)


app_name = "cohorts"
urlpatterns = [
    path("", builder, name="builder"),
    path("propose/", propose, name="propose"),
    path("save/", save, name="save"),
    path("<str:public_id>/", detail, name="detail"),
    path("<str:public_id>/request/", make_request, name="request"),
]
