"""The submission pages: from a blank template to approved lines in the browser
(Django test client, session login, CSRF on), and who may see and do what."""

import io
import json

import pytest
from django.test import Client
from openpyxl import load_workbook

from lines.models import CellLine, Submission
from lines.submissions.formats import document_to_tables
from tests.submission_helpers import (
    eager_celery,
    submission_document,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _uploads_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _eager_and_formats():
    with eager_celery():
        yield


def browser(user):
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def csrf_post(client, url, data, **extra):
    """POST as a browser would: with the token from a page the form was on."""
    page = client.get(extra.pop("form_page", url))
    token = page.cookies["csrftoken"].value if "csrftoken" in page.cookies else client.cookies["csrftoken"].value
    return client.post(url, {**data, "csrfmiddlewaretoken": token}, **extra)


def fill_in_template(template_bytes, document):
    """The blank XLSX template with `document`'s rows typed in under its headers."""

    workbook = load_workbook(io.BytesIO(template_bytes))
    for sheet, table in document_to_tables(document).items():
        worksheet = workbook[sheet]
        header = [cell.value for cell in worksheet[1]]
        for column in table[0]:
            if column not in header:  # e.g. an STR marker the template does not list
                header.append(column)
                worksheet.cell(row=1, column=len(header), value=column)
        for values in table[1:]:
            row = dict(zip(table[0], values, strict=True))
            worksheet.append([row.get(column) for column in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_blank_templates_download_in_every_format(client):
    for fmt, content_type in (
        ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("csv", "application/zip"),
        ("json", "application/json"),
    ):
        response = client.get(f"/submissions/template.{fmt}")
        assert response.status_code == 200, fmt
        assert response["Content-Type"] == content_type
        assert "attachment" in response["Content-Disposition"]
        assert len(response.content) > 100
    assert json.loads(client.get("/submissions/template.json").content)["protocol"] == "prism-line-submission/1"
    assert client.get("/submissions/template.pdf").status_code == 404


def test_a_depositor_goes_from_blank_template_to_approved_lines(depositor, curator, django_capture_on_commit_callbacks):
    dora = browser(depositor)
    upload_page = dora.get("/submissions/new/")
    assert upload_page.status_code == 200
    assert b"/submissions/template.xlsx" in upload_page.content

    # Fill in the blank workbook as a lab would: one row per donor, line and QC record
    # under the template's own headers (rows come from our document).
    blank = dora.get("/submissions/template.xlsx")
    assert blank.status_code == 200
    workbook = fill_in_template(blank.content, submission_document(2, donors=1))
    upload = io.BytesIO(workbook)
    upload.name = "our-lines.xlsx"
    with django_capture_on_commit_callbacks(execute=True):
        response = csrf_post(dora, "/submissions/new/", {"file": upload, "protocol": "prism-line-submission/1"})
    assert response.status_code == 302
    submission = Submission.objects.get()
    assert response["Location"] == f"/submissions/{submission.pk}/"

    page = dora.get(response["Location"])
    assert page.status_code == 200
    assert b"Valid" in page.content and b"2 of 2 lines checked" in page.content
    assert b"meets every rule" in page.content
    assert b"Approve" not in page.content  # depositors do not decide

    mine = dora.get("/submissions/")
    assert f"/submissions/{submission.pk}/".encode() in mine.content

    cora = browser(curator)
    queue = cora.get("/submissions/review/")
    assert queue.status_code == 200
    assert f"/submissions/{submission.pk}/".encode() in queue.content
    review = cora.get(f"/submissions/{submission.pk}/")
    # The document in readable tables: donors, lines, QC.
    assert b"Donors (1)" in review.content and b"Lines (2)" in review.content
    assert b"assigned on approval" in review.content and b"mycoplasma" in review.content
    assert b"Approve and release" in review.content

    # Approving answers at once; a worker writes the lines after the commit.
    with django_capture_on_commit_callbacks(execute=False) as queued:
        approved = csrf_post(
            cora,
            f"/submissions/{submission.pk}/approve/",
            {},
            form_page=f"/submissions/{submission.pk}/",
        )
    assert approved.status_code == 302 and approved["Location"] == f"/submissions/{submission.pk}/"
    waiting = cora.get(approved["Location"])
    assert b"approval in progress" in waiting.content.lower()
    assert b"Approving" in waiting.content and b"Approve and release" not in waiting.content
    submission.refresh_from_db()
    assert submission.status == "approving" and submission.decided_by == curator
    assert not CellLine.objects.exists()
    # The progress fragment keeps polling while the worker writes.
    assert b"hx-get" in cora.get(f"/submissions/{submission.pk}/progress/").content

    for callback in queued:
        callback()  # the worker
    submission.refresh_from_db()
    assert submission.status == "approved" and submission.decided_by == curator
    names = sorted(CellLine.objects.filter(submission=submission).values_list("name", flat=True))
    assert len(names) == 2 and all(n.startswith("UKBi") for n in names)

    final = dora.get(f"/submissions/{submission.pk}/")
    for name in names:
        assert name.encode() in final.content


def test_pasted_json_is_accepted_and_a_bad_paste_is_explained(depositor, django_capture_on_commit_callbacks):
    dora = browser(depositor)
    bad = csrf_post(
        dora,
        "/submissions/new/",
        {"pasted": '{"protocol": ', "protocol": "prism-line-submission/1"},
    )
    assert bad.status_code == 400
    assert b"not valid JSON" in bad.content
    empty = csrf_post(dora, "/submissions/new/", {"protocol": "prism-line-submission/1"})
    assert empty.status_code == 400 and b"Choose a file or paste" in empty.content
    assert not Submission.objects.exists()
    with django_capture_on_commit_callbacks(execute=True):
        good = csrf_post(
            dora,
            "/submissions/new/",
            {
                "pasted": json.dumps(submission_document(1)),
                "protocol": "prism-line-submission/1",
            },
        )
    assert good.status_code == 302
    assert Submission.objects.get().status == "valid"


def test_the_report_is_grouped_by_line(depositor, django_capture_on_commit_callbacks):
    document = submission_document(2)
    document["lines"][1]["culture"]["passage_at_banking"] = 0
    with django_capture_on_commit_callbacks(execute=True):
        csrf_post(
            browser(depositor),
            "/submissions/new/",
            {
                "pasted": json.dumps(document),
                "protocol": "prism-line-submission/1",
            },
        )
    submission = Submission.objects.get()
    assert submission.status == "invalid"
    page = browser(depositor).get(f"/submissions/{submission.pk}/").content.decode()
    assert "Line L2" in page and "LINE-3" in page
    assert "Line L1" not in page  # a clean line has no group
    assert f"/api/v1/submissions/{submission.pk}/report.csv" in page
    assert "send it again" in page


def test_the_progress_bar_polls_while_running_and_reloads_when_done(depositor, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        csrf_post(
            browser(depositor),
            "/submissions/new/",
            {
                "pasted": json.dumps(submission_document(3)),
                "protocol": "prism-line-submission/1",
            },
        )
    submission = Submission.objects.get()
    dora = browser(depositor)
    running = dora.get(f"/submissions/{submission.pk}/").content.decode()
    assert f'hx-get="/submissions/{submission.pk}/progress/"' in running
    assert 'hx-trigger="every 1s"' in running
    assert "js/htmx.min.js" in running
    assert '<meta http-equiv="refresh"' in running  # no-JS fallback
    fragment = dora.get(f"/submissions/{submission.pk}/progress/", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in fragment and b"<progress" in fragment.content

    Submission.objects.filter(pk=submission.pk).update(status="validating", progress_done=1, progress_total=3)
    fragment = dora.get(f"/submissions/{submission.pk}/progress/", HTTP_HX_REQUEST="true")
    assert b"1 of 3 lines checked" in fragment.content and b'value="33"' in fragment.content

    Submission.objects.filter(pk=submission.pk).update(status="valid", progress_done=3)
    done = dora.get(f"/submissions/{submission.pk}/progress/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert b"hx-get" not in done.content


def test_pages_follow_the_same_visibility_as_the_api(
    depositor, other_depositor, researcher, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        csrf_post(
            browser(depositor),
            "/submissions/new/",
            {
                "pasted": json.dumps(submission_document(1)),
                "protocol": "prism-line-submission/1",
            },
        )
    pk = Submission.objects.get().pk
    assert browser(other_depositor).get(f"/submissions/{pk}/").status_code == 404
    assert f"/submissions/{pk}/".encode() not in browser(other_depositor).get("/submissions/").content
    for page in (
        "/submissions/",
        "/submissions/new/",
        f"/submissions/{pk}/",
        "/submissions/review/",
    ):
        assert browser(researcher).get(page).status_code == 403, page
        assert browser(None).get(page).status_code == 302, page  # to the login page
    assert browser(depositor).get("/submissions/review/").status_code == 403
    assert browser(curator).get("/submissions/new/").status_code == 403  # curators do not deposit

    # A depositor cannot approve their own submission by posting the form.
    dora = browser(depositor)
    response = csrf_post(dora, f"/submissions/{pk}/approve/", {}, form_page=f"/submissions/{pk}/")
    assert response.status_code == 403
    assert Submission.objects.get().status == "valid" and not CellLine.objects.exists()


def test_a_curator_rejects_with_a_reason_and_the_depositor_reads_it(
    depositor, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        csrf_post(
            browser(depositor),
            "/submissions/new/",
            {
                "pasted": json.dumps(submission_document(1)),
                "protocol": "prism-line-submission/1",
            },
        )
    pk = Submission.objects.get().pk
    cora = browser(curator)
    csrf_post(cora, f"/submissions/{pk}/reject/", {"reason": ""}, form_page=f"/submissions/{pk}/")
    assert Submission.objects.get().status == "valid"
    csrf_post(
        cora,
        f"/submissions/{pk}/reject/",
        {"reason": "Karyotype images missing."},
        form_page=f"/submissions/{pk}/",
    )
    assert Submission.objects.get().status == "rejected"
    page = browser(depositor).get(f"/submissions/{pk}/").content.decode()
    assert "Karyotype images missing." in page and "Send a corrected document" in page


def test_a_second_approve_while_the_first_is_in_progress_is_refused_with_a_message(
    depositor, curator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        csrf_post(
            browser(depositor),
            "/submissions/new/",
            {
                "pasted": json.dumps(submission_document(1)),
                "protocol": "prism-line-submission/1",
            },
        )
    pk = Submission.objects.get().pk
    cora = browser(curator)
    # The form was open in two tabs: the first approval is queued, the second is refused.
    page = cora.get(f"/submissions/{pk}/")
    with django_capture_on_commit_callbacks(execute=False):
        csrf_post(cora, f"/submissions/{pk}/approve/", {}, form_page=f"/submissions/{pk}/")
    assert b"Approve and release" in page.content
    with django_capture_on_commit_callbacks(execute=True) as queued:
        again = csrf_post(cora, f"/submissions/{pk}/approve/", {}, form_page="/submissions/review/")
    assert again.status_code == 302 and not queued
    shown = cora.get(again["Location"]).content.decode()
    assert "already in progress" in shown
    queue = cora.get("/submissions/review/").content.decode()
    assert "Approving" in queue and f"/submissions/{pk}/" in queue
    assert Submission.objects.get().status == "approving" and not CellLine.objects.exists()


def test_a_post_without_csrf_token_is_refused(depositor):
    response = browser(depositor).post("/submissions/new/", {"pasted": "{}"})
    assert response.status_code == 403
    assert not Submission.objects.exists()


def test_the_nav_links_to_submissions_by_role(depositor, curator, researcher):
    assert b'href="/submissions/new/"' in browser(depositor).get("/").content
    assert b'href="/submissions/review/"' in browser(curator).get("/").content
    assert b'href="/submissions/' not in browser(researcher).get("/").content
