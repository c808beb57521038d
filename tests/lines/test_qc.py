"""The QC panel verdict has one home (lines.qc) and two forms: the catalog status
(CellLine.qc_status, refresh_qc_status) and the deposit-time rules (QC-1 for a missing
test, QC-2 for a failed or inconclusive one). For the same records both give the same
verdict: passed (no QC-1/QC-2 of the panel), failed (a QC-2 error), incomplete
(a missing test, or an inconclusive one)."""

import copy
import datetime

import pytest

from lines.models import CellLine, ProtocolVersion
from lines.qc import (
    CORE_TESTS,
    is_modified,
    needs_vector_clearance,
    needs_vector_clearance_q,
    panel_verdict,
    required_tests,
)
from lines.submissions.protocol import V1_SETTINGS
from lines.submissions.validation import validate_document
from tests.documents import valid_document
from tests.factories import CellLineFactory, QCRecordFactory

pytestmark = pytest.mark.django_db

DAY = datetime.date(2025, 9, 2)


def panel(method="sendai"):
    """The QC records of a valid document's line (full panel, all passing)."""
    document = valid_document(1)
    document["lines"][0]["reprogramming"] = {"method": method}
    return document


def without(test):
    return lambda qc: [item for item in qc if item["test"] != test]


def result(test, value, when=None):
    def change(qc):
        for item in qc:
            if item["test"] == test:
                item["result"] = value
                if when:
                    item["date"] = when
        return qc

    return change


def plus(record):
    return lambda qc: [*qc, record]


CASES = {
    "full panel": ("sendai", None, lambda qc: qc),
    **{f"no {test}": ("sendai", None, without(test)) for test in CORE_TESTS},
    "sendai without vector clearance": ("sendai", None, without("vector_clearance")),
    "episomal without vector clearance": ("episomal", None, without("vector_clearance")),
    "mrna without vector clearance": ("mrna", None, without("vector_clearance")),
    "lentivirus without vector clearance": ("lentivirus", None, without("vector_clearance")),
    "gene-edited sendai line without vector clearance (waived)": (
        "sendai",
        "knock_in",
        without("vector_clearance"),
    ),
    **{f"{test} failed": ("sendai", None, result(test, "fail")) for test in (*CORE_TESTS, "vector_clearance")},
    "mycoplasma inconclusive": ("sendai", None, result("mycoplasma", "inconclusive")),
    "an old failure retested and passed": (
        "sendai",
        None,
        plus({"test": "sterility", "method": "culture", "result": "fail", "date": "2025-06-02"}),
    ),
    "a pass superseded by a later failure": (
        "sendai",
        None,
        plus({"test": "sterility", "method": "culture", "result": "fail", "date": "2025-10-01"}),
    ),
    "a failed viral screening record": (
        "sendai",
        None,
        plus(
            {
                "test": "viral_screening",
                "method": "serology",
                "result": "fail",
                "date": "2025-09-02",
            }
        ),
    ),
    "an inconclusive viral screening record": (
        "sendai",
        None,
        plus(
            {
                "test": "viral_screening",
                "method": "serology",
                "result": "inconclusive",
                "date": "2025-09-02",
            }
        ),
    ),
}
EXPECTED = {
    "full panel": "passed",
    "mrna without vector clearance": "passed",
    "lentivirus without vector clearance": "passed",
    "gene-edited sendai line without vector clearance (waived)": "passed",
    "an old failure retested and passed": "passed",
    "a pass superseded by a later failure": "failed",
    "a failed viral screening record": "failed",
    **{f"{test} failed": "failed" for test in (*CORE_TESTS, "vector_clearance")},
}


def deposit_verdict(findings):
    """The verdict the deposit-time rules give, read from their findings."""
    panel_findings = [
        f
        for f in findings
        if f["rule"] == "QC-2" or (f["rule"] == "QC-1" and f["message"].startswith("missing core QC test"))
    ]
    if any(f["rule"] == "QC-2" and f["severity"] == "error" for f in panel_findings):
        return "failed"
    if panel_findings:
        return "incomplete"
    return "passed"


def catalog_verdict(method, modification, qc):
    line = CellLineFactory(reprogramming_method=method, modification_type=modification or "none")
    for item in qc:
        QCRecordFactory(
            line=line,
            test=item["test"],
            method=item.get("method", ""),
            result=item["result"],
            tested_on=datetime.date.fromisoformat(item["date"]) if item.get("date") else None,
        )
    return line.refresh_qc_status()


@pytest.mark.parametrize("case", list(CASES))
def test_the_catalog_status_and_the_deposit_rules_agree(case, owner_institution):
    method, modification, change = CASES[case]
    document = panel(method)
    line = document["lines"][0]
    line["qc"] = change(copy.deepcopy(line["qc"]))
    if modification:
        line["modification"] = {"type": modification, "gene": "SOD1"}
    findings = validate_document(
        document, protocol=ProtocolVersion.objects.get(number=1), institution=owner_institution
    )
    expected = EXPECTED.get(case, "incomplete")
    assert deposit_verdict(findings) == expected, [f for f in findings if f["rule"].startswith("QC")]
    assert catalog_verdict(method, modification, line["qc"]) == expected


def test_the_protocol_thresholds_are_the_rule_modules():
    assert tuple(V1_SETTINGS["core_tests"]) == CORE_TESTS
    assert panel_verdict({}, method="sendai", modified=False).required == (
        *CORE_TESTS,
        "vector_clearance",
    )


def test_a_gene_edited_line_is_excused_vector_clearance_everywhere():
    edited = CellLineFactory.build(reprogramming_method="sendai", modification_type="knock_in")
    unedited = CellLineFactory.build(reprogramming_method="sendai", modification_type="none")
    assert "vector_clearance" not in required_tests(edited)
    assert "vector_clearance" in required_tests(unedited)


def test_the_sql_form_of_vector_clearance_picks_the_lines_the_python_form_does():
    """The curator dashboard counts the lines that need vector clearance in SQL
    (needs_vector_clearance_q); the panel rule decides it in Python."""
    cases = [
        (method, modification)
        for method in ("sendai", "episomal", "lentivirus", "mrna", "other")
        for modification in ("none", "knock_in", "gene_correction", "reporter")
    ]
    lines = [
        CellLineFactory(reprogramming_method=method, modification_type=modification) for method, modification in cases
    ]
    in_sql = set(
        CellLine.objects.filter(needs_vector_clearance_q(), pk__in=[line.pk for line in lines]).values_list(
            "pk", flat=True
        )
    )
    in_python = {
        line.pk
        for line in lines
        if needs_vector_clearance(line.reprogramming_method, modified=is_modified(line.modification_type))
    }
    assert in_sql == in_python
    assert len(in_python) == 2  # unmodified Sendai and episomal lines
