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

pytestmark = pytest.mark.django_db


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


def set_path(document, path, value):
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


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
        "STR-1",
        "STR-2",
        "STR-3",
        "STR-4",
    ]
    assert all(severity in ("error", "warning") and rule and example for _id, severity, rule, example in RULES)


# --- one change each: (rule, severity, change, expected location) -----------------


def _subclone(doc):
    doc["lines"].append(
        line(
            "L3",
            "D1",
            doc["donors"][0]["str_profile"],
            parental_line="L1",
            modification={"type": "knock_in", "gene": "SOD1"},
        )
    )


BREAKS = {
    "SCHEMA sex not in enum": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["donors", 0, "sex"], "F"),
        "/donors/0/sex",
    ),
    "SCHEMA passage as text": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["lines", 0, "culture", "passage_at_banking"], "15"),
        "/lines/0/culture/passage_at_banking",
    ),
    "SCHEMA bad date": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["lines", 0, "derived_on"], "2025-13-01"),
        "/lines/0/derived_on",
    ),
    "SCHEMA unknown field": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["lines", 0, "pasage"], 3),
        "/lines/0",
    ),
    "REF-1 unknown donor": (
        "REF-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "donor"], "D9"),
        "/lines/0/donor",
    ),
    "REF-1 unknown parent": (
        "REF-1",
        "error",
        lambda d: (
            set_path(d, ["lines", 0, "parental_line"], "NOPEi001-A"),
            set_path(d, ["lines", 0, "modification"], {"type": "knock_out"}),
        ),
        "/lines/0/parental_line",
    ),
    "REF-2 duplicate line": (
        "REF-2",
        "error",
        lambda d: set_path(d, ["lines", 1, "local_id"], "L1"),
        "/lines/1/local_id",
    ),
    "REF-2 duplicate donor": (
        "REF-2",
        "error",
        lambda d: (
            set_path(d, ["donors", 1, "local_id"], "D1"),
            set_path(d, ["lines", 1, "donor"], "D1"),
        ),
        "/donors/1/local_id",
    ),
    "NAME-1 pattern": (
        "NAME-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UKB-008-A"),
        "/lines/0/name",
    ),
    "NAME-1 too long": (
        "NAME-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UKBABCi0080-A"),
        "/lines/0/name",
    ),
    "NAME-2 other institution": (
        "NAME-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UCSFi001-A"),
        "/lines/0/name",
    ),
    "NAME-2 ESC letter": (
        "NAME-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UKBe001-A"),
        "/lines/0/name",
    ),
    "NAME-3 two donor numbers for one donor": (
        "NAME-3",
        "error",
        lambda d: (
            set_path(d, ["lines", 1, "donor"], "D1"),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi002-B"),
        ),
        "/lines/1/name",
    ),
    "NAME-3 one number for two donors": (
        "NAME-3",
        "error",
        lambda d: (
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi001-B"),
        ),
        "/lines/1/name",
    ),
    "NAME-3 same name twice": (
        "NAME-3",
        "error",
        lambda d: (
            set_path(d, ["lines", 1, "donor"], "D1"),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi001-A"),
        ),
        "/lines/1/name",
    ),
    "NAME-4 subclone not named after parent": (
        "NAME-4",
        "error",
        lambda d: (
            _subclone(d),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-B"),
        ),
        "/lines/2/name",
    ),
    "NAME-4 parent is a subclone": (
        "NAME-4",
        "error",
        lambda d: (
            _subclone(d),
            d["lines"].append(
                line(
                    "L4",
                    "D1",
                    d["donors"][0]["str_profile"],
                    parental_line="L3",
                    modification={"type": "knock_out"},
                    name="UKBi001-A-2",
                )
            ),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-A-1"),
        ),
        "/lines/3/parental_line",
    ),
    "DONOR-1 not MONDO": (
        "DONOR-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "disease"], "ALS"),
        "/donors/0/disease",
    ),
    "DONOR-1 outside vocabulary": (
        "DONOR-1",
        "warning",
        lambda d: (
            set_path(d, ["donors", 0, "disease"], "MONDO:0999999"),
            set_path(d, ["donors", 0, "als"], None),
        ),
        "/donors/0/disease",
    ),
    "DONOR-2 onset after sampling": (
        "DONOR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "als", "age_at_onset"], 60),
        "/donors/0/als/age_at_onset",
    ),
    "DONOR-2 ALSFRS-R over 48": (
        "DONOR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "als", "alsfrs_r"], 52),
        "/donors/0/als/alsfrs_r",
    ),
    "DONOR-2 als block on Parkinson": (
        "DONOR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "disease"], "MONDO:0005180"),
        "/donors/0/als",
    ),
    "VAR-1 unknown gene": (
        "VAR-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "gene"], "SODX"),
        "/donors/0/variants/0/gene",
    ),
    "VAR-1 previous symbol": (
        "VAR-1",
        "warning",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "gene"], "ALS1"),
        "/donors/0/variants/0/gene",
    ),
    "VAR-2 unversioned accession": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "hgvs"], "NM_000454:c.14C>T"),
        "/donors/0/variants/0/hgvs",
    ),
    "VAR-2 bad c. syntax": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "hgvs"], "NM_000454.5:c.14CT"),
        "/donors/0/variants/0/hgvs",
    ),
    "VAR-2 legacy protein": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "protein"], "A4V"),
        "/donors/0/variants/0/protein",
    ),
    "VAR-2 legacy numbering in HGVS form": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "protein"], "p.Ala4Val"),
        "/donors/0/variants/0/protein",
    ),
    "CONSENT-1 no permission": (
        "CONSENT-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "codes"], ["DUO:0000046"]),
        "/donors/0/consent/codes",
    ),
    "CONSENT-1 unknown DUO id": (
        "CONSENT-1",
        "error",
        lambda d: d["donors"][0]["consent"]["codes"].append("DUO:0009999"),
        "/donors/0/consent/codes/2",
    ),
    "CONSENT-1 shorthand": (
        "CONSENT-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "codes"], ["GRU"]),
        "/donors/0/consent/codes/0",
    ),
    "CONSENT-1 DS without disease": (
        "CONSENT-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "codes"], ["DUO:0000007"]),
        "/donors/0/consent/disease",
    ),
    "CONSENT-2 withdrawn": (
        "CONSENT-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "withdrawn_on"], "2025-05-01"),
        "/donors/0/consent/withdrawn_on",
    ),
    "CONSENT-3 genetic data none": (
        "CONSENT-3",
        "warning",
        lambda d: set_path(d, ["donors", 0, "consent", "genetic_data"], "none"),
        "/donors/0/consent/genetic_data",
    ),
    "LINE-1 modified without parent": (
        "LINE-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "modification"], {"type": "knock_in"}),
        "/lines/0/parental_line",
    ),
    "LINE-1 unmodified with parent": (
        "LINE-1",
        "error",
        lambda d: set_path(d, ["lines", 1, "parental_line"], "L1"),
        "/lines/1/parental_line",
    ),
    "LINE-2 derived before consent": (
        "LINE-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "derived_on"], "2024-12-01"),
        "/lines/0/derived_on",
    ),
    "LINE-2 QC before derivation": (
        "LINE-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 2, "date"], "2025-05-01"),
        "/lines/0/qc/2/date",
    ),
    "LINE-3 passage 0": (
        "LINE-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "culture", "passage_at_banking"], 0),
        "/lines/0/culture/passage_at_banking",
    ),
    "LINE-3 QC passage above banking": (
        "LINE-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "passage"], 30),
        "/lines/0/qc/1/passage",
    ),
    "QC-1 missing sterility": (
        "QC-1",
        "error",
        lambda d: d["lines"][0]["qc"].pop(3),
        "/lines/0/qc",
    ),
    "QC-1 sendai without vector clearance": (
        "QC-1",
        "error",
        lambda d: d["lines"][0]["qc"].pop(6),
        "/lines/0/qc",
    ),
    "QC-1 no viral screening": (
        "QC-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "viral_screening"], None),
        "/lines/0/qc",
    ),
    "QC-2 failed": (
        "QC-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 2, "result"], "fail"),
        "/lines/0/qc/2/result",
    ),
    "QC-2 inconclusive": (
        "QC-2",
        "warning",
        lambda d: set_path(d, ["lines", 0, "qc", 3, "result"], "inconclusive"),
        "/lines/0/qc/3/result",
    ),
    "QC-3 flow marker below 70": (
        "QC-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 4, "markers", 1, "percent_positive"], 55),
        "/lines/0/qc/4/markers/1/percent_positive",
    ),
    "QC-3 one marker": (
        "QC-3",
        "error",
        lambda d: d["lines"][0]["qc"][4]["markers"].pop(),
        "/lines/0/qc/4/markers",
    ),
    "QC-3 no surface marker": (
        "QC-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 4, "markers", 1], {"marker": "NANOG", "percent_positive": 90}),
        "/lines/0/qc/4/markers",
    ),
    "QC-4 few bands": (
        "QC-4",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "bands"], 300),
        "/lines/0/qc/1/bands",
    ),
    "QC-4 abnormal karyotype": (
        "QC-4",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "karyotype"], "47,XX,+12"),
        "/lines/0/qc/1/karyotype",
    ),
    "QC-4 large CNV": (
        "QC-4",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "cnvs"], [{"chromosome": "20", "type": "gain", "size_mb": 7.5}]),
        "/lines/0/qc/1/cnvs/0",
    ),
    "QC-4 inherited abnormality": (
        "QC-4",
        "warning",
        lambda d: (
            set_path(d, ["lines", 0, "qc", 1, "karyotype"], "46,XX,t(1;3)"),
            set_path(d, ["lines", 0, "qc", 1, "donor_inherited"], True),
        ),
        "/lines/0/qc/1/karyotype",
    ),
    "QC-5 two layers": (
        "QC-5",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 5, "germ_layers"], ["ectoderm", "mesoderm"]),
        "/lines/0/qc/5/germ_layers",
    ),
    "STR-1 few markers": (
        "STR-1",
        "error",
        lambda d: set_path(
            d,
            ["lines", 0, "qc", 0, "str_profile"],
            {"TH01": "6,9.3", "D5S818": "11,12", "TPOX": "8", "Amelogenin": "X"},
        ),
        "/lines/0/qc/0/str_profile",
    ),
    "STR-2 not the donor's": (
        "STR-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 0, "str_profile"], str_profile("someone else")),
        "/lines/0/qc/0/str_profile",
    ),
    "STR-4 Y on a female donor": (
        "STR-4",
        "warning",
        lambda d: set_path(d, ["lines", 0, "qc", 0, "str_profile", "Amelogenin"], "X,Y"),
        "/lines/0/qc/0/str_profile/Amelogenin",
    ),
}


@pytest.mark.parametrize("case", list(BREAKS), ids=list(BREAKS))
def test_a_document_breaking_the_rule_gets_its_finding(check, case):
    rule, severity, change, location = BREAKS[case]
    document = with_changes(valid_document(2), change)
    found = findings_of(check(document), rule)
    assert found, f"{rule} not raised"
    assert any(f["severity"] == severity and f["location"] == location for f in found), found
    assert all(f["message"] and len(f["message"]) > 20 for f in found)


PASSES = {
    "SCHEMA unknown sex allowed value": (
        "SCHEMA",
        lambda d: set_path(d, ["donors", 0, "sex"], "undifferentiated"),
    ),
    "REF-1 parent in document": ("REF-1", _subclone),
    "NAME-1 conforming subclone name": (
        "NAME-1",
        lambda d: (
            _subclone(d),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-A-1"),
        ),
    ),
    "NAME-2 own code": ("NAME-2", lambda d: set_path(d, ["lines", 0, "name"], "UKBi001-A")),
    "REF-2 a donor and a line may share a local_id": (
        "REF-2",
        lambda d: set_path(d, ["lines", 0, "local_id"], "D1"),
    ),
    "NAME-3 two lines of one donor, one number": (
        "NAME-3",
        lambda d: (
            set_path(d, ["lines", 1, "donor"], "D1"),
            set_path(d, ["lines", 1, "qc", 0, "str_profile"], d["donors"][0]["str_profile"]),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi001-B"),
        ),
    ),
    "NAME-4 named parent + -n": (
        "NAME-4",
        lambda d: (
            _subclone(d),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-A-3"),
        ),
    ),
    "DONOR-1 healthy control": (
        "DONOR-1",
        lambda d: (
            set_path(d, ["donors", 0, "disease"], None),
            set_path(d, ["donors", 0, "als"], None),
        ),
    ),
    "DONOR-2 ALS subtype with als block, ALSFRS-R 48": (
        "DONOR-2",
        lambda d: (
            set_path(d, ["donors", 0, "disease"], "MONDO:0007103"),
            set_path(d, ["donors", 0, "als", "alsfrs_r"], 48),
        ),
    ),
    "VAR-1 C9orf72": (
        "VAR-1",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "gene"], "C9orf72"),
    ),
    "VAR-2 various HGVS": (
        "VAR-2",
        lambda d: set_path(
            d,
            ["donors", 0, "variants"],
            [
                {"gene": "SOD1", "hgvs": "NM_000454.5:c.272A>C", "protein": "p.(Asp91Ala)"},
                {"gene": "FUS", "hgvs": "NM_004960.4:c.1483C>T", "protein": "p.Arg495Ter"},
                {"gene": "TARDBP", "hgvs": "NC_000001.11:g.11022209A>G", "protein": "p.M337V"},
                {"gene": "SOD1", "hgvs": "NM_000454.5:c.-1_2del", "protein": "p.Met1?"},
                {"gene": "FUS", "hgvs": "NM_004960.4:c.1509dup", "protein": "p.Gly504TrpfsTer12"},
            ],
        ),
    ),
    "CONSENT-1 DS with disease": (
        "CONSENT-1",
        lambda d: set_path(
            d,
            ["donors", 0, "consent"],
            {"codes": ["DUO:0000007"], "disease": "MONDO:0004976", "genetic_data": "open"},
        ),
    ),
    "CONSENT-2 not withdrawn": (
        "CONSENT-2",
        lambda d: set_path(d, ["donors", 0, "consent", "withdrawn_on"], None),
    ),
    "CONSENT-3 open genetic data": (
        "CONSENT-3",
        lambda d: set_path(d, ["donors", 0, "consent", "genetic_data"], "open"),
    ),
    "LINE-1 modified with parent": ("LINE-1", _subclone),
    "LINE-2 derived on consent day": (
        "LINE-2",
        lambda d: set_path(d, ["lines", 0, "derived_on"], "2025-01-10"),
    ),
    "LINE-3 passage 200": (
        "LINE-3",
        lambda d: set_path(d, ["lines", 0, "culture", "passage_at_banking"], 200),
    ),
    "QC-1 mRNA needs no vector clearance; line-level viral screening": (
        "QC-1",
        lambda d: (
            set_path(d, ["lines", 0, "reprogramming"], {"method": "mrna"}),
            d["lines"][0]["qc"].pop(6),
            set_path(d, ["donors", 0, "viral_screening"], None),
            set_path(
                d,
                ["lines", 0, "viral_screening"],
                {"HIV-1": "negative", "HIV-2": "negative", "HBV": "negative", "HCV": "negative"},
            ),
            set_path(d, ["donors", 1, "viral_screening"], None),
            d["lines"][1]["qc"].append({"test": "viral_screening", "method": "pcr", "result": "pass"}),
        ),
    ),
    "QC-2 fail then later pass": (
        "QC-2",
        lambda d: d["lines"][0]["qc"].insert(
            0, {"test": "mycoplasma", "method": "pcr", "result": "fail", "date": "2025-08-01"}
        ),
    ),
    "QC-3 flow at 70 and immunostaining": (
        "QC-3",
        lambda d: (
            set_path(d, ["lines", 0, "qc", 4, "markers", 1, "percent_positive"], 70),
            set_path(
                d,
                ["lines", 1, "qc", 4],
                {
                    "test": "pluripotency",
                    "method": "immunostaining",
                    "result": "pass",
                    "markers": [{"marker": "NANOG"}, {"marker": "SSEA-4"}],
                },
            ),
        ),
    ),
    "QC-4 small CNV, SNP array, inherited": (
        "QC-4",
        lambda d: set_path(
            d,
            ["lines", 0, "qc", 1],
            {
                "test": "genomic_integrity",
                "method": "snp_array",
                "result": "pass",
                "cnvs": [{"chromosome": "1", "type": "loss", "size_mb": 5}],
            },
        ),
    ),
    "QC-5 three layers in two records": (
        "QC-5",
        lambda d: (
            set_path(d, ["lines", 0, "qc", 5, "germ_layers"], ["ectoderm", "mesoderm"]),
            d["lines"][0]["qc"].append(
                {
                    "test": "trilineage",
                    "method": "scorecard",
                    "result": "pass",
                    "germ_layers": ["endoderm"],
                }
            ),
        ),
    ),
    "STR-1 eight markers and ND": (
        "STR-1",
        lambda d: set_path(
            d,
            ["lines", 0, "qc", 0, "str_profile"],
            {
                **{m: v for m, v in list(d["donors"][0]["str_profile"].items())[:8]},
                "TPOX": "ND",
                "Amelogenin": "X",
            },
        ),
    ),
    "STR-2 matches parental line": (
        "STR-2",
        lambda d: (_subclone(d), set_path(d, ["donors", 0, "str_profile"], None)),
    ),
    "STR-4 male with X,Y": (
        "STR-4",
        lambda d: (
            set_path(d, ["donors", 0, "sex"], "male"),
            set_path(d, ["donors", 0, "str_profile", "Amelogenin"], "X,Y"),
            set_path(d, ["lines", 0, "qc", 0, "str_profile", "Amelogenin"], "X,Y"),
            set_path(d, ["lines", 0, "qc", 1, "karyotype"], "46,XY"),
        ),
    ),
}


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
    }
    passed = {case[0] for case in PASSES.values()} | {"STR-3"}
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
