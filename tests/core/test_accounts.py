from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from rest_framework.authtoken.models import Token

from core.models import Institution
from core.roles import is_curator, is_depositor, is_researcher

pytestmark = pytest.mark.django_db


def run_add_user(*args):

    out = StringIO()
    call_command("add_user", *args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_add_user_prints_the_users_token_on_the_last_line():
    lines = run_add_user("pharma-bot", "--role", "researcher")
    assert Token.objects.get(key=lines[-1]).user.username == "pharma-bot"


def test_add_user_creates_an_unknown_institution():
    run_add_user("dep", "--role", "depositor", "--institution", "NEWI", "--country", "Japan")
    institution = Institution.objects.get(code="NEWI")
    assert institution.country == "Japan"
    assert institution.members.get().user.username == "dep"


def test_add_user_rejects_a_malformed_institution_code():
    with pytest.raises(CommandError, match="2 to 6 capital letters"):
        run_add_user("dep", "--role", "depositor", "--institution", "toolong1")


def test_depositor_without_institution_is_refused():
    with pytest.raises(CommandError, match="needs --institution"):
        run_add_user("dep", "--role", "depositor")


def test_roles_are_exclusive(researcher, depositor, curator):
    assert is_researcher(researcher) and not is_depositor(researcher) and not is_curator(researcher)
    assert is_depositor(depositor) and not is_curator(depositor)
    assert is_curator(curator) and not is_depositor(curator)
