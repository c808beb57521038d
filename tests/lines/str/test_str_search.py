"""STR similarity search across lines, donors and Cellosaurus references: the
in-memory index gives the same answers as scoring every profile, follows writes,
and shows each caller only what they may see."""

import json
import math
import random

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from core.models import Institution
from lines.models import ReferenceProfile
from lines.str.index import ProfileIndex, current_generation, forget_index, get_index
from lines.str.matching import ALGORITHMS, KNOWN_MARKERS, MODES, normalise_profile
from lines.str.search import scan_profiles, search_many, search_profiles
from lines.str.store import DONOR, LINE, REFERENCE, rebuild_index, reindex, reindex_many, unindex
from tests.core.test_models import edit_in_admin
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory

pytestmark = pytest.mark.django_db

HB2 = {  # 1-7HB2 (CVCL_2261) in Cellosaurus release 29
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
MARKERS = [
    m for m in KNOWN_MARKERS if m not in ("DYS391", "DXS101", "F13A01", "F13B", "FESFPS", "LPL", "Penta C", "SE33")
]


def random_profile(rng, markers=None):
    profile = {}
    for marker in markers or rng.sample(MARKERS, rng.randint(7, len(MARKERS))):
        if marker == "Amelogenin":
            profile[marker] = rng.choice([["X"], ["X", "Y"]])
        else:
            n = rng.choice([1, 2, 2, 2, 3])
            profile[marker] = sorted(
                {str(rng.randint(6, 14)) if rng.random() > 0.1 else f"{rng.randint(6, 14)}.3" for _ in range(n)}
            )
    return normalise_profile(profile)


def reference(accession, profile, conflicts=None, name=None):
    ref = ReferenceProfile.objects.create(
        accession=accession,
        name=name or accession,
        str_profile=normalise_profile(profile),
        str_conflicts=conflicts or {},
    )
    reindex(REFERENCE, ref)
    return ref


def test_search_finds_the_same_profile_first_at_100_percent():
    reference("CVCL_2261", HB2, name="1-7HB2")
    reference("CVCL_0001", {**HB2, "TH01": "6", "vWA": "15,18", "D5S818": "11"})
    hits = search_profiles(normalise_profile(HB2))
    assert hits[0].accession == "CVCL_2261" and hits[0].name == "1-7HB2"
    assert hits[0].score == 100 and hits[0].markers == 8
    assert hits[0].url == "https://www.cellosaurus.org/CVCL_2261"


def test_index_gives_the_same_ranking_as_scoring_every_profile():
    rng = random.Random(7)
    refs = [
        ReferenceProfile(accession=f"CVCL_{i:04d}", name=f"Ref {i}", str_profile=random_profile(rng))
        for i in range(200)
    ]
    ReferenceProfile.objects.bulk_create(refs)
    # Some references have conflicting source profiles (best and worst are reported).
    conflicted = list(ReferenceProfile.objects.order_by("id")[:20])
    for ref in conflicted:
        marker = next(iter(ref.str_profile))
        ref.str_conflicts = {marker: [ref.str_profile[marker], ["11"]]}
        ref.save()
    rebuild_index()
    queries = [random_profile(rng) for _ in range(4)]
    queries.append(dict(ReferenceProfile.objects.order_by("id").first().str_profile))
    queries.append({**queries[0], "D21S11": [], "SE33": ["20"]})  # typed "ND"; a marker no reference has
    for query in queries:
        for algorithm in ALGORITHMS:
            for mode in MODES:
                options = {
                    "algorithm": algorithm,
                    "mode": mode,
                    "score_filter": 20,
                    "min_markers": 6,
                    "include_amelogenin": mode == "query",
                    "max_results": 7 if mode == "reference" else 200,
                }
                indexed = [
                    (h.accession, round(h.score, 6), h.markers, h.best) for h in search_profiles(query, **options)
                ]
                scanned = [(h.accession, round(h.score, 6), h.markers, h.best) for h in scan_profiles(query, **options)]
                assert indexed == scanned, (algorithm, mode)


def test_conflicting_reference_reports_best_and_worst():
    reference("CVCL_0002", HB2, conflicts={"D5S818": [["10", "13"], ["10"]], "TH01": [["7", "9"], ["9"]]})
    hit = search_profiles(normalise_profile(HB2))[0]
    assert hit.score == 100
    assert hit.best["score"] == 100 and hit.worst["score"] < 100
    assert hit.worst["shared_alleles"] == 12


def test_min_markers_and_score_filter_leave_out_weak_matches():
    reference("CVCL_2261", HB2)
    few = {k: HB2[k] for k in ["Amelogenin", "CSF1PO", "D13S317", "D16S539", "D5S818"]}
    reference("CVCL_0003", few)
    hits = search_profiles(normalise_profile(HB2))
    assert [h.accession for h in hits] == ["CVCL_2261"]
    assert [h.accession for h in search_profiles(normalise_profile(HB2), min_markers=4)] == [
        "CVCL_2261",
        "CVCL_0003",
    ]
    unrelated = {m: "20" for m in HB2 if m != "Amelogenin"}
    assert search_profiles(normalise_profile(unrelated)) == []


def test_index_follows_profile_writes_and_removals():
    ref = reference("CVCL_2261", HB2)
    query = normalise_profile(HB2)
    assert search_profiles(query)[0].accession == "CVCL_2261"  # builds the index
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    assert {h.name for h in search_profiles(query)} == {ref.name, line.name}
    ref.str_profile = normalise_profile({**HB2, "TH01": "6", "vWA": "15", "TPOX": "8", "D5S818": "9", "CSF1PO": "10"})
    ref.save()
    reindex(REFERENCE, ref)
    assert [h.name for h in search_profiles(query)] == [line.name]
    unindex(LINE, [line.pk])
    assert search_profiles(query) == []


def test_exclude_leaves_out_the_submissions_own_line():
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    reference("CVCL_2261", HB2)
    hits = search_profiles(normalise_profile(HB2), exclude=[(LINE, line.pk)])
    assert [h.accession for h in hits] == ["CVCL_2261"]
    assert search_profiles(normalise_profile(HB2), exclude=["CVCL_2261", (LINE, line.pk)]) == []


def test_hits_respect_who_may_see_lines_and_donor_genotypes(researcher, depositor, other_depositor, curator):
    ukb = Institution.objects.get(code="UKB")
    draft = CellLineFactory(str_profile=normalise_profile(HB2), status="draft", donor__institution=ukb)
    # A line's STR is its donor's genetic data: open consent, so its depositor finds it.
    ConsentFactory(donor=draft.donor, genetic_data="open")
    reindex(LINE, draft)
    controlled = DonorFactory(str_profile=normalise_profile(HB2))
    ConsentFactory(donor=controlled, genetic_data="controlled")
    CellLineFactory(donor=controlled)
    open_donor = DonorFactory(str_profile=normalise_profile(HB2))
    ConsentFactory(donor=open_donor, genetic_data="open")
    CellLineFactory(donor=open_donor)
    reindex_many(DONOR, [controlled, open_donor])
    query = normalise_profile(HB2)

    def seen(user):
        return {(h.kind, h.name) for h in search_profiles(query, user=user)}

    assert seen(None) == {(LINE, draft.name), (DONOR, controlled.code), (DONOR, open_donor.code)}
    assert seen(curator) == seen(None)
    assert seen(depositor) == {(LINE, draft.name), (DONOR, open_donor.code)}
    assert seen(other_depositor) == {(DONOR, open_donor.code)}
    assert seen(researcher) == {(DONOR, open_donor.code)}


def test_a_fresh_process_builds_its_index_from_the_database():
    reference("CVCL_2261", HB2)
    forget_index()
    assert search_profiles(normalise_profile(HB2))[0].accession == "CVCL_2261"


def test_mixture_flag_travels_with_the_hit():
    mixed = {**HB2, "D5S818": "10,11,13", "TH01": "6,7,9", "vWA": "14,16,17"}
    reference("CVCL_0004", mixed)
    hit = search_profiles(normalise_profile(HB2), score_filter=0)[0]
    assert hit.mixture is True


def test_release_29_import_finds_1_7hb2_first_at_100_percent(reference_data):
    path = reference_data / "cellosaurus" / "cellosaurus_r29_head1000.txt.gz"
    call_command("import_cellosaurus", str(path), "--all-categories")  # the importer calls reindex_many
    assert ReferenceProfile.objects.count() >= 80
    hits = search_profiles(normalise_profile(HB2))
    assert (hits[0].accession, hits[0].score, hits[0].name) == ("CVCL_2261", 100, "1-7HB2")
    # 105KC (CVCL_M605): Microsynth and PubMed=25877200 disagree at several markers.
    kc = ReferenceProfile.objects.get(accession="CVCL_M605")
    assert kc.str_conflicts
    hit = next(h for h in search_profiles(kc.str_profile, score_filter=0) if h.accession == "CVCL_M605")
    assert hit.best["score"] > hit.worst["score"]


def test_str_search_command_prints_ranked_hits(capsys):
    reference("CVCL_2261", HB2, name="1-7HB2")
    call_command("str_search", *[f"{m}={a}" for m, a in HB2.items()])
    out = capsys.readouterr().out
    assert "100.00 %  related" in out and "1-7HB2 CVCL_2261" in out


def test_str_search_command_reads_a_batch_file_and_writes_csv(tmp_path, capsys):
    reference("CVCL_2261", HB2, name="1-7HB2")
    batch = tmp_path / "batch.tsv"
    batch.write_text("Sample Name\t" + "\t".join(HB2) + "\nmine\t" + "\t".join(HB2.values()) + "\n")
    call_command("str_search", "--file", str(batch), "--format", "csv")
    rows = capsys.readouterr().out.splitlines()
    assert rows[1].startswith("mine,False,,1,1-7HB2,CVCL_2261,reference,100.0,related")


def test_str_search_command_names_a_bad_marker():
    with pytest.raises(CommandError, match="TH01: malformed allele 'x'"):
        call_command("str_search", "TH01=x", "TPOX=8")


def test_rebuild_str_index_command_indexes_every_profile(capsys):
    ReferenceProfile.objects.create(accession="CVCL_2261", name="1-7HB2", str_profile=normalise_profile(HB2))
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    call_command("rebuild_str_index")
    assert "2 profiles" in capsys.readouterr().out
    assert {h.name for h in search_profiles(normalise_profile(HB2))} == {"1-7HB2", line.name}


def test_rebuild_drops_profiles_that_are_gone():
    ref = ReferenceProfile.objects.create(accession="CVCL_2261", name="1-7HB2", str_profile=normalise_profile(HB2))
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    rebuild_index()
    assert len(search_profiles(normalise_profile(HB2))) == 2
    type(line).objects.filter(pk=line.pk).update(str_profile={})  # a write that forgot to reindex
    rebuild_index()
    assert [h.name for h in search_profiles(normalise_profile(HB2))] == [ref.name]


def test_an_empty_catalog_answers_with_no_hits():
    assert search_profiles(normalise_profile(HB2)) == []


def test_a_new_process_starts_from_the_cached_index_and_catches_up(settings, tmp_path):
    settings.STR_INDEX_CACHE_DIR = str(tmp_path)
    settings.STR_INDEX_CACHE_MIN_ENTRIES = 1
    reference("CVCL_2261", HB2, name="1-7HB2")
    assert search_profiles(normalise_profile(HB2))[0].name == "1-7HB2"  # builds and caches
    cached = ProfileIndex.from_cache(current_generation())
    assert cached is not None and [e.name for e in cached.entries] == ["1-7HB2"]
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    forget_index()  # a new process: the cache is one write behind the database
    assert {h.name for h in search_profiles(normalise_profile(HB2))} == {"1-7HB2", line.name}
    assert get_index().generation == current_generation() and len(get_index().overlay) == 1


def test_line_and_donor_hits_link_to_their_records():
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    donor = DonorFactory(str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    reindex(DONOR, donor)
    urls = {h.kind: h.url for h in search_profiles(normalise_profile(HB2))}
    assert urls[LINE] == f"/lines/{line.name}/"
    assert urls[DONOR] == f"/api/v1/donors/{donor.code}/"


# --- search_many: many query profiles in one go (the submission validator's STR-3) ---


def _summary(hits):
    return [(h.kind, h.object_id, h.name, round(h.score, 6), h.markers, h.best, h.url) for h in hits]


def test_search_many_answers_each_profile_as_a_search_and_a_full_scan_would():
    rng = random.Random(11)
    ReferenceProfile.objects.bulk_create(
        [
            ReferenceProfile(accession=f"CVCL_{i:04d}", name=f"Ref {i}", str_profile=random_profile(rng))
            for i in range(120)
        ]
    )
    for ref in ReferenceProfile.objects.order_by("id")[:10]:
        marker = next(iter(ref.str_profile))
        ref.str_conflicts = {marker: [ref.str_profile[marker], ["11"]]}
        ref.save()
    rebuild_index()
    held = [dict(p) for p in ReferenceProfile.objects.order_by("id").values_list("str_profile", flat=True)[:3]]
    search_profiles(held[0])  # the index is built; what follows is written after it (scored in Python)
    late = CellLineFactory(str_profile=normalise_profile(held[1]))
    reindex(LINE, late)
    queries = [random_profile(rng) for _ in range(3)] + held + [held[1]]  # a profile given twice
    options = {"score_filter": 20, "min_markers": 6, "max_results": 5}
    many = search_many(queries, **options)
    assert len(many) == len(queries)
    for query, hits in zip(queries, many, strict=True):
        assert _summary(hits) == _summary(search_profiles(query, **options))
        assert [(h.accession, round(h.score, 6)) for h in hits] == [
            (h.accession, round(h.score, 6)) for h in scan_profiles(query, **options)
        ]
    assert many[3][0].score == 100 and many[4][0].score == many[4][1].score == 100
    assert late.name in {h.name for h in many[4]} and many[4] == many[6]
    assert search_many([]) == []


def test_search_many_leaves_out_what_each_query_excludes():
    line = CellLineFactory(str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    reference("CVCL_2261", HB2)
    query = normalise_profile(HB2)
    own_line, everything, nothing = search_many(
        [query, query, query],
        exclude_each=[[(LINE, line.pk)], ["CVCL_2261", (LINE, line.pk)], None],
    )
    assert [h.accession for h in own_line] == ["CVCL_2261"]
    assert everything == []
    assert {h.name for h in nothing} == {line.name, "CVCL_2261"}
    # A shared exclusion applies to every query, on top of each query's own.
    shared = search_many([query, query], exclude=["CVCL_2261"], exclude_each=[[(LINE, line.pk)], []])
    assert shared == [[], [h for h in nothing if h.kind == LINE]]


def test_search_many_looks_past_excluded_hits_for_the_best_remaining_ones():
    # 30 identical references: the first window of candidates (max_results + 20) is all
    # excluded for one query, so its hits come from the next window.
    for i in range(30):
        reference(f"CVCL_{i:04d}", HB2, name=f"Ref {i:02d}")
    excluded = [f"CVCL_{i:04d}" for i in range(25)]
    query = normalise_profile(HB2)
    capped, open_ = search_many([query, query], max_results=3, exclude_each=[excluded, None])
    assert [h.name for h in capped] == ["Ref 25", "Ref 26", "Ref 27"]
    assert [h.name for h in open_] == ["Ref 00", "Ref 01", "Ref 02"]
    assert capped == search_profiles(query, max_results=3, exclude=excluded)


def test_search_many_shows_each_user_only_what_they_may_see(researcher, depositor, curator):
    draft = CellLineFactory(
        str_profile=normalise_profile(HB2),
        status="draft",
        donor__institution=Institution.objects.get(code="UKB"),
    )
    ConsentFactory(donor=draft.donor, genetic_data="open")
    reindex(LINE, draft)
    controlled = DonorFactory(str_profile=normalise_profile(HB2))
    ConsentFactory(donor=controlled, genetic_data="controlled")
    reindex(DONOR, controlled)
    reference("CVCL_2261", HB2)
    queries = [normalise_profile(HB2), normalise_profile({**HB2, "TH01": "6"})]

    def seen(user):
        return [{(h.kind, h.name) for h in hits} for hits in search_many(queries, user=user, min_markers=6)]

    everyone = {(LINE, draft.name), (DONOR, controlled.code), (REFERENCE, "CVCL_2261")}
    assert seen(None) == seen(curator) == [everyone, everyone]
    assert seen(depositor) == [everyone - {(DONOR, controlled.code)}] * 2
    assert seen(researcher) == [{(REFERENCE, "CVCL_2261")}] * 2
    for user in (None, curator, depositor, researcher):
        assert search_many(queries, user=user, min_markers=6) == [
            search_profiles(q, user=user, min_markers=6) for q in queries
        ]


def test_search_many_checks_hits_in_a_few_queries_whatever_the_number_of_profiles(
    django_assert_max_num_queries,
):
    rng = random.Random(5)
    lines = [CellLineFactory(str_profile=random_profile(rng, MARKERS)) for _ in range(12)]
    reindex_many(LINE, lines)
    queries = [dict(line.str_profile) for line in lines] * 5
    search_profiles(queries[0])  # builds the index
    with django_assert_max_num_queries(3):  # the index generation, then one query for the lines
        results = search_many(queries, exclude_each=[[(LINE, line.pk)] for line in lines] * 5)
    assert all(line.name not in {h.name for h in hits} for line, hits in zip(lines * 5, results, strict=True))
    assert [h.name for h in search_many(queries[:1])[0]][:1] == [lines[0].name]


def test_search_many_wants_one_exclusion_per_profile():
    with pytest.raises(ValueError, match="exclude_each has 1 entries for 2 profiles"):
        search_many([normalise_profile(HB2)] * 2, exclude_each=[None])


def test_a_profile_scoring_exactly_the_filter_is_a_hit_and_one_a_hair_below_is_not():
    # The index keeps rows by an integer test before it computes float scores: a score
    # equal to the filter must pass it, for every algorithm and mode.
    query = normalise_profile(
        {"TH01": "6,7", "TPOX": "8,9", "vWA": "14,15", "CSF1PO": "10,11", "D5S818": "11,12", "D7S820": "9"}
    )
    reference("CVCL_3333", {"TH01": "6,9.3", "TPOX": "8", "vWA": "14,15", "CSF1PO": "12", "D5S818": "11,12,13"})
    reference("CVCL_7777", {"TH01": "6,7", "TPOX": "8,9", "vWA": "16", "CSF1PO": "10", "D5S818": "11"})
    for algorithm in ALGORITHMS:
        for mode in MODES:
            options = {"algorithm": algorithm, "mode": mode, "min_markers": 5}
            for hit in scan_profiles(query, score_filter=1, **options):
                exact = search_profiles(query, score_filter=hit.score, **options)
                assert hit.accession in {h.accession for h in exact}, (algorithm, mode, hit.score)
                above = search_profiles(query, score_filter=math.nextafter(hit.score, math.inf), **options)
                assert hit.accession not in {h.accession for h in above}, (algorithm, mode, hit.score)


def test_a_reference_renamed_or_deleted_in_the_admin_is_found_so_or_not_at_once(curator):
    # Hits on references are named from the index entry, so the admin keeps it current.
    ref = reference("CVCL_2261", HB2, name="1-7HB2")
    query = normalise_profile(HB2)
    assert [h.name for h in search_profiles(query)] == ["1-7HB2"]
    edit_in_admin(curator, ref, name="1-7HB2 (renamed)")
    assert [h.name for h in search_profiles(query)] == ["1-7HB2 (renamed)"]
    edit_in_admin(curator, ref, str_profile=json.dumps({**HB2, "TH01": "6", "vWA": "15,18"}))
    assert search_profiles(query)[0].score < 100
    client = Client()  # deleting takes a superuser (curators may not)
    client.force_login(get_user_model().objects.create_superuser("root", "root@example.org", "pw-root-123"))
    url = reverse("admin:lines_referenceprofile_delete", args=[ref.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert search_profiles(query) == []
