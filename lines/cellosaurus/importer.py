"""Writing Cellosaurus entries into the catalog (`manage.py import_cellosaurus`).

Two things come out of a Cellosaurus file:
- human iPSC entries become catalog lines (released, not distributed, no depositing
  institution), each with a pseudonymous Donor shared by every line of the same person;
- with `all_categories`, every entry with an STR profile becomes a ReferenceProfile,
  the reference set for STR identity checks.

The file is streamed (lines.cellosaurus.parser) and written in batches, one transaction per
batch, with set-based reads and bulk writes. Only what linking needs is kept in memory:
for each imported line its parents (HI), same-donor links (OI), donor facts and
variations. Parents and donors are resolved after the whole file has been read, so the
order of entries in the file does not matter.

Re-running updates in place (keys: accession for lines and references, donor code
for donors, gene + change for variants) and writes history only for rows that changed.
A line that a depositor submitted (it has an institution or a submission) is never
taken over: the import only fills its empty Cellosaurus fields.
"""

import zlib
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core.models import Gene
from donors.affection import refresh_affection_status
from donors.models import Donor, Variant, VariantOrigin
from lines.cellosaurus.donors import (
    disease_lookup,
    donor_groups,
    donor_values,
    truncate,
    variant_key,
)
from lines.cellosaurus.parser import (
    CellosaurusEntry,
    MalformedEntry,
    conforms_to_hpscreg,
    read_entries,
)
from lines.cellosaurus.report import ImportReport
from lines.cellosaurus.variations import modification_of
from lines.models import Availability, CellLine, CurationStatus, ReferenceProfile
from lines.search_text import refresh_search_text
from lines.str import store as str_store

CHANGE_REASON = "Cellosaurus import"
DONOR_CODE_PREFIX = "CVCL-"
NAME_MAX = CellLine._meta.get_field("name").max_length
# SQLite allows 32,766 bound parameters per query; keep IN lists well below that.
QUERY_CHUNK = 900

# Fields the import owns on a line it created; everything else belongs to curators.
LINE_FIELDS = [
    "name",
    "alternative_names",
    "name_conforms",
    "cellosaurus_accession",
    "hpscreg_name",
    "status",
    "availability",
    "institution",
    "str_profile",
    "str_conflicts",
    "str_sources",
    "registry_parents",
    "disease_note",
    "comments",
    "modification_type",
    "modification_description",
]
REFERENCE_FIELDS = [
    "name",
    "synonyms",
    "category",
    "species",
    "sex",
    "diseases",
    "problematic",
    "str_profile",
    "str_conflicts",
    "str_sources",
]
DONOR_FIELDS = ["sex", "age_at_sampling", "disease", "disease_label"]


@dataclass
class _LinkInfo:
    """What the linking phase needs about one imported line, after its row is written."""

    line_id: int
    accession: str
    donor_id: int | None
    parental_line_id: int | None
    parents: tuple
    same_donor: tuple
    sex: str
    age_years: int | None
    diseases: tuple
    germline: tuple
    engineered: tuple


def import_cellosaurus(path, *, all_categories=False, batch_size=500, progress=None):
    """Import a Cellosaurus text file (plain or gzip). Returns an ImportReport."""
    importer = _Importer(all_categories=all_categories, batch_size=batch_size, progress=progress)
    importer.run(read_entries(path))
    return importer.report


class _Importer:
    def __init__(self, *, all_categories, batch_size, progress):
        self.all_categories = all_categories
        self.batch_size = batch_size
        self.progress = progress
        self.report = ImportReport()
        self.links = {}  # accession → _LinkInfo, for lines this import owns
        self.touched_line_ids = set()
        self.now = timezone.now()

    def run(self, items):
        line_batch, reference_batch = [], []
        last_line = 0
        try:
            for item in items:
                last_line = item.line_number
                self._take(item, line_batch, reference_batch)
        except (OSError, EOFError, zlib.error) as problem:
            # A damaged or truncated gzip: keep and link everything read before it.
            self.report.read_error = f"the file could not be read past the entry at line {last_line}: {problem}"
        self._write_lines(line_batch)
        self._write_references(reference_batch)
        self._link_parents()
        self._link_donors_and_variants()
        self._refresh_indexes()

    def _take(self, item, line_batch, reference_batch):
        if isinstance(item, MalformedEntry):
            self.report.skipped.append(item)
            return
        self.report.entries_read += 1
        self.report.warnings.extend(item.warnings)
        if self.all_categories and item.has_str:
            reference_batch.append(item)
        if item.is_human and item.is_ipsc:
            self.report.human_ipsc += 1
            line_batch.append(item)
        if len(line_batch) >= self.batch_size:
            self._write_lines(line_batch)
            line_batch.clear()
        if len(reference_batch) >= self.batch_size:
            self._write_references(reference_batch)
            reference_batch.clear()
        if self.progress and self.report.entries_read % 10000 == 0:
            self.progress(f"{self.report.entries_read} entries read")

    # --- lines --------------------------------------------------------------------

    def _write_lines(self, entries):
        if not entries:
            return
        with transaction.atomic():
            # An entry merged into another keeps its old accession as AS: the catalog
            # line that still carries the old one is the same line.
            accessions = {a for entry in entries for a in (entry.accession, *entry.secondary_accessions)}
            found = {
                line.cellosaurus_accession: line
                for line in _in_chunks(CellLine.objects, "cellosaurus_accession", accessions)
            }
            existing = {}
            for entry in entries:
                for accession in (entry.accession, *entry.secondary_accessions):
                    if accession in found and entry.accession not in existing:
                        existing[entry.accession] = found.pop(accession)
            wanted_names = {entry.name for entry in entries}
            taken = {line.name: line for line in _in_chunks(CellLine.objects, "name", wanted_names)}
            used_names = set()
            created, changed = [], []
            for entry in entries:
                line = existing.get(entry.accession)
                if line is None:
                    # A catalog line with this hPSCreg name and no accession is the same
                    # line (hPSCreg names are unique worldwide); other names are not proof.
                    same_name = taken.get(entry.name)
                    if (
                        same_name is not None
                        and same_name.cellosaurus_accession is None
                        and conforms_to_hpscreg(entry.name)
                    ):
                        line = same_name
                if line is not None and (line.institution_id or line.submission_id):
                    self.report.deposited_lines_matched += 1
                    if _fill_deposited(line, entry):
                        line.updated_at = self.now
                        changed.append(line)
                    continue
                values = self._line_values(entry, line, taken, used_names)
                if line is None:
                    line = CellLine(**values, released_at=self.now)
                    created.append(line)
                elif _assign_changes(line, values):
                    line.updated_at = self.now
                    changed.append(line)
                else:
                    self.report.lines_unchanged += 1
                if line.pk is not None:
                    self._remember(line, entry)
            if created:
                created = bulk_create_with_history(
                    created,
                    CellLine,
                    batch_size=self.batch_size,
                    default_change_reason=CHANGE_REASON,
                )
                self.report.lines_created += len(created)
                by_accession = {entry.accession: entry for entry in entries}
                for line in created:
                    self._remember(line, by_accession[line.cellosaurus_accession])
            if changed:
                bulk_update_with_history(
                    changed,
                    CellLine,
                    [*LINE_FIELDS, "updated_at"],
                    batch_size=self.batch_size,
                    default_change_reason=CHANGE_REASON,
                )
                self.report.lines_updated += sum(
                    1 for line in changed if not (line.institution_id or line.submission_id)
                )
            _reindex_str("line", [*(line for line in created if line.str_profile), *changed])
            self.touched_line_ids.update(line.pk for line in [*created, *changed])

    def _line_values(self, entry, line, taken, used_names):
        name = self._allocate_name(entry, line, taken, used_names)
        alternative_names = list(dict.fromkeys(([entry.name] if name != entry.name else []) + entry.synonyms))
        variations, unparsed = entry.sequence_variations()
        modification, description = modification_of(entry, [v for v in variations if v.engineered])
        comments = []
        if origin := entry.comments_on("From"):
            comments.append("From: " + " ".join(origin))
        if entry.problematic:
            comments.append("Problematic cell line: " + entry.problematic)
        comments += [f"Sequence variation (not parsed): {text}" for text in unparsed]
        hpscreg = entry.hpscreg_names
        return {
            "name": name,
            "alternative_names": alternative_names,
            "name_conforms": name == entry.name and conforms_to_hpscreg(name),
            "cellosaurus_accession": entry.accession,
            "hpscreg_name": hpscreg[0][:40] if hpscreg else "",
            "status": CurationStatus.RELEASED,
            "availability": Availability.NOT_DISTRIBUTED,
            "institution": None,
            "str_profile": entry.str_profile,
            "str_conflicts": entry.str_conflicts,
            "str_sources": entry.str_sources,
            "registry_parents": [{"accession": a, "name": n} for a, n in entry.parents],
            "disease_note": truncate("; ".join(d.note() for d in entry.diseases), 300),
            "comments": "\n".join(comments),
            "modification_type": modification,
            "modification_description": description,
        }

    def _allocate_name(self, entry, line, taken, used_names):
        """The Cellosaurus ID when it is free and fits; otherwise the ID with the
        accession appended (the plain ID stays among the alternative names)."""
        wanted = entry.name
        holder = taken.get(wanted)
        free = (holder is None or (line is not None and holder.pk == line.pk)) and wanted not in used_names
        if free and len(wanted) <= NAME_MAX:
            name = wanted
        elif line is not None and line.name.endswith(f" [{entry.accession}]"):
            name = line.name
        else:
            suffix = f" [{entry.accession}]"
            name = wanted[: NAME_MAX - len(suffix)] + suffix
        used_names.add(name)
        return name

    def _remember(self, line, entry):
        variations, _ = entry.sequence_variations()
        self.links[entry.accession] = _LinkInfo(
            line_id=line.pk,
            accession=entry.accession,
            donor_id=line.donor_id,
            parental_line_id=line.parental_line_id,
            parents=tuple(accession for accession, _ in entry.parents),
            same_donor=tuple(accession for accession, _ in entry.same_donor),
            sex=entry.donor_sex,
            age_years=entry.age_years,
            diseases=tuple(entry.diseases),
            germline=tuple(v for v in variations if not v.engineered),
            engineered=tuple(v for v in variations if v.engineered),
        )

    # --- reference profiles ---------------------------------------------------------

    def _write_references(self, entries):
        if not entries:
            return
        with transaction.atomic():
            existing = {
                ref.accession: ref
                for ref in _in_chunks(ReferenceProfile.objects, "accession", [e.accession for e in entries])
            }
            created, changed = [], []
            for entry in entries:
                values = {
                    "name": truncate(entry.name, 200),
                    "synonyms": entry.synonyms,
                    "category": truncate(entry.category, 100),
                    "species": truncate("; ".join(name for _, name in entry.species), 100),
                    "sex": truncate(entry.sex, 30),
                    "diseases": [
                        {"database": d.database, "id": d.identifier, "label": d.label} for d in entry.diseases
                    ],
                    "problematic": entry.problematic,
                    "str_profile": entry.str_profile,
                    "str_conflicts": entry.str_conflicts,
                    "str_sources": entry.str_sources,
                }
                reference = existing.get(entry.accession)
                if reference is None:
                    created.append(ReferenceProfile(accession=entry.accession, **values))
                elif _assign_changes(reference, values):
                    reference.updated_at = self.now
                    changed.append(reference)
                else:
                    self.report.references_unchanged += 1
            if created:
                created = ReferenceProfile.objects.bulk_create(created, batch_size=self.batch_size)
                self.report.references_created += len(created)
                if created and created[0].pk is None:
                    created = list(_in_chunks(ReferenceProfile.objects, "accession", [r.accession for r in created]))
            if changed:
                ReferenceProfile.objects.bulk_update(
                    changed, [*REFERENCE_FIELDS, "updated_at"], batch_size=self.batch_size
                )
                self.report.references_updated += len(changed)
            _reindex_str("reference", [*created, *changed])

    # --- links ----------------------------------------------------------------------

    def _link_parents(self):
        """HI → parental_line, when the parent is a catalog line (any origin)."""
        wanted = {accession for info in self.links.values() for accession in info.parents}
        line_ids = dict(
            _in_chunks(
                CellLine.objects,
                "cellosaurus_accession",
                wanted,
                values=("cellosaurus_accession", "pk"),
            )
        )
        changes = {}
        for info in self.links.values():
            if not info.parents:
                continue
            parent_id = next(
                (line_ids[a] for a in info.parents if a in line_ids and line_ids[a] != info.line_id),
                None,
            )
            if parent_id is None:
                self.report.parents_outside_catalog += 1
            else:
                self.report.parents_linked += 1
            if parent_id != info.parental_line_id:
                changes[info.line_id] = parent_id
                info.parental_line_id = parent_id
        self._update_lines(changes, "parental_line_id", "parental_line")

    def _link_donors_and_variants(self):
        """One Donor per person: lines joined by OI (same individual) or HI (derived
        from) share it, whatever order the file lists them in."""
        groups = donor_groups(self.links.values())
        disease_terms = disease_lookup()
        members_by_code = {}
        for infos, accessions in groups:
            members_by_code[DONOR_CODE_PREFIX + min(accessions).removeprefix("CVCL_")] = infos

        with transaction.atomic():
            current_ids = {info.donor_id for infos in members_by_code.values() for info in infos if info.donor_id}
            donors_by_id = {d.pk: d for d in _in_chunks(Donor.objects, "pk", current_ids)}
            donors_by_code = {d.code: d for d in _in_chunks(Donor.objects, "code", list(members_by_code))}
            created, changed, donor_of = [], [], {}
            for code, infos in members_by_code.items():
                # A donor one of these lines already has wins over a newly computed code,
                # so that growing a group (a fuller file) never splits a person in two.
                current = sorted({i.donor_id for i in infos if i.donor_id in donors_by_id})
                donor = donors_by_id[current[0]] if current else donors_by_code.get(code)
                values = donor_values(infos, disease_terms)
                if donor is not None and donor.disease and not values["disease"]:
                    # Never clear a MONDO id (a curator's) because the import cannot map the name.
                    del values["disease"], values["disease_label"]
                if donor is None:
                    donor = Donor(code=code, **values)
                    created.append(donor)
                elif _assign_changes(donor, values):
                    donor.updated_at = self.now
                    changed.append(donor)
                donor_of[code] = donor
            if created:
                created = bulk_create_with_history(
                    created, Donor, batch_size=self.batch_size, default_change_reason=CHANGE_REASON
                )
                self.report.donors_created += len(created)
                by_code = {d.code: d for d in created}
                donor_of = {code: by_code.get(d.code, d) for code, d in donor_of.items()}
            if changed:
                bulk_update_with_history(
                    changed,
                    Donor,
                    [*DONOR_FIELDS, "updated_at"],
                    batch_size=self.batch_size,
                    default_change_reason=CHANGE_REASON,
                )
                self.report.donors_updated += len(changed)

            changes = {}
            for code, infos in members_by_code.items():
                for info in infos:
                    if info.donor_id != donor_of[code].pk:
                        changes[info.line_id] = donor_of[code].pk
                        info.donor_id = donor_of[code].pk
            self._update_lines(changes, "donor_id", "donor")
            self._write_variants(members_by_code, donor_of)

    def _write_variants(self, members_by_code, donor_of):
        """Germline variations go on the donor, engineered ones on the line; a variant
        already there (same gene and change) is left alone, so re-runs add nothing."""
        wanted = []  # (owner field, owner id, SequenceVariation)
        for code, infos in members_by_code.items():
            donor_id = donor_of[code].pk
            for info in infos:
                wanted += [("donor_id", donor_id, v) for v in info.germline]
                wanted += [("line_id", info.line_id, v) for v in info.engineered]
        if not wanted:
            return
        donor_ids = {owner_id for key, owner_id, _ in wanted if key == "donor_id"}
        line_ids = {owner_id for key, owner_id, _ in wanted if key == "line_id"}
        present = set()
        fields = ("donor_id", "line_id", "gene", "hgvs", "protein", "legacy_name")
        for row in [
            *_in_chunks(Variant.objects, "donor_id", donor_ids, values=fields),
            *_in_chunks(Variant.objects, "line_id", line_ids, values=fields),
        ]:
            donor_id, line_id, *rest = row
            owner = ("donor_id", donor_id) if donor_id else ("line_id", line_id)
            present.add((*owner, *variant_key(*rest)))
        symbols = {v.gene for _, _, v in wanted if not v.hgnc_id}
        hgnc_ids = dict(_in_chunks(Gene.objects, "symbol", symbols, values=("symbol", "hgnc_id")))
        new = []
        for key, owner_id, v in wanted:
            identity = (key, owner_id, *variant_key(v.gene, v.hgvs, v.protein, v.legacy_name))
            if identity in present:
                continue
            present.add(identity)
            new.append(
                Variant(
                    **{key: owner_id},
                    gene=truncate(v.gene, 40),
                    hgnc_id=truncate(v.hgnc_id or hgnc_ids.get(v.gene, ""), 20),
                    hgvs=truncate(v.hgvs, 300),
                    protein=truncate(v.protein, 200),
                    legacy_name=truncate(v.legacy_name, 60),
                    zygosity=v.zygosity,
                    origin=VariantOrigin.ENGINEERED if v.engineered else VariantOrigin.GERMLINE,
                )
            )
        if new:
            bulk_create_with_history(new, Variant, batch_size=self.batch_size, default_change_reason=CHANGE_REASON)
            self.report.variants_created += len(new)
            self.touched_line_ids.update(owner_id for key, owner_id, _ in wanted if key == "line_id")
            touched_donors = {v.donor_id for v in new if v.donor_id}
            self.touched_line_ids.update(
                info.line_id for infos in members_by_code.values() for info in infos if info.donor_id in touched_donors
            )

    def _update_lines(self, changes, attname, field_name):
        """Set one foreign key on many lines, with history. One UPDATE per distinct
        value (lines of a donor, children of a parent): bulk_update's CASE per row is
        far slower at tens of thousands of lines."""
        if not changes:
            return
        by_value = {}
        for line_id, value in changes.items():
            by_value.setdefault(value, []).append(line_id)
        ids = list(changes)
        with transaction.atomic():
            for value, line_ids in by_value.items():
                for start in range(0, len(line_ids), QUERY_CHUNK):
                    CellLine.objects.filter(pk__in=line_ids[start : start + QUERY_CHUNK]).update(
                        **{attname: value, "updated_at": self.now}
                    )
            for start in range(0, len(ids), QUERY_CHUNK):
                lines = list(CellLine.objects.filter(pk__in=ids[start : start + QUERY_CHUNK]))
                CellLine.history.bulk_history_create(
                    lines,
                    update=True,
                    default_change_reason=CHANGE_REASON,
                    batch_size=self.batch_size,
                )
        self.touched_line_ids.update(ids)

    def _refresh_indexes(self):
        """The search columns read names, donors and variants, so they are refreshed once
        everything is linked; no signals, the writer keeps them current (lines.search_text)."""
        ids = sorted(self.touched_line_ids)
        for start in range(0, len(ids), QUERY_CHUNK):
            donor_ids = CellLine.objects.filter(pk__in=ids[start : start + QUERY_CHUNK], donor__isnull=False)
            refresh_affection_status(donor_ids.values_list("donor_id", flat=True))
        for start in range(0, len(ids), QUERY_CHUNK):
            with transaction.atomic():
                refresh_search_text(CellLine.objects.filter(pk__in=ids[start : start + QUERY_CHUNK]))


def _reindex_str(kind, objects):
    """Keep the STR similarity index (lines.str.store) in step with the profiles just
    written, inside the same transaction so that both commit together."""
    objects = [obj for obj in objects if obj.pk is not None]
    if not objects:
        return
    str_store.reindex_many(kind, objects)


# --- helpers ---------------------------------------------------------------------------


def _in_chunks(manager, field_name, keys, values=None):
    """Rows whose `field_name` is in `keys`, queried in chunks (bounded IN lists)."""
    keys = list(keys)
    for start in range(0, len(keys), QUERY_CHUNK):
        queryset = manager.filter(**{f"{field_name}__in": keys[start : start + QUERY_CHUNK]})
        yield from (queryset.values_list(*values) if values else queryset)


def _assign_changes(obj, values):
    """Set the values that differ; True when anything changed."""
    changed = False
    for name, value in values.items():
        attname = "institution_id" if name == "institution" and value is None else name
        if getattr(obj, attname) != value:
            setattr(obj, name, value)
            changed = True
    return changed


def _fill_deposited(line, entry):
    """A depositor's line: add the Cellosaurus identifiers it lacks, nothing else."""
    changed = False
    if not line.cellosaurus_accession:
        line.cellosaurus_accession = entry.accession
        changed = True
    if not line.hpscreg_name and entry.hpscreg_names:
        line.hpscreg_name = entry.hpscreg_names[0][:40]
        changed = True
    names = list(
        dict.fromkeys([*line.alternative_names, *(n for n in [entry.name, *entry.synonyms] if n != line.name)])
    )
    if names != line.alternative_names:
        line.alternative_names = names
        changed = True
    return changed


__all__ = ["CellosaurusEntry", "ImportReport", "import_cellosaurus"]
