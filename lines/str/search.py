"""STR similarity search across every profile the catalog holds.

The reference set is every line's and donor's STR profile and every Cellosaurus
reference profile, copied into StrIndexEntry by `reindex()` (called explicitly by
the code that writes profiles; `manage.py rebuild_str_index` rebuilds it all).

Each process keeps an inverted index in memory, built from StrIndexEntry: for every
(marker, allele) the numpy array of profile rows that carry it, and per marker the
allele count of every row. A query adds up its (marker, allele) postings to get the
shared alleles of every profile at once, and the allele and marker counts of each
scoring mode come from column sums, so no profile is scored one at a time in Python.
Measured against a GROUP BY on an indexed (marker, allele) table in PostgreSQL, this is
an order of magnitude faster at 200,000 profiles (see bench/str.py).

The index follows writes by generation (see StrIndexState): a search compares the
generation it was built at with the database's, reads only the entries written since,
and scores those few in Python until there are enough of them to rebuild.
"""

import contextlib
import gc
import os
import re
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from lines.models import StrIndexEntry, StrIndexState, StrSourceKind
from lines.str.matching import (
    AMELOGENIN,
    DEFAULT_ALGORITHM,
    DEFAULT_MAX_RESULTS,
    DEFAULT_MIN_MARKERS,
    DEFAULT_MODE,
    DEFAULT_SCORE_FILTER,
    KNOWN_MARKERS,
    MASTERS_QUERY,
    NON_EMPTY,
    QUERY_MARKERS,
    TANABE,
    ProfileError,
    StrScore,
    allele_sort_key,
    canonical_algorithm,
    canonical_marker,
    canonical_mode,
    is_possible_mixture,
    parse_alleles,
    profile_variants,
    score_profiles,
)

LINE, DONOR, REFERENCE = StrSourceKind.LINE, StrSourceKind.DONOR, StrSourceKind.REFERENCE
KINDS = (LINE, DONOR, REFERENCE)

# Entries written since the in-memory index was built are scored in Python; past
# this many the index is rebuilt instead.
OVERLAY_LIMIT = 2000

CELLOSAURUS_URL = "https://www.cellosaurus.org/{accession}"


@contextlib.contextmanager
def _gc_paused():
    """Loading an index creates millions of small containers; the cyclic garbage
    collector would rescan them over and over (most of the load time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _cache_min_entries():
    """Indexes at least this large are cached on disk for new processes (settings
    STR_INDEX_CACHE_MIN_ENTRIES; STR_INDEX_CACHE_DIR says where)."""
    return settings.STR_INDEX_CACHE_MIN_ENTRIES


# ---------------------------------------------------------------------------
# Keeping the index current (explicit calls from the code that writes profiles)
# ---------------------------------------------------------------------------

_parsed_cache = {}


def _parse_stored(name, value):
    """(marker, alleles) of one stored marker; memoised, because genotypes repeat a lot
    across a large reference set and rebuilding the index parses millions of them."""
    key = (name, tuple(value) if isinstance(value, list) else value)
    try:
        marker, alleles = _parsed_cache[key]
    except (KeyError, TypeError):
        marker = canonical_marker(name) or str(name).strip()
        try:
            alleles = tuple(parse_alleles(marker, value))
        except ProfileError:
            alleles = None
        if len(_parsed_cache) < 200_000:
            with contextlib.suppress(TypeError):
                _parsed_cache[key] = (marker, alleles)
    return marker, (list(alleles) if alleles is not None else None)


def _stored_profile(raw):
    """A stored profile as the search reads it. Stored profiles are normalised already;
    a marker whose alleles do not parse is left out rather than failing the write."""
    profile = {}
    for name, value in (raw or {}).items():
        marker, alleles = _parse_stored(name, value)
        if alleles:
            if marker in profile:
                alleles = sorted(set(profile[marker]) | set(alleles), key=allele_sort_key)
            profile[marker] = alleles
    return profile


def _stored_conflicts(raw):
    conflicts = {}
    for name, options in (raw or {}).items():
        marker = canonical_marker(name) or str(name).strip()
        cleaned = []
        for option in options or ():
            try:
                alleles = parse_alleles(marker, option)
            except ProfileError:
                continue
            if alleles and alleles not in cleaned:
                cleaned.append(alleles)
        if len(cleaned) > 1:
            conflicts[marker] = cleaned
    return conflicts


def entry_fields(kind, obj):
    """What the index keeps of a line, donor or reference profile."""
    if kind == LINE:
        name, accession = obj.name, obj.cellosaurus_accession or ""
        raw_profile, raw_conflicts = obj.str_profile, obj.str_conflicts
    elif kind == DONOR:
        name, accession = obj.code, ""
        raw_profile, raw_conflicts = obj.str_profile, {}
    elif kind == REFERENCE:
        name, accession = obj.name, obj.accession
        raw_profile, raw_conflicts = obj.str_profile, obj.str_conflicts
    else:
        raise ValueError(f"unknown STR source kind {kind!r}")
    profile = _stored_profile(raw_profile)
    conflicts = _stored_conflicts(raw_conflicts) if profile else {}
    return {
        "name": name[:200],
        "accession": accession[:20],
        "profile": profile,
        "conflicts": conflicts,
        "mixture": is_possible_mixture(profile),
        "removed": not profile,
    }


def _next_generation():
    """Bump the index generation inside the caller's transaction. The UPDATE holds the
    row lock until commit, so generations become visible in the order they were given.
    A clock floor keeps them growing even after a rollback or a database restore."""
    floor = Value(time.time_ns() // 1000)
    if not StrIndexState.objects.filter(pk=1).update(generation=Greatest(F("generation") + 1, floor)):
        StrIndexState.objects.get_or_create(pk=1)
        StrIndexState.objects.filter(pk=1).update(generation=Greatest(F("generation") + 1, floor))
    return StrIndexState.objects.values_list("generation", flat=True).get(pk=1)


_UPDATE_FIELDS = ["name", "accession", "profile", "conflicts", "mixture", "removed", "generation"]


def reindex_many(kind, objects, *, batch_size=2000):
    """Index (or re-index) the STR profiles of many objects of one kind in one go.

    kind: "line" (CellLine), "donor" (Donor) or "reference" (ReferenceProfile).
    An object whose profile is empty is marked removed. Call it inside the
    transaction that writes the profiles, so both commit together.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown STR source kind {kind!r}")
    objects = list(objects)
    if not objects:
        return 0
    with transaction.atomic():
        generation = _next_generation()
        rows = [
            StrIndexEntry(kind=kind, object_id=obj.pk, generation=generation, **entry_fields(kind, obj))
            for obj in objects
        ]
        StrIndexEntry.objects.bulk_create(
            rows, batch_size=batch_size, update_conflicts=True,
            unique_fields=["kind", "object_id"], update_fields=_UPDATE_FIELDS,
        )
    return len(rows)


def reindex(kind, obj):
    """Index the STR profile of one line, donor or reference after it was written."""
    return reindex_many(kind, [obj])


def unindex(kind, object_ids):
    """Take objects out of the search (call before or after deleting them)."""
    object_ids = list(object_ids)
    if not object_ids:
        return 0
    with transaction.atomic():
        generation = _next_generation()
        return StrIndexEntry.objects.filter(kind=kind, object_id__in=object_ids).update(
            removed=True, profile={}, conflicts={}, generation=generation
        )


_SOURCE_FIELDS = {
    LINE: ("pk", "name", "cellosaurus_accession", "str_profile", "str_conflicts"),
    DONOR: ("pk", "code", "str_profile"),
    REFERENCE: ("pk", "name", "accession", "str_profile", "str_conflicts"),
}


def _source_rows(chunk_size):
    """(kind, light object) for every stored profile; plain rows rather than model
    instances, which cost more than the rest of a rebuild at Cellosaurus scale."""
    from types import SimpleNamespace

    from donors.models import Donor
    from lines.models import CellLine, ReferenceProfile

    models_by_kind = {LINE: CellLine, DONOR: Donor, REFERENCE: ReferenceProfile}
    for kind, fields in _SOURCE_FIELDS.items():
        rows = models_by_kind[kind].objects.exclude(str_profile={}).values_list(*fields)
        for row in rows.iterator(chunk_size=chunk_size):
            yield kind, SimpleNamespace(**dict(zip(fields, row, strict=True)))


def _insert_entries(rows):
    """Plain upserts for a rebuild: at Cellosaurus scale the ORM's per-field work
    dominates the time."""
    import orjson
    from django.db import connection

    table = StrIndexEntry._meta.db_table
    columns = "kind, object_id, name, accession, profile, conflicts, mixture, removed, generation"
    upsert = "ON CONFLICT (kind, object_id) DO UPDATE SET " + ", ".join(
        f"{c} = excluded.{c}" for c in _UPDATE_FIELDS)
    values = [
        (r["kind"], r["object_id"], r["name"], r["accession"], orjson.dumps(r["profile"]).decode(),
         orjson.dumps(r["conflicts"]).decode(), r["mixture"], r["removed"], r["generation"])
        for r in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            from psycopg2.extras import execute_values

            execute_values(cursor.cursor, f"INSERT INTO {table} ({columns}) VALUES %s {upsert}", values, page_size=2000)  # noqa: S608
        else:
            cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 9)}) {upsert}", values)  # noqa: S608


def rebuild_index(*, chunk_size=5000, log=None):
    """Re-create every index entry from the lines, donors and references. Returns counts.

    Every entry is first marked removed and then rewritten from its source, all
    under one new generation, so processes holding an index in memory learn about
    profiles that are gone as well as about new ones."""
    with transaction.atomic():
        generation = _next_generation()
        StrIndexEntry.objects.update(removed=True, profile={}, conflicts={}, generation=generation)
        counts = dict.fromkeys(KINDS, 0)
        batch = []
        for kind, obj in _source_rows(chunk_size):
            fields = entry_fields(kind, obj)
            if not fields["removed"]:
                batch.append({"kind": kind, "object_id": obj.pk, "generation": generation, **fields})
                counts[kind] += 1
            if len(batch) >= chunk_size:
                _insert_entries(batch)
                batch = []
        _insert_entries(batch)
        if log:
            for kind, total in counts.items():
                log(f"{kind}: {total} profiles indexed")
    forget_index()
    return counts


# ---------------------------------------------------------------------------
# The in-memory index
# ---------------------------------------------------------------------------

@dataclass
class _Entry:
    kind: str
    object_id: int
    name: str
    accession: str
    profile: dict
    conflicts: dict
    mixture: bool


class _Counts:
    """Per-row allele and marker counts of one query against every row."""

    __slots__ = ("shared", "query_alleles", "reference_alleles", "markers")


class ProfileIndex:
    """An inverted index of STR profiles. Rows are profile variants (one per profile
    without conflicts), contiguous per entry.

    postings: (marker column, allele) -> a slice of `posting_rows`, the rows carrying it.
    Per row and block of 64 markers: a bitmask of the markers present, and the allele
    count of each marker as three bit planes, so the marker and allele counts of a
    scoring mode are a handful of AND + popcount passes instead of a pass per marker.
    """

    PLANES = 3  # allele counts up to 7 per marker; a real profile has at most 4

    def __init__(self, entries, generation, arrays=None):
        self.generation = generation
        self.entries = entries
        self.position = {(e.kind, e.object_id): i for i, e in enumerate(entries)}
        self.dead = np.zeros(len(entries), dtype=bool)
        self.overlay = {}  # (kind, object_id) -> _Entry or None (removed), newer than the arrays
        self.arrays = arrays if arrays is not None else self._build(entries)
        self._derive(self.arrays)
        # The arrays answer for every profile without conflicts; only conflicting ones
        # are rescored in Python, so only they keep their profile in memory.
        for entry in entries:
            if not entry.conflicts:
                entry.profile = None

    @classmethod
    def _build(cls, entries):
        cols = {marker: i for i, marker in enumerate(KNOWN_MARKERS)}
        pair_ids = {}
        cell_rows, cell_cols, cell_n, post_rows, post_pairs, starts = [], [], [], [], [], []
        row = 0
        for entry in entries:
            starts.append(row)
            for variant in (profile_variants(entry.profile, entry.conflicts) if entry.conflicts else (entry.profile,)):
                for marker, alleles in variant.items():
                    col = cols.get(marker)
                    if col is None:
                        col = cols[marker] = len(cols)
                    cell_rows.append(row)
                    cell_cols.append(col)
                    cell_n.append(len(alleles))
                    for allele in alleles:
                        key = (col, allele)
                        pair = pair_ids.get(key)
                        if pair is None:
                            pair = pair_ids[key] = len(pair_ids)
                        post_pairs.append(pair)
                        post_rows.append(row)
                row += 1
        n = row
        # Ties in score and markers rank by name, as everywhere else (_rank).
        name_rank = np.empty(len(entries), dtype=np.int64)
        name_rank[np.argsort(np.asarray([e.name for e in entries], dtype=object), kind="stable")] = np.arange(
            len(entries))
        pairs = np.asarray(post_pairs, dtype=np.int32)
        order = np.argsort(pairs, kind="stable")
        blocks = (len(cols) + 63) // 64
        present = np.zeros((blocks, n), dtype=np.uint64)
        planes = np.zeros((blocks, cls.PLANES, n), dtype=np.uint64)
        c_rows = np.asarray(cell_rows, dtype=np.int64)
        c_cols = np.asarray(cell_cols, dtype=np.int64)
        c_n = np.minimum(np.asarray(cell_n, dtype=np.int64), 2 ** cls.PLANES - 1)
        for block in range(blocks):
            in_block = (c_cols // 64) == block
            rows_b = c_rows[in_block]
            bits = np.left_shift(np.uint64(1), (c_cols[in_block] % 64).astype(np.uint64))
            # A row has each marker once, so adding the bits is OR-ing them.
            np.add.at(present[block], rows_b, bits)
            for plane in range(cls.PLANES):
                has = ((c_n[in_block] >> plane) & 1).astype(bool)
                np.add.at(planes[block, plane], rows_b[has], bits[has])
        return {
            "marker_cols": cols,
            "posting_keys": list(pair_ids),
            "posting_bounds": np.searchsorted(pairs[order], np.arange(len(pair_ids) + 1)),
            "posting_rows": np.asarray(post_rows, dtype=np.int32)[order],
            "starts": np.asarray(starts, dtype=np.int64),
            "name_rank": name_rank,
            "present": present,
            "planes": planes,
        }

    def _derive(self, arrays):
        self.marker_cols = arrays["marker_cols"]
        self.starts = arrays["starts"]
        self.name_rank = arrays["name_rank"]
        self.posting_rows = arrays["posting_rows"]
        self.present = arrays["present"]
        self.planes = arrays["planes"]
        self.n_rows = self.present.shape[1]
        self.single_rows = self.n_rows == len(self.entries)
        self.blocks = self.present.shape[0]
        bounds = arrays["posting_bounds"].tolist()
        self.postings = {
            (col, allele): (bounds[i], bounds[i + 1]) for i, (col, allele) in enumerate(arrays["posting_keys"])
        }
        amelogenin = self.marker_cols[AMELOGENIN]
        self.amelogenin = np.zeros(self.blocks, dtype=np.uint64)
        self.amelogenin[amelogenin // 64] = np.uint64(1) << np.uint64(amelogenin % 64)
        everything = np.full(self.blocks, np.iinfo(np.uint64).max, dtype=np.uint64)
        self.total_alleles, self.total_markers = {}, {}
        for include in (True, False):
            mask = everything if include else everything & ~self.amelogenin
            self.total_markers[include] = self._popcount(self.present, mask)
            self.total_alleles[include] = self._allele_sum(mask)

    # -- a file cache, so a new process does not rebuild a large index ---------

    @staticmethod
    def _cache_dir():
        base = settings.STR_INDEX_CACHE_DIR
        database = re.sub(r"[^A-Za-z0-9_.-]", "_", str(connection.settings_dict["NAME"]))[-80:]
        return Path(base) / database

    def save_cache(self):
        """Write the arrays and entries for other processes (atomic rename; keeps the 3 newest)."""
        import orjson

        if len(self.entries) < _cache_min_entries():
            return None
        directory = self._cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / f"{self.generation}"
        arrays = {k: v for k, v in self.arrays.items() if isinstance(v, np.ndarray)}
        meta = {
            "marker_cols": self.arrays["marker_cols"],
            "posting_keys": self.arrays["posting_keys"],
            "entries": [[e.kind, e.object_id, e.name, e.accession, e.profile if e.conflicts else None,
                         e.conflicts, e.mixture] for e in self.entries],
        }
        token = f".{os.getpid()}.{threading.get_ident()}.tmp"
        with open(f"{stem}.npz{token}", "wb") as handle:
            np.savez(handle, **arrays)
        Path(f"{stem}.json{token}").write_bytes(orjson.dumps(meta))
        os.replace(f"{stem}.npz{token}", f"{stem}.npz")
        os.replace(f"{stem}.json{token}", f"{stem}.json")  # the .json marks the pair complete
        for old in sorted(directory.glob("*.json"), key=lambda p: int(p.stem), reverse=True)[3:]:
            for path in (old, old.with_suffix(".npz")):
                with contextlib.suppress(OSError):
                    path.unlink()
        return stem

    @classmethod
    def from_cache(cls, max_generation):
        """The newest cached index at or before `max_generation`, or None."""
        import orjson

        directory = cls._cache_dir()
        if not directory.is_dir():
            return None
        generations = sorted(
            (int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit() and int(p.stem) <= max_generation),
            reverse=True)
        for generation in generations[:1]:
            try:
                meta = orjson.loads((directory / f"{generation}.json").read_bytes())
                with np.load(directory / f"{generation}.npz") as stored:
                    arrays = {key: stored[key] for key in stored.files}
            except (OSError, ValueError, KeyError):
                return None
            arrays["marker_cols"] = meta["marker_cols"]
            arrays["posting_keys"] = [tuple(key) for key in meta["posting_keys"]]
            entries = [_Entry(*row) for row in meta["entries"]]
            return cls(entries, generation, arrays)
        return None

    @staticmethod
    def _popcount(words, mask):
        total = None
        for block, word_mask in enumerate(mask):
            if not word_mask:
                continue
            counted = np.bitwise_count(words[block] & word_mask).astype(np.int16)
            total = counted if total is None else total + counted
        return total if total is not None else np.zeros(words.shape[-1], dtype=np.int16)

    def _allele_sum(self, mask):
        total = np.zeros(self.n_rows, dtype=np.int16)
        for plane in range(self.PLANES):
            total += self._popcount(self.planes[:, plane], mask) << plane
        return total

    @classmethod
    def load(cls):
        import orjson
        from django.db import connection

        generation = current_generation()
        as_text = "::text" if connection.vendor == "postgresql" else ""
        table = StrIndexEntry._meta.db_table
        entries = []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT kind, object_id, name, accession, profile{as_text}, conflicts{as_text}, mixture "  # noqa: S608
                f"FROM {table} WHERE NOT removed ORDER BY id")
            while batch := cursor.fetchmany(10000):
                for kind, object_id, name, accession, profile, conflicts, mixture in batch:
                    entries.append(_Entry(kind, object_id, name, accession, orjson.loads(profile),
                                          orjson.loads(conflicts) if conflicts not in ("{}", None) else {},
                                          bool(mixture)))
        return cls(entries, generation)

    def apply(self, changed, generation):
        """Entries written since the index was built: they replace what the arrays hold."""
        for e in changed:
            key = (e["kind"], e["object_id"])
            if key in self.position:
                self.dead[self.position[key]] = True
            self.overlay[key] = None if e["removed"] else _Entry(
                e["kind"], e["object_id"], e["name"], e["accession"], e["profile"], e["conflicts"], e["mixture"])
        self.generation = generation

    # -- scoring ------------------------------------------------------------

    def count(self, query, mode, include_amelogenin):
        """Shared alleles, query and reference allele counts and marker counts of every row."""
        n = self.n_rows
        query_mask = np.zeros(self.blocks, dtype=np.uint64)
        by_size = {}  # allele count -> mask of query markers with that many alleles
        slices = []
        query_only_alleles = query_only_markers = 0
        for marker, alleles in query.items():
            if marker == AMELOGENIN and not include_amelogenin:
                continue
            col = self.marker_cols.get(marker)
            if col is None:  # no indexed profile has this marker
                query_only_alleles += len(alleles)
                query_only_markers += 1
                continue
            bit = np.uint64(1) << np.uint64(col % 64)
            query_mask[col // 64] |= bit
            if alleles:
                by_size.setdefault(len(alleles), np.zeros(self.blocks, dtype=np.uint64))[col // 64] |= bit
            for allele in alleles:
                span = self.postings.get((col, allele))
                if span is not None:
                    slices.append(self.posting_rows[span[0]:span[1]])
        if slices:
            shared = np.bincount(np.concatenate(slices), minlength=n).astype(np.int16)
        else:
            shared = np.zeros(n, dtype=np.int16)

        def query_alleles_where_present():
            total = np.zeros(n, dtype=np.int16)
            for size, mask in by_size.items():
                total += self._popcount(self.present, mask) * np.int16(size)
            return total

        if mode == NON_EMPTY:
            markers = self._popcount(self.present, query_mask)
            query_alleles = query_alleles_where_present()
            reference_alleles = self._allele_sum(query_mask)
        elif mode == QUERY_MARKERS:
            markers = np.full(n, int(sum(np.bitwise_count(query_mask))) + query_only_markers, dtype=np.int16)
            query_alleles = np.full(
                n, sum(size * int(sum(np.bitwise_count(mask))) for size, mask in by_size.items())
                + query_only_alleles, dtype=np.int16)
            reference_alleles = self._allele_sum(query_mask)
        else:
            markers = self.total_markers[include_amelogenin]
            query_alleles = query_alleles_where_present()
            reference_alleles = self.total_alleles[include_amelogenin]
        counts = _Counts()
        counts.shared, counts.query_alleles = shared, query_alleles
        counts.reference_alleles, counts.markers = reference_alleles, markers
        return counts

    def scores(self, counts, algorithm):
        shared = counts.shared.astype(np.float64)
        if algorithm == TANABE:
            denominator = counts.query_alleles.astype(np.float64) + counts.reference_alleles
            shared *= 2.0
        elif algorithm == MASTERS_QUERY:
            denominator = counts.query_alleles.astype(np.float64)
        else:
            denominator = counts.reference_alleles.astype(np.float64)
        score = np.zeros(self.n_rows, dtype=np.float64)
        np.divide(shared * 100.0, denominator, out=score, where=denominator > 0)
        return score


_index = None
_index_lock = threading.Lock()


def current_generation():
    return StrIndexState.objects.filter(pk=1).values_list("generation", flat=True).first() or 0


def forget_index():
    """Drop this process's in-memory index; the next search rebuilds it."""
    global _index
    with _index_lock:
        _index = None


def _load_and_cache():
    index = ProfileIndex.load()
    with contextlib.suppress(OSError):  # a read-only or full disk only costs the next process a rebuild
        index.save_cache()
    return index


def get_index():
    """This process's index, brought up to date with the database."""
    global _index
    with _index_lock:
        generation = current_generation()
        index = _index
        if index is None or generation < index.generation:
            # First use, or the generation went backwards (a restore, a rolled-back test):
            # start from the newest cached index at or before it, else from the database.
            with _gc_paused():
                index = _index = ProfileIndex.from_cache(generation) or _load_and_cache()
        if generation > index.generation:
            changed = list(StrIndexEntry.objects.filter(generation__gt=index.generation).values(
                "kind", "object_id", "name", "accession", "profile", "conflicts", "mixture", "removed"
            )[: OVERLAY_LIMIT + 1])
            if len(changed) + len(index.overlay) > OVERLAY_LIMIT:
                with _gc_paused():
                    index = _index = _load_and_cache()
            else:
                index.apply(changed, generation)
        return index


# ---------------------------------------------------------------------------
# Searching
# ---------------------------------------------------------------------------

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
        kind=entry.kind, object_id=entry.object_id, name=entry.name, accession=entry.accession,
        score=best.score, markers=best.markers, shared_alleles=best.shared_alleles,
        query_alleles=best.query_alleles, reference_alleles=best.reference_alleles, mixture=entry.mixture,
        best=best.as_dict() if conflicting else None, worst=worst.as_dict() if conflicting else None,
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
    """Which candidate hits the caller may see, asked of the database one query per kind
    for the hits of many searches at once (which also drops entries whose object is
    gone). Answers are remembered, so a later window asks only about new objects."""

    CHUNK = 5000  # ids per IN (...) query, well under SQLite's parameter limit

    def __init__(self, user):
        from donors.models import Donor
        from lines.models import CellLine, ReferenceProfile

        lines = CellLine.objects.all() if user is None else CellLine.objects.visible_to(user)
        donors = Donor.objects.all()
        if user is not None:
            from core.roles import is_curator

            if not is_curator(user):
                # A donor's STR is genetic data: shown only where consent opens it to everyone.
                donors = Donor.objects.visible_to(user).filter(consent__genetic_data="open")
        self.querysets = {
            LINE: (lines, ("pk", "name", "cellosaurus_accession")),
            DONOR: (donors, ("pk", "code")),
            REFERENCE: (ReferenceProfile.objects.all(), ("pk", "name", "accession")),
        }
        self.known = {kind: {} for kind in KINDS}  # object_id -> (name, accession, url), or None if hidden/gone

    def look_up(self, hits):
        wanted = {kind: set() for kind in KINDS}
        for hit in hits:
            if hit.object_id not in self.known[hit.kind]:
                wanted[hit.kind].add(hit.object_id)
        for kind, ids in wanted.items():
            if not ids:
                continue
            known = self.known[kind]
            queryset, fields = self.querysets[kind]
            ids = sorted(ids)
            for begin in range(0, len(ids), self.CHUNK):
                for row in queryset.filter(pk__in=ids[begin:begin + self.CHUNK]).values_list(*fields):
                    name, accession = row[1], (row[2] if len(row) > 2 else "") or ""
                    known[row[0]] = (name, accession, object_url(kind, row[0], name, accession))
            for object_id in ids:
                known.setdefault(object_id, None)

    def admit(self, hits):
        """Copies of the visible hits (named as the database names them now); look_up first."""
        admitted = []
        for hit in hits:
            current = self.known[hit.kind].get(hit.object_id)
            if current is not None:
                admitted.append(replace(hit, name=current[0], accession=current[1], url=current[2]))
        return admitted


def object_url(kind, object_id, name, accession):
    """Where a hit's entry lives: the line's or donor's page (or API record), or Cellosaurus."""
    from django.urls import NoReverseMatch, reverse

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
        self.options, self.min_markers, self.score_filter, self.window = options, min_markers, score_filter, window
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
        counts = index.count(self.profile, self.options["mode"], self.options["include_amelogenin"])
        score = index.scores(counts, self.options["algorithm"])
        score[counts.markers < self.min_markers] = -1.0
        best = score if index.single_rows else np.maximum.reduceat(score, index.starts)
        if index.overlay:
            best = np.where(index.dead, -1.0, best)
        candidates = np.flatnonzero(best >= self.score_filter)
        self.n_candidates = len(candidates)
        begin = number * self.window
        if begin >= len(candidates):
            return []
        first_rows = index.starts[candidates]
        order = np.lexsort((index.name_rank[candidates], -counts.markers[first_rows], -best[candidates]))
        hits = []
        for position in candidates[order][begin:begin + self.window].tolist():
            entry = index.entries[position]
            if index.single_rows or not entry.conflicts:
                row = int(index.starts[position])
                result = StrScore(float(score[row]), int(counts.shared[row]), int(counts.query_alleles[row]),
                                  int(counts.reference_alleles[row]), int(counts.markers[row]))
                hits.append(_hit(entry, result, result, False))
            else:
                scored = _score_entry(entry, self.profile, min_markers=self.min_markers, **self.options)
                if scored:
                    hits.append(_hit(entry, *scored))
        return hits

    def has_window(self, number):
        return number * self.window < self.n_candidates


def search_many(profiles, *, algorithm=DEFAULT_ALGORITHM, mode=DEFAULT_MODE, include_amelogenin=False,
                min_markers=DEFAULT_MIN_MARKERS, score_filter=DEFAULT_SCORE_FILTER,
                max_results=DEFAULT_MAX_RESULTS, exclude=None, exclude_each=None, user=None):
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
                f"exclude_each has {len(exclude_each)} entries for {len(profiles)} profiles; give one per profile")
    if not profiles:
        return []
    options = {"algorithm": canonical_algorithm(algorithm), "mode": canonical_mode(mode),
               "include_amelogenin": include_amelogenin}
    index = get_index()
    window = max_results + 20
    visibility = _Visibility(user)

    ranked = {}
    queries = []  # (ranked profile, exclusion)
    for profile, own in zip(profiles, exclude_each, strict=True):
        key = _query_key(profile)
        if key not in ranked:
            ranked[key] = _RankedProfile(index, profile, options=options, min_markers=min_markers,
                                         score_filter=score_filter, window=window)
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


def search_profiles(profile, *, algorithm=DEFAULT_ALGORITHM, mode=DEFAULT_MODE, include_amelogenin=False,
                    min_markers=DEFAULT_MIN_MARKERS, score_filter=DEFAULT_SCORE_FILTER,
                    max_results=DEFAULT_MAX_RESULTS, exclude=None, user=None):
    """Rank every STR profile the catalog holds against `profile` (normalised), CLASTR-style.

    A hit needs at least `min_markers` scored markers and a best score ≥ `score_filter`;
    references with conflicting source profiles report `best` and `worst`.
    exclude: (kind, object_id) pairs and/or accessions to leave out (a submission's own line).
    user: whose view to search. None means every profile (internal callers such as the
    submission validator); a user sees the lines CellLine.objects.visible_to(user) returns,
    Cellosaurus references, and (curators aside) only donors whose consent opens genetic data.
    For many profiles at once use search_many.
    """
    return search_many([profile], algorithm=algorithm, mode=mode, include_amelogenin=include_amelogenin,
                       min_markers=min_markers, score_filter=score_filter, max_results=max_results,
                       exclude=exclude, user=user)[0]


def scan_profiles(profile, *, algorithm=DEFAULT_ALGORITHM, mode=DEFAULT_MODE, include_amelogenin=False,
                  min_markers=DEFAULT_MIN_MARKERS, score_filter=DEFAULT_SCORE_FILTER,
                  max_results=DEFAULT_MAX_RESULTS):
    """The plain way: score every indexed profile in Python. Same answers as
    search_profiles with user=None (tests check it); the benchmark's baseline."""
    options = {"algorithm": canonical_algorithm(algorithm), "mode": canonical_mode(mode),
               "include_amelogenin": include_amelogenin}
    hits = []
    rows = StrIndexEntry.objects.filter(removed=False).values_list(
        "kind", "object_id", "name", "accession", "profile", "conflicts", "mixture")
    for row in rows.iterator(chunk_size=5000):
        entry = _Entry(*row)
        scored = _score_entry(entry, profile, min_markers=min_markers, **options)
        if scored and scored[0].score >= score_filter:
            hits.append(_hit(entry, *scored))
    hits.sort(key=_rank)
    return hits[:max_results]
