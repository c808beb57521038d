"""STR similarity search across every profile the catalog holds: the queries
(`search_profiles`, `search_many`, `scan_profiles`) and what each caller may see of
their hits.

Profiles are scored against the in-memory index (lines.str.index), built from the
StrIndexEntry rows that lines.str.store keeps. A hit is shown to a caller only if
its object is one they may see and its genotype one they may see: lines from
CellLine.objects.visible_to(user), donors from lines.selectors.donors_visible_to(user),
both only where donors.disclosure opens the donor's genetic data to them;
Cellosaurus references to everyone. Hidden profiles are dropped before ranking is
cut at max_results, so a search answers as if they were not in the catalog.
"""

from dataclasses import dataclass

import numpy as np
from django.urls import NoReverseMatch, reverse

from donors.disclosure import genetic_data_visible_q
from donors.models import Donor
from lines.models import CellLine, StrIndexEntry
from lines.selectors import donors_visible_to
from lines.str.index import _Entry, get_index
from lines.str.matching import (
    DEFAULT_ALGORITHM,
    DEFAULT_MAX_RESULTS,
    DEFAULT_MIN_MARKERS,
    DEFAULT_MODE,
    DEFAULT_SCORE_FILTER,
    canonical_algorithm,
    canonical_mode,
    profile_variants,
    score_profiles,
)
from lines.str.store import DONOR, KINDS, LINE, REFERENCE

CELLOSAURUS_URL = "https://www.cellosaurus.org/{accession}"


@dataclass
class StrHit:
    kind: str
    object_id: int
    name: str
    accession: str
    score: float
    markers: int
    shared_alleles: int
    query_alleles: int
    reference_alleles: int
    mixture: bool = False
    best: dict | None = None
    worst: dict | None = None
    url: str = ""

    def as_dict(self):
        data = {
            "name": self.name,
            "accession": self.accession or None,
            "kind": self.kind,
            "object_id": self.object_id,
            "score": round(self.score, 2),
            "markers": self.markers,
            "shared_alleles": self.shared_alleles,
            "query_alleles": self.query_alleles,
            "reference_alleles": self.reference_alleles,
            "mixture": self.mixture,
            "url": self.url,
        }
        if self.best is not None:
            data["best"], data["worst"] = self.best, self.worst
        return data


def _score_entry(entry, query, *, algorithm, mode, include_amelogenin, min_markers):
    """(best, worst) StrScore over the entry's variants that reach min_markers, or None."""
    results = [
        score_profiles(query, variant, algorithm=algorithm, mode=mode, include_amelogenin=include_amelogenin)
        for variant in profile_variants(entry.profile, entry.conflicts)
    ]
    results = [r for r in results if r.markers >= min_markers]
    if not results:
        return None
    key = lambda r: (r.score, r.markers)  # noqa: E731
    return max(results, key=key), min(results, key=key), len(results) > 1


def _hit(entry, best, worst, conflicting):
    return StrHit(
        kind=entry.kind,
        object_id=entry.object_id,
        name=entry.name,
        accession=entry.accession,
        score=best.score,
        markers=best.markers,
        shared_alleles=best.shared_alleles,
        query_alleles=best.query_alleles,
        reference_alleles=best.reference_alleles,
        mixture=entry.mixture,
        best=best.as_dict() if conflicting else None,
        worst=worst.as_dict() if conflicting else None,
    )


def _rank(hit):
    return (-hit.score, -hit.markers, hit.name)


class _Exclusion:
    """What one query leaves out: (kind, object_id) pairs and/or accessions."""

    def __init__(self, *sources):
        self.keys = set()
        self.accessions = set()
        for source in sources:
            for item in source or ():
                if isinstance(item, (tuple, list)):
                    self.keys.add((item[0], int(item[1])))
                else:
                    self.accessions.add(str(item))

    def keeps(self, hit):
        return (hit.kind, hit.object_id) not in self.keys and not (hit.accession and hit.accession in self.accessions)


class _Visibility:
    """Which candidate hits the caller may see: lines and donors asked of the database,
    one query per kind for the hits of many searches at once (which also drops entries
    whose object is gone); Cellosaurus references, which everyone may see, named from
    their index entry, which every write of a reference keeps current in its
    transaction (the importer, the admin: lines.str.store). Answers are remembered,
    so a later window asks only about new objects."""

    CHUNK = 5000  # ids per IN (...) query, well under SQLite's parameter limit

    def __init__(self, user):
        if user is None:  # internal callers (the submission validator): every profile
            lines, donors = CellLine.objects.all(), Donor.objects.all()
        else:
            # An STR profile is its donor's genetic data (donors.disclosure): a line's
            # and a donor's profile are hits only where the caller may see both the
            # object and its donor's genotype.
            lines = CellLine.objects.visible_to(user).filter(genetic_data_visible_q(user, "donor__"))
            donors = donors_visible_to(user).filter(genetic_data_visible_q(user))
        self.querysets = {
            LINE: (lines, ("pk", "name", "cellosaurus_accession")),
            DONOR: (donors, ("pk", "code")),
        }
        self.known = {kind: {} for kind in KINDS}  # object_id -> (name, accession, url), or None if hidden/gone

    def look_up(self, hits):
        wanted = {kind: set() for kind in self.querysets}
        references = self.known[REFERENCE]
        for hit in hits:
            if hit.kind == REFERENCE:
                if hit.object_id not in references:
                    references[hit.object_id] = (
                        hit.name,
                        hit.accession,
                        object_url(REFERENCE, hit.object_id, hit.name, hit.accession),
                    )
            elif hit.object_id not in self.known[hit.kind]:
                wanted[hit.kind].add(hit.object_id)
        for kind, ids in wanted.items():
            if not ids:
                continue
            known = self.known[kind]
            queryset, fields = self.querysets[kind]
            ids = sorted(ids)
            for begin in range(0, len(ids), self.CHUNK):
                for row in queryset.filter(pk__in=ids[begin : begin + self.CHUNK]).values_list(*fields):
                    name, accession = row[1], (row[2] if len(row) > 2 else "") or ""
                    known[row[0]] = (name, accession, object_url(kind, row[0], name, accession))
            for object_id in ids:
                known.setdefault(object_id, None)

    def admit(self, hits):
        """Copies of the visible hits (named as the database names them now); look_up first."""
        admitted = []
        known = self.known
        for hit in hits:
            current = known[hit.kind].get(hit.object_id)
            if current is not None:
                # The constructor with every field (dataclasses.replace costs 5x more).
                admitted.append(
                    StrHit(
                        hit.kind,
                        hit.object_id,
                        current[0],
                        current[1],
                        hit.score,
                        hit.markers,
                        hit.shared_alleles,
                        hit.query_alleles,
                        hit.reference_alleles,
                        hit.mixture,
                        hit.best,
                        hit.worst,
                        current[2],
                    )
                )
        return admitted


def object_url(kind, object_id, name, accession):
    """Where a hit's entry lives: the line's or donor's page (or API record), or Cellosaurus."""
    if kind == REFERENCE:
        return CELLOSAURUS_URL.format(accession=accession)
    candidates = {
        LINE: [("line-detail", {"name": name}), ("api-line-detail", {"name": name})],
        DONOR: [("donor-detail", {"code": name}), ("api-donor-detail", {"code": name})],
    }[kind]
    for url_name, kwargs in candidates:
        try:
            return reverse(url_name, kwargs=kwargs)
        except NoReverseMatch:
            continue
    return ""


def _query_key(profile):
    """Identical query profiles are scored once; an unhashable one is its own group."""
    try:
        key = tuple(sorted((marker, tuple(alleles)) for marker, alleles in profile.items()))
        hash(key)
    except TypeError:
        return ("unhashable", id(profile))
    return key


class _RankedProfile:
    """One distinct query profile scored against the in-memory index: its candidate
    entries best first, turned into hits a window at a time."""

    def __init__(self, index, profile, *, options, min_markers, score_filter, window):
        self.index, self.profile = index, profile
        self.options, self.min_markers, self.score_filter, self.window = (
            options,
            min_markers,
            score_filter,
            window,
        )
        self.n_candidates = 0
        self.first = self._window(0)  # the window nearly every search stops at
        # Entries written since the arrays were built are scored in Python.
        self.overlay = []
        for entry in index.overlay.values():
            scored = entry and _score_entry(entry, profile, min_markers=min_markers, **options)
            if scored and scored[0].score >= score_filter:
                self.overlay.append(_hit(entry, *scored))

    def window_hits(self, number):
        # Later windows are rare (the first one's hits were hidden, gone or excluded):
        # they rescore rather than keep every query's arrays in memory meanwhile.
        return self.first if number == 0 else self._window(number)

    def _window(self, number):
        index = self.index
        if not index.n_rows:
            return []
        algorithm = self.options["algorithm"]
        counts = index.count(self.profile, self.options["mode"], self.options["include_amelogenin"])
        candidates, best = index.candidates(counts, algorithm, self.min_markers, self.score_filter)
        if index.overlay:
            alive = ~index.dead[candidates]
            candidates, best = candidates[alive], best[alive]
        self.n_candidates = len(candidates)
        begin = number * self.window
        if begin >= len(candidates):
            return []
        needed = begin + self.window
        if len(candidates) > 2 * needed:
            # Only the best `needed` are ranked: those scoring at least the needed-th best
            # score (ties included, so the order below is the order over all of them).
            cut = np.partition(best, len(best) - needed)[len(best) - needed]
            top = best >= cut
            candidates, best = candidates[top], best[top]
        first_rows = index.starts[candidates]
        order = np.lexsort((index.name_rank[candidates], -counts.markers[first_rows], -best))
        window = candidates[order][begin:needed]
        rows = index.starts[window]
        columns = (
            window.tolist(),
            index.scores(counts, algorithm, rows).tolist(),
            counts.markers[rows].tolist(),
            counts.shared[rows].tolist(),
            counts.query_alleles[rows].tolist(),
            counts.reference_alleles[rows].tolist(),
        )
        hits = []
        entries = index.entries
        for position, row_score, markers, shared, query_alleles, reference_alleles in zip(*columns, strict=True):
            entry = entries[position]
            if index.single_rows or not entry.conflicts:
                hits.append(
                    StrHit(
                        entry.kind,
                        entry.object_id,
                        entry.name,
                        entry.accession,
                        row_score,
                        markers,
                        shared,
                        query_alleles,
                        reference_alleles,
                        entry.mixture,
                    )
                )
            else:
                scored = _score_entry(entry, self.profile, min_markers=self.min_markers, **self.options)
                if scored:
                    hits.append(_hit(entry, *scored))
        return hits

    def has_window(self, number):
        return number * self.window < self.n_candidates


def search_many(
    profiles,
    *,
    algorithm=DEFAULT_ALGORITHM,
    mode=DEFAULT_MODE,
    include_amelogenin=False,
    min_markers=DEFAULT_MIN_MARKERS,
    score_filter=DEFAULT_SCORE_FILTER,
    max_results=DEFAULT_MAX_RESULTS,
    exclude=None,
    exclude_each=None,
    user=None,
):
    """search_profiles for many query profiles at once: one list of StrHit per profile, in
    the order given, each exactly what search_profiles(profile, ...) would return.

    exclude: (kind, object_id) pairs and/or accessions left out of every query's hits.
    exclude_each: a sequence as long as `profiles`, one such collection (or None) per
    query, added to `exclude` for that query (the submission validator leaves out each
    line's own donor, its lines and its parent line).

    The index is brought up to date once; identical profiles are scored once (one
    vectorised pass each); which hits exist and may be seen is asked of the database for
    all queries together, one query per kind, so a 10,000-line submission does not cost a
    query per line.
    """
    profiles = list(profiles)
    if exclude_each is None:
        exclude_each = [None] * len(profiles)
    else:
        exclude_each = list(exclude_each)
        if len(exclude_each) != len(profiles):
            raise ValueError(
                f"exclude_each has {len(exclude_each)} entries for {len(profiles)} profiles; give one per profile"
            )
    if not profiles:
        return []
    options = {
        "algorithm": canonical_algorithm(algorithm),
        "mode": canonical_mode(mode),
        "include_amelogenin": include_amelogenin,
    }
    index = get_index()
    window = max_results + 20
    visibility = _Visibility(user)

    ranked = {}
    queries = []  # (ranked profile, exclusion)
    for profile, own in zip(profiles, exclude_each, strict=True):
        key = _query_key(profile)
        if key not in ranked:
            ranked[key] = _RankedProfile(
                index,
                profile,
                options=options,
                min_markers=min_markers,
                score_filter=score_filter,
                window=window,
            )
        queries.append((ranked[key], _Exclusion(exclude, own)))

    results = [[] for _ in queries]
    active = list(range(len(queries)))
    number = 0
    while active:
        # Each query walks its candidates a window at a time, as search_profiles does,
        # until it has max_results hits; one round answers every query's next window.
        batches = {}
        for i in active:
            group, exclusion = queries[i]
            batches[i] = [hit for hit in group.window_hits(number) if exclusion.keeps(hit)]
        looked_up = [hit for batch in batches.values() for hit in batch]
        if number == 0:
            looked_up += [hit for group in ranked.values() for hit in group.overlay]
        visibility.look_up(looked_up)
        still = []
        for i in active:
            results[i].extend(visibility.admit(batches[i]))
            if len(results[i]) < max_results and queries[i][0].has_window(number + 1):
                still.append(i)
        active = still
        number += 1

    for i, (group, exclusion) in enumerate(queries):
        hits = results[i]
        hits.extend(visibility.admit([hit for hit in group.overlay if exclusion.keeps(hit)]))
        hits.sort(key=_rank)
        results[i] = hits[:max_results]
    return results


def search_profiles(
    profile,
    *,
    algorithm=DEFAULT_ALGORITHM,
    mode=DEFAULT_MODE,
    include_amelogenin=False,
    min_markers=DEFAULT_MIN_MARKERS,
    score_filter=DEFAULT_SCORE_FILTER,
    max_results=DEFAULT_MAX_RESULTS,
    exclude=None,
    user=None,
):
    """Rank every STR profile the catalog holds against `profile` (normalised), CLASTR-style.

    A hit needs at least `min_markers` scored markers and a best score ≥ `score_filter`;
    references with conflicting source profiles report `best` and `worst`.
    exclude: (kind, object_id) pairs and/or accessions to leave out (a submission's own line).
    user: whose view to search. None means every profile (internal callers such as the
    submission validator); a user sees Cellosaurus references, and the lines and donors they
    may see whose genetic data donors.disclosure opens to them (curators: all). Hidden
    profiles are left out before the max_results cut, as if they were not indexed.
    For many profiles at once use search_many.
    """
    return search_many(
        [profile],
        algorithm=algorithm,
        mode=mode,
        include_amelogenin=include_amelogenin,
        min_markers=min_markers,
        score_filter=score_filter,
        max_results=max_results,
        exclude=exclude,
        user=user,
    )[0]


def scan_profiles(
    profile,
    *,
    algorithm=DEFAULT_ALGORITHM,
    mode=DEFAULT_MODE,
    include_amelogenin=False,
    min_markers=DEFAULT_MIN_MARKERS,
    score_filter=DEFAULT_SCORE_FILTER,
    max_results=DEFAULT_MAX_RESULTS,
):
    """The plain way: score every indexed profile in Python. Same answers as
    search_profiles with user=None (tests check it); the benchmark's baseline."""
    options = {
        "algorithm": canonical_algorithm(algorithm),
        "mode": canonical_mode(mode),
        "include_amelogenin": include_amelogenin,
    }
    hits = []
    rows = StrIndexEntry.objects.filter(removed=False).values_list(
        "kind", "object_id", "name", "accession", "profile", "conflicts", "mixture"
    )
    for row in rows.iterator(chunk_size=5000):
        entry = _Entry(*row)
        scored = _score_entry(entry, profile, min_markers=min_markers, **options)
        if scored and scored[0].score >= score_filter:
            hits.append(_hit(entry, *scored))
    hits.sort(key=_rank)
    return hits[:max_results]
