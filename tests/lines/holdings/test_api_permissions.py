"""Who sees what through the holdings API, for the five kinds of caller: every
endpoint and method, the status codes, and that nothing hidden leaks into list
results, counts, facets or exports."""

import csv
import io
import json

import pytest
from rest_framework.test import APIClient

from tests.api_catalog import ALL, build_catalog, visible_for

pytestmark = pytest.mark.django_db

ROLES = ("anonymous", "researcher", "depositor", "other_depositor", "curator")
# Donor of the draft UKB line only: visible to UKB depositors and curators.
DONOR_VISIBLE = {
    "anonymous": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "researcher": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "depositor": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5", "PD-DRAFT3"},
    "other_depositor": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5"},
    "curator": {"PD-ALS1", "PD-SALS2", "PD-PARK4", "PD-CTRL5", "PD-DRAFT3"},
}


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
        from rest_framework.authtoken.models import Token

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
    "/api/v1/lines/", "/api/v1/lines/UKBi001-A/", "/api/v1/lines/facets/", "/api/v1/lines/export.csv",
    "/api/v1/lines/export.json", "/api/v1/donors/", "/api/v1/donors/PD-ALS1/", "/api/v1/qc/",
    "/api/v1/institutions/", "/api/v1/institutions/UKB/",
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
    from lines.models import CellLine

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
