"""CLASTR-compatible STR scoring: every case of the CLASTR test vectors, plus
normalisation, conflicting references and the mixture flag."""

import json

import pytest

from lines.str.matching import (
    ProfileError,
    check_profile,
    is_possible_mixture,
    normalise_profile,
    normalise_query_profile,
    parse_alleles,
    score_profiles,
    score_with_conflicts,
    similarity_band,
)
from tests.conftest import reference_data_dir


def _vectors():
    path = reference_data_dir() / "str" / "clastr_scoring_test_vectors.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())


VECTORS = _vectors()
needs_vectors = pytest.mark.skipif(VECTORS is None, reason="CLASTR test vectors not found (set PRISM_REFERENCE_DATA)")


def _profile(name):
    """A vector profile as the catalog normalises it (ND markers kept, as CLASTR does)."""
    raw = {entry["marker"]: entry["alleles"] for entry in VECTORS["profiles"][name]}
    profile, problems = check_profile(raw, keep_empty_markers=True)
    assert not problems
    return profile


def _cases(key):
    return [
        pytest.param(case, id=case.get("test") or f"{case['check']}-{i}")
        for i, case in enumerate((VECTORS or {}).get(key, []))
    ]


@needs_vectors
def test_the_vector_file_has_every_case():
    assert (
        len(VECTORS["score_cases"]),
        len(VECTORS["mode_cases"]),
        len(VECTORS["marker_cases"]),
    ) == (30, 24, 10)


@needs_vectors
@pytest.mark.parametrize("case", _cases("score_cases"))
def test_score_matches_clastr(case):
    result = score_profiles(
        _profile(case["query"]),
        _profile(case["reference"]),
        algorithm=case["algorithm"],
        mode=case["mode"],
        include_amelogenin=case["include_amelogenin"],
    )
    assert result.score == pytest.approx(case["expected_score_percent"], abs=case["tolerance"])


@needs_vectors
@pytest.mark.parametrize("case", _cases("mode_cases"))
def test_scoring_mode_counts_match_clastr(case):
    result = score_profiles(
        _profile(case["query"]),
        _profile(case["reference"]),
        mode=case["mode"],
        include_amelogenin=case["include_amelogenin"],
    )
    assert (
        result.shared_alleles,
        result.query_alleles,
        result.reference_alleles,
        result.markers,
    ) == (
        case["expected_hits"],
        case["expected_query_allele_count"],
        case["expected_reference_allele_count"],
        case["expected_marker_count"],
    )


@needs_vectors
@pytest.mark.parametrize("case", _cases("marker_cases"))
def test_marker_allele_counting_matches_clastr(case):
    if case["check"] == "count_alleles":
        assert len(parse_alleles("D5S818", case["alleles"])) == case["expected"]
    else:
        result = score_profiles(
            {"D5S818": parse_alleles("D5S818", case["alleles_a"])},
            {"D5S818": parse_alleles("D5S818", case["alleles_b"])},
        )
        assert result.shared_alleles == case["expected"]


def test_marker_aliases_and_allele_forms_normalise_to_one_profile():
    profile = normalise_profile(
        {"Amel": "x, y", "CSF1P0": "12,12", "THO1": "9.3,6", "VWA": ["17", 19], "D13S317": "ND"}
    )
    assert profile == {
        "Amelogenin": ["X", "Y"],
        "CSF1PO": ["12"],
        "TH01": ["6", "9.3"],
        "vWA": ["17", "19"],
    }


def test_unknown_marker_and_malformed_allele_are_named():
    with pytest.raises(ProfileError) as error:
        normalise_query_profile({"D5S818": "11", "D99S999": "12"})
    assert error.value.marker == "D99S999" and "unknown" in error.value.problem
    _, problems = check_profile({"TH01": "9,x", "TPOX": "8", "Amelogenin": "Z"})
    assert set(problems) == {"TH01", "Amelogenin"}
    assert "'x'" in problems["TH01"]


def test_amelogenin_is_left_out_unless_asked():
    query = {"Amelogenin": ["X"], "TH01": ["6", "7"]}
    reference = {"Amelogenin": ["X", "Y"], "TH01": ["6", "7"]}
    assert score_profiles(query, reference).score == 100
    assert score_profiles(query, reference, include_amelogenin=True).score == pytest.approx(2 * 3 / 7 * 100)


def test_conflicting_reference_reports_best_and_worst():
    query = {"D21S11": ["29"], "TH01": ["6", "7"], "TPOX": ["8"]}
    reference = {"D21S11": ["29", "30"], "TH01": ["6", "7"], "TPOX": ["8"]}
    result = score_with_conflicts(query, reference, {"D21S11": [["29", "30"], ["29"]]})
    assert result.best.score == 100
    assert result.worst.score == pytest.approx(200 * 4 / 9)
    assert result.variants == 2


def test_three_markers_with_more_than_two_alleles_flag_a_possible_mixture():
    two = {"D5S818": ["10", "11", "12"], "TH01": ["6", "7", "9"], "TPOX": ["8", "9"]}
    assert not is_possible_mixture(two)
    assert is_possible_mixture({**two, "TPOX": ["8", "9", "11"]})


@pytest.mark.parametrize(
    ("score", "algorithm", "band"),
    [
        (95, "tanabe", "related"),
        (85, "tanabe", "ambiguous"),
        (79.9, "tanabe", "unrelated"),
        (80, "masters_query", "related"),
        (65, "masters_reference", "ambiguous"),
        (59, "masters_query", "unrelated"),
    ],
)
def test_scores_read_as_the_domain_bands(score, algorithm, band):
    assert similarity_band(score, algorithm) == band
