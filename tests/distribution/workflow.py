"""What the workflow tests share that is not a fixture: DUO and MONDO codes, lines with
a given consent, driving a request to a state, and request bodies."""

import datetime

from distribution.actions import requests as actions
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

GRU, HMB, DS, POA = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000011"
IRB, NCU, GS = "DUO:0000021", "DUO:0000046", "DUO:0000022"
ALS, ALS1, PARKINSON = "MONDO:0004976", "MONDO:0007103", "MONDO:0005180"
TODAY = datetime.date.today()

SHIP_BODY = {
    "shipments": [
        {
            "line": "{line}",
            "shipped_on": TODAY.isoformat(),
            "vials": 2,
            "batch": "B-2026-07",
            "passage": 21,
        }
    ]
}


def line_with(codes, disease="", **kwargs):
    donor = DonorFactory()
    ConsentFactory(donor=donor, codes=codes, disease=disease)
    return CellLineFactory(donor=donor, **kwargs)


def advance(request, requester, curator, to):
    """Drive a draft request to the state `to` through the actions."""
    steps = [
        (
            "submitted",
            lambda: actions.submit(request, requester, accepted_conditions=request.required_conditions()),
        ),
        ("under_review", lambda: actions.start_review(request, curator)),
        ("approved", lambda: actions.approve(request, curator)),
        (
            "agreement_executed",
            lambda: actions.record_agreement(request, curator, "MTA-2026-001", TODAY),
        ),
        (
            "shipped",
            lambda: actions.ship(
                request,
                curator,
                [
                    {
                        "line": item.line,
                        "shipped_on": TODAY,
                        "vials": 1,
                        "batch": "B1",
                        "passage": 18,
                    }
                    for item in request.items.all()
                ],
            ),
        ),
        ("completed", lambda: actions.complete(request, requester)),
    ]
    for state, step in steps:
        if request.status == to:
            break
        step()
        assert request.status == state
    return request


def fill(body, line_name):
    if isinstance(body, dict):
        return {k: fill(v, line_name) for k, v in body.items()}
    if isinstance(body, list):
        return [fill(v, line_name) for v in body]
    return line_name if body == "{line}" else body


def create_body(*lines, codes=(HMB,), disease=None, **extra):
    return {
        "lines": [line.name for line in lines],
        "purpose": {"codes": list(codes), "disease": disease},
        "commercial": False,
        **extra,
    }


def ids(response):
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]
