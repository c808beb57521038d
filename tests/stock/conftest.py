"""The stock tests' callers: a requester with an e-mail address (as in the
distribution tests), besides the shared roles of tests/conftest.py."""

import pytest

from core.accounts import create_user_with_role


@pytest.fixture
def requester(researcher):
    researcher.email = "rita@example.org"
    researcher.save()
    return researcher


@pytest.fixture
def other_researcher(db):
    return create_user_with_role("rob", "researcher", email="rob@example.org")[0]
