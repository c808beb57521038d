"""The STR search shows a line's or a donor's profile only where donors.disclosure
lets the caller see the donor's genetic data, and otherwise answers exactly as if
the hidden profile were not in the catalog: same hits, scores, counts, order and
max_results cut. A one-marker-at-a-time probe learns nothing of a hidden profile."""

import datetime
import random

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.files.uploadedfile import SimpleUploadedFile

from lines.models import CellLine, ReferenceProfile
from lines.str.matching import normalise_profile
from lines.str.search import search_many, search_profiles
from lines.str.store import DONOR, LINE, REFERENCE, reindex, unindex
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = pytest.mark.django_db

HIDDEN = {  # the controlled profile an attacker tries to rebuild
    "Amelogenin": "X",
    "CSF1PO": "10,12",
    "D13S317": "9,11",
    "D16S539": "11,12",
    "D5S818": "12",
    "D7S820": "9,10",
    "TH01": "6,9.3",
    "TPOX": "8,11",
    "vWA": "16,18",
}
HB2 = {  # 1-7HB2 (CVCL_2261), a public Cellosaurus reference
    "Amelogenin": "X",
    "CSF1PO": "12,13",
    "D13S317": "12",
    "D16S539": "8,13",
    "D5S818": "10,13",
    "D7S820": "8,10",
    "TH01": "7,9",
    "TPOX": "11",
    "vWA": "14,17",
}
NON_CURATORS = ("anonymous", "researcher", "institution_researcher", "depositor", "other_depositor")


@pytest.fixture
def callers(request):
    users = {"anonymous": AnonymousUser()}  # None would be the validator's "every profile"
    for name in (*NON_CURATORS[1:], "curator"):
        users[name] = request.getfixturevalue(name)
    return users


def _reference(accession, profile, name=None):
    ref = ReferenceProfile.objects.create(
        accession=accession, name=name or accession, str_profile=normalise_profile(profile)
    )
    reindex(REFERENCE, ref)
    return ref


def _donor_and_line(institution, profile, *, genetic_data="open", withdrawn=False, consent=True, status="released"):
    """A donor of `institution` with one line, both carrying `profile`, both indexed."""
    donor = DonorFactory(institution=institution, str_profile=normalise_profile(profile))
    if consent:
        ConsentFactory(
            donor=donor,
            genetic_data=genetic_data,
            withdrawn_on=datetime.date(2025, 2, 1) if withdrawn else None,
        )
    line = CellLineFactory(
        donor=donor,
        status=status,
        str_profile=normalise_profile(profile),
        status_reason="Consent withdrawn" if status == "withdrawn" else "",
    )
    reindex(LINE, line)
    reindex(DONOR, donor)
    return donor, line


def _api(user):
    return client_for(None if user is None or not user.is_authenticated else user)


def _seen(user, profile, **options):
    return {(h.kind, h.name) for h in search_profiles(normalise_profile(profile), user=user, **options)}


# -- the drifted defect: withdrawn consent ------------------------------------------------
def test_a_withdrawn_donors_profile_is_found_by_nobody_but_curators(owner_institution, callers):
    # Withdrawal takes the line out of distribution (status withdrawn); its depositor still
    # sees the line, but not its genotype any more.
    donor, line = _donor_and_line(owner_institution, HIDDEN, genetic_data="open", withdrawn=True, status="withdrawn")
    for name in NON_CURATORS:
        assert _seen(callers[name], HIDDEN) == set(), name
    assert _seen(callers["curator"], HIDDEN) == {(LINE, line.name), (DONOR, donor.code)}


def test_a_withdrawn_donor_with_a_line_still_released_is_hidden_too(owner_institution, callers):
    donor, line = _donor_and_line(owner_institution, HIDDEN, genetic_data="open", withdrawn=True)
    for name in NON_CURATORS:
        assert _seen(callers[name], HIDDEN) == set(), name
    assert _seen(callers["curator"], HIDDEN) == {(LINE, line.name), (DONOR, donor.code)}


# -- the leak: controlled profiles ---------------------------------------------------------
@pytest.mark.parametrize(
    "case",
    [
        {"genetic_data": "controlled"},
        {"genetic_data": "none"},
        {"consent": False},
    ],
)
def test_a_released_line_whose_genetic_data_is_not_open_is_no_hit_for_non_curators(owner_institution, callers, case):
    donor, line = _donor_and_line(owner_institution, HIDDEN, **case)
    for name in NON_CURATORS:
        assert _seen(callers[name], HIDDEN) == set(), (name, case)
    assert _seen(callers["curator"], HIDDEN) == {(LINE, line.name), (DONOR, donor.code)}


def test_a_line_without_a_donor_is_a_hit_for_curators_only(owner_institution, callers):
    line = CellLineFactory(
        donor=None,
        institution=owner_institution,
        name="UKBi900-A",
        str_profile=normalise_profile(HIDDEN),
    )
    reindex(LINE, line)
    for name in NON_CURATORS:
        assert _seen(callers[name], HIDDEN) == set(), name
    assert _seen(callers["curator"], HIDDEN) == {(LINE, line.name)}


def test_an_open_profile_is_found_by_everyone_who_sees_the_line(owner_institution, callers):
    donor, line = _donor_and_line(owner_institution, HIDDEN, genetic_data="open")
    for name, user in callers.items():
        assert _seen(user, HIDDEN) == {(LINE, line.name), (DONOR, donor.code)}, name


def test_the_api_page_and_batch_give_no_controlled_hit_to_non_curators(owner_institution, callers, client):
    donor, line = _donor_and_line(owner_institution, HIDDEN, genetic_data="controlled")
    _reference("CVCL_2261", HB2, name="1-7HB2")
    for name in (*NON_CURATORS, "curator"):
        user = callers[name]
        body = _api(user).post("/api/v1/str/search/", {"profile": HIDDEN}, format="json").json()
        names = {h["name"] for h in body["results"]}
        assert (line.name in names) == (name == "curator"), name
        assert (donor.code in names) == (name == "curator"), name
        if user.is_authenticated:
            csv_text = (
                "Sample Name," + ",".join(HIDDEN) + "\nprobe," + ",".join(f'"{v}"' for v in HIDDEN.values()) + "\n"
            )
            upload = SimpleUploadedFile("batch.csv", csv_text.encode())
            batch = client_for(user).post("/api/v1/str/batch/", {"file": upload}, format="multipart").json()
            hits = {h["name"] for sample in batch["results"] for h in sample["results"]}
            assert (line.name in hits) == (name == "curator"), name
        client.logout()
        if user.is_authenticated:
            client.force_login(user)
        page = client.post(
            "/str/",
            {
                "profile": "\n".join(f"{m}: {v}" for m, v in HIDDEN.items()),
                "algorithm": "tanabe",
                "mode": "non_empty",
                "min_markers": 8,
                "score_filter": 60,
                "max_results": 200,
            },
        ).content.decode()
        assert (line.name in page) == (name == "curator"), name


# -- as if the hidden profiles were not there ----------------------------------------------
def _random_profile(rng):
    markers = [
        "CSF1PO",
        "D13S317",
        "D16S539",
        "D5S818",
        "D7S820",
        "TH01",
        "TPOX",
        "vWA",
        "D3S1358",
        "FGA",
    ]
    return {
        m: ",".join(sorted({str(rng.randint(6, 14)) for _ in range(rng.choice([1, 2, 2]))}))
        for m in rng.sample(markers, rng.randint(8, len(markers)))
    }


@pytest.fixture
def mixed_catalog(owner_institution, other_institution):
    """Visible and hidden profiles close to one query; 30 hidden exact matches fill
    the first window of candidates, so the search must look past them."""
    rng = random.Random(11)
    hidden_keys = []
    for i in range(30):
        donor, line = _donor_and_line(
            owner_institution if i % 2 else other_institution,
            HIDDEN,
            genetic_data=("controlled", "none")[i % 2],
            withdrawn=i % 3 == 0,
        )
        hidden_keys += [(LINE, line.pk), (DONOR, donor.pk)]
    for _ in range(40):
        near = {**_random_profile(rng), **{m: v for m, v in HIDDEN.items() if rng.random() < 0.6}}
        donor, line = _donor_and_line(owner_institution, near, genetic_data="open")
        hidden_donor, hidden_line = _donor_and_line(other_institution, near, genetic_data="controlled")
        hidden_keys += [(LINE, hidden_line.pk), (DONOR, hidden_donor.pk)]
    for i in range(10):
        _reference(f"CVCL_9{i:03d}", {**_random_profile(rng), "TH01": "6,9.3"}, name=f"Ref {i}")
    return hidden_keys


@pytest.mark.parametrize("name", NON_CURATORS)
def test_search_answers_exactly_as_if_the_hidden_profiles_were_not_there(mixed_catalog, callers, name):
    user = callers[name]
    queries = [
        normalise_profile(HIDDEN),
        normalise_profile({**HIDDEN, "TH01": "7"}),
        normalise_profile({m: v for m, v in HIDDEN.items() if m in ("TH01", "vWA", "TPOX")}),
    ]
    option_sets = [
        {},
        {"max_results": 5},
        {"min_markers": 1, "score_filter": 0, "max_results": 7},
        {"algorithm": "masters_query", "mode": "query", "min_markers": 3, "score_filter": 20},
    ]
    seen = {i: [search_profiles(q, user=user, **o) for q in queries] for i, o in enumerate(option_sets)}
    together = search_many(queries, user=user, **option_sets[2])
    # The same catalog with the hidden profiles taken out, searched as the same caller.
    for kind in (LINE, DONOR):
        unindex(kind, [pk for k, pk in mixed_catalog if k == kind])
    for i, options in enumerate(option_sets):
        assert seen[i] == [search_profiles(q, user=user, **options) for q in queries], (
            name,
            options,
        )
    assert together == seen[2]
    assert any(seen[0]), "the visible profiles are found"


# -- the one-marker reconstruction attack ----------------------------------------------------
def _probe(user, reference_profile=None):
    """What the attack reads: for every marker and candidate allele, the hits of a
    one-marker query with every filter relaxed (kind, name, score, allele counts)."""
    answers = []
    api = _api(user)
    for marker in HIDDEN:
        for allele in ["X", "Y"] if marker == "Amelogenin" else [str(a) for a in range(5, 17)] + ["9.3"]:
            body = api.post(
                "/api/v1/str/search/",
                {
                    "profile": {marker: allele},
                    "min_markers": 1,
                    "score_filter": 0,
                    "max_results": 1000,
                    "include_amelogenin": marker == "Amelogenin",
                },
                format="json",
            )
            assert body.status_code == 200, body.content
            answers.append(((marker, allele), body.json()["results"]))
    return answers


@pytest.mark.parametrize("name", ["anonymous", "researcher"])
def test_the_one_marker_reconstruction_attack_learns_nothing(owner_institution, callers, name):
    user = callers[name]
    _reference("CVCL_2261", HB2, name="1-7HB2")
    open_donor, open_line = _donor_and_line(owner_institution, HB2, genetic_data="open")
    before = _probe(user)
    donor, line = _donor_and_line(owner_institution, HIDDEN, genetic_data="controlled")
    after = _probe(user)
    # Adding the controlled profile changes no answer at all: no hit, no count, no order.
    assert after == before
    for _, results in after:
        assert not {line.name, donor.code} & {h["name"] for h in results}
    # The probe does work on what may be seen: it finds the open line by one allele.
    assert any(open_line.name in {h["name"] for h in results} for _, results in after)
    assert CellLine.objects.filter(pk=line.pk, status="released").exists()
