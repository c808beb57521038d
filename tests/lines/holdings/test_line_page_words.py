"""No raw keys or Python values on a line page: every clinical fact has a label and a
unit, and the subclones of an isogenic family show their edit."""

import pytest

from donors.clinical import clinical_facts

pytestmark = pytest.mark.django_db


def test_clinical_facts_read_as_words_with_units():
    facts = {
        f["label"]: f["text"]
        for f in clinical_facts(
            {
                "diagnostic_criteria": "Gold Coast criteria",
                "disease_duration_months": 26.0,
                "riluzole": True,
                "cognition": "ALSci",
                "some_new_score": 7,
            }
        )
    }
    assert facts == {
        "Diagnostic criteria": "Gold Coast criteria",
        "Disease duration at sampling": "26 months",
        "Riluzole": "taking riluzole",
        "Cognitive status": "ALS with cognitive impairment (ALSci)",
        "Some new score": "7",
    }


def test_the_line_page_shows_no_raw_key_or_python_value(client, catalog):
    donor = catalog["parent"].donor
    donor.clinical_data = {"diagnostic_criteria": "El Escorial: clinically definite", "riluzole": False}
    donor.save()
    html = client.get(f"/lines/{catalog['parent'].name}/").content.decode()
    assert "diagnostic_criteria" not in html and "False" not in html and "True" not in html
    assert "<dt>Diagnostic criteria</dt>" in html and "not taking riluzole" in html


def test_subclones_in_the_isogenic_family_show_their_edit(client, catalog):
    subclone = catalog["subclone"]
    subclone.modification_description = "SOD1 A4V corrected to wild type by CRISPR/Cas9 HDR"
    subclone.save()
    html = client.get(f"/lines/{catalog['parent'].name}/").content.decode()
    family = html[html.index('id="family-heading"') :]
    assert "Gene correction: SOD1 A4V corrected to wild type" in family
