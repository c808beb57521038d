"""hPSCreg names: the pattern (against real names), next letters and numbers, and
assign_names as approval uses it."""

import csv

import pytest

from lines import naming
from lines.models import ProtocolVersion
from lines.naming import assign_names
from lines.submissions.validation import validate_document
from tests.documents import line, valid_document
from tests.factories import CellLineFactory, DonorFactory

pytestmark = pytest.mark.django_db


def test_the_pattern_agrees_with_bioregistry_on_real_names(reference_data):
    with open(reference_data / "hpscreg_ebisc" / "hpscreg_name_test_cases.tsv", encoding="utf-8") as handle:
        cases = list(csv.DictReader(handle, delimiter="\t"))
    assert len(cases) == 31
    for case in cases:
        assert naming.is_valid_name(case["name"]) == (case["matches_bioregistry_regex"] == "True"), case["name"]


def test_a_name_is_parsed_into_its_parts():
    parsed = naming.parse_name("BIONi010-C-2")
    assert (
        parsed.institution,
        parsed.type,
        parsed.donor_number,
        parsed.clone,
        parsed.subclone,
    ) == ("BION", "i", "010", "C", "2")
    assert parsed.parent == "BIONi010-C" and str(parsed) == "BIONi010-C-2"
    assert naming.parse_name("LZUSHI001-A") is None
    assert naming.name_problems("UKBABCi0080-A")  # 13 characters but a 4-character donor number
    assert any("at most 15" in p for p in naming.name_problems("ABCDEFi001-AB-12x"))


def test_next_clone_letter_subclone_and_donor_number():
    assert naming.next_clone_letter([]) == "A"
    assert naming.next_clone_letter(["A", "C"]) == "D"  # gaps are not reused
    assert naming.next_clone_letter(["Z"]) == "AA"
    assert naming.next_subclone_number(["1", "2", "56"]) == "57"
    assert naming.next_donor_number(["001", "017"]) == "018"
    assert naming.subclone_parent("UCSFi001-A-56") == "UCSFi001-A"


def test_assign_names_numbers_new_donors_after_the_catalog(owner_institution):
    CellLineFactory(name="UKBi004-A", donor=DonorFactory(institution=owner_institution, donor_number="004"))
    document = valid_document(3, lines_per_donor=2)  # D1: L1, L2; D2: L3
    result = assign_names(document, institution=owner_institution)
    assert result.line_names == {"L1": "UKBi005-A", "L2": "UKBi005-B", "L3": "UKBi006-A"}
    assert result.donor_numbers == {"D1": "005", "D2": "006"}


def test_assign_names_keeps_given_names_and_numbers_subclones_flat(owner_institution):
    document = valid_document(1)
    document["lines"][0]["name"] = "UKBi001-A"
    profile = document["donors"][0]["str_profile"]
    document["lines"].append(line("L2", "D1", profile, parental_line="L1", modification={"type": "knock_in"}))
    document["lines"].append(line("L3", "D1", profile))
    result = assign_names(document, institution=owner_institution)
    assert result.line_names == {"L1": "UKBi001-A", "L2": "UKBi001-A-1", "L3": "UKBi001-B"}


def test_assign_names_continues_a_catalog_donor_and_parent(owner_institution):
    donor = DonorFactory(code="PD-K", institution=owner_institution, donor_number="012")
    parent = CellLineFactory(name="UKBi012-A", donor=donor)
    CellLineFactory(name="UKBi012-A-3", donor=donor, parental_line=parent, modification_type="knock_in")
    CellLineFactory(name="UKBi012-B", donor=donor)
    document = valid_document(1)
    document["donors"] = []
    document["lines"][0]["donor"] = "PD-K"
    profile = document["lines"][0]["qc"][0]["str_profile"]
    document["lines"].append(line("L2", "PD-K", profile, parental_line="UKBi012-A", modification={"type": "knock_out"}))
    document["lines"].append(
        line("L3", "PD-K", profile, parental_line="UKBi012-A-3", modification={"type": "knock_out"})
    )
    result = assign_names(document, institution=owner_institution)
    # A subclone of a subclone hangs off the original parent (flat numbering).
    assert result.line_names == {"L1": "UKBi012-C", "L2": "UKBi012-A-4", "L3": "UKBi012-A-5"}
    assert result.donor_numbers["PD-K"] == "012"


@pytest.mark.parametrize("name", ["UKBi008-A\n", " UKBi008-A", "UKBi008-A ", "UKBi008-A\t"])
def test_a_name_with_whitespace_at_either_end_is_refused_not_stored_as_given(name, owner_institution):
    assert naming.parse_name(name) is None
    problems = naming.name_problems(name)
    assert problems and "space, tab or newline" in problems[0]
    assert len(problems) == 1  # the rest of the name is fine: say only what is wrong

    document = valid_document(1)
    document["lines"][0]["name"] = name
    findings = validate_document(
        document, protocol=ProtocolVersion.objects.get(number=1), institution=owner_institution
    )
    assert [(f["rule"], f["location"]) for f in findings if f["rule"].startswith("NAME")] == [
        ("NAME-1", "/lines/0/name")
    ]
