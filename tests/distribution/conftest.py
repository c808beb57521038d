"""Fixtures of the distribution workflow tests: a requester with an e-mail address,
another researcher, lines with typical consents, and requests in any state."""

import pytest

from core.accounts import create_user_with_role
from distribution.actions import requests as actions
from distribution.actions.requests import create_request
from tests.distribution.workflow import ALS, DS, GRU, HMB, IRB, advance, line_with


@pytest.fixture
def requester(researcher):
    researcher.email = "rita@example.org"
    researcher.save()
    return researcher


@pytest.fixture
def other_researcher(db):
    return create_user_with_role("rob", "researcher", password="pw-rob-123")[0]


@pytest.fixture
def gru_irb_line(db):
    return line_with([GRU, IRB])


@pytest.fixture
def ds_als_line(db):
    return line_with([DS], disease=ALS)


@pytest.fixture
def hmb_line(db):
    return line_with([HMB])


@pytest.fixture
def make_request(requester, curator, gru_irb_line):
    def make(state="draft", on_hold=False):
        request = create_request(requester, [gru_irb_line], purpose_codes=[HMB])
        advance(request, requester, curator, state)
        if on_hold:
            actions.put_on_hold(request, curator, "Consent under review")
        return request

    return make
