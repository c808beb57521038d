"""A deposit through the API is validated and fitted by a real Celery worker on the real
broker and PostgreSQL (skips, saying why, where they are missing)."""

import pytest

from core.accounts import create_user_with_role
from tests.celery_worker import wait_for
from tests.conftest import client_for
from tests.factories import DistributionRequestFactory
from tests.results.conftest import GRU, RTN, line_with_consent
from tests.results.documents import dose_response_document

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_the_worker_validates_fits_and_stamps_the_rtn_return(celery_worker_process, owner_institution, curator):
    recipient = create_user_with_role("wren", "researcher", password="pw-wren-123")[0]
    lines = [line_with_consent(f"UKBi20{n}-A", institution=owner_institution, codes=(GRU, RTN)) for n in range(2)]
    request = DistributionRequestFactory(
        requester=recipient, lines=lines, purpose_codes=(GRU,), status="shipped", curator=curator
    )
    document = dose_response_document({lines[0].name: 0.4, lines[1].name: 2.0})
    answer = client_for(recipient).post("/api/v1/datasets/", document, format="json")
    assert answer.status_code == 202
    url = f"/api/v1/datasets/{answer.json()['id']}/"
    body = wait_for(
        lambda: (b := client_for(recipient).get(url).json())["status"] not in ("received", "validating") and b,
        timeout=90,
        message=f"the worker to validate the deposit\n{celery_worker_process.log()}",
    )
    assert body["status"] == "pending_review", body["findings"]
    fits = client_for(recipient).get(url + "fits/").json()
    assert [f["status"] for f in fits] == ["fitted", "fitted"]
    request.refresh_from_db()
    assert request.derived_data_returned_at is not None
