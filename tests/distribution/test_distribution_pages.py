"""The distribution pages with the Django test client: a researcher goes from choosing
lines to a submitted request; a curator from the queue to a shipped request."""

import datetime
import re

import pytest
from django.test import Client

from distribution.models import DistributionRequest
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = pytest.mark.django_db

GRU, HMB, DS, IRB, GS = "DUO:0000042", "DUO:0000006", "DUO:0000007", "DUO:0000021", "DUO:0000022"
ALS, ALS1, PARKINSON = "MONDO:0004976", "MONDO:0007103", "MONDO:0005180"
ADDRESS = "Motor Neuron Lab, 1 Example Road, Leiden 2333 ZA, Netherlands"


def line_with(codes, disease="", **kwargs):
    donor = DonorFactory()
    ConsentFactory(donor=donor, codes=codes, disease=disease)
    return CellLineFactory(donor=donor, **kwargs)


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def irb_line(db):
    return line_with([GRU, IRB])


@pytest.fixture
def als_line(db):
    return line_with([DS], disease=ALS)


def test_researcher_goes_from_choosing_lines_to_a_submitted_request(researcher, irb_line, als_line):
    client = signed_in(researcher)
    page = client.get("/distribution/lines/")
    assert page.status_code == 200
    assert irb_line.name in page.content.decode()

    # Add one line from the list, one by name.
    client.post("/distribution/basket/add/", {"line": irb_line.name, "next": "/distribution/lines/"})
    client.post("/distribution/basket/add/", {"line": als_line.name})
    basket = client.get("/distribution/basket/").content.decode()
    assert irb_line.name in basket and als_line.name in basket

    # State the purpose: research on ALS type 1 — both lines allowed, IRB a condition.
    purpose = {
        "codes": [DS],
        "disease": ALS1,
        "organisation_type": "academic",
        "purpose_summary": "SOD1 motor neurons",
    }
    page = client.get("/distribution/basket/", purpose).content.decode()
    assert page.count("Allowed") >= 2
    assert "Ethics approval required" in page
    assert IRB in page

    # Submitting without accepting the condition keeps the request a draft and says why.
    response = client.post(
        "/distribution/basket/", {**purpose, "action": "submit", "shipping_address": ADDRESS}, follow=True
    )
    request = DistributionRequest.objects.get()
    assert request.status == "draft"
    assert "Accept every condition" in response.content.decode()

    # Accept it on the request page and submit.
    response = client.post(f"/distribution/requests/{request.pk}/submit/", {"accept": [IRB]}, follow=True)
    request.refresh_from_db()
    assert request.status == "submitted"
    assert request.accepted_conditions == [IRB]
    assert "Submitted to the curators" in response.content.decode()

    mine = client.get("/distribution/requests/").content.decode()
    assert f"Request {request.pk}" in mine and "Submitted" in mine


def test_researcher_submits_straight_from_the_basket(researcher, irb_line):
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": irb_line.name})
    response = client.post(
        "/distribution/basket/",
        {
            "codes": [HMB],
            "organisation_type": "academic",
            "accept": [IRB],
            "action": "submit",
            "shipping_address": ADDRESS,
            f"vials-{irb_line.name}": "3",
        },
        follow=True,
    )
    request = DistributionRequest.objects.get()
    assert request.status == "submitted"
    assert request.items.get().vials == 3
    assert f"Request {request.pk} submitted" in response.content.decode()
    assert client.get("/distribution/basket/").content.decode().count("Your basket is empty") == 1


def test_basket_shows_denied_lines_and_offers_no_submit(researcher, als_line):
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": als_line.name})
    page = client.get(
        "/distribution/basket/",
        {"codes": [DS], "disease": PARKINSON, "organisation_type": "academic"},
    ).content.decode()
    assert "Not allowed" in page
    assert "not that disease nor a form of it" in page
    assert 'value="submit"' not in page
    response = client.post(
        "/distribution/basket/",
        {
            "codes": [DS],
            "disease": PARKINSON,
            "organisation_type": "academic",
            "action": "submit",
            "shipping_address": ADDRESS,
        },
    )
    assert DistributionRequest.objects.count() == 0
    assert response.status_code == 200


def test_line_list_filters_by_purpose(researcher, irb_line, als_line):
    client = signed_in(researcher)
    page = client.get("/distribution/lines/", {"codes": [HMB], "organisation_type": "academic"}).content.decode()
    assert irb_line.name in page
    assert als_line.name not in page  # disease-specific consent does not allow general HMB research


def test_basket_refuses_lines_the_user_may_not_see(researcher):
    hidden = line_with([GRU], status="submitted")
    client = signed_in(researcher)
    response = client.post("/distribution/basket/add/", {"line": hidden.name}, follow=True)
    assert f"No line called {hidden.name}" in response.content.decode()


def test_curator_goes_from_the_queue_to_a_shipped_request(
    researcher, curator, irb_line, mailoutbox, django_capture_on_commit_callbacks
):
    researcher.email = "rita@example.org"
    researcher.save()
    abstain_line = line_with([GRU, GS])
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": [irb_line.name, abstain_line.name]})
    client.post(
        "/distribution/basket/",
        {
            "codes": [HMB],
            "organisation_type": "academic",
            "accept": [IRB, GS],
            "action": "submit",
            "shipping_address": ADDRESS,
        },
    )
    request = DistributionRequest.objects.get()
    assert request.status == "submitted"

    cur = signed_in(curator)
    queue = cur.get("/distribution/queue/").content.decode()
    assert f"/distribution/requests/{request.pk}/" in queue
    review = cur.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Curator decides" in review
    assert "Geographic restriction" in review

    def act(action, data=None):
        with django_capture_on_commit_callbacks(execute=True):
            response = cur.post(f"/distribution/requests/{request.pk}/{action}/", data or {}, follow=True)
        request.refresh_from_db()
        return response.content.decode()

    act("start-review")
    assert request.status == "under_review"
    page = act("approve")
    assert request.status == "under_review"
    assert abstain_line.name in page  # must be decided one by one first
    act(
        "approve-line",
        {"line": abstain_line.name, "reason": "Consent names the EU; requester is in the EU."},
    )
    act("approve", {"reason": "Consent fits the project."})
    assert request.status == "approved"
    act("agreement", {"reference": "MTA-2026-042", "executed_on": datetime.date.today().isoformat()})
    assert request.status == "agreement_executed"
    items = {i.line.name: i for i in request.items.select_related("line")}
    page = act(
        "ship",
        {
            "shipped_on": datetime.date.today().isoformat(),
            "courier_reference": "DHL-1",
            f"vials-{items[irb_line.name].pk}": "2",
            f"batch-{items[irb_line.name].pk}": "B7",
            f"passage-{items[irb_line.name].pk}": "19",
            f"vials-{items[abstain_line.name].pk}": "1",
        },
    )
    assert request.status == "shipped"
    assert "B7" in page
    shipment = request.shipments.get(line=irb_line)
    assert (shipment.vials, shipment.batch, shipment.passage, shipment.courier_reference) == (
        2,
        "B7",
        19,
        "DHL-1",
    )
    # the requester heard of each step
    subjects = [m.subject for m in mailoutbox]
    assert any("Shipped" in s for s in subjects)
    assert any("agreement" in s for s in subjects)


def test_curator_rejects_a_line_and_must_give_a_reason(researcher, curator, irb_line):
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": irb_line.name})
    client.post(
        "/distribution/basket/",
        {
            "codes": [HMB],
            "organisation_type": "academic",
            "accept": [IRB],
            "action": "submit",
            "shipping_address": ADDRESS,
        },
    )
    request = DistributionRequest.objects.get()
    cur = signed_in(curator)
    page = cur.post(
        f"/distribution/requests/{request.pk}/reject-line/", {"line": irb_line.name}, follow=True
    ).content.decode()
    assert "Give a reason" in page
    cur.post(
        f"/distribution/requests/{request.pk}/reject-line/",
        {"line": irb_line.name, "reason": "Out of stock"},
    )
    assert request.items.get().decision == "rejected"


def test_pages_keep_roles_apart(researcher, other_depositor, curator, irb_line):
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": irb_line.name})
    client.post(
        "/distribution/basket/",
        {
            "codes": [HMB],
            "organisation_type": "academic",
            "accept": [IRB],
            "action": "submit",
            "shipping_address": ADDRESS,
        },
    )
    request = DistributionRequest.objects.get()
    assert signed_in(other_depositor).get(f"/distribution/requests/{request.pk}/").status_code == 404
    assert client.get("/distribution/queue/").status_code == 403
    assert client.get("/distribution/withdrawals/").status_code == 403
    assert client.post(f"/distribution/requests/{request.pk}/approve/").status_code == 403
    request.refresh_from_db()
    assert request.status == "submitted"
    assert Client().get("/distribution/basket/").status_code == 302  # to sign in


def test_nav_links_point_to_the_distribution_pages(researcher, curator):
    page = signed_in(researcher).get("/distribution/lines/").content.decode()
    assert re.search(r'href="/distribution/basket/"', page)
    assert re.search(r'href="/distribution/requests/"', page)
    page = signed_in(curator).get("/distribution/queue/").content.decode()
    assert re.search(r'href="/distribution/queue/"', page)


def test_stray_nul_characters_are_not_a_server_error(researcher, curator, irb_line):
    client = signed_in(researcher)
    assert client.get("/distribution/lines/", {"q": "UKB\x00"}).status_code == 200
    client.post("/distribution/basket/add/", {"line": irb_line.name})
    client.post(
        "/distribution/basket/",
        {
            "codes": [HMB],
            "organisation_type": "academic",
            "accept": [IRB],
            "action": "submit",
            "shipping_address": ADDRESS,
        },
    )
    request = DistributionRequest.objects.get()
    cur = signed_in(curator)
    response = cur.post(f"/distribution/requests/{request.pk}/reject/", {"reason": "No\x00 stock"})
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.decision_reason) == ("rejected", "No stock")
    assert cur.get("/distribution/withdrawals/", {"donor": "PD\x00"}).status_code == 200
