"""A report keeps settings.SUBMISSION_MAX_FINDINGS_PER_RULE findings of each rule and
counts the rest ("and 5 more of QC-1"); findings are served a page at a time in the
API, the submission page and the admin (a million findings made a 285 MB page)."""

import pytest
from django.test import Client

from lines.models import Submission
from lines.submissions import views
from tests.conftest import client_for
from tests.submission_helpers import SUBMISSIONS_URL as URL
from tests.submission_helpers import submission_document

pytestmark = pytest.mark.django_db


def _many_errors(submit, lines=8):
    document = submission_document(lines)
    for line in document["lines"]:
        line["qc"] = [q for q in line["qc"] if q["test"] != "mycoplasma"]
    submission = Submission.objects.get(pk=submit(document).json()["id"])
    rule = next(f["rule"] for f in submission.findings if "mycoplasma" in f["message"].lower())
    return submission, rule


def test_findings_past_the_cap_are_counted_not_stored(submit, settings):
    settings.SUBMISSION_MAX_FINDINGS_PER_RULE = 3
    submission, rule = _many_errors(submit)
    of_rule = [f for f in submission.findings if f["rule"] == rule]
    assert len(of_rule) == 4
    assert of_rule[-1]["message"].startswith(f"and 5 more of {rule}")
    assert of_rule[-1]["omitted"] == 5
    # The counts stay true: the 8 errors of the rule, and every other error.
    others = [f for f in submission.findings if f["rule"] != rule and f["severity"] == "error"]
    assert submission.error_count == len(others) + 8
    assert submission.status == "invalid"


def test_the_api_pages_through_every_finding(submit, depositor):
    submission, _ = _many_errors(submit)
    client = client_for(depositor)
    detail = client.get(f"{URL}{submission.pk}/").json()
    assert detail["findings_total"] == len(submission.findings)
    url, seen = detail["findings_url"] + "?page_size=3", []
    while url:
        page = client.get(url).json()
        assert page["count"] == len(submission.findings)
        assert len(page["results"]) <= 3
        seen.extend(page["results"])
        url = page["next"]
    assert seen == submission.findings


@pytest.mark.parametrize(
    "who, status", [(None, 401), ("researcher", 403), ("other_depositor", 404), ("curator", 200), ("depositor", 200)]
)
def test_only_the_depositors_institution_and_curators_read_the_findings(submit, request, who, status):
    submission, _ = _many_errors(submit, lines=1)
    user = request.getfixturevalue(who) if who else None
    assert client_for(user).get(f"{URL}{submission.pk}/findings/").status_code == status


def test_a_bad_cursor_or_page_size_is_a_400_naming_it(submit, depositor):
    submission, _ = _many_errors(submit, lines=1)
    client = client_for(depositor)
    assert "cursor" in client.get(f"{URL}{submission.pk}/findings/?cursor=zz!").json()
    assert "page_size" in client.get(f"{URL}{submission.pk}/findings/?page_size=0").json()


def test_the_submission_page_shows_findings_a_page_at_a_time(submit, depositor, monkeypatch):
    monkeypatch.setattr(views, "FINDINGS_PER_PAGE", 3)
    submission, _ = _many_errors(submit)
    browser = Client()
    browser.force_login(depositor)
    first = browser.get(f"/submissions/{submission.pk}/").content.decode()
    assert f"Findings 1–3 of {len(submission.findings)}" in first
    assert "findings_page=2" in first
    second = browser.get(f"/submissions/{submission.pk}/?findings_page=2").content.decode()
    assert f"Findings 4–6 of {len(submission.findings)}" in second


def test_the_admin_shows_the_first_findings_and_links_to_the_rest(submit, admin_client, monkeypatch):
    submission, _ = _many_errors(submit)
    page = admin_client.get(f"/admin/lines/submission/{submission.pk}/change/").content.decode()
    assert "Every finding, page by page" in page
    assert f"/submissions/{submission.pk}/" in page
