"""Double submits of the request workflow, as parallel requests on PostgreSQL: three
parallel posts of the basket's submit made two identical requests; four parallel
decide-line calls logged four approvals."""

import pytest
from django.test import Client

from distribution.actions.requests import create_request
from distribution.models import DistributionRequest, RequestEvent
from tests.conftest import client_for
from tests.distribution.workflow import GRU, HMB, IRB, advance, line_with
from tests.parallel import at_once, require_postgres

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _postgres():
    require_postgres()


def test_three_parallel_basket_submits_make_one_request(researcher):
    line = line_with([GRU, IRB])
    client = Client()
    client.force_login(researcher)
    client.post("/distribution/basket/add/", {"line": line.name})
    page = client.get("/distribution/basket/", {"codes": [HMB], "organisation_type": "academic"}).content.decode()
    key = page.split('name="idempotency_key" value="', 1)[1].split('"', 1)[0]
    form = {
        "codes": [HMB],
        "organisation_type": "academic",
        "accept": [IRB],
        "action": "submit",
        "shipping_address": "Motor Neuron Lab, 1 Example Road, Leiden",
    }

    def post(_):
        return client.post("/distribution/basket/", {**form, "idempotency_key": key})

    answers = at_once(3, post)
    request = DistributionRequest.objects.get()  # one, not two
    assert request.status == "submitted"
    assert {answer.status_code for answer in answers} == {302}
    assert {answer["Location"] for answer in answers} == {f"/distribution/requests/{request.pk}/"}
    assert RequestEvent.objects.filter(request=request, action="submitted").count() == 1


def test_a_new_basket_form_makes_a_new_request(researcher):
    line = line_with([GRU, IRB])
    first = create_request(researcher, [line], purpose_codes=[HMB], idempotency_key="one")
    again = create_request(researcher, [line], purpose_codes=[HMB], idempotency_key="one")
    other = create_request(researcher, [line], purpose_codes=[HMB], idempotency_key="two")
    assert again.pk == first.pk and other.pk != first.pk


def test_four_parallel_decide_line_calls_log_one_approval(researcher, curator):
    line = line_with([GRU, IRB])
    request = create_request(researcher, [line], purpose_codes=[HMB], accepted_conditions=[IRB])
    advance(request, researcher, curator, "submitted")
    api = client_for(curator)

    def decide(_):
        return api.post(
            f"/api/v1/requests/{request.pk}/decide-line/", {"line": line.name, "decision": "approved"}, format="json"
        )

    answers = at_once(4, decide)
    assert [answer.status_code for answer in answers] == [200] * 4
    assert RequestEvent.objects.filter(request=request, action="line_approved").count() == 1


def test_the_api_takes_an_idempotency_key_header(researcher):
    line = line_with([GRU, IRB])
    api = client_for(researcher)
    body = {"lines": [line.name], "purpose": {"codes": [HMB]}, "commercial": False}

    def create(_):
        return api.post("/api/v1/requests/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")

    answers = at_once(3, create)
    assert {answer.json()["id"] for answer in answers} == {DistributionRequest.objects.get().pk}
