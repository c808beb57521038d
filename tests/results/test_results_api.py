"""/api/v1/ results: deposit by JSON or multipart, the report with located findings,
curator release, CSV/JSON export, the assays' schemas and the comparison."""

import io

import orjson
import pytest
from openpyxl import Workbook

from results.models import Dataset
from tests.conftest import client_for
from tests.results.conftest import line_with_consent
from tests.results.documents import dose_response_document, dose_response_rows, metadata

pytestmark = pytest.mark.django_db


def post_json(user, document, capture):
    with capture(execute=True):
        return client_for(user).post("/api/v1/datasets/", document, format="json")


def test_a_json_deposit_answers_202_and_the_report_follows(
    recipient, shipped_lines, django_capture_on_commit_callbacks
):
    _request, lines = shipped_lines
    answer = post_json(recipient, dose_response_document({lines[0].name: 1.0}), django_capture_on_commit_callbacks)
    assert answer.status_code == 202
    assert answer.json()["status"] == "received"
    body = client_for(recipient).get(f"/api/v1/datasets/{answer.json()['id']}/").json()
    assert body["status"] == "pending_review" and body["error_count"] == 0
    assert body["lines"] == [{"line": lines[0].name, "lot": "B1"}]


def test_lines_the_depositor_may_not_deposit_on_are_findings_at_their_place(
    recipient, shipped_lines, other_institution, django_capture_on_commit_callbacks
):
    _request, lines = shipped_lines
    stranger = line_with_consent("UCSFi009-A", institution=other_institution)
    document = dose_response_document({lines[0].name: 1.0, stranger.name: 1.0, "NOPEi001-A": 1.0})
    document["measurements"][0]["value"] = "high"
    answer = post_json(recipient, document, django_capture_on_commit_callbacks)
    body = client_for(recipient).get(f"/api/v1/datasets/{answer.json()['id']}/").json()
    assert body["status"] == "invalid"
    found = {(f["rule"], f["location"]) for f in body["findings"]}
    assert ("RES-DEPOSIT", "/lines/1/line") in found
    assert ("RES-LINE", "/lines/2/line") in found
    assert ("SCHEMA", "/measurements/0/value") in found


def test_a_multipart_xlsx_deposit_is_read_from_its_measurements_sheet(
    recipient, shipped_lines, django_capture_on_commit_callbacks
):
    _request, lines = shipped_lines
    rows = dose_response_rows({lines[1].name: 2.0})
    columns = ["line", "compound", "concentration", "concentration_unit", "replicate", "readout", "value", "unit"]
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "measurements"
    sheet.append(columns)
    for row in rows:
        sheet.append([row[c] for c in columns])
    data = io.BytesIO()
    workbook.save(data)
    data.seek(0)
    data.name = "plate.xlsx"
    raw = io.BytesIO(b"invented raw plate reader export")
    raw.name = "plate-reader.txt"
    protocol = io.BytesIO(b"%PDF-1.4 invented protocol")
    protocol.name = "protocol.pdf"
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(recipient).post(
            "/api/v1/datasets/",
            {
                "assay": "dose_response",
                "format": "xlsx",
                "metadata": orjson.dumps(metadata()).decode(),
                "document": data,
                "files": [raw],
                "protocol_document": protocol,
            },
            format="multipart",
        )
    assert answer.status_code == 202, answer.json()
    dataset = Dataset.objects.get(pk=answer.json()["id"])
    assert dataset.status == "pending_review", dataset.findings
    assert dataset.files.get(role="protocol").media_type == "application/pdf"
    stored = dataset.files.get(role="data")
    assert stored.size == 32 and len(stored.sha256) == 64 and stored.media_type == "text/plain"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"assay": "astrology"}, "assay"),
        ([1, 2], "document"),
    ],
)
def test_a_deposit_that_cannot_be_taken_is_a_400_naming_the_field(recipient, body, field):
    answer = client_for(recipient).post("/api/v1/datasets/", body, format="json")
    assert answer.status_code == 400 and field in answer.json()


def test_anonymous_callers_cannot_deposit(db):
    assert client_for(None).post("/api/v1/datasets/", {"assay": "survival"}, format="json").status_code == 401


def test_release_is_for_curators_and_exports_follow(recipient, shipped_lines, curator, researcher, deposit):
    _request, lines = shipped_lines
    dataset = deposit(recipient, dose_response_document({lines[0].name: 1.0}))
    assert client_for(researcher).get(f"/api/v1/datasets/{dataset.pk}/").status_code == 404  # not released
    assert client_for(recipient).post(f"/api/v1/datasets/{dataset.pk}/release/").status_code == 403
    assert client_for(curator).post(f"/api/v1/datasets/{dataset.pk}/release/").status_code == 200
    assert client_for(curator).post(f"/api/v1/datasets/{dataset.pk}/release/").status_code == 409
    fits = client_for(researcher).get(f"/api/v1/datasets/{dataset.pk}/fits/").json()
    assert fits[0]["status"] == "fitted" and fits[0]["ec50_ci_low_um"] < 1.0 < fits[0]["ec50_ci_high_um"]
    csv = client_for(researcher).get(f"/api/v1/datasets/{dataset.pk}/measurements/?as=csv")
    assert csv["Content-Type"].startswith("text/csv")
    assert csv.content.decode().splitlines()[0].startswith("line,readout,value,unit")
    assert len(csv.content.decode().splitlines()) == 1 + 24
    listed = client_for(researcher).get("/api/v1/datasets/", {"assay": "dose_response", "compound": "riluzole"}).json()
    assert [d["id"] for d in listed["results"]] == [dataset.pk]


def test_the_comparison_api_and_its_bad_parameters(recipient, shipped_lines, curator, deposit):
    _request, lines = shipped_lines
    dataset = deposit(recipient, dose_response_document({line.name: 1.0 + i for i, line in enumerate(lines)}))
    client_for(curator).post(f"/api/v1/datasets/{dataset.pk}/release/")
    answer = client_for(None).get("/api/v1/results/compare/", {"readout": "ec50:riluzole", "group_by": "sex"})
    assert answer.status_code == 200
    body = answer.json()
    assert body["groups"][0]["n"] == 3 and body["test"]["name"] is None
    assert (
        client_for(None).get("/api/v1/results/compare/", {"readout": "x", "group_by": "star_sign"}).status_code == 400
    )
    assert (
        client_for(None).get("/api/v1/results/compare/", {"readout": "ec50:aspirin", "group_by": "gene"}).status_code
        == 404
    )
    readouts = client_for(None).get("/api/v1/results/readouts/").json()
    assert {"key": "ec50:riluzole", "label": "EC50 of riluzole", "unit": "µM"} in readouts


def test_every_assay_has_its_own_schema(db):
    assays = client_for(None).get("/api/v1/results/assays/").json()
    assert {a["assay"] for a in assays} >= {
        "differentiation_efficiency",
        "survival",
        "tdp43_mislocalisation",
        "neurite_length",
        "mea_firing_rate",
        "dose_response",
        "rna_seq",
        "vcf",
    }
    schema = client_for(None).get("/api/v1/results/assays/dose_response/schema/").json()
    assert "compound" in schema["properties"]["measurements"]["items"]["required"]
    assert client_for(None).get("/api/v1/results/assays/astrology/schema/").status_code == 404


def test_rna_seq_counts_are_files_with_metadata_only(recipient, shipped_lines, django_capture_on_commit_callbacks):
    _request, lines = shipped_lines
    counts = io.BytesIO(b"gene\tUKBi001-A\nSOD1\t1200\n")
    counts.name = "counts.tsv"
    fields = {**metadata(title="Invented RNA-seq counts"), "lines": [{"line": lines[0].name}]}
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_for(recipient).post(
            "/api/v1/datasets/",
            {"assay": "rna_seq", "format": "json", "metadata": orjson.dumps(fields).decode(), "files": [counts]},
            format="multipart",
        )
    assert answer.status_code == 202, answer.json()
    dataset = Dataset.objects.get(pk=answer.json()["id"])
    assert dataset.status == "pending_review", dataset.findings
    assert dataset.measurements.count() == 0 and dataset.files.get().name == "counts.tsv"
    without_files = client_for(recipient).post(
        "/api/v1/datasets/", {"assay": "vcf", "format": "json", "metadata": "{}"}, format="multipart"
    )
    assert without_files.status_code == 400 and "files" in without_files.json()


def test_a_table_over_the_size_limit_is_refused_before_it_is_read(recipient, settings):
    settings.RESULTS_MAX_UPLOAD_BYTES = 1024
    table = io.BytesIO(b"line,value\n" + b"UKBi001-A,1\n" * 200)
    table.name = "big.csv"
    answer = client_for(recipient).post(
        "/api/v1/datasets/",
        {"assay": "survival", "format": "csv", "metadata": "{}", "document": table},
        format="multipart",
    )
    assert answer.status_code == 400 and "larger than" in answer.json()["document"][0]
    assert not Dataset.objects.exists()


def test_metadata_with_a_nul_character_is_a_400(recipient):
    table = io.BytesIO(b"line,value\n")
    table.name = "t.csv"
    metadata = orjson.dumps({"title": "bad\x00title"}).decode()
    answer = client_for(recipient).post(
        "/api/v1/datasets/",
        {"assay": "survival", "format": "csv", "metadata": metadata, "document": table},
        format="multipart",
    )
    assert answer.status_code == 400 and "NUL" in answer.json()["metadata"][0]


def test_a_nul_in_the_comparisons_readout_is_a_404_not_a_crash(db):
    answer = client_for(None).get("/api/v1/results/compare/", {"readout": "ec50:a\x00b", "group_by": "gene"})
    assert answer.status_code == 404
