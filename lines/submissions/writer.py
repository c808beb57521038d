"""The write plan of an approval: what approval re-checks against the catalog as it
is now, the names it assigns, and the rows it writes in bulk (donors, consent,
variants, lines, QC records, with their history). lines.submissions.approval runs
it inside one transaction with the institution locked."""

import datetime
import functools
import logging

from django.utils import timezone

from core.bulk_copy import create_with_history, insert_with_history
from core.models import CellType, DiseaseTerm, Gene
from donors.actions import write_courses
from donors.affection import refresh_affection_status
from donors.models import Ancestry, Consent, Donor, Variant, VariantOrigin
from lines.models import (
    Availability,
    CellLine,
    CurationStatus,
    ModificationType,
    QCRecord,
    QCStatus,
    Submission,
    SubmissionStatus,
)
from lines.naming import assign_names
from lines.qc import summarise_qc_rows
from lines.search_text import new_line_texts, search_donors
from lines.str.matching import ProfileError, normalise_profile
from lines.submissions.rules.catalog import referable_donors, referable_lines

logger = logging.getLogger(__name__)

# A direct approval (approve_submission) starts from `valid`; a worker's from `approving`.
APPROVABLE = (SubmissionStatus.VALID, SubmissionStatus.APPROVING)

QC_FIELDS = {"test", "method", "result", "passage", "date", "testing_lab"}


class Conflict(Exception):
    """What the re-check found: approval writes nothing and hands these findings back."""

    def __init__(self, findings: list[dict]) -> None:
        self.findings = findings


def short_error(exc: Exception) -> str:
    return str(exc).splitlines()[0][:200]


def finding(rule: str, location: str, message: str, *, line: str | None = None, donor: str | None = None) -> dict:
    return {
        "rule": rule,
        "severity": "error",
        "location": location,
        "message": message,
        "line": line,
        "donor": donor,
        "at_approval": True,
    }


def _date(value):
    if not value:
        return None
    if isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(str(value))


_profiles: dict = {}


def _profile(raw):
    """The stored form of a deposited profile; memoised (twenty lines of a donor carry
    the donor's profile), a fresh copy each time."""
    if not raw:
        return {}
    try:
        key = tuple(raw.items())
        hash(key)
    except (AttributeError, TypeError):
        key = None
    profile = _profiles.get(key) if key is not None else None
    if profile is None:
        try:
            profile = normalise_profile(raw, strict=False)
        except (ProfileError, ValueError, TypeError):
            profile = {}
        if key is not None and len(_profiles) < 50_000:
            _profiles[key] = profile
    return {marker: list(alleles) if isinstance(alleles, list) else alleles for marker, alleles in profile.items()}


@functools.cache
def _line_fields():
    return [(f, f.attname) for f in CellLine._meta.concrete_fields]


def _new_line(values, **related):
    """An unsaved CellLine from {attname: value} and its related objects, as
    CellLine(**kwargs) makes it (the other fields take their defaults, the related
    objects are cached on it) for a third of the cost: Model.__init__ with
    positional values skips the keyword matching, at 10,000 lines a second of CPU."""
    for name, target in related.items():
        values[getattr(CellLine, name).field.attname] = target.pk if target is not None else None
    row = CellLine(
        *[values[attname] if attname in values else field.get_default() for field, attname in _line_fields()]
    )
    for name, target in related.items():
        getattr(CellLine, name).field.set_cached_value(row, target)  # the ForeignKey behind the descriptor
    return row


class Plan:
    """The rows a document becomes, worked out before anything is written."""

    def __init__(self, document, submission, institution, approved_by=None):
        self.approved_by = approved_by
        self.document = document
        self.submission = submission
        self.institution = institution
        self.donors = [d for d in document.get("donors") or [] if isinstance(d, dict)]
        self.lines = [line for line in document.get("lines") or [] if isinstance(line, dict)]
        self.local_donors = {d.get("local_id"): d for d in self.donors}
        self.local_lines = {line.get("local_id"): line for line in self.lines}
        # Catalog rows the document refers to by public code / name.
        donor_refs = {line.get("donor") for line in self.lines} - set(self.local_donors)
        parent_refs = {line.get("parental_line") for line in self.lines if line.get("parental_line")}
        parent_refs -= set(self.local_lines)
        # As in validation: only what the depositor may see (lines.submissions.rules.catalog).
        depositor = submission.depositor
        self.catalog_donors = {d.code: d for d in referable_donors(depositor).filter(code__in=donor_refs)}
        self.catalog_parents = {
            p.name: p for p in referable_lines(depositor).filter(name__in=parent_refs).select_related("donor")
        }
        self.donor_refs, self.parent_refs = donor_refs, parent_refs
        self.created_donors = []
        self.qc_by_local = {}  # line local_id -> unsaved QCRecords (built once, for qc_status and insert)
        self.line_names = {}  # local_id -> name
        self.donor_numbers = {}  # donor local_id -> 3-character number
        self.variants_by_local: dict = {}  # line local_id -> its engineered Variants
        self.search_donors: dict = {}  # donor pk -> Donor with consent and variants (search text)
        self.line_genes: dict = {}  # gene symbol -> HGNC id, engineered variants

    # --- re-validation ------------------------------------------------------
    def recheck(self) -> list[dict]:
        """What may have changed in the catalog since the validation run: cheap lookups only."""
        findings = []
        twin = (
            Submission.objects.filter(
                institution=self.institution,
                document_sha256=self.submission.document_sha256,
                status=SubmissionStatus.APPROVED,
            )
            .exclude(pk=self.submission.pk)
            .exclude(document_sha256="")
            .first()
        )
        if twin is not None:
            findings.append(
                finding(
                    "NAME-3",
                    "",
                    f"This exact document was already approved as submission {twin.pk}; approving it "
                    "again would register its donors and lines twice. Nothing was written.",
                )
            )
        for i, line in enumerate(self.lines):
            local = line.get("local_id")
            if line.get("donor") in self.donor_refs and line.get("donor") not in self.catalog_donors:
                findings.append(
                    finding(
                        "REF-1",
                        f"/lines/{i}/donor",
                        f"Line {local}: donor {line.get('donor')!r} is no longer in the catalog.",
                        line=local,
                    )
                )
            parent = line.get("parental_line")
            if parent in self.parent_refs and parent not in self.catalog_parents:
                findings.append(
                    finding(
                        "REF-1",
                        f"/lines/{i}/parental_line",
                        f"Line {local}: parental line {parent!r} is no longer in the catalog.",
                        line=local,
                    )
                )
        given = {line.get("name"): i for i, line in enumerate(self.lines) if line.get("name")}
        for name in CellLine.objects.filter(name__in=list(given)).values_list("name", flat=True):
            i = given[name]
            findings.append(
                finding(
                    "NAME-3",
                    f"/lines/{i}/name",
                    f"The name {name} was taken in the catalog after this submission was validated; "
                    "leave the name empty to have one assigned, or choose another.",
                    line=self.lines[i].get("local_id"),
                )
            )
        accessions = {line.get("cellosaurus"): i for i, line in enumerate(self.lines) if line.get("cellosaurus")}
        for accession in CellLine.objects.filter(cellosaurus_accession__in=list(accessions)).values_list(
            "cellosaurus_accession", flat=True
        ):
            i = accessions[accession]
            findings.append(
                finding(
                    "STR-3",
                    f"/lines/{i}/cellosaurus",
                    f"A catalog line already carries Cellosaurus accession {accession}: this line is "
                    "probably registered already.",
                    line=self.lines[i].get("local_id"),
                )
            )
        return findings

    # --- names ----------------------------------------------------------------
    def assign_names(self) -> None:
        # Call under the institution lock taken in _approve (see assign_names).
        try:
            result = assign_names(self.document, institution=self.institution)
        except ValueError as exc:  # e.g. the institution has used every donor number
            raise Conflict(
                [
                    finding(
                        "NAME-3",
                        "/lines",
                        f"Names could not be assigned: {exc}. Nothing was written; a curator must "
                        "resolve this with hPSCreg before the lines can be registered.",
                    )
                ]
            ) from exc
        self.line_names = dict(result.line_names)
        self.donor_numbers = dict(result.donor_numbers)

    # --- writing ----------------------------------------------------------------
    def _bulk(self, rows, model, batch_size):
        """The rows with one history record each, credited to the approving curator (the
        audit trail says who put the row in the catalog, and when); COPY on PostgreSQL."""
        return create_with_history(
            model,
            rows,
            batch_size=batch_size,
            user=self.approved_by,
            reason=f"approved submission {self.submission.pk}",
        )

    def write(self) -> list[CellLine]:
        now = timezone.now()
        donors = self._write_donors()
        # The donors' status (from their variants) before the lines' search text, which
        # is written with the lines rather than updated after them.
        donor_ids = {d.pk for d in donors.values()} | {d.pk for d in self.catalog_donors.values()}
        donor_ids |= {p.donor_id for p in self.catalog_parents.values() if p.donor_id}
        refresh_affection_status(donor_ids)
        self.search_donors = search_donors(donor_ids)
        lines = self._write_lines(donors, now)
        return lines

    def _write_donors(self):
        disease_labels = dict(
            DiseaseTerm.objects.filter(
                curie__in={d.get("disease") for d in self.donors if d.get("disease")}
            ).values_list("curie", "label")
        )
        rows = []
        for donor in self.donors:
            als = donor.get("als") or {}
            number = self.donor_numbers.get(donor.get("local_id"), "")
            rows.append(
                Donor(
                    code=self._donor_code(number),
                    institution=self.institution,
                    donor_number=number,
                    sex=donor.get("sex") or "unknown",
                    age_at_sampling=donor.get("age_at_sampling"),
                    ancestry=donor.get("ancestry") or Ancestry.UNKNOWN,
                    disease=donor.get("disease") or "",
                    disease_label=disease_labels.get(donor.get("disease") or "", ""),
                    family_history=als.get("family_history") or "",
                    onset_site=als.get("onset_site") or "",
                    age_at_onset=als.get("age_at_onset"),
                    alsfrs_r=als.get("alsfrs_r"),
                    alsfrs_r_date=_date(als.get("alsfrs_r_date")),
                    progression_rate=als.get("progression_rate"),
                    c9orf72_repeats=als.get("c9orf72_repeats"),
                    atxn2_repeats=als.get("atxn2_repeats"),
                    viral_screening=donor.get("viral_screening") or {},
                    str_profile=_profile(donor.get("str_profile")),
                )
            )
        created = self._bulk(rows, Donor, 1000)
        if created and created[0].pk is None:  # backends without RETURNING
            created = list(Donor.objects.filter(code__in=[r.code for r in rows]))
        by_code = {d.code: d for d in created}
        by_local = {d.get("local_id"): by_code[row.code] for d, row in zip(self.donors, rows, strict=True)}

        consents, code_links = [], []
        for donor in self.donors:
            consent = donor.get("consent") or {}
            consents.append(
                Consent(
                    donor=by_local[donor.get("local_id")],
                    disease=consent.get("disease") or "",
                    genetic_data=consent.get("genetic_data") or "controlled",
                    recontact=bool(consent.get("recontact")),
                    obtained_on=_date(consent.get("obtained_on")),
                    withdrawn_on=_date(consent.get("withdrawn_on")),
                    withdrawal_reason=consent.get("withdrawal_reason") or "",
                    document_reference=consent.get("document_reference") or "",
                )
            )
        consents = self._bulk(consents, Consent, 1000)
        if consents and consents[0].pk is None:
            consents = list(Consent.objects.filter(donor__in=list(by_local.values())).order_by("donor_id"))
        by_donor = {c.donor_id: c for c in consents}
        through = Consent.codes.through
        for donor in self.donors:
            consent = by_donor[by_local[donor.get("local_id")].pk]
            for code in dict.fromkeys((donor.get("consent") or {}).get("codes") or []):
                code_links.append(through(consent_id=consent.pk, duoterm_id=code))
        through.objects.bulk_create(code_links, batch_size=2000)

        genes = self._gene_ids(v.get("gene") for d in self.donors for v in d.get("variants") or [])
        variants = [
            self._variant(v, genes, donor=by_local[d.get("local_id")])
            for d in self.donors
            for v in d.get("variants") or []
        ]
        self._bulk(variants, Variant, 2000)
        for donor in self.donors:
            row = by_local[donor.get("local_id")]
            row.consent = by_donor[row.pk]
        self.created_donors = list(by_local.values())
        # Protocol 3: the clinical course, in the approval's transaction.
        write_courses((by_local[d.get("local_id")], d.get("course") or {}) for d in self.donors)
        return by_local

    def _donor_code(self, number):
        # Public and pseudonymous: the institution code and the donor number are
        # already public in every line name (UKBi001-A), so the code reveals nothing more.
        return f"{self.institution.code}-{number}"

    def _gene_ids(self, symbols):
        symbols = {s for s in symbols if s}
        return dict(Gene.objects.filter(symbol__in=symbols).values_list("symbol", "hgnc_id"))

    def _variant(self, data, genes, *, donor=None, line=None):
        variant = Variant(
            donor=donor,
            line=line,
            gene=data.get("gene") or "",
            hgnc_id=genes.get(data.get("gene"), ""),
            hgvs=data.get("hgvs") or "",
            protein=data.get("protein") or "",
            legacy_name=data.get("legacy_name") or "",
            zygosity=data.get("zygosity") or "",
            classification=data.get("classification") or "",
            origin=VariantOrigin.ENGINEERED if line is not None else VariantOrigin.GERMLINE,
            repeat_size=data.get("repeat_size"),
        )
        # What Variant's bulk_create would do; the COPY path does not run it.
        variant.fill_location()
        return variant

    def _write_lines(self, donors_by_local, now):
        self.line_genes = self._gene_ids(
            v.get("gene") for line in self.lines for v in (line.get("modification") or {}).get("variants") or []
        )
        cell_types = dict(
            CellType.objects.filter(
                curie__in={line.get("source_cell_type") for line in self.lines if line.get("source_cell_type")}
            ).values_list("curie", "label")
        )
        created_by_local: dict[str | None, CellLine] = {}
        # Parents before subclones: a line whose parent is in this document waits
        # for the parent's row (the protocol allows one level, NAME-4).
        pending = list(self.lines)
        while pending:
            ready = [
                line
                for line in pending
                if not line.get("parental_line")
                or line.get("parental_line") in self.catalog_parents
                or line.get("parental_line") in created_by_local
            ]
            if not ready:
                raise Conflict(
                    [
                        finding(
                            "REF-1",
                            "/lines",
                            "Parental lines refer to each other in a cycle; nothing was written.",
                        )
                    ]
                )
            rows = [self._line_row(line, donors_by_local, created_by_local, cell_types, now) for line in ready]
            texts = new_line_texts(
                [(row, self.variants_by_local[line.get("local_id")]) for line, row in zip(ready, rows, strict=True)],
                self.search_donors,
            )
            for row, (public, restricted) in zip(rows, texts, strict=True):
                row.search_text, row.search_text_restricted = public, restricted
            created = self._bulk(rows, CellLine, 1000)
            if created and created[0].pk is None:
                created = list(CellLine.objects.filter(name__in=[r.name for r in rows]))
            by_name = {c.name: c for c in created}
            for line, row in zip(ready, rows, strict=True):
                created_by_local[line.get("local_id")] = by_name[row.name]
            ready_ids = {id(line) for line in ready}
            pending = [line for line in pending if id(line) not in ready_ids]

        self._write_qc_and_variants(created_by_local)
        return list(created_by_local.values())

    def _line_row(self, line, donors_by_local, created_by_local, cell_types, now):
        parent_ref = line.get("parental_line")
        parent = None
        if parent_ref:
            parent = created_by_local.get(parent_ref) or self.catalog_parents.get(parent_ref)
        donor_ref = line.get("donor")
        donor = donors_by_local.get(donor_ref) or self.catalog_donors.get(donor_ref)
        if donor is None and parent is not None:
            donor = parent.donor
        modification = line.get("modification") or {}
        description = " ".join(
            part for part in (modification.get("gene") or "", modification.get("description") or "") if part
        )
        culture = line.get("culture") or {}
        identity = next(
            (qc for qc in line.get("qc") or [] if qc.get("test") == "identity" and qc.get("str_profile")),
            None,
        )
        name = line.get("name") or self.line_names.get(line.get("local_id"))
        if not name:
            raise Conflict(
                [
                    finding(
                        "NAME-1",
                        f"/lines/{self.lines.index(line)}/name",
                        f"Line {line.get('local_id')}: no name could be assigned.",
                        line=line.get("local_id"),
                    )
                ]
            )
        row = _new_line(
            {
                "name": name,
                "source_cell_type": line.get("source_cell_type") or "",
                "source_cell_type_label": cell_types.get(line.get("source_cell_type"), ""),
                "reprogramming_method": (line.get("reprogramming") or {}).get("method") or "",
                "derived_on": _date(line.get("derived_on")),
                "modification_type": modification.get("type") or ModificationType.NONE,
                "modification_description": description,
                "culture_medium": culture.get("medium") or "",
                "culture_matrix": culture.get("matrix") or "",
                "passage_at_banking": culture.get("passage_at_banking"),
                "cellosaurus_accession": line.get("cellosaurus") or None,
                "str_profile": _profile(identity.get("str_profile")) if identity else {},
                "comments": line.get("comments") or "",
                "declared_lots": line.get("lots") or [],
                "status": CurationStatus.RELEASED,
                "released_at": now,
            },
            institution=self.institution,
            donor=donor,
            parental_line=parent,
            submission=self.submission,
        )
        records = self._qc_rows(line)
        self.qc_by_local[line.get("local_id")] = records
        variants = (line.get("modification") or {}).get("variants") or []
        self.variants_by_local[line.get("local_id")] = [self._variant(v, self.line_genes, line=row) for v in variants]
        row.qc_status = summarise_qc_rows(row, records)
        withdrawn = donor is not None and getattr(getattr(donor, "consent", None), "withdrawn_on", None)
        # Released lines with a full passing panel and standing consent can be
        # requested; anything less is listed but restricted until a curator clears it.
        row.availability = (
            Availability.AVAILABLE if row.qc_status == QCStatus.PASSED and not withdrawn else Availability.RESTRICTED
        )
        return row

    def _qc_rows(self, line):
        """The line's QC records as plain rows {attname: value} (written by COPY, no instances)."""
        records = []
        for qc in line.get("qc") or []:
            records.append(
                {
                    "test": qc.get("test"),
                    "method": qc.get("method") or "",
                    "result": qc.get("result"),
                    "passage": qc.get("passage"),
                    "tested_on": _date(qc.get("date")),
                    "testing_lab": qc.get("testing_lab") or "",
                    "details": {k: v for k, v in qc.items() if k not in QC_FIELDS and v is not None},
                }
            )
        screening = line.get("viral_screening")
        if screening:
            results = set(screening.values())
            result = "pass" if results <= {"negative"} else ("fail" if "positive" in results else "inconclusive")
            records.append(
                {
                    "test": "viral_screening",
                    "method": "serology",
                    "result": result,
                    "passage": None,
                    "tested_on": None,
                    "testing_lab": "",
                    "details": {"viral_screening": screening},
                }
            )
        return records

    def _write_qc_and_variants(self, created_by_local):
        records, variants = [], []
        for line in self.lines:
            row = created_by_local[line.get("local_id")]
            for record in self.qc_by_local[line.get("local_id")]:
                record["line_id"] = row.pk
                records.append(record)
            for variant in self.variants_by_local[line.get("local_id")]:
                variant.line = row
                variants.append(variant)
        insert_with_history(
            QCRecord, records, user=self.approved_by, reason=f"approved submission {self.submission.pk}"
        )
        self._bulk(variants, Variant, 2000)
