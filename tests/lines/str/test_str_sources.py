"""References whose sources disagree are scored as CLASTR scores them: one profile per
group of agreeing sources, never a combination that no source reported (143B,
CVCL_2270, in Cellosaurus release 29: PubMed=19787792 reports D5S818 13,14 and vWA
18,19 where ATCC, ECACC and PubMed=25877200 report 13 and 18)."""

import pytest

from lines.cellosaurus.parser import read_entries
from lines.models import ReferenceProfile
from lines.str.matching import score_with_conflicts, source_profiles
from lines.str.search import scan_profiles, search_profiles
from lines.str.store import REFERENCE, reindex
from tests.conftest import reference_data_dir


def _143b():
    path = reference_data_dir() / "cellosaurus" / "cellosaurus_r29_head1000.txt.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found (set PRISM_REFERENCE_DATA): 143B comes from Cellosaurus release 29")
    return next(e for e in read_entries(path) if getattr(e, "accession", "") == "CVCL_2270")


def _mixed_query(entry):
    """PubMed=19787792's D5S818 with everyone else's vWA: a profile no source reported."""
    return {**entry.str_profile, "D5S818": ["13", "14"], "vWA": ["18"]}


def test_each_group_of_agreeing_sources_is_one_profile():
    entry = _143b()
    groups = source_profiles(entry.str_profile, entry.str_conflicts)
    assert [sources for sources, _ in groups] == [["ATCC", "ECACC", "PubMed=25877200"], ["PubMed=19787792"]]
    assert [(p["D5S818"], p["vWA"]) for _, p in groups] == [(["13"], ["18"]), (["13", "14"], ["18", "19"])]


def test_a_query_mixing_two_sources_scores_as_clastr_does():
    entry = _143b()
    result = score_with_conflicts(_mixed_query(entry), entry.str_profile, entry.str_conflicts, include_amelogenin=False)
    # CLASTR's figure (Tanabe, Amelogenin left out: its defaults); every combination gave 100.
    assert round(result.best.score, 2) == 98.11
    assert result.variants == 2


@pytest.mark.django_db
def test_the_index_scores_the_imported_reference_the_same_way():
    entry = _143b()
    reference = ReferenceProfile.objects.create(
        accession=entry.accession,
        name=entry.name,
        str_profile=entry.str_profile,
        str_conflicts=entry.str_conflicts,
        str_sources=entry.str_sources,
    )
    reindex(REFERENCE, reference)
    query = _mixed_query(entry)
    [hit] = search_profiles(query, include_amelogenin=False, score_filter=0)
    [scanned] = scan_profiles(query, include_amelogenin=False, score_filter=0)
    assert round(hit.score, 2) == round(scanned.score, 2) == 98.11
    assert hit.best["score"] > hit.worst["score"]


def test_sources_that_cannot_be_lined_up_fall_back_to_every_combination():
    reference = {"D21S11": ["29", "30"], "TH01": ["6", "7"]}
    conflicts = {
        "D21S11": [{"alleles": ["29", "30"], "sources": ["ATCC"]}, {"alleles": ["29"], "sources": ["DSMZ"]}],
        "TH01": [{"alleles": ["6", "7"], "sources": ["ATCC"]}, {"alleles": ["7"], "sources": ["JCRB"]}],
    }
    assert len(source_profiles(reference, conflicts)) == 4


def test_bare_allele_lists_without_sources_are_still_every_combination():
    reference = {"D21S11": ["29", "30"], "TH01": ["6", "7"]}
    groups = source_profiles(reference, {"D21S11": [["29", "30"], ["29"]], "TH01": [["6", "7"], ["7"]]})
    assert len(groups) == 4
