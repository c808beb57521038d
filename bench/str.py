"""STR similarity search at Cellosaurus scale.

Loads synthetic profiles (200,000; --quick: 5,000) with realistic allele frequencies
into a throw-away copy of the configured database (PostgreSQL when DATABASE_URL is
set), indexes them the way the catalog does, and times 100 CLASTR-default searches
(Tanabe, non-empty markers, score ≥ 60, ≥ 8 markers, 200 results) three ways:

  index        lines.str.search.search_profiles (the in-memory (marker, allele) index)
  plain scan   every profile scored in Python with lines.str.matching.score_profiles
               (profiles already in memory, so only the scoring is timed)
  STRprofiler  strprofiler 0.5.1's scoring API (utils.score_query) over the same profiles,
               the way its own comparison loop calls it (without its CSV/HTML output)

The two baselines take seconds a query, so they run on the first few queries only;
each speed-up divides by the index's median on those same queries. The profiles go
in by COPY on PostgreSQL.

On PostgreSQL it also times the candidate step of the alternative design (a GROUP BY
over an indexed (marker, allele) table) to show why the index lives in memory.
"""

import os
import random
import statistics
import tempfile
import time

from django.db import connection, transaction
from django.test.utils import override_settings, setup_databases, teardown_databases
from django.utils import timezone

from bench._goals import report
from core.bulk_copy import copy_rows
from lines.models import ReferenceProfile
from lines.str.index import ProfileIndex, _gc_paused, forget_index, get_index
from lines.str.matching import normalise_profile, score_with_conflicts
from lines.str.search import search_profiles
from lines.str.store import rebuild_index

MARKER_SETS = {
    # The classic 9-marker ATCC/Cellosaurus set, PowerPlex 16, and a 24-marker kit.
    "atcc": [
        "Amelogenin",
        "CSF1PO",
        "D13S317",
        "D16S539",
        "D5S818",
        "D7S820",
        "TH01",
        "TPOX",
        "vWA",
    ],
    "pp16": [
        "Amelogenin",
        "CSF1PO",
        "D13S317",
        "D16S539",
        "D18S51",
        "D21S11",
        "D3S1358",
        "D5S818",
        "D7S820",
        "D8S1179",
        "FGA",
        "Penta D",
        "Penta E",
        "TH01",
        "TPOX",
        "vWA",
    ],
    "gf24": [
        "Amelogenin",
        "CSF1PO",
        "D10S1248",
        "D12S391",
        "D13S317",
        "D16S539",
        "D18S51",
        "D19S433",
        "D1S1656",
        "D21S11",
        "D22S1045",
        "D2S1338",
        "D2S441",
        "D3S1358",
        "D5S818",
        "D7S820",
        "D8S1179",
        "DYS391",
        "FGA",
        "SE33",
        "TH01",
        "TPOX",
        "vWA",
    ],
}

# Approximate allele frequencies (NIST US population data, rounded): allele -> weight.
FREQUENCIES = {
    "CSF1PO": {"7": 2, "8": 2, "9": 3, "10": 24, "11": 30, "12": 32, "13": 7, "14": 1},
    "D13S317": {"8": 11, "9": 7, "10": 6, "11": 28, "12": 29, "13": 12, "14": 5, "15": 1},
    "D16S539": {"8": 2, "9": 12, "10": 7, "11": 29, "12": 30, "13": 17, "14": 3},
    "D5S818": {"7": 1, "8": 1, "9": 5, "10": 6, "11": 36, "12": 35, "13": 15, "14": 1},
    "D7S820": {"7": 2, "8": 16, "9": 15, "10": 27, "11": 21, "12": 15, "13": 3, "14": 1},
    "TH01": {"5": 1, "6": 23, "7": 17, "8": 12, "9": 15, "9.3": 31, "10": 1},
    "TPOX": {"6": 1, "8": 54, "9": 12, "10": 5, "11": 25, "12": 3},
    "vWA": {"13": 1, "14": 10, "15": 11, "16": 20, "17": 27, "18": 21, "19": 9, "20": 2},
    "D18S51": {
        "11": 1,
        "12": 13,
        "13": 13,
        "14": 17,
        "15": 15,
        "16": 12,
        "17": 12,
        "18": 8,
        "19": 4,
        "20": 3,
        "21": 2,
    },
    "D21S11": {
        "27": 4,
        "28": 16,
        "29": 20,
        "30": 25,
        "30.2": 3,
        "31": 7,
        "31.2": 9,
        "32": 1,
        "32.2": 10,
        "33.2": 4,
    },
    "D3S1358": {"13": 1, "14": 14, "15": 25, "16": 24, "17": 21, "18": 14, "19": 1},
    "D8S1179": {"10": 9, "11": 6, "12": 14, "13": 33, "14": 21, "15": 11, "16": 3, "17": 1},
    "FGA": {
        "19": 6,
        "20": 14,
        "21": 18,
        "22": 19,
        "22.2": 1,
        "23": 15,
        "24": 13,
        "25": 8,
        "26": 3,
        "27": 1,
    },
    "Penta D": {"8": 2, "9": 19, "10": 12, "11": 15, "12": 19, "13": 20, "14": 8, "15": 3},
    "Penta E": {
        "5": 7,
        "7": 16,
        "8": 3,
        "10": 7,
        "11": 9,
        "12": 17,
        "13": 10,
        "14": 7,
        "15": 6,
        "16": 5,
        "17": 5,
        "18": 4,
        "19": 3,
    },
    "D10S1248": {"12": 4, "13": 31, "14": 29, "15": 22, "16": 10, "17": 3},
    "D12S391": {
        "17": 9,
        "18": 18,
        "19": 13,
        "20": 14,
        "21": 12,
        "22": 13,
        "23": 10,
        "24": 5,
        "18.3": 3,
    },
    "D19S433": {"12": 8, "13": 25, "14": 36, "14.2": 2, "15": 16, "15.2": 3, "16": 4},
    "D1S1656": {
        "11": 7,
        "12": 12,
        "13": 8,
        "14": 8,
        "15": 13,
        "16": 12,
        "17": 15,
        "17.3": 5,
        "18.3": 6,
        "16.3": 4,
    },
    "D22S1045": {"11": 12, "14": 8, "15": 36, "16": 33, "17": 6, "18": 2},
    "D2S1338": {
        "17": 17,
        "18": 7,
        "19": 13,
        "20": 14,
        "21": 3,
        "22": 4,
        "23": 13,
        "24": 10,
        "25": 11,
        "26": 2,
    },
    "D2S441": {"10": 21, "11": 34, "11.3": 6, "12": 6, "13": 4, "14": 28},
    "DYS391": {"10": 55, "11": 38, "12": 7},
    "SE33": {
        "15": 4,
        "16": 5,
        "17": 7,
        "18": 8,
        "19": 8,
        "20": 6,
        "21": 5,
        "22.2": 6,
        "24.2": 6,
        "25.2": 7,
        "26.2": 7,
        "27.2": 8,
        "28.2": 9,
        "29.2": 6,
        "30.2": 4,
    },
}


class _Sampler:
    def __init__(self, rng):
        self.rng = rng
        self.tables = {m: (list(f), list(f.values())) for m, f in FREQUENCIES.items()}

    def genotype(self, marker, male):
        if marker == "Amelogenin":
            return ["X", "Y"] if male else ["X"]
        if marker == "DYS391":
            return [self.rng.choices(*self.tables[marker])[0]] if male else None
        alleles, weights = self.tables[marker]
        return sorted(set(self.rng.choices(alleles, weights, k=2)))

    def profile(self):
        rng = self.rng
        kit = rng.choices(["atcc", "pp16", "gf24"], [50, 35, 15])[0]
        male = rng.random() < 0.5
        profile = {}
        for marker in MARKER_SETS[kit]:
            alleles = self.genotype(marker, male)
            if alleles:
                profile[marker] = alleles
        if rng.random() < 0.01:  # a cell line with a third allele here and there (instability, mixture)
            for marker in rng.sample([m for m in profile if m not in ("Amelogenin", "DYS391")], 3):
                profile[marker] = sorted(set(profile[marker]) | set(self.genotype(marker, male)))
        return profile

    def conflicts(self, profile):
        marker = self.rng.choice([m for m in profile if m != "Amelogenin"])
        return {marker: [profile[marker], [profile[marker][0]]]}

    def variant_of(self, profile):
        """The same line typed again: an allele dropped or a marker missing."""
        query = {m: list(a) for m, a in profile.items()}
        markers = [m for m in query if m != "Amelogenin"]
        marker = self.rng.choice([m for m in markers if len(query[m]) > 1] or markers)
        if len(query[marker]) > 1 and (len(markers) <= 8 or self.rng.random() < 0.5):
            query[marker] = query[marker][:1]
        else:
            del query[marker]
        return query


def _percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def _fmt(seconds):
    return f"{seconds * 1000:8.1f} ms"


def run(stdout, options):
    quick = options.get("quick")
    size = 5_000 if quick else 200_000
    n_queries = 20 if quick else 100
    scan_queries = n_queries if quick else 5
    strprofiler_queries = n_queries if quick else 3
    old_config = setup_databases(verbosity=0, interactive=False, aliases=["default"])
    with (
        tempfile.TemporaryDirectory(prefix="prism-str-bench-") as cache_dir,
        # DEBUG off, as a web process runs (and as the other suites' children run): with
        # DEBUG on every query is also logged to connection.queries (~1 ms a search).
        override_settings(STR_INDEX_CACHE_DIR=cache_dir, STR_INDEX_CACHE_MIN_ENTRIES=1, DEBUG=False),
    ):
        try:
            _run(stdout, size, n_queries, scan_queries, strprofiler_queries)
        finally:
            teardown_databases(old_config, verbosity=0)


def _load(profiles):
    """The reference profiles, by COPY on PostgreSQL (bulk_create: 50 s of the run at
    200,000 profiles), else bulk_create."""
    rows = [
        {
            "accession": f"BENCH_{i:06d}",
            "name": f"Synthetic {i}",
            "str_profile": profile,
            "str_conflicts": conflicts,
            "updated_at": timezone.now(),
        }
        for i, (profile, conflicts) in enumerate(profiles)
    ]
    if connection.vendor == "postgresql":
        with transaction.atomic():
            copy_rows(ReferenceProfile, rows)
    else:
        ReferenceProfile.objects.bulk_create([ReferenceProfile(**row) for row in rows], batch_size=5000)


def _run(stdout, size, n_queries, scan_queries, strprofiler_queries):
    quick = size < 200_000

    write = stdout.write
    rng = random.Random(29)
    sampler = _Sampler(rng)
    write(
        f"database: {connection.vendor} ({connection.settings_dict['NAME']}), {size:,} synthetic profiles, "
        f"{n_queries} queries, CLASTR defaults; {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f} at start"
    )

    started = time.perf_counter()
    profiles = []
    for _ in range(size):
        profile = sampler.profile()
        conflicts = sampler.conflicts(profile) if rng.random() < 0.02 else {}
        profiles.append((profile, conflicts))
    _load(profiles)
    loaded = time.perf_counter()
    rebuild_index(chunk_size=5000)
    indexed = time.perf_counter()
    forget_index()
    with _gc_paused():  # as get_index() does
        index = ProfileIndex.load()
    built = time.perf_counter()
    index.save_cache()
    cached = time.perf_counter()
    forget_index()
    get_index()  # a new process: starts from the file cache
    from_cache = time.perf_counter()
    write(
        f"load {loaded - started:.1f} s, write index entries {indexed - loaded:.1f} s, "
        f"build in-memory index from the database {built - indexed:.1f} s, write its file cache "
        f"{cached - built:.1f} s, a new process starts from the cache in {from_cache - cached:.1f} s"
    )

    queries = []
    for i in range(n_queries):
        if i % 2 == 0:
            queries.append(normalise_profile(sampler.variant_of(profiles[rng.randrange(size)][0])))
        else:
            profile = sampler.profile()
            while sum(1 for m in profile if m != "Amelogenin") < 8:
                profile = sampler.profile()
            queries.append(normalise_profile(profile))

    # 1. The index.
    timings, answers = [], []
    search_profiles(queries[0])  # warm
    for query in queries:
        t0 = time.perf_counter()
        hits = search_profiles(query)
        timings.append(time.perf_counter() - t0)
        answers.append(hits)
    median, p95 = statistics.median(timings), _percentile(timings, 0.95)
    found = sum(1 for i, hits in enumerate(answers) if i % 2 == 0 and hits)
    write(f"load average now {os.getloadavg()[0]:.1f}")
    write(
        f"index:        median {_fmt(median)}   p95 {_fmt(p95)}   "
        f"({found}/{len(queries) // 2} re-typed lines found; mean {statistics.mean(len(a) for a in answers):.1f} hits)"
    )

    # 2. Plain scan in Python over the same profiles (already in memory).
    scan_times = []
    for query, expected in zip(queries[:scan_queries], answers, strict=False):
        t0 = time.perf_counter()
        hits = []
        for i, (profile, conflicts) in enumerate(profiles):
            result = score_with_conflicts(query, profile, conflicts)
            if result.best.markers >= 8 and result.best.score >= 60:
                hits.append((-result.best.score, -result.best.markers, i))
        hits.sort()
        scan_times.append(time.perf_counter() - t0)
        assert len(hits[:200]) == len(expected), "scan and index disagree"
    scan = statistics.median(scan_times)
    # Each comparison divides by the index's median over the same queries.
    index_on_scan = statistics.median(timings[:scan_queries])
    subset = "" if scan_queries == n_queries else f" (median of the first {scan_queries} queries)"
    write(
        f"plain scan:   median {_fmt(scan)}{subset}   index is {scan / index_on_scan:,.0f}x faster "
        f"(index on the same queries: {_fmt(index_on_scan).strip()})"
    )
    report(write, "str_search", median * 1000, note=f"{size:,} profiles", quick=quick)
    report(write, "str_vs_scan", scan / index_on_scan, quick=quick)

    # 3. STRprofiler 0.5.1's scoring API over the same profiles.
    try:
        from strprofiler.utils import score_query  # noqa: PLC0415 (optional: the bench extra)
    except ImportError:
        write("STRprofiler: not installed (pip install -e '.[bench]' installs strprofiler==0.5.1)")
    else:
        import strprofiler  # noqa: PLC0415 (optional: the bench extra)

        flat = [{m: ",".join(a) for m, a in profile.items()} for profile, _ in profiles]
        sp_times = []
        for query in queries[:strprofiler_queries]:
            q = {m: ",".join(a) for m, a in query.items()}
            t0 = time.perf_counter()
            scored = []
            for i, reference in enumerate(flat):
                s = score_query(q, reference, use_amel=False, amel_col="Amelogenin")
                if s["n_shared_markers"] >= 8 and s["tanabe_score"] >= 60:
                    scored.append((-s["tanabe_score"], i))
            scored.sort()
            sp_times.append(time.perf_counter() - t0)
        sp = statistics.median(sp_times)
        index_on_sp = statistics.median(timings[:strprofiler_queries])
        subset = "" if strprofiler_queries == n_queries else f" (median of the first {strprofiler_queries} queries)"
        version = getattr(strprofiler, "__version__", "0.5.1")
        write(
            f"STRprofiler {version}: median {_fmt(sp)}{subset}   index is {sp / index_on_sp:,.0f}x faster "
            f"(index on the same queries: {_fmt(index_on_sp).strip()})"
        )
        report(write, "str_vs_strprofiler", sp / index_on_sp, quick=quick)

    # 4. On PostgreSQL: the candidate step of a GROUP BY design, for comparison.
    if connection.vendor == "postgresql":
        _group_by(write, queries, median)


def _group_by(write, queries, index_median):
    with connection.cursor() as cursor:
        t0 = time.perf_counter()
        cursor.execute(
            "CREATE TEMP TABLE bench_str_allele AS "
            "SELECT e.id AS entry_id, m.key AS marker, a.value AS allele "
            "FROM lines_strindexentry e, jsonb_each(e.profile) m, jsonb_array_elements_text(m.value) a "
            "WHERE NOT e.removed"
        )
        cursor.execute("CREATE INDEX ON bench_str_allele (marker, allele) INCLUDE (entry_id)")
        cursor.execute("ANALYZE bench_str_allele")
        write(f"GROUP BY table: built in {time.perf_counter() - t0:.1f} s")
        times = []
        for query in queries[:20]:
            pairs = [(m, a) for m, alleles in query.items() if m != "Amelogenin" for a in alleles]
            placeholders = ",".join(["(%s,%s)"] * len(pairs))
            sql = (  # only placeholders are interpolated
                "SELECT entry_id, count(*) FROM bench_str_allele WHERE (marker, allele) IN ("  # noqa: S608
                + placeholders
                + ") GROUP BY entry_id ORDER BY count(*) DESC LIMIT 500"
            )
            t0 = time.perf_counter()
            cursor.execute(sql, [v for pair in pairs for v in pair])
            cursor.fetchall()
            times.append(time.perf_counter() - t0)
        group_by = statistics.median(times)
        write(
            f"GROUP BY (shared-allele counts only, no scoring; 20 queries): median {_fmt(group_by)}   "
            f"index is {group_by / index_median:,.1f}x faster"
        )
