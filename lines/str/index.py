"""The in-memory STR index each process searches, and its file cache.

Each process keeps an inverted index in memory, built from StrIndexEntry (see
lines.str.store): for every (marker, allele) the profile rows that carry it (as a
bitset for a common allele, as an array of rows for a rare one), and per marker the
allele count of every row. A query adds up its (marker, allele) postings to get the
shared alleles of every profile at once (the bitsets in bit-sliced form, a few
word-wide operations each), and the allele and marker counts of each scoring mode
come from popcounts over per-row marker bitmasks, so no profile is scored one at a
time in Python. Measured against a GROUP BY on an
indexed (marker, allele) table in PostgreSQL, this is an order of magnitude faster
at 200,000 profiles (see bench/str.py).

The index follows writes by generation (see StrIndexState): `get_index()` compares
the generation it was built at with the database's, reads only the entries written
since (the overlay, scored in Python by lines.str.search) until there are enough of
them to rebuild. Large indexes are cached on disk so a new process need not rebuild.
"""

import contextlib
import gc
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from django.conf import settings
from django.db import connection

from lines.models import StrIndexEntry, StrIndexState
from lines.str.matching import (
    AMELOGENIN,
    KNOWN_MARKERS,
    MASTERS_QUERY,
    NON_EMPTY,
    QUERY_MARKERS,
    TANABE,
    profile_variants,
)

# The word of the posting bitsets, little-endian so that unpacking its bytes with
# bitorder="little" gives the rows in order on any machine.
BIT_WORD = np.dtype("<u8")

# Entries written since the in-memory index was built are scored in Python; past
# this many the index is rebuilt instead.
OVERLAY_LIMIT = 2000


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

    postings: (marker column, allele) -> the rows carrying it: a row of `posting_bits`
    (a bitset over rows) for an allele of at least n_rows / DENSE rows, else a slice of
    `posting_rows`.
    Per row and block of 64 markers: a bitmask of the markers present, and the allele
    count of each marker as three bit planes, so the marker and allele counts of a
    scoring mode are a handful of AND + popcount passes instead of a pass per marker.
    """

    PLANES = 3  # allele counts up to 7 per marker; a real profile has at most 4
    DENSE = 32  # postings of at least n_rows / DENSE rows are kept as bitsets too

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
            for variant in profile_variants(entry.profile, entry.conflicts) if entry.conflicts else (entry.profile,):
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
            len(entries)
        )
        pairs = np.asarray(post_pairs, dtype=np.int32)
        order = np.argsort(pairs, kind="stable")
        blocks = (len(cols) + 63) // 64
        present = np.zeros((blocks, n), dtype=np.uint64)
        planes = np.zeros((blocks, cls.PLANES, n), dtype=np.uint64)
        c_rows = np.asarray(cell_rows, dtype=np.int64)
        c_cols = np.asarray(cell_cols, dtype=np.int64)
        c_n = np.minimum(np.asarray(cell_n, dtype=np.int64), 2**cls.PLANES - 1)
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
        if self.present.shape[0] == 1 and len(self.marker_cols) <= 32:
            # Every marker fits the low half of the word: 32-bit words halve what each
            # popcount pass reads (the 64-bit arrays stay in self.arrays for the cache).
            self.present = self.present.astype(np.uint32)
            self.planes = self.planes.astype(np.uint32)
        self.n_rows = self.present.shape[1]
        self.single_rows = self.n_rows == len(self.entries)
        self.blocks = self.present.shape[0]
        self.postings = {}  # (col, allele) -> ("bits", row of posting_bits) or ("rows", start, end)
        self.posting_bits = self._posting_bits(arrays["posting_keys"], arrays["posting_bounds"])
        # The entry of each row (an entry with conflict variants has several).
        self.row_entry = (
            np.arange(self.n_rows, dtype=np.int64)
            if self.single_rows
            else np.searchsorted(self.starts, np.arange(self.n_rows), side="right") - 1
        )
        # Per block and plane, the markers any row has that bit of its allele count for.
        self.plane_used = np.bitwise_or.reduce(arrays["planes"], axis=2)
        amelogenin = self.marker_cols[AMELOGENIN]
        self.amelogenin = np.zeros(self.blocks, dtype=np.uint64)
        self.amelogenin[amelogenin // 64] = np.uint64(1) << np.uint64(amelogenin % 64)
        everything = np.full(self.blocks, np.iinfo(np.uint64).max, dtype=np.uint64)
        self.total_alleles, self.total_markers = {}, {}
        for include in (True, False):
            mask = everything if include else everything & ~self.amelogenin
            self.total_markers[include] = self._popcount(self.present, mask)
            self.total_alleles[include] = self._allele_sum(mask)

    def _posting_bits(self, keys, bounds):
        """The postings as `self.postings` finds them: a common allele's rows as a bitset
        (little-endian 64-bit words, bit r % 64 of word r // 64; one row of the array
        returned), a rare one's as its slice of `posting_rows` (a bitset costs n_rows / 8
        bytes whatever it holds: only postings of at least n_rows / DENSE rows get one, so
        the bitsets take at most DENSE / 8 bytes per posting entry)."""
        words = (self.n_rows + 63) // 64
        dense = []
        for i, key in enumerate(keys):
            start, end = int(bounds[i]), int(bounds[i + 1])
            if (end - start) * self.DENSE >= self.n_rows:
                self.postings[tuple(key)] = ("bits", len(dense))
                marked = np.zeros(words * 64, dtype=bool)
                marked[self.posting_rows[start:end]] = True
                dense.append(np.packbits(marked, bitorder="little"))
            else:
                self.postings[tuple(key)] = ("rows", start, end)
        if not dense:
            return np.zeros((0, words), dtype=BIT_WORD)
        return np.stack(dense).view(BIT_WORD)

    def shared_alleles(self, postings):
        """Per row, how many of `postings` carry it. The bitsets are added up in
        bit-sliced form (a ripple-carry adder over bit planes: a few word-wide operations
        per posting, where counting its rows one by one touches each of them) and then
        unpacked; the rare alleles' rows are added one by one."""
        bits = self.posting_bits
        dense = [posting[1] for posting in postings if posting[0] == "bits"]
        planes = [np.zeros(bits.shape[1], dtype=BIT_WORD) for _ in range(len(dense).bit_length())]
        for added, row in enumerate(dense, start=1):
            carry = bits[row]
            # After `added` postings the sum fits in added.bit_length() planes.
            for plane in range(added.bit_length()):
                total = planes[plane]
                planes[plane] = total ^ carry
                carry = total & carry
        low = np.zeros(bits.shape[1] * 64, dtype=np.uint8)  # the first 8 planes, as bytes
        shared = None
        for plane, word in enumerate(planes):
            unpacked = np.unpackbits(word.view(np.uint8), bitorder="little")
            if plane < 8:
                np.left_shift(unpacked, plane, out=unpacked)
                np.bitwise_or(low, unpacked, out=low)
            else:  # more than 255 postings: a query of hundreds of alleles
                shared = (shared if shared is not None else low.astype(np.int16)) + (unpacked.astype(np.int16) << plane)
        shared = (shared if shared is not None else low.astype(np.int16))[: self.n_rows]
        for posting in postings:
            if posting[0] == "rows":
                # A posting holds each row once, so the fancy-indexed add counts each.
                shared[self.posting_rows[posting[1] : posting[2]]] += 1
        return shared

    # -- a file cache, so a new process does not rebuild a large index ---------

    @staticmethod
    def _cache_dir():
        base = settings.STR_INDEX_CACHE_DIR
        database = re.sub(r"[^A-Za-z0-9_.-]", "_", str(connection.settings_dict["NAME"]))[-80:]
        return Path(base) / database

    def save_cache(self):
        """Write the arrays and entries for other processes (atomic rename; keeps the 3 newest)."""
        if len(self.entries) < _cache_min_entries():
            return None
        directory = self._cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        stem = directory / f"{self.generation}"
        arrays = {k: v for k, v in self.arrays.items() if isinstance(v, np.ndarray)}
        meta = {
            "marker_cols": self.arrays["marker_cols"],
            "posting_keys": self.arrays["posting_keys"],
            "entries": [
                [
                    e.kind,
                    e.object_id,
                    e.name,
                    e.accession,
                    e.profile if e.conflicts else None,
                    e.conflicts,
                    e.mixture,
                ]
                for e in self.entries
            ],
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
        directory = cls._cache_dir()
        if not directory.is_dir():
            return None
        generations = sorted(
            (int(p.stem) for p in directory.glob("*.json") if p.stem.isdigit() and int(p.stem) <= max_generation),
            reverse=True,
        )
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
        """Per row, the bits of `mask` (one uint64 per block) set in its words."""
        total = None
        word = words.dtype.type
        for block, word_mask in enumerate(mask):
            if not word_mask:
                continue
            counted = np.bitwise_count(words[block] & word(word_mask)).astype(np.int16)
            total = counted if total is None else total + counted
        return total if total is not None else np.zeros(words.shape[-1], dtype=np.int16)

    def _allele_sum(self, mask):
        total = np.zeros(self.n_rows, dtype=np.int16)
        for plane in range(self.PLANES):
            used = self.plane_used[:, plane] & mask
            if used.any():  # the higher planes are empty unless a profile has 4+ alleles
                total += self._popcount(self.planes[:, plane], used) << plane
        return total

    @classmethod
    def load(cls):
        generation = current_generation()
        as_text = "::text" if connection.vendor == "postgresql" else ""
        table = StrIndexEntry._meta.db_table
        entries = []
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT kind, object_id, name, accession, profile{as_text}, conflicts{as_text}, mixture "  # noqa: S608
                f"FROM {table} WHERE NOT removed ORDER BY id"
            )
            while batch := cursor.fetchmany(10000):
                for kind, object_id, name, accession, profile, conflicts, mixture in batch:
                    entries.append(
                        _Entry(
                            kind,
                            object_id,
                            name,
                            accession,
                            orjson.loads(profile),
                            orjson.loads(conflicts) if conflicts not in ("{}", None) else {},
                            bool(mixture),
                        )
                    )
        return cls(entries, generation)

    def apply(self, changed, generation):
        """Entries written since the index was built: they replace what the arrays hold."""
        for e in changed:
            key = (e["kind"], e["object_id"])
            if key in self.position:
                self.dead[self.position[key]] = True
            self.overlay[key] = (
                None
                if e["removed"]
                else _Entry(
                    e["kind"],
                    e["object_id"],
                    e["name"],
                    e["accession"],
                    e["profile"],
                    e["conflicts"],
                    e["mixture"],
                )
            )
        self.generation = generation

    # -- scoring ------------------------------------------------------------

    def count(self, query, mode, include_amelogenin):
        """Shared alleles, query and reference allele counts and marker counts of every row."""
        n = self.n_rows
        query_mask = np.zeros(self.blocks, dtype=np.uint64)
        by_size = {}  # allele count -> mask of query markers with that many alleles
        postings = []
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
                posting = self.postings.get((col, allele))
                if posting is not None:
                    postings.append(posting)
        shared = self.shared_alleles(postings)

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
                n,
                sum(size * int(sum(np.bitwise_count(mask))) for size, mask in by_size.items()) + query_only_alleles,
                dtype=np.int16,
            )
            reference_alleles = self._allele_sum(query_mask)
        else:
            markers = self.total_markers[include_amelogenin]
            query_alleles = query_alleles_where_present()
            reference_alleles = self.total_alleles[include_amelogenin]
        counts = _Counts()
        counts.shared, counts.query_alleles = shared, query_alleles
        counts.reference_alleles, counts.markers = reference_alleles, markers
        return counts

    @staticmethod
    def scores(counts, algorithm, rows=None):
        """The score of each row (or of `rows`), as lines.str.matching.compute_score
        computes it: the same float operations in the same order."""
        shared, query_alleles, reference_alleles = counts.shared, counts.query_alleles, counts.reference_alleles
        if rows is not None:
            shared, query_alleles, reference_alleles = shared[rows], query_alleles[rows], reference_alleles[rows]
        shared = shared.astype(np.float64)
        if algorithm == TANABE:
            denominator = query_alleles.astype(np.float64) + reference_alleles
            shared *= 2.0
        elif algorithm == MASTERS_QUERY:
            denominator = query_alleles.astype(np.float64)
        else:
            denominator = reference_alleles.astype(np.float64)
        score = np.zeros(len(shared), dtype=np.float64)
        np.divide(shared * 100.0, denominator, out=score, where=denominator > 0)
        return score

    def candidates(self, counts, algorithm, min_markers, score_filter):
        """(entries, best): the positions of the entries with a row of at least
        `min_markers` markers scoring at least `score_filter`, and each one's best such
        score. Rows are first kept by an integer test no row that passes can fail (the
        shared alleles a score of `score_filter` needs at the row's denominator, from a
        small table), so the float scores are computed for the few rows that pass it
        rather than for every row."""
        keep = counts.markers >= min_markers
        if score_filter > 0:
            if algorithm == TANABE:
                denominator, factor = counts.query_alleles + counts.reference_alleles, 200.0
            elif algorithm == MASTERS_QUERY:
                denominator, factor = counts.query_alleles, 100.0
            else:
                denominator, factor = counts.reference_alleles, 100.0
            # score >= f  <=>  shared >= f * denominator / factor (and a denominator of 0
            # scores 0, which fails f > 0): the least such integer, a hair lower so that
            # rounding can only keep a row too many, never drop one.
            largest = int(denominator.max(initial=0))
            need = np.ceil(score_filter * np.arange(largest + 1) / factor - 1e-9).astype(np.int16)
            need[0] = np.iinfo(np.int16).max
            keep &= counts.shared >= need[denominator]
        rows = np.flatnonzero(keep)
        score = self.scores(counts, algorithm, rows)
        passed = score >= score_filter
        rows, score = rows[passed], score[passed]
        if self.single_rows:
            return rows, score
        # Rows are contiguous per entry: the best of each entry's passing rows.
        entries = self.row_entry[rows]
        if not len(entries):
            return entries, score
        first = np.flatnonzero(np.r_[True, entries[1:] != entries[:-1]])
        return entries[first], np.maximum.reduceat(score, first)


_index = None
_index_lock = threading.Lock()


def current_generation():
    """The committed index generation (every search asks: one primary-key read, on a
    plain cursor because the ORM's query building cost more than the read)."""
    table = connection.ops.quote_name(StrIndexState._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT generation FROM {table} WHERE id = 1")  # noqa: S608 - a fixed name
        row = cursor.fetchone()
    return (row[0] if row else 0) or 0


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
            changed = list(
                StrIndexEntry.objects.filter(generation__gt=index.generation).values(
                    "kind",
                    "object_id",
                    "name",
                    "accession",
                    "profile",
                    "conflicts",
                    "mixture",
                    "removed",
                )[: OVERLAY_LIMIT + 1]
            )
            if len(changed) + len(index.overlay) > OVERLAY_LIMIT:
                with _gc_paused():
                    index = _index = _load_and_cache()
            else:
                index.apply(changed, generation)
        return index
