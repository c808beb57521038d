"""The basket as researchers tripped over it: names in any case, typed vial counts kept
by "check eligibility", no CSRF token in a URL, codes shown with their names, the
conditions step only when there are conditions, a warning before asking for a line
whose QC has not passed, and the organisation and shipping address on the request."""

import re

import pytest

from distribution.models import DistributionRequest
from tests.distribution.test_distribution_pages import ADDRESS, GRU, HMB, IRB, line_with, signed_in

pytestmark = pytest.mark.django_db


def _check(client, **extra):
    return client.post(
        "/distribution/basket/", {"codes": [HMB], "organisation_type": "academic", "action": "check", **extra}
    )


def test_a_line_is_added_by_name_whatever_the_case(researcher):
    line = line_with([GRU], name="UKBi008-A")
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": "ukbi008-a"})
    assert line.name in client.get("/distribution/basket/").content.decode()


def test_checking_keeps_the_typed_vials_and_puts_no_token_in_a_url(researcher):
    line = line_with([GRU])
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": line.name})
    html = _check(client, **{f"vials-{line.name}": "4"}).content.decode()
    assert re.search(rf'name="vials-{re.escape(line.name)}"[^>]*value="4"', html)
    for form in re.findall(r"<form[^>]*>", html):
        if "csrfmiddlewaretoken" in html and 'method="get"' in form:
            pytest.fail(f"a GET form would put the CSRF token in the URL: {form}")


def test_codes_show_their_names_and_conditions_only_when_there_are_some(researcher):
    plain = line_with([GRU])
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": plain.name})
    html = _check(client).content.decode()
    assert "Conditions of the donors' consent" not in html and "accept the conditions" not in html
    with_irb = line_with([GRU, IRB])
    client.post("/distribution/basket/add/", {"line": with_irb.name})
    html = _check(client).content.decode()
    assert "Conditions of the donors' consent" in html
    assert re.search(rf"\({IRB} ethics approval required\)", html, re.I)


def test_the_basket_warns_before_asking_for_a_line_whose_qc_has_not_passed(researcher):
    line = line_with([GRU], qc_status="incomplete")
    passed = line_with([GRU], qc_status="passed")
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": [line.name, passed.name]})
    html = client.get("/distribution/basket/").content.decode()
    warning = re.search(r'<p class="message warning"[^>]*id="qc-warning">(.*?)</p>', html, re.S).group(1)
    assert line.name in warning and passed.name not in warning


def test_the_request_records_the_organisation_and_the_shipping_address(researcher):
    line = line_with([GRU])
    client = signed_in(researcher)
    client.post("/distribution/basket/add/", {"line": line.name})
    purpose = {"codes": [HMB], "organisation_type": "academic", "action": "submit", "organisation": "Leiden UMC"}
    refused = client.post("/distribution/basket/", purpose)
    assert "Say where the vials should go." in refused.content.decode()
    assert not DistributionRequest.objects.exists()
    client.post("/distribution/basket/", {**purpose, "shipping_address": ADDRESS})
    request = DistributionRequest.objects.get()
    assert (request.organisation, request.shipping_address) == ("Leiden UMC", ADDRESS)
    page = client.get(f"/distribution/requests/{request.pk}/").content.decode()
    assert "Leiden UMC" in page and "1 Example Road" in page
