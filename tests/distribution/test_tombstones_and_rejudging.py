"""A withdrawn line keeps a permanent tombstone (page and API record: withdrawn, when
and why) that past requests link to; a request page judges consent again at every
view and offers no line approval the consent would now refuse."""

import datetime
import re

import pytest
from django.test import Client

from distribution.actions.withdrawal import withdraw_consent, withdraw_line
from tests.conftest import client_for
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_withdrawn_line_has_a_tombstone_page_and_record(make_request, requester, curator, gru_irb_line):
    request = make_request("submitted")
    withdraw_line(gru_irb_line, by=curator, reason="mycoplasma found on re-test", notify=False)
    name = gru_irb_line.name

    page = signed_in(requester).get(f"/lines/{name}/")
    html = page.content.decode()
    assert page.status_code == 410
    assert "This line has been withdrawn" in html and "mycoplasma found on re-test" in html
    gru_irb_line.refresh_from_db()
    assert gru_irb_line.withdrawn_at is not None
    assert f'datetime="{gru_irb_line.withdrawn_at.isoformat()}"' in html

    record = client_for(None).get(f"/api/v1/lines/{name}/")
    assert record.status_code == 410
    body = record.json()
    assert (body["name"], body["status"]) == (name, "withdrawn")
    assert "mycoplasma found on re-test" in body["reason"]

    # The past request links to the tombstone.
    detail = signed_in(requester).get(f"/distribution/requests/{request.pk}/").content.decode()
    assert f'href="/lines/{name}/"' in detail and "Withdrawn" in detail
    # Curators still see the whole line, withdrawn.
    assert signed_in(curator).get(f"/lines/{name}/").status_code == 200


def test_a_line_never_released_has_no_tombstone(curator):
    line = CellLineFactory(status="submitted")
    withdraw_line(line, by=curator, reason="draft dropped", notify=False)
    assert Client().get(f"/lines/{line.name}/").status_code == 404
    assert client_for(None).get(f"/api/v1/lines/{line.name}/").status_code == 404


def test_the_request_page_judges_consent_again_and_offers_no_approval_that_must_fail(
    make_request, requester, curator, gru_irb_line
):
    request = make_request("under_review")
    html = signed_in(curator).get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Approve line" in html
    # The consent changes after the request was made (not withdrawn: the line stays).
    consent = gru_irb_line.donor.consent
    consent.codes.set(["DUO:0000007"])  # disease-specific now: HMB no longer fits
    consent.disease = "MONDO:0004976"
    consent.save()
    html = signed_in(curator).get(f"/distribution/requests/{request.pk}/").content.decode()
    row = re.search(
        rf"<tr>\s*<th scope=\"row\" data-label=\"Line\"><a href=\"/lines/{gru_irb_line.name}/\">.*?</tr>", html, re.S
    )
    assert "Not allowed" in row.group(0) and "Changed since it was requested" in row.group(0)
    assert "Approve line" not in row.group(0)
    assert "it can only be rejected" in row.group(0)


def test_the_request_page_shows_the_curator_qc_and_availability(make_request, curator, gru_irb_line):
    request = make_request("submitted")
    html = signed_in(curator).get(f"/distribution/requests/{request.pk}/").content.decode()
    cell = re.search(r'<td data-label="QC and availability">(.*?)</td>', html, re.S).group(1)
    assert "Available" in cell and "badge" in cell


def test_withdrawn_consent_tombstones_every_line_of_the_donor(curator, gru_irb_line):
    withdraw_consent(gru_irb_line.donor, by=curator, on=datetime.date.today(), reason="donor asked", notify=False)
    html = Client().get(f"/lines/{gru_irb_line.name}/").content.decode()
    assert "Donor consent withdrawn" in html
