"""Withdrawal end to end: a donor withdraws consent (or a line fails QC); in one
transaction the lines stop, open requests go on hold; curators see who holds
material; requesters and recipients are told after commit; nothing is deleted."""

import datetime

import pytest
from django.test import Client

from core.accounts import create_user_with_role
from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from distribution.actions.withdrawal import withdraw_consent, withdraw_line
from distribution.models import DistributionRequest, NotAllowed, Shipment
from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, VariantFactory

pytestmark = pytest.mark.django_db

GRU, HMB = "DUO:0000042", "DUO:0000006"
TODAY = datetime.date.today()


def user(name):
    return create_user_with_role(name, "researcher", email=f"{name}@example.org", password=f"pw-{name}-123")[0]


@pytest.fixture
def world(curator):
    """Donor PD-W with two lines; another donor's line; a past recipient, an open request, a draft."""
    donor = DonorFactory(code="PDW0001")
    ConsentFactory(donor=donor, codes=[GRU])
    line_a = CellLineFactory(donor=donor)
    line_b = CellLineFactory(donor=donor)
    other = CellLineFactory(donor=ConsentFactory(codes=[GRU]).donor)
    alice, bob, carol = user("alice"), user("bob"), user("carol")

    shipped = create_request(alice, [line_a], purpose_codes=[HMB])
    actions.submit(shipped, alice)
    actions.approve(shipped, curator)
    actions.record_agreement(shipped, curator, "MTA-1", TODAY - datetime.timedelta(days=30))
    actions.ship(
        shipped,
        curator,
        [
            {
                "line": line_a,
                "shipped_on": TODAY - datetime.timedelta(days=20),
                "vials": 2,
                "batch": "B-0911",
                "passage": 17,
            }
        ],
    )
    actions.complete(shipped, alice)

    open_request = create_request(bob, [line_a, other], purpose_codes=[HMB])
    actions.submit(open_request, bob)
    draft = create_request(carol, [line_b], purpose_codes=[HMB])
    return {
        "donor": donor,
        "line_a": line_a,
        "line_b": line_b,
        "other": other,
        "alice": alice,
        "bob": bob,
        "carol": carol,
        "shipped": shipped,
        "open": open_request,
        "draft": draft,
    }


def test_consent_withdrawal_stops_everything_it_must(world, curator, mailoutbox, django_capture_on_commit_callbacks):
    counts = (
        CellLine.objects.count(),
        DistributionRequest.objects.count(),
        Shipment.objects.count(),
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(curator).post(
            "/api/v1/withdrawals/consent/",
            {
                "donor": "PDW0001",
                "reason": "Donor asked by letter of 3 March",
                "withdrawn_on": TODAY.isoformat(),
            },
            format="json",
        )
    assert response.status_code == 200, response.json()
    report = response.json()

    # the consent and the lines
    donor = world["donor"]
    donor.consent.refresh_from_db()
    assert donor.consent.withdrawn_on == TODAY
    assert donor.consent.withdrawal_reason == "Donor asked by letter of 3 March"
    for line in (world["line_a"], world["line_b"]):
        line.refresh_from_db()
        assert line.status == "withdrawn"
        assert line.availability == "not_distributed"
        assert "Donor asked by letter of 3 March" in line.status_reason
    world["other"].refresh_from_db()
    assert world["other"].status == "released"

    # open requests on hold with the reason; the finished one untouched
    for key in ("open", "draft"):
        world[key].refresh_from_db()
        assert world[key].on_hold
        assert "consent withdrawn" in world[key].hold_reason.lower()
    world["shipped"].refresh_from_db()
    assert (world["shipped"].status, world["shipped"].on_hold) == ("completed", False)

    # curators see who holds material
    assert sorted(report["lines"]) == sorted([world["line_a"].name, world["line_b"].name])
    assert sorted(report["held_requests"]) == sorted([world["open"].pk, world["draft"].pk])
    assert report["recipients"] == [
        {
            "line": world["line_a"].name,
            "request": world["shipped"].pk,
            "requester": "alice",
            "email": "alice@example.org",
            "organisation": world["shipped"].organisation,
            "shipped_on": (TODAY - datetime.timedelta(days=20)).isoformat(),
            "vials": 2,
            "batch": "B-0911",
            "passage": 17,
        }
    ]

    # everyone concerned is told, after commit
    by_recipient = {}
    for message in mailoutbox:
        by_recipient.setdefault(message.to[0], []).append(message)
    assert "withdrawn" in by_recipient["alice@example.org"][0].subject
    assert "B-0911" in by_recipient["alice@example.org"][0].body
    assert "Put on hold" in by_recipient["bob@example.org"][0].subject
    assert "Put on hold" in by_recipient["carol@example.org"][0].subject

    # nothing deleted, and history shows it
    assert (
        CellLine.objects.count(),
        DistributionRequest.objects.count(),
        Shipment.objects.count(),
    ) == counts
    line_history = world["line_a"].history.order_by("history_date")
    assert [h.status for h in line_history][-2:] == ["released", "withdrawn"]
    assert line_history.last().history_user == curator
    assert donor.consent.history.first().withdrawn_on == TODAY
    assert world["open"].events.last().action == "put_on_hold"


def test_withdrawn_lines_leave_the_catalog_and_cannot_be_requested(world, curator):
    withdraw_consent(world["donor"], by=curator, reason="Donor withdrew")
    researcher = world["bob"]
    assert not CellLine.objects.visible_to(researcher).filter(pk=world["line_a"].pk).exists()
    response = client_for(curator).post(
        "/api/v1/eligibility/",
        {"lines": [world["line_a"].name], "purpose": {"codes": [HMB]}},
        format="json",
    )
    assert response.json()["results"][0]["decision"] == "DENY"
    assert "withdrawn" in response.json()["results"][0]["reasons"][0]["text"]


def test_a_held_request_moves_on_only_after_the_withdrawn_line_is_rejected(world, curator):
    withdraw_consent(world["donor"], by=curator, reason="Donor withdrew")
    held = world["open"]
    api = client_for(curator)
    assert api.post(f"/api/v1/requests/{held.pk}/approve/", {}, format="json").status_code == 409
    response = api.post(f"/api/v1/requests/{held.pk}/release-hold/", {}, format="json")
    assert response.status_code == 400
    assert world["line_a"].name in response.json()["detail"]
    api.post(
        f"/api/v1/requests/{held.pk}/decide-line/",
        {"line": world["line_a"].name, "decision": "rejected", "reason": "Consent withdrawn"},
        format="json",
    )
    assert api.post(f"/api/v1/requests/{held.pk}/release-hold/", {}, format="json").status_code == 200
    response = api.post(f"/api/v1/requests/{held.pk}/approve/", {}, format="json")
    assert response.status_code == 200
    decisions = {item["line"]: item["decision"] for item in response.json()["lines"]}
    assert decisions == {world["line_a"].name: "rejected", world["other"].name: "approved"}


def test_withdrawal_is_one_transaction(world, curator, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(actions, "put_on_hold", fail)
    with pytest.raises(RuntimeError):
        withdraw_consent(world["donor"], by=curator, reason="Donor withdrew")
    world["donor"].consent.refresh_from_db()
    world["line_a"].refresh_from_db()
    assert world["donor"].consent.withdrawn_on is None
    assert world["line_a"].status == "released"


def test_consent_cannot_be_withdrawn_twice(world, curator):
    withdraw_consent(world["donor"], by=curator, reason="Donor withdrew")
    response = client_for(curator).post(
        "/api/v1/withdrawals/consent/", {"donor": "PDW0001", "reason": "again"}, format="json"
    )
    assert response.status_code == 409
    assert "already withdrew" in response.json()["detail"]


def test_withdrawal_of_a_donor_without_recorded_consent_is_still_recorded(curator):
    donor = DonorFactory(code="PDW0002")
    line = CellLineFactory(donor=donor)
    report = withdraw_consent(donor, by=curator, reason="Withdrawal by phone")
    donor.refresh_from_db()
    assert donor.consent.withdrawn_on == TODAY
    assert report.lines == [line.name]


@pytest.mark.parametrize("role", ["anonymous", "researcher", "depositor"])
def test_only_curators_may_withdraw_or_see_recipients(world, role, researcher, depositor):
    caller = {"anonymous": None, "researcher": researcher, "depositor": depositor}[role]
    api = client_for(caller)
    expected = (401, 403) if role == "anonymous" else (403,)
    assert (
        api.post("/api/v1/withdrawals/consent/", {"donor": "PDW0001", "reason": "x"}, format="json").status_code
        in expected
    )
    assert (
        api.post(
            "/api/v1/withdrawals/line/",
            {"line": world["line_a"].name, "reason": "x"},
            format="json",
        ).status_code
        in expected
    )
    assert api.get("/api/v1/withdrawals/recipients/?donor=PDW0001").status_code in expected
    world["line_a"].refresh_from_db()
    assert world["line_a"].status == "released"


def test_unknown_donor_is_a_404(curator):
    response = client_for(curator).post("/api/v1/withdrawals/consent/", {"donor": "NOPE", "reason": "x"}, format="json")
    assert response.status_code == 404


def test_line_withdrawn_for_qc_stops_only_that_line(world, curator, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(curator).post(
            "/api/v1/withdrawals/line/",
            {"line": world["line_a"].name, "reason": "Mycoplasma positive at passage 20"},
            format="json",
        )
    assert response.status_code == 200
    world["line_a"].refresh_from_db()
    world["line_b"].refresh_from_db()
    assert world["line_a"].status == "withdrawn"
    assert "Mycoplasma" in world["line_a"].status_reason
    assert world["line_b"].status == "released"
    world["open"].refresh_from_db()
    world["draft"].refresh_from_db()
    assert world["open"].on_hold and not world["draft"].on_hold
    assert world["donor"].consent.withdrawn_on is None
    assert {m.to[0] for m in mailoutbox} == {"alice@example.org", "bob@example.org"}
    assert (
        client_for(curator)
        .post(
            "/api/v1/withdrawals/line/",
            {"line": world["line_a"].name, "reason": "x"},
            format="json",
        )
        .status_code
        == 409
    )


def test_recipients_report_for_a_donor_or_a_line(world, curator):
    api = client_for(curator)
    by_donor = api.get("/api/v1/withdrawals/recipients/?donor=PDW0001").json()
    by_line = api.get(f"/api/v1/withdrawals/recipients/?line={world['line_a'].name}").json()
    assert by_donor == by_line
    assert [(r["requester"], r["vials"], r["batch"]) for r in by_donor] == [("alice", 2, "B-0911")]
    assert api.get("/api/v1/withdrawals/recipients/").status_code == 400


def test_curator_withdraws_on_the_page_and_sees_the_recipients(world, curator):
    client = Client()
    client.force_login(curator)
    page = client.post(
        "/distribution/withdrawals/",
        {
            "kind": "consent",
            "donor": "PDW0001",
            "withdrawn_on": TODAY.isoformat(),
            "reason": "Donor withdrew",
        },
        follow=True,
    ).content.decode()
    assert "2 open request(s) put on hold" in page
    assert "alice" in page and "B-0911" in page
    lookup = client.get("/distribution/withdrawals/", {"donor": world["line_a"].name}).content.decode()
    assert "alice@example.org" in lookup
    # the held request is flagged in the curator's queue
    assert "On hold" in client.get("/distribution/queue/").content.decode()


def test_withdraw_line_function_refuses_non_curators(world, researcher):
    with pytest.raises(NotAllowed):
        withdraw_line(world["line_a"], by=researcher, reason="x")


def test_recipients_report_refuses_unknown_parameters(curator):
    response = client_for(curator).get("/api/v1/withdrawals/recipients/?donor=PDW0001&colour=red")
    assert response.status_code == 400
    assert "colour" in response.json()


def test_withdrawn_consent_takes_the_donors_variants_out_of_the_searchable_text(curator):
    donor = DonorFactory(code="PDW0002")
    ConsentFactory(donor=donor, codes=[GRU], genetic_data="open")
    VariantFactory(donor=donor, gene="TARDBP", protein="p.Met337Val", legacy_name="M337V")
    line = CellLineFactory(donor=donor)
    refresh_search_text(CellLine.objects.filter(pk=line.pk))
    line.refresh_from_db()
    assert "tardbp" in line.search_text.lower()

    withdraw_consent(donor, by=curator, reason="Donor asked by phone")

    line.refresh_from_db()
    assert "tardbp" not in line.search_text.lower()
    assert "tardbp" in line.search_text_restricted.lower()
