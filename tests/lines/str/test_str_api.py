"""STR identity over HTTP: /api/v1/str/search/, /compare/ and /batch/ answer good
input, refuse bad input with a 400 that names the marker and the problem, and
appear in the OpenAPI schema."""

import io

import pytest
from openpyxl import Workbook

from lines.models import ReferenceProfile
from lines.str.batch import MAX_BATCH_PROFILES
from lines.str.matching import normalise_profile
from lines.str.store import LINE, REFERENCE, reindex
from tests.conftest import client_for
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db

HB2 = {
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
BATCH_CSV = (
    '"Sample Name","Amelogenin","CSF1PO","D5S818","D7S820","D13S317","D16S539","TH01","TPOX","vWA"\n'
    '"my 1-7HB2","X","12,13","10,13","8,10","12","8,13","7,9","11","14,17"\n'
    '"other","X","7","10","10","11","5,12","7","8,9","17"\n'
)


@pytest.fixture
def hb2():
    ref = ReferenceProfile.objects.create(accession="CVCL_2261", name="1-7HB2", str_profile=normalise_profile(HB2))
    reindex(REFERENCE, ref)
    return ref


def test_search_returns_ranked_hits_with_links(api_client, hb2):
    response = api_client.post(
        "/api/v1/str/search/", {"profile": {**HB2, "vWA": ["14", "17"], "Amel": "X"}}, format="json"
    )
    assert response.status_code == 200
    body = response.json()
    hit = body["results"][0]
    assert (hit["name"], hit["accession"], hit["score"], hit["markers"], hit["shared_alleles"]) == (
        "1-7HB2",
        "CVCL_2261",
        100.0,
        8,
        14,
    )
    assert hit["url"] == "https://www.cellosaurus.org/CVCL_2261"
    assert body["mixture"] is False and hit["mixture"] is False
    assert body["parameters"] == {
        "algorithm": "tanabe",
        "mode": "non_empty",
        "include_amelogenin": False,
        "min_markers": 8,
        "score_filter": 60.0,
        "max_results": 200,
    }


def test_search_takes_clastr_parameters(api_client, hb2):
    query = {**HB2, "TH01": "6,9.3", "TPOX": "8"}  # 12 of 14 alleles shared
    response = api_client.post(
        "/api/v1/str/search/",
        {
            "profile": query,
            "algorithm": "masters_query",
            "mode": "query",
            "include_amelogenin": True,
            "score_filter": 80,
            "max_results": 5,
        },
        format="json",
    )
    assert response.status_code == 200
    [hit] = response.json()["results"]
    assert hit["score"] == pytest.approx(100 * 12 / 15, abs=0.01)
    too_strict = api_client.post("/api/v1/str/search/", {"profile": query, "score_filter": 95}, format="json")
    assert too_strict.json()["results"] == []


@pytest.mark.parametrize(
    ("profile", "marker", "words"),
    [
        ({**HB2, "D99S1": "12"}, "D99S1", "unknown STR marker"),
        ({**HB2, "TH01": "7,nine"}, "TH01", "malformed allele 'nine'"),
        ({**HB2, "Amelogenin": "Z"}, "Amelogenin", "malformed allele 'Z'"),
    ],
)
def test_bad_profiles_get_a_400_naming_the_marker(api_client, profile, marker, words):
    response = api_client.post("/api/v1/str/search/", {"profile": profile}, format="json")
    assert response.status_code == 400
    assert words in response.json()["profile"][marker][0]


def test_too_few_markers_is_a_400_that_says_how_many(api_client):
    response = api_client.post(
        "/api/v1/str/search/", {"profile": {"TH01": "7,9", "TPOX": "8", "Amel": "X"}}, format="json"
    )
    assert response.status_code == 400
    assert "too few markers: 2" in response.json()["profile"][0]
    assert (
        api_client.post(
            "/api/v1/str/search/",
            {"profile": {"TH01": "7,9", "TPOX": "8"}, "min_markers": 2},
            format="json",
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"profile": "TH01=7"},
        {"profile": {}},
        {"profile": HB2, "algorithm": "cosine"},
        {"profile": HB2, "mode": "all"},
        {"profile": HB2, "score_filter": 120},
        {"profile": HB2, "max_results": 0},
        {"profile": {"TH01": {"a": 1}, **{k: v for k, v in HB2.items() if k != "TH01"}}},
    ],
)
def test_malformed_requests_are_400_not_500(api_client, body):
    assert api_client.post("/api/v1/str/search/", body, format="json").status_code == 400


def test_search_shows_anonymous_callers_only_released_lines(api_client, curator, hb2):
    draft = CellLineFactory(status="draft", str_profile=normalise_profile(HB2))
    reindex(LINE, draft)
    anonymous = api_client.post("/api/v1/str/search/", {"profile": HB2}, format="json").json()
    assert [h["kind"] for h in anonymous["results"]] == ["reference"]
    seen = client_for(curator).post("/api/v1/str/search/", {"profile": HB2}, format="json").json()
    assert {h["name"] for h in seen["results"]} == {"1-7HB2", draft.name}


def test_compare_scores_one_pair(api_client):
    query = {**HB2, "TPOX": "8,11"}
    response = api_client.post(
        "/api/v1/str/compare/",
        {"query": query, "reference": HB2, "algorithm": "masters_reference"},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert (
        body["score"],
        body["shared_alleles"],
        body["query_alleles"],
        body["reference_alleles"],
        body["markers"],
    ) == (100.0, 14, 15, 14, 8)
    assert body["mixture"] == {"query": False, "reference": False}


def test_compare_with_conflicting_reference_gives_best_and_worst(api_client):
    response = api_client.post(
        "/api/v1/str/compare/",
        {"query": HB2, "reference": HB2, "reference_conflicts": {"TH01": [["7", "9"], ["9"]]}},
        format="json",
    )
    body = response.json()
    assert body["best"]["score"] == 100 and body["worst"]["score"] < 100


def test_compare_names_the_bad_marker(api_client):
    response = api_client.post("/api/v1/str/compare/", {"query": HB2, "reference": {**HB2, "FGA": "2x"}}, format="json")
    assert response.status_code == 400
    assert "FGA" in response.json()["reference"]


def test_batch_csv_returns_one_result_table(researcher, hb2):
    upload = io.BytesIO(BATCH_CSV.encode())
    upload.name = "batch.csv"
    response = client_for(researcher).post("/api/v1/str/batch/", {"file": upload}, format="multipart")
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["sample"] for r in results] == ["my 1-7HB2", "other"]
    assert results[0]["results"][0]["accession"] == "CVCL_2261"
    upload.seek(0)
    csv_response = client_for(researcher).post(
        "/api/v1/str/batch/", {"file": upload, "output": "csv"}, format="multipart"
    )
    assert csv_response["Content-Type"].startswith("text/csv")
    lines = csv_response.content.decode().splitlines()
    assert lines[0].startswith("sample,sample_mixture,sample_error,rank,name,accession")
    assert "my 1-7HB2,False,,1,1-7HB2,CVCL_2261,reference,100.0,related" in lines[1]


def test_batch_xlsx_is_read_too(researcher, hb2):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["Sample Name", *HB2.keys()])
    sheet.append(["xl", *HB2.values()])
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    data.name = "batch.xlsx"
    response = client_for(researcher).post("/api/v1/str/batch/", {"file": data}, format="multipart")
    assert response.status_code == 200
    assert response.json()["results"][0]["results"][0]["score"] == 100.0


def test_batch_problems_are_listed_with_row_and_marker(researcher):
    bad = BATCH_CSV.replace('"10,13"', '"10,1x"').replace("D16S539", "D99")
    upload = io.BytesIO(bad.encode())
    upload.name = "batch.csv"
    response = client_for(researcher).post("/api/v1/str/batch/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"] == ["column 7 ('D99') is not an STR marker"]
    upload = io.BytesIO(BATCH_CSV.replace('"10,13"', '"10,1x"').encode())
    upload.name = "batch.csv"
    response = client_for(researcher).post("/api/v1/str/batch/", {"file": upload}, format="multipart")
    assert response.json()["file"] == [
        "row 2 (my 1-7HB2), D5S818: malformed allele '1x' (expected a repeat number such as 12 or 9.3)"
    ]


def test_oversized_batch_is_refused_with_the_limit(researcher):
    row = BATCH_CSV.splitlines()[2]
    upload = io.BytesIO(("\n".join([BATCH_CSV.splitlines()[0]] + [row] * (MAX_BATCH_PROFILES + 1))).encode())
    upload.name = "big.csv"
    response = client_for(researcher).post("/api/v1/str/batch/", {"file": upload}, format="multipart")
    assert response.status_code == 400
    assert response.json()["file"] == [
        f"the file has {MAX_BATCH_PROFILES + 1} profiles; the limit is {MAX_BATCH_PROFILES} per batch"
    ]


def test_batch_needs_a_signed_in_user(api_client):
    assert api_client.post("/api/v1/str/batch/", {}, format="multipart").status_code in (401, 403)


def test_endpoints_are_in_the_openapi_schema(api_client):
    response = api_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    for endpoint in ("/api/v1/str/search/", "/api/v1/str/compare/", "/api/v1/str/batch/"):
        assert "400" in paths[endpoint]["post"]["responses"]
    search = paths["/api/v1/str/search/"]["post"]
    assert "application/json" in search["requestBody"]["content"]


@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("post", "/api/v1/str/search/"),
        ("post", "/api/v1/str/compare/"),
        ("post", "/api/v1/str/batch/"),
        ("get", "/api/v1/lines/"),
        ("post", "/api/v1/eligibility/"),
    ],
)
def test_a_bad_token_is_a_401_on_the_str_endpoints_as_everywhere(api_client, method, url):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    response = getattr(api_client, method)(url, {}, format="json") if method == "post" else api_client.get(url)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
