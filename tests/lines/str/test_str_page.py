"""The STR search page: a plain form POST (no JavaScript needed) shows hits coloured
by how to read them, names bad markers, and turns a batch file into a CSV table."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from lines.models import ReferenceProfile
from lines.str.matching import normalise_profile
from lines.str.store import LINE, REFERENCE, reindex
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db

PASTED = """Amelogenin: X
CSF1PO: 12,13
D13S317: 12
D16S539 8,13
ST   D5S818: 10,13 (ECACC)
D7S820 = 8,10
TH01: 7,9
TPOX: 11
vWA\t14,17
"""


@pytest.fixture
def references():
    hb2 = ReferenceProfile.objects.create(
        accession="CVCL_2261",
        name="1-7HB2",
        str_profile=normalise_profile(
            {
                "Amelogenin": "X",
                "CSF1PO": "12,13",
                "D13S317": "12",
                "D16S539": "8,13",
                "D5S818": "10,13",
                "D7S820": "8,10",
                "TH01": "7,9",
                "TPOX": "11",
                "vWA": "14,17",
            }
        ),
    )
    near = ReferenceProfile.objects.create(
        accession="CVCL_0001",
        name="Near",
        str_profile=normalise_profile(
            {
                "CSF1PO": "12,13",
                "D13S317": "12",
                "D16S539": "8,13",
                "D5S818": "10,13",
                "D7S820": "8,10",
                "TH01": "7",
                "TPOX": "11,12",
                "vWA": "14,18",
            }
        ),
    )
    for ref in (hb2, near):
        reindex(REFERENCE, ref)


def test_page_shows_the_form_and_is_in_the_navigation(client):
    response = client.get("/str/")
    assert response.status_code == 200
    assert b'<textarea name="profile"' in response.content
    assert b'href="/str/"' in response.content


def test_pasted_profile_lists_hits_with_colour_bands(client, references):
    response = client.post(
        "/str/",
        {
            "profile": PASTED,
            "algorithm": "tanabe",
            "mode": "non_empty",
            "min_markers": 8,
            "score_filter": 60,
            "max_results": 200,
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "2 matches" in html
    assert html.index("1-7HB2") < html.index("Near")
    assert '<span class="badge related" title="related">100.00 %</span>' in html
    assert '<span class="badge ambiguous" title="ambiguous">85.71 %</span>' in html
    assert 'href="https://www.cellosaurus.org/CVCL_2261"' in html


def test_bad_marker_is_named_on_the_page(client):
    response = client.post(
        "/str/",
        {
            "profile": PASTED + "D99S9: 12\nFGA: twelve\n",
            "algorithm": "tanabe",
            "mode": "non_empty",
            "min_markers": 8,
            "score_filter": 60,
            "max_results": 200,
        },
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "D99S9: unknown STR marker" in html
    assert "FGA: malformed allele &#x27;twelve&#x27;" in html


def test_too_few_markers_says_so(client):
    response = client.post(
        "/str/",
        {
            "profile": "TH01: 7,9\nTPOX: 8",
            "algorithm": "tanabe",
            "mode": "non_empty",
            "min_markers": 8,
            "score_filter": 60,
            "max_results": 200,
        },
    )
    assert response.status_code == 400
    assert "too few markers: 2" in response.content.decode()


def test_researchers_do_not_see_draft_lines_on_the_page(client, researcher, curator, references):
    draft = CellLineFactory(
        status="draft",
        str_profile=normalise_profile(
            {
                "CSF1PO": "12,13",
                "D13S317": "12",
                "D16S539": "8,13",
                "D5S818": "10,13",
                "D7S820": "8,10",
                "TH01": "7,9",
                "TPOX": "11",
                "vWA": "14,17",
            }
        ),
    )
    reindex(LINE, draft)
    form = {
        "profile": PASTED,
        "algorithm": "tanabe",
        "mode": "non_empty",
        "min_markers": 8,
        "score_filter": 60,
        "max_results": 200,
    }
    client.force_login(researcher)
    assert draft.name not in client.post("/str/", form).content.decode()
    client.force_login(curator)
    assert draft.name in client.post("/str/", form).content.decode()


def test_batch_upload_downloads_a_csv_table(client, references):
    upload = SimpleUploadedFile(
        "batch.csv",
        b"Sample Name,Amelogenin,CSF1PO,D13S317,D16S539,D5S818,D7S820,TH01,TPOX,vWA\n"
        b'mine,X,"12,13",12,"8,13","10,13","8,10","7,9",11,"14,17"\n',
    )
    response = client.post("/str/batch/", {"file": upload, "algorithm": "tanabe"})
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="str-batch-results.csv"'
    assert "mine,False,,1,1-7HB2,CVCL_2261,reference,100.0,related" in response.content.decode()


def test_bad_batch_file_is_explained_on_the_page(client):
    upload = SimpleUploadedFile("batch.csv", b"Sample Name,TH01,Foo\nmine,7,1\n")
    response = client.post("/str/batch/", {"file": upload, "algorithm": "tanabe"})
    assert response.status_code == 400
    assert "column 3 (&#x27;Foo&#x27;) is not an STR marker" in response.content.decode()
