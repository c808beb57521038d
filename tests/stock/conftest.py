"""The stock tests' callers: a requester with an e-mail address (as in the
distribution tests), besides the shared roles of tests/conftest.py."""

import pytest


@pytest.fixture
def requester(researcher):
    researcher.email = "rita@example.org"
    researcher.save()
    return researcher
