"""Who sees what through the holdings API, for every kind of caller: every
endpoint and method, the status codes, and that nothing hidden leaks into list
results, counts, facets or exports. A researcher attached to an institution sees
what any researcher sees: the role, not the institution, opens unreleased lines."""

import csv
import io
import json

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from lines.holdings.views.catalog import visibility_key
from lines.models import CellLine
from tests.api_catalog import ALL, build_catalog
from tests.api_catalog import visible_for as catalog_visible_for
from tests.factories import QCRecordFactory

pytestmark = pytest.mark.django_db

ROLES = (
    "anonymous",
    "researcher",
    "institution_researcher",
    "depositor",
    "other_depositor",
    "curator",
)
# Donor of the draft UKB line only: visible to UKB depositors and curators.
DONOR_VISIBLE = {
    "anonymous": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "researcher": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "institution_researcher": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "depositor": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5", "PD-DRAFT3"},
    "other_depositor": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "curator": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5", "PD-DRAFT3"},
}


def visible_for(role):
    # A researcher attached to UKB sees what every researcher sees, not UKB's draft.
    return catalog_visible_for("researcher" if role == "institution_researcher" else role)


@pytest.fixture
def world(request, owner_institution, other_institution):
    catalog = build_catalog(owner_institution, other_institution)
    users = {"anonymous": None}
    for role in ROLES[1:]:
        users[role] = request.getfixturevalue(role)
    return catalog, users


def client(users, role, token=True):
    c = APIClient()
    user = users[role]
    if user is not None:
        # Token for REST clients; the web app's session path is covered below.
        c.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get(user=user).key}")
    return c


def all_pages(c, url):
    items, next_url = [], url
    while next_url:
        response = c.get(next_url)
        assert response.status_code == 200, response.content
        body = response.json()
        items += body["results"]
        next_url = body["next"]
    return items


@pytest.mark.parametrize("role", ROLES)
def test_line_list_shows_exactly_the_visible_lines(world, role):
    catalog, users = world
    names = [item["name"] for item in all_pages(client(users, role), "/api/v1/lines/?page_size=3")]
    assert sorted(names) == sorted(visible_for(role))


@pytest.mark.parametrize("role", ROLES)
def test_line_detail_status_for_every_line(world, role):
    catalog, users = world
    c = client(users, role)
    for name in ALL:
        expected = 200 if name in visible_for(role) else 404
        assert c.get(f"/api/v1/lines/{name}/").status_code == expected, (role, name)


@pytest.mark.parametrize("role", ROLES)
def test_facets_count_only_visible_lines(world, role):
    catalog, users = world
    c = client(users, role)
    for url in ("/api/v1/lines/facets/", "/api/v1/lines/?facets=true"):
        facets = c.get(url).json()["facets"]
        for facet in ("availability", "sex", "qc_status", "institution", "modification_type"):
            assert sum(v["count"] for v in facets[facet]) == len(visible_for(role)), (url, facet)
        genes = {v["value"] for v in facets["gene"]}
        # FUS is only on the UKB draft; C9orf72 only under controlled consent.
        assert ("FUS" in genes) == (role in ("depositor", "curator"))
        assert ("C9orf72" in genes) == (role == "curator")
        knock_out = {v["value"]: v["count"] for v in facets["modification_type"]}.get("knock_out", 0)
        assert knock_out == (1 if role in ("other_depositor", "curator") else 0)


@pytest.mark.parametrize("role", ROLES)
def test_exports_contain_only_visible_lines(world, role):
    catalog, users = world
    c = client(users, role)
    response = c.get("/api/v1/lines/export.csv")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert {r["name"] for r in rows} == visible_for(role)
    response = c.get("/api/v1/lines/export.json")
    assert {item["name"] for item in json.loads(b"".join(response.streaming_content))} == visible_for(role)


@pytest.mark.parametrize("role", ROLES)
def test_donors_visible_only_through_visible_lines(world, role):
    catalog, users = world
    c = client(users, role)
    listed = all_pages(c, "/api/v1/donors/?page_size=2")
    assert {d["code"] for d in listed} == DONOR_VISIBLE[role]
    shown_lines = {line["name"] for d in listed for line in d["lines"]}
    assert shown_lines == visible_for(role)
    for code in catalog.donors:
        expected = 200 if code in DONOR_VISIBLE[role] else 404
        assert c.get(f"/api/v1/donors/{code}/").status_code == expected, (role, code)


@pytest.mark.parametrize("role", ROLES)
def test_qc_records_of_hidden_lines_stay_hidden(world, role):
    catalog, users = world
    c = client(users, role)
    records = all_pages(c, "/api/v1/qc/?page_size=4")
    assert {r["line"] for r in records} <= visible_for(role)
    for name, line_records in catalog.qc.items():
        for record in line_records:
            expected = 200 if name in visible_for(role) else 404
            assert c.get(f"/api/v1/qc/{record.pk}/").status_code == expected, (role, name)


@pytest.mark.parametrize("role", ROLES)
def test_institution_counts_are_counts_of_visible_lines(world, role):
    catalog, users = world
    c = client(users, role)
    listed = {i["code"]: i["lines"] for i in c.get("/api/v1/institutions/").json()["results"]}
    visible = visible_for(role)
    assert listed == {
        "UKB": len({n for n in visible if n.startswith("UKB")}),
        "UCSF": len({n for n in visible if n.startswith("UCSF")}),
    }
    assert c.get("/api/v1/institutions/UKB/").json()["lines"] == listed["UKB"]


@pytest.mark.parametrize("role", ROLES)
def test_search_and_filters_cannot_probe_hidden_lines(world, role):
    catalog, users = world
    c = client(users, role)
    found = {i["name"] for i in c.get("/api/v1/lines/", {"search": "UKBi003"}).json()["results"]}
    assert found == ({"UKBi003-A"} if role in ("depositor", "curator") else set())
    found = {i["name"] for i in c.get("/api/v1/lines/", {"status": "withdrawn"}).json()["results"]}
    assert found == ({"UCSFi004-B"} if role in ("other_depositor", "curator") else set())


WRITE_URLS = [
    "/api/v1/lines/",
    "/api/v1/lines/UKBi001-A/",
    "/api/v1/lines/facets/",
    "/api/v1/lines/export.csv",
    "/api/v1/lines/export.json",
    "/api/v1/donors/",
    "/api/v1/donors/PD-ALS1/",
    "/api/v1/qc/",
    "/api/v1/institutions/",
    "/api/v1/institutions/UKB/",
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_holdings_cannot_be_written_through_the_api(world, role, method):
    catalog, users = world
    c = client(users, role)
    qc_url = f"/api/v1/qc/{catalog.qc['UKBi001-A'][0].pk}/"
    for url in [*WRITE_URLS, qc_url]:
        response = getattr(c, method)(url, {"name": "HACKi001-A"}, format="json")
        # Anonymous callers are asked to authenticate; nobody may write holdings here.
        expected = 401 if role == "anonymous" else 405
        assert response.status_code == expected, (role, method, url, response.content)
    assert c.get("/api/v1/lines/UKBi001-A/").status_code == 200
    assert CellLine.objects.count() == len(ALL)


def test_anonymous_write_is_401_with_token_challenge(world):
    _, users = world
    response = client(users, "anonymous").post("/api/v1/lines/", {}, format="json")
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_bad_token_is_401_not_a_silent_anonymous_read(world):
    c = APIClient()
    c.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert c.get("/api/v1/lines/").status_code == 401


def test_session_login_sees_the_same_as_token(world):
    catalog, users = world
    c = APIClient()
    assert c.login(username="dora", password="pw-dora-123")
    names = [item["name"] for item in all_pages(c, "/api/v1/lines/")]
    assert sorted(names) == sorted(visible_for("depositor"))


# -- unreleased lines: the depositor role opens them, an institution on the profile does not --
SEES_UKB_DRAFT = ("depositor", "curator")


@pytest.mark.parametrize("role", ROLES)
def test_filters_cannot_reach_unreleased_lines_of_an_institution_without_the_role(world, role):
    catalog, users = world
    c = client(users, role)
    for params in (
        {"status": "draft"},
        {"gene": "FUS"},
        {"institution": "UKB"},
        {"disease": "MONDO:0011951"},
    ):
        found = {i["name"] for i in c.get("/api/v1/lines/", params).json()["results"]}
        assert ("UKBi003-A" in found) == (role in SEES_UKB_DRAFT), (role, params)
        assert found <= visible_for(role), (role, params)


@pytest.mark.parametrize("role", ROLES)
def test_filtered_exports_and_facets_keep_unreleased_lines_to_their_depositors(world, role):
    catalog, users = world
    c = client(users, role)
    response = c.get("/api/v1/lines/export.csv", {"institution": "UKB"})
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert ("UKBi003-A" in {r["name"] for r in rows}) == (role in SEES_UKB_DRAFT)
    facets = c.get("/api/v1/lines/facets/", {"institution": "UKB"}).json()["facets"]
    reprogramming = {v["value"] for v in facets["reprogramming_method"]}
    assert ("mrna" in reprogramming) == (role in SEES_UKB_DRAFT)  # mRNA: only the UKB draft


@pytest.mark.parametrize("role", ROLES)
def test_line_detail_and_qc_of_an_unreleased_line_follow_the_role(world, role):
    catalog, users = world
    c = client(users, role)
    expected = 200 if role in SEES_UKB_DRAFT else 404
    assert c.get("/api/v1/lines/UKBi003-A/").status_code == expected
    record = catalog.qc["UKBi003-A"][0]
    assert c.get(f"/api/v1/qc/{record.pk}/").status_code == expected
    listed = {r["line"] for r in c.get("/api/v1/qc/", {"line": "UKBi003-A"}).json()["results"]}
    assert listed == ({"UKBi003-A"} if role in SEES_UKB_DRAFT else set())


def _page_client(users, role):
    c = APIClient()
    if users[role] is not None:
        c.force_login(users[role])
    return c


@pytest.mark.parametrize("role", ROLES)
def test_catalog_page_and_line_page_follow_the_role(world, role):
    catalog, users = world
    # A depositor of UKB loads the page first: its cached counts must not serve a
    # researcher attached to UKB.
    _page_client(users, "depositor").get("/lines/")
    c = _page_client(users, role)
    page = c.get("/lines/", {"page_size": 200}).content.decode()
    assert ("UKBi003-A" in page) == (role in SEES_UKB_DRAFT)
    assert c.get("/lines/UKBi003-A/").status_code == (200 if role in SEES_UKB_DRAFT else 404)


# -- genetic data: donors.disclosure decides, whoever deposited the line ------------------
@pytest.mark.parametrize("role", ROLES)
def test_genetic_data_is_shown_only_where_disclosure_allows(world, role):
    catalog, users = world
    identity = QCRecordFactory(
        line=catalog.lines["UKBi002-A"], test="identity", method="STR", details={"TH01": ["7", "8"]}
    )
    c = client(users, role)
    curator = role == "curator"
    open_line = c.get("/api/v1/lines/UKBi001-A/").json()
    assert open_line["str_shown"] and open_line["str_profile"] == {"TH01": ["6", "9.3"]}
    controlled = c.get("/api/v1/lines/UKBi002-A/").json()  # controlled consent, UKB's own line
    assert controlled["str_shown"] == curator
    assert (controlled["str_profile"] is not None) == curator
    assert controlled["donor"]["c9orf72_repeats"] == (850 if curator else None)
    donor = c.get("/api/v1/donors/PD-SALS2/").json()
    assert (donor["str_profile"] is not None) == curator
    assert bool(donor["variants"]) == curator
    record = c.get(f"/api/v1/qc/{identity.pk}/").json()
    assert record["details"] == ({"TH01": ["7", "8"]} if curator else None)


def test_cached_catalog_counts_are_shared_only_by_callers_who_see_the_same_lines(world):
    _, users = world
    keys = {role: visibility_key(users[role] or AnonymousUser()) for role in ROLES}
    assert keys["institution_researcher"] == keys["researcher"] == keys["anonymous"]
    assert len({keys["depositor"], keys["other_depositor"], keys["curator"], keys["researcher"]}) == 4
