"""What a complete QC panel is, and how a line's panel sums up."""

from datetime import date

CORE_TESTS = ("identity", "genomic_integrity", "mycoplasma", "sterility", "pluripotency", "trilineage")
# Non-integrating but persisting vectors must be shown cleared (CIRM release criteria).
VECTOR_METHODS = ("sendai", "episomal")


def required_tests(line):
    tests = list(CORE_TESTS)
    if line.reprogramming_method in VECTOR_METHODS:
        tests.append("vector_clearance")
    return tests


def summarise_qc_status(line, records):
    """passed: every required test has a passing record and none failed;
    failed: the latest record of some required test failed; incomplete otherwise."""
    latest = {}
    for record in records:
        current = latest.get(record.test)
        if current is None or (record.tested_on or date.min) >= (current.tested_on or date.min):
            latest[record.test] = record
    results = [latest[t].result if t in latest else None for t in required_tests(line)]
    if "fail" in results:
        return "failed"
    if all(r == "pass" for r in results):
        return "passed"
    return "incomplete"
