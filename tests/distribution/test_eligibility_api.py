"""POST /api/v1/eligibility/: per line APPROVE, DENY or ABSTAIN under the donor's consent, creating nothing."""

import pytest

from distribution.models import DistributionRequest
from tests.conftest import client_for
from tests.distribution.workflow import (
    ALS1,
    DS,
    GRU,
    HMB,
    IRB,
    NCU,
    PARKINSON,
    line_with,
)

pytestmark = pytest.mark.django_db


def test_eligibility_answers_per_line_without_creating_anything(requester, gru_irb_line, ds_als_line, hmb_line):
    response = client_for(requester).post(
        "/api/v1/eligibility/",
        {
            "lines": [gru_irb_line.name, ds_als_line.name, hmb_line.name],
            "purpose": {"codes": [DS], "disease": PARKINSON},
            "commercial": False,
            "organisation_type": "academic",
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    results = {r["line"]: r for r in response.json()["results"]}
    assert results[gru_irb_line.name]["decision"] == "APPROVE"
    assert results[gru_irb_line.name]["conditions"][0]["code"] == IRB
    assert results[ds_als_line.name]["decision"] == "DENY"
    assert results[ds_als_line.name]["reasons"][0]["code"] == DS
    assert results[hmb_line.name]["decision"] == "APPROVE"
    assert DistributionRequest.objects.count() == 0


def test_eligibility_follows_the_disease_hierarchy(api_client, ds_als_line):
    body = {
        "lines": [ds_als_line.name],
        "purpose": {"codes": [DS], "disease": ALS1},
        "commercial": False,
        "organisation_type": "academic",
    }
    response = api_client.post("/api/v1/eligibility/", body, format="json")
    assert response.json()["results"][0]["decision"] == "APPROVE"


def test_eligibility_denies_commercial_use_of_non_commercial_consent(api_client):
    line = line_with([GRU, NCU])
    body = {
        "lines": [line.name],
        "purpose": {"codes": [HMB], "disease": None},
        "commercial": True,
        "organisation_type": "commercial",
    }
    result = api_client.post("/api/v1/eligibility/", body, format="json").json()["results"][0]
    assert result["decision"] == "DENY"
    assert any(r["code"] == NCU for r in result["reasons"])


def test_eligibility_names_unknown_lines_and_codes(requester, hmb_line):
    response = client_for(requester).post(
        "/api/v1/eligibility/",
        {
            "lines": [hmb_line.name, "NOPEi999-Z"],
            "purpose": {"codes": [HMB, "DUO:9999999"]},
            "commercial": False,
            "organisation_type": "academic",
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert "NOPEi999-Z" in str(body["lines"])
    assert "DUO:9999999" in str(body["purpose.codes"])


def test_eligibility_names_an_unknown_disease(requester, hmb_line):
    response = client_for(requester).post(
        "/api/v1/eligibility/",
        {"lines": [hmb_line.name], "purpose": {"codes": [DS], "disease": "MONDO:0100000"}},
        format="json",
    )
    assert response.status_code == 400
    assert "MONDO:0100000" in str(response.json()["purpose.disease"])


def test_eligibility_treats_lines_the_caller_may_not_see_as_unknown(requester):
    hidden = line_with([GRU], status="submitted")
    response = client_for(requester).post(
        "/api/v1/eligibility/", {"lines": [hidden.name], "purpose": {"codes": [HMB]}}, format="json"
    )
    assert response.status_code == 400
    assert hidden.name in str(response.json()["lines"])
