"""The STR profiles the search reads: StrIndexEntry rows, kept by explicit calls.

The reference set is every line's and donor's STR profile and every Cellosaurus
reference profile, copied into StrIndexEntry by `reindex()` / `reindex_many()`
(called by the code that writes profiles, inside its transaction; no signals),
taken out by `unindex()`, and rebuilt from the sources by `rebuild_index()`
(`manage.py rebuild_str_index`).

Each write stamps its entries with a new generation from StrIndexState, so that
processes holding an index in memory (lines.str.index) read only what changed.
"""

import contextlib
import time
from types import SimpleNamespace

import orjson
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest
from psycopg2.extras import execute_values

from core.bulk_copy import copy_rows
from donors.models import Donor
from lines.models import CellLine, ReferenceProfile, StrIndexEntry, StrIndexState, StrSourceKind
from lines.str.index import forget_index
from lines.str.matching import (
    ProfileError,
    allele_sort_key,
    canonical_marker,
    is_possible_mixture,
    parse_alleles,
)

LINE, DONOR, REFERENCE = StrSourceKind.LINE, StrSourceKind.DONOR, StrSourceKind.REFERENCE
KINDS = (LINE, DONOR, REFERENCE)


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


_profile_cache: dict = {}


def _stored_profile(raw):
    """A stored profile as the search reads it. Stored profiles are normalised already;
    a marker whose alleles do not parse is left out rather than failing the write.
    Memoised whole (the lines of one donor carry one profile), a fresh copy each time."""
    try:
        key = tuple((name, tuple(value) if isinstance(value, list) else value) for name, value in (raw or {}).items())
        hash(key)
    except TypeError:
        return _parse_profile(raw)
    profile = _profile_cache.get(key)
    if profile is None:
        profile = _parse_profile(raw)
        if len(_profile_cache) < 50_000:
            _profile_cache[key] = profile
    return {marker: list(alleles) for marker, alleles in profile.items()}


def _parse_profile(raw):
    profile = {}
    for name, value in (raw or {}).items():
        marker, alleles = _parse_stored(name, value)
        if alleles:
            if marker in profile:
                alleles = sorted(set(profile[marker]) | set(alleles), key=allele_sort_key)
            profile[marker] = alleles
    return profile


def _stored_conflicts(raw):
    """A reference's disagreeing versions, normalised, each with its sources (a bare
    allele list from an older import or a deposit keeps no sources)."""
    conflicts = {}
    for name, options in (raw or {}).items():
        marker = canonical_marker(name) or str(name).strip()
        cleaned = []
        for option in options or ():
            value, sources = (
                (option.get("alleles"), option.get("sources") or []) if isinstance(option, dict) else (option, [])
            )
            try:
                alleles = parse_alleles(marker, value)
            except ProfileError:
                continue
            same = next((c for c in cleaned if c["alleles"] == alleles), None)
            if same is None:
                cleaned.append({"alleles": alleles, "sources": [str(s) for s in sources]})
            else:
                same["sources"].extend(str(s) for s in sources if str(s) not in same["sources"])
        if len(cleaned) > 1:
            conflicts[marker] = cleaned if any(c["sources"] for c in cleaned) else [c["alleles"] for c in cleaned]
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
            {"kind": kind, "object_id": obj.pk, "generation": generation, **entry_fields(kind, obj)} for obj in objects
        ]
        for start in range(0, len(rows), batch_size):
            _insert_entries(rows[start : start + batch_size])
    return len(rows)


def index_new(kind, objects):
    """reindex_many for objects written in the caller's transaction (an approval's new
    lines): they have no entries yet, so on PostgreSQL the entries go in by COPY."""
    if connection.vendor != "postgresql":
        return reindex_many(kind, objects)
    objects = list(objects)
    if not objects:
        return 0
    with transaction.atomic():
        generation = _next_generation()
        rows = [
            {"kind": kind, "object_id": obj.pk, "generation": generation, **entry_fields(kind, obj)} for obj in objects
        ]
        copy_rows(StrIndexEntry, rows)
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
    models_by_kind = {LINE: CellLine, DONOR: Donor, REFERENCE: ReferenceProfile}
    for kind, fields in _SOURCE_FIELDS.items():
        rows = models_by_kind[kind].objects.exclude(str_profile={}).values_list(*fields)
        for row in rows.iterator(chunk_size=chunk_size):
            yield kind, SimpleNamespace(**dict(zip(fields, row, strict=True)))


def _insert_entries(rows):
    """Plain upserts for a rebuild: at Cellosaurus scale the ORM's per-field work
    dominates the time."""
    table = StrIndexEntry._meta.db_table
    columns = "kind, object_id, name, accession, profile, conflicts, mixture, removed, generation"
    upsert = "ON CONFLICT (kind, object_id) DO UPDATE SET " + ", ".join(f"{c} = excluded.{c}" for c in _UPDATE_FIELDS)
    values = [
        (
            r["kind"],
            r["object_id"],
            r["name"],
            r["accession"],
            orjson.dumps(r["profile"]).decode(),
            orjson.dumps(r["conflicts"]).decode(),
            r["mixture"],
            r["removed"],
            r["generation"],
        )
        for r in rows
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            execute_values(
                cursor.cursor,
                f"INSERT INTO {table} ({columns}) VALUES %s {upsert}",  # noqa: S608
                values,
                page_size=2000,
            )
        else:
            cursor.executemany(
                f"INSERT INTO {table} ({columns}) VALUES ({', '.join(['%s'] * 9)}) {upsert}",  # noqa: S608
                values,
            )


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
