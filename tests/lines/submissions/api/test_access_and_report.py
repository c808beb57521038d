"""/api/v1/submissions/: who sees which submissions, the list filter, the report downloads,
and the endpoints in the OpenAPI schema."""

import csv
import io
import json

import pytest

from lines.models import Submission
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import detail, submission_document

pytestmark = pytest.mark.django_db


# --- who sees what -------------------------------------------------------------
def test_depositors_see_only_their_institutions_submissions_curators_see_all(
    depositor, other_depositor, curator, submit
):
    mine = submit(submission_document(1), run=False).json()["id"]
    theirs = submit(submission_document(1, seed=5), user=other_depositor, run=False).json()["id"]
    assert [s["id"] for s in client_for(depositor).get(URL).json()["results"]] == [mine]
    assert client_for(depositor).get(URL + "?page_size=1").json()["next"] is None
    assert [s["id"] for s in client_for(other_depositor).get(URL).json()["results"]] == [theirs]
    assert {s["id"] for s in client_for(curator).get(URL).json()["results"]} == {mine, theirs}
    assert detail(other_depositor, mine).status_code == 404
    assert client_for(other_depositor).get(f"{URL}{mine}/report.json").status_code == 404
    assert detail(curator, mine).status_code == 200


def test_researchers_and_anonymous_callers_see_no_submissions_and_cannot_submit(researcher, submit, depositor):
    pk = submit(submission_document(1), run=False).json()["id"]
    for user, refused in ((researcher, 403), (None, 401)):
        client = client_for(user)
        assert client.get(URL).status_code == refused
        assert client.get(f"{URL}{pk}/").status_code == refused
        assert client.get(f"{URL}{pk}/report.csv").status_code == refused
        assert (
            client.post(URL, data=json.dumps(submission_document(1)), content_type="application/json").status_code
            == refused
        )
    assert Submission.objects.count() == 1


def test_the_list_filters_by_status_and_refuses_an_unknown_one(depositor, submit):
    submit(submission_document(1))
    client = client_for(depositor)
    assert len(client.get(URL + "?status=valid").json()["results"]) == 1
    assert client.get(URL + "?status=invalid").json()["results"] == []
    refused = client.get(URL + "?status=nonsense")
    assert refused.status_code == 400 and "status" in refused.json()
    assert client.get(URL + "?stauts=valid").status_code == 400  # a typo is not silently ignored


# --- report -----------------------------------------------------------------------
def test_the_report_downloads_as_json_and_csv(depositor, submit):
    document = submission_document(1)
    document["lines"][0]["culture"]["passage_at_banking"] = 0
    pk = submit(document).json()["id"]
    client = client_for(depositor)
    as_json = client.get(f"{URL}{pk}/report.json")
    assert as_json.status_code == 200
    findings = as_json.json()
    assert any(f["rule"] == "LINE-3" for f in findings)
    assert client.get(f"{URL}{pk}/report/?format=json").json() == findings

    for url in (f"{URL}{pk}/report.csv", f"{URL}{pk}/report/?format=csv"):
        response = client.get(url)
        assert response.status_code == 200
        assert response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
        rows = list(csv.DictReader(io.StringIO(response.content.decode())))
        assert len(rows) == len(findings)
        assert {"rule", "severity", "location", "message", "line"} <= set(rows[0])
        assert any(r["rule"] == "LINE-3" and r["line"] == "L1" for r in rows)
    assert client.get(f"{URL}{pk}/report.xml").status_code == 404


# --- OpenAPI ------------------------------------------------------------------------
def test_every_submission_endpoint_is_in_the_openapi_schema_with_its_errors(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    paths = schema["paths"]
    create = paths["/api/v1/submissions/"]["post"]
    assert {"202", "400", "403", "413"} <= set(create["responses"])
    assert "multipart/form-data" in create["requestBody"]["content"]
    assert {"200", "403", "404"} <= set(paths["/api/v1/submissions/{id}/"]["get"]["responses"])
    approve = paths["/api/v1/submissions/{id}/approve/"]["post"]
    assert {"202", "403", "404", "409"} <= set(approve["responses"])
    assert "approving" in approve["description"]
    reject = paths["/api/v1/submissions/{id}/reject/"]["post"]
    assert {"200", "403", "404", "409"} <= set(reject["responses"])
    status_enum = schema["components"]["schemas"]["SubmissionDetail"]["properties"]["status"]
    assert "approving" in json.dumps(status_enum) or "approving" in json.dumps(schema["components"]["schemas"])
    assert "400" in paths["/api/v1/submissions/{id}/reject/"]["post"]["responses"]
    report = paths["/api/v1/submissions/{id}/report/"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/csv"} <= set(report)
