"""Every rule of PROTOCOL.md (v1): a document that breaks it, and one that passes it.

Documents start from tests.documents.valid_document (which passes every rule)
and change one thing."""

import copy
import datetime
import random

import pytest

from core.models import DuoTerm
from donors.models import Consent, Donor
from lines.models import CellLine, ProtocolVersion, ReferenceProfile
from lines.str.matching import normalise_profile
from lines.str.store import reindex
from lines.submissions.protocol import RULE_IDS, RULES
from lines.submissions.validation import validate_document
from tests.documents import line, rules_of, str_profile, valid_document, with_changes
from tests.factories import CellLineFactory, DonorFactory
from tests.lines.submissions.protocol_cases import BREAKS, PASSES, set_path

pytestmark = pytest.mark.django_db

COURSE_RULES = ("COURSE-1", "COURSE-2", "COURSE-3", "COURSE-4")


@pytest.fixture
def protocol():
    return ProtocolVersion.objects.get(number=1)


@pytest.fixture
def check(protocol, owner_institution):
    def run(document, institution=owner_institution):
        return validate_document(document, protocol=protocol, institution=institution)

    return run


def findings_of(findings, rule):
    return [f for f in findings if f["rule"] == rule]


def test_the_base_document_passes_every_rule(check):
    assert check(valid_document(4, lines_per_donor=2)) == []


def test_every_rule_of_the_protocol_has_an_id_severity_and_example():
    assert RULE_IDS == [
        "SCHEMA",
        "REF-1",
        "REF-2",
        "NAME-1",
        "NAME-2",
        "NAME-3",
        "NAME-4",
        "DONOR-1",
        "DONOR-2",
        "VAR-1",
        "VAR-2",
        "CONSENT-1",
        "CONSENT-2",
        "CONSENT-3",
        "LINE-1",
        "LINE-2",
        "LINE-3",
        "QC-1",
        "QC-2",
        "QC-3",
        "QC-4",
        "QC-5",
        "LOT-1",
        "LOT-2",
        "COURSE-1",
        "COURSE-2",
        "COURSE-3",
        "COURSE-4",
        "STR-1",
        "STR-2",
        "STR-3",
        "STR-4",
    ]
    assert all(severity in ("error", "warning") and rule and example for _id, severity, rule, example in RULES)


@pytest.mark.parametrize("case", list(BREAKS), ids=list(BREAKS))
def test_a_document_breaking_the_rule_gets_its_finding(check, case):
    rule, severity, change, location = BREAKS[case]
    document = with_changes(valid_document(2), change)
    found = findings_of(check(document), rule)
    assert found, f"{rule} not raised"
    assert any(f["severity"] == severity and f["location"] == location for f in found), found
    assert all(f["message"] and len(f["message"]) > 20 for f in found)


@pytest.mark.parametrize("case", list(PASSES), ids=list(PASSES))
def test_a_document_near_the_rule_passes_it(check, case):
    rule, change = PASSES[case]
    findings = check(with_changes(valid_document(2), change))
    assert findings_of(findings, rule) == []
    assert rules_of(findings, "error") == set(), findings


def test_every_rule_has_a_breaking_and_a_passing_case():
    broken = {case[0] for case in BREAKS.values()} | {
        "REF-1",
        "NAME-3",
        "CONSENT-2",
        "STR-2",
        "STR-3",
        "LOT-1",  # version 2 only: tests/stock/test_deposited_lots.py
        "LOT-2",  # version 3 only: tests/stock/test_deposited_vials.py
        *COURSE_RULES,  # version 3 only: tests/lines/submissions/test_protocol_v3_course.py
    }
    passed = {case[0] for case in PASSES.values()} | {"STR-3", "LOT-1", "LOT-2", *COURSE_RULES}
    assert set(RULE_IDS) <= broken
    assert set(RULE_IDS) <= passed


# --- rules that read the catalog ------------------------------------------------


def test_a_line_may_name_a_catalog_donor_and_a_catalog_parent(check, owner_institution):
    donor = DonorFactory(code="PD-CAT-1", institution=owner_institution, donor_number="007", sex="female")
    Consent.objects.create(donor=donor, obtained_on=datetime.date(2020, 1, 1))
    parent = CellLineFactory(donor=donor, name="UKBi007-A", institution=owner_institution)
    document = valid_document(1)
    document["donors"] = []
    document["lines"][0].update(
        donor="PD-CAT-1",
        parental_line="UKBi007-A",
        modification={"type": "knock_in", "gene": "SOD1"},
        name="UKBi007-A-1",
    )
    findings = check(document)
    assert rules_of(findings) - {"QC-1"} == set(), findings  # viral screening is on the (catalog) donor
    assert parent.pk


def test_a_catalog_donor_with_withdrawn_consent_breaks_consent_2(check, owner_institution):
    donor = DonorFactory(code="PD-CAT-2", institution=owner_institution)
    Consent.objects.create(donor=donor, obtained_on=datetime.date(2020, 1, 1), withdrawn_on=datetime.date(2025, 2, 1))
    CellLineFactory(donor=donor)  # a catalog donor is known by its lines
    document = valid_document(1)
    document["donors"] = []
    document["lines"][0]["donor"] = "PD-CAT-2"
    found = findings_of(check(document), "CONSENT-2")
    assert [f["location"] for f in found] == ["/lines/0/donor"]


def test_a_name_taken_in_the_catalog_breaks_name_3(check, owner_institution):
    CellLineFactory(name="UKBi001-A", donor=DonorFactory(institution=owner_institution, donor_number="001"))
    document = with_changes(valid_document(1), lambda d: set_path(d, ["lines", 0, "name"], "UKBi001-A"))
    messages = [f["message"] for f in findings_of(check(document), "NAME-3")]
    assert any("already taken" in m for m in messages)
    assert any("already belongs to catalog donor" in m for m in messages)


def test_a_catalog_subclone_as_parent_breaks_name_4(check, owner_institution):
    donor = DonorFactory(institution=owner_institution, donor_number="003")
    root = CellLineFactory(name="UKBi003-A", donor=donor)
    CellLineFactory(name="UKBi003-A-1", donor=donor, parental_line=root, modification_type="knock_in")
    document = valid_document(1)
    document["lines"][0].update(parental_line="UKBi003-A-1", modification={"type": "knock_out"}, name="UKBi003-A-1-1")
    found = findings_of(check(document), "NAME-4") + findings_of(check(document), "NAME-1")
    assert found


def test_str_3_names_the_catalog_line_of_another_donor_that_matches(check, owner_institution):
    other = DonorFactory(institution=owner_institution)
    document = valid_document(1)
    profile = document["donors"][0]["str_profile"]
    twin = CellLineFactory(donor=other, name="UKBi900-A", str_profile=normalise_profile(profile))
    reindex("line", twin)
    found = findings_of(check(document), "STR-3")
    assert len(found) == 1 and "UKBi900-A" in found[0]["message"]


def test_str_3_names_a_cellosaurus_reference(check):
    document = valid_document(1)
    hela = ReferenceProfile.objects.create(
        accession="CVCL_0030",
        name="HeLa",
        str_profile=normalise_profile(document["donors"][0]["str_profile"]),
    )
    reindex("reference", hela)
    found = findings_of(check(document), "STR-3")
    assert found and "HeLa" in found[0]["message"] and "CVCL_0030" in found[0]["message"]


def test_str_3_passes_for_a_new_line_of_the_same_catalog_donor(check, owner_institution):
    document = valid_document(1)
    profile = document["donors"][0]["str_profile"]
    donor = DonorFactory(code="PD-SAME", institution=owner_institution, str_profile=normalise_profile(profile))
    Consent.objects.create(donor=donor, obtained_on=datetime.date(2020, 1, 1))
    sibling = CellLineFactory(donor=donor, name="UKBi777-A", str_profile=normalise_profile(profile))
    reindex("line", sibling)
    reindex("donor", donor)
    document["lines"][0]["donor"] = "PD-SAME"
    findings = check(document)
    assert findings_of(findings, "STR-3") == []
    assert findings_of(findings, "STR-2") == []


def test_str_2_compares_with_a_catalog_line_of_the_same_donor(check, owner_institution):
    donor = DonorFactory(code="PD-SIB", institution=owner_institution)
    Consent.objects.create(donor=donor, obtained_on=datetime.date(2020, 1, 1))
    CellLineFactory(donor=donor, name="UKBi778-A", str_profile=normalise_profile(str_profile("sibling")))
    document = valid_document(1)
    document["lines"][0]["donor"] = "PD-SIB"
    found = findings_of(check(document), "STR-2")
    assert found and "UKBi778-A" in found[0]["message"]


def test_vocabularies_come_from_the_tables(check):
    document = valid_document(1)
    assert findings_of(check(document), "CONSENT-1") == []
    DuoTerm.objects.filter(curie="DUO:0000006").update(obsolete=True)
    assert any("obsolete" in f["message"] for f in findings_of(check(document), "CONSENT-1"))


def test_thresholds_come_from_the_protocol_version(protocol, owner_institution):
    document = with_changes(valid_document(1), lambda d: set_path(d, ["lines", 0, "qc", 1, "bands"], 420))
    assert findings_of(validate_document(document, protocol=protocol, institution=owner_institution), "QC-4") == []
    stricter = ProtocolVersion.objects.create(
        number=99,
        identifier="prism-line-submission/99",
        schema=protocol.schema,
        settings={**protocol.settings, "min_karyotype_bands": 500},
    )
    found = validate_document(document, protocol=stricter, institution=owner_institution)
    assert any("500" in f["message"] for f in findings_of(found, "QC-4"))


# --- robustness -----------------------------------------------------------------

MALFORMED = [
    None,
    [],
    "text",
    42,
    {"lines": 5},
    {"protocol": "prism-line-submission/1", "donors": "x", "lines": [None, 3]},
    {
        "protocol": 1,
        "donors": [1, None, {"consent": 5, "variants": "x", "als": [], "str_profile": 7}],
        "lines": [
            {
                "qc": [1, {"test": 3, "markers": "x", "germ_layers": 5, "str_profile": []}],
                "modification": [],
                "culture": "x",
                "name": 12,
                "donor": {},
                "parental_line": [],
            }
        ],
    },
]


@pytest.mark.parametrize("document", MALFORMED)
def test_malformed_input_gives_schema_findings_never_an_exception(check, document):
    findings = check(document)
    assert findings and "SCHEMA" in rules_of(findings)


def test_every_schema_error_is_reported_not_just_the_first(check):
    def break_many(d):
        d["donors"][0]["sex"] = "F"
        d["lines"][0]["culture"]["passage_at_banking"] = "x"
        d["lines"][1]["qc"][0]["result"] = "ok"

    findings = findings_of(check(with_changes(valid_document(2), break_many)), "SCHEMA")
    assert {f["location"] for f in findings} == {
        "/donors/0/sex",
        "/lines/0/culture/passage_at_banking",
        "/lines/1/qc/0/result",
    }
    assert {f["line"] for f in findings} == {None, "L1", "L2"}


def test_findings_name_the_line_and_the_donor(check):
    document = with_changes(valid_document(2), lambda d: set_path(d, ["lines", 1, "qc", 2, "result"], "fail"))
    [failed] = findings_of(check(document), "QC-2")
    assert (failed["line"], failed["donor"]) == ("L2", "D2")


def test_progress_is_reported_as_lines_are_checked(protocol, owner_institution):
    calls = []
    validate_document(
        valid_document(450),
        protocol=protocol,
        institution=owner_institution,
        on_progress=lambda done, total: calls.append((done, total)),
    )
    assert calls[0] == (0, 450) and calls[-1] == (450, 450)
    assert len(calls) >= 3 and [d for d, _ in calls] == sorted(d for d, _ in calls)


def test_catalog_lookups_are_set_based(check, django_assert_max_num_queries, owner_institution):
    # STR holdings in the search index, so STR-3 searches for real.
    reindex(
        "line",
        CellLineFactory(name="UCSFi001-A", str_profile=normalise_profile(str_profile("held"))),
    )
    document = valid_document(300, lines_per_donor=1)
    for index, item in enumerate(document["lines"]):
        item["name"] = f"UKBi{index + 1:03d}-A"
    with django_assert_max_num_queries(20):
        assert check(document) == []


def test_a_line_donor_missing_from_catalog_and_document_does_not_stop_other_rules(check):
    document = with_changes(
        valid_document(1),
        lambda d: (
            set_path(d, ["lines", 0, "donor"], "nobody"),
            set_path(d, ["lines", 0, "qc", 2, "result"], "fail"),
        ),
    )
    assert {"REF-1", "QC-2"} <= rules_of(check(document))


def test_name_checks_use_the_depositing_institution(check, other_institution):
    document = with_changes(valid_document(1), lambda d: set_path(d, ["lines", 0, "name"], "UKBi001-A"))
    assert findings_of(check(document, institution=other_institution), "NAME-2")
    assert not Donor.objects.exists() and not CellLine.objects.exists()


def _mutations(document, rng):
    """Every path in the document, each replaced in turn by a value of another type."""
    paths = []

    def walk(node, path):
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(document, ())
    replacements = [None, 0, -1, 3.5, "", "x", [], {}, [None], {"a": []}, True, "2025-99-99"]
    for path in rng.sample(paths, min(len(paths), 100)):
        mutated = copy.deepcopy(document)
        if not path:
            continue
        target = mutated
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = rng.choice(replacements)
        yield path, mutated


def test_a_wrong_type_anywhere_gives_findings_never_an_exception(check):

    document = valid_document(2)
    document["lines"].append(
        line(
            "L3",
            "D1",
            document["donors"][0]["str_profile"],
            parental_line="L1",
            modification={
                "type": "knock_in",
                "gene": "SOD1",
                "variants": [{"gene": "SOD1", "protein": "p.Ala5Val"}],
            },
        )
    )
    for path, mutated in _mutations(document, random.Random(4)):
        findings = check(mutated)
        assert isinstance(findings, list), path
