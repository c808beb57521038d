"""The results pages: browser, dataset, deposit upload with templates, comparison, and the
Results section of the line page; tables readable without JavaScript."""

import io

import pytest
from django.test import Client
from django.urls import reverse

from results.actions import release_dataset
from results.models import Dataset, DatasetStatus
from results.tables import blank_csv
from tests.results.documents import dose_response_document, dose_response_rows

pytestmark = pytest.mark.django_db


def client_as(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def released(recipient, shipped_lines, curator, deposit):
    _request, lines = shipped_lines
    dataset = deposit(recipient, dose_response_document({lines[0].name: 0.5, lines[1].name: 3.0, lines[2].name: 1.2}))
    release_dataset(dataset, curator)
    return dataset


def test_the_browser_lists_a_released_dataset_and_filters_by_gene(released, researcher):
    page = client_as(researcher).get(reverse("results:browser"), {"gene": "SOD1"})
    assert page.status_code == 200
    assert released.title in page.content.decode()
    none = client_as(researcher).get(reverse("results:browser"), {"gene": "FUS"})
    assert released.title not in none.content.decode()


def test_the_dataset_page_shows_fits_as_a_table_and_a_chart_with_csv_beside(released, researcher):
    page = client_as(researcher).get(reverse("results:dataset", args=[released.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="fits-table"' in text and "UKBi001-A" in text
    assert 'data-vega-spec="dose-chart-spec"' in text and "vendor/vega/vega-embed.min.js" in text
    assert "?as=csv" in text


def test_the_line_page_has_a_results_section_with_the_ec50(released, researcher):
    page = client_as(researcher).get(reverse("line-detail", args=["UKBi001-A"]))
    text = page.content.decode()
    assert 'id="line-results"' in text
    assert "EC50 of riluzole" in text and released.title in text


def test_the_comparison_page_shows_groups_and_a_test_without_javascript(released, researcher):
    page = client_as(researcher).get(reverse("results:compare"), {"readout": "ec50:riluzole", "group_by": "gene"})
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="groups-table"' in text and "SOD1" in text and "C9orf72" in text
    assert "n too small" in text  # one line per group here
    csv = client_as(researcher).get(
        reverse("results:compare"), {"readout": "ec50:riluzole", "group_by": "gene", "as": "csv"}
    )
    assert csv["Content-Type"].startswith("text/csv") and b"UKBi002-A" in csv.content


def test_a_recipient_uploads_a_csv_table_from_the_template(
    recipient, shipped_lines, django_capture_on_commit_callbacks
):
    _request, lines = shipped_lines
    template = client_as(recipient).get(reverse("results:template", args=["dose_response", "csv"]))
    header = template.content.decode().splitlines()[0].split(",")
    assert {"line", "compound", "concentration", "value", "lot"} <= set(header)
    rows = dose_response_rows({lines[0].name: 1.0})
    body = io.StringIO()
    body.write(",".join(header) + "\n")
    for row in rows:
        body.write(",".join(str(row.get(column, "")) for column in header) + "\n")
    upload = io.BytesIO(body.getvalue().encode())
    upload.name = "plate.csv"
    form = {
        "assay": "dose_response",
        "format": "csv",
        "title": "Invented test data: plate 1",
        "cell_type": "CL:0000100",
        "performed_on": "2026-04-01",
        "protocol_name": "MN",
        "protocol_version": "1",
        "licence": "CC-BY-4.0",
        "document": upload,
    }
    with django_capture_on_commit_callbacks(execute=True):
        answer = client_as(recipient).post(reverse("results:deposit"), form)
    assert answer.status_code == 302
    dataset = Dataset.objects.get(title="Invented test data: plate 1")
    assert dataset.status == DatasetStatus.PENDING_REVIEW, dataset.findings
    assert dataset.fits.get().status == "fitted"


def test_a_bad_cell_in_an_uploaded_table_is_reported_with_its_row_and_column(
    recipient, shipped_lines, django_capture_on_commit_callbacks
):
    _request, lines = shipped_lines
    template = blank_csv("dose_response").decode()
    header = template.splitlines()[0].split(",")
    row = {"line": lines[0].name, "compound": "riluzole", "concentration": "lots", "concentration_unit": "uM"}
    row.update({"value": "12", "unit": "%"})
    text = template + ",".join(row.get(column, "") for column in header) + "\n"
    upload = io.BytesIO(text.encode())
    upload.name = "bad.csv"
    form = {"assay": "dose_response", "format": "csv", "title": "Invented bad plate", "document": upload}
    with django_capture_on_commit_callbacks(execute=True):
        client_as(recipient).post(reverse("results:deposit"), form)
    dataset = Dataset.objects.get(title="Invented bad plate")
    assert dataset.status == DatasetStatus.INVALID
    places = [f["location"] for f in dataset.findings]
    assert any("row 3" in p and "concentration" in p for p in places), dataset.findings
    page = client_as(recipient).get(reverse("results:dataset", args=[dataset.pk]))
    assert "row 3" in page.content.decode()


def test_a_compound_name_cannot_break_out_of_the_chart_data(recipient, shipped_lines, curator, deposit, researcher):
    _request, lines = shipped_lines
    document = dose_response_document({lines[0].name: 1.0})
    for row in document["measurements"]:
        row["compound"] = "</script><script>alert(1)</script>"
    dataset = deposit(recipient, document)
    release_dataset(dataset, curator)
    for url in (reverse("results:dataset", args=[dataset.pk]), reverse("line-detail", args=[lines[0].name])):
        text = client_as(researcher).get(url).content.decode()
        assert "<script>alert(1)" not in text
        assert "\\u003C/script\\u003E" in text  # the chart's data, escaped by json_script


def test_the_line_page_plots_the_lines_dose_response(released, researcher):
    text = client_as(researcher).get(reverse("line-detail", args=["UKBi001-A"])).content.decode()
    assert 'data-vega-spec="line-dose-chart-spec"' in text and "vendor/vega/vega-lite.min.js" in text
