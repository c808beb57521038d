"""What the rules need from the catalog, read up front in a handful of set-based
queries (the rules are then dictionary look-ups; nothing queries per line).

References resolve only against what the depositor may see: lines through
CellLine.objects.visible_to(user), donors through their visible lines. Another
institution's unreleased line or donor reads as absent (REF-1), so validating a
document never tells a depositor it exists.
"""

from collections import defaultdict

from django.db.models import Exists, OuterRef, Q

from core.models import DiseaseTerm, DuoTerm, Gene
from core.roles import institution_of, is_depositor
from donors.models import Donor
from lines import naming
from lines.models import CellLine
from lines.submissions.rules.findings import MONDO_RE, as_dict, as_list


def referable_lines(user):
    """Catalog lines a depositor's document may name (as parental line): those the user may see."""
    return CellLine.objects.visible_to(user)


def referable_donors(user):
    """Catalog donors a depositor's document may name by code: donors of lines the user
    may see, and every donor of the depositor's own institution (one whose lines are
    all gone is still theirs to deposit a new line of)."""
    of_visible_lines = Exists(referable_lines(user).filter(donor=OuterRef("pk")))
    institution = institution_of(user) if is_depositor(user) else None
    if institution is not None:
        return Donor.objects.filter(of_visible_lines | Q(institution=institution))
    return Donor.objects.filter(of_visible_lines)


class Catalog:
    """Everything the rules need from the database, fetched in a few set-based queries."""

    def __init__(self, document, institution, protocol, user=None):
        """`user` is the depositor whose view references resolve in (None: what
        anyone may see, the released catalog)."""
        donors = [d for d in as_list(document.get("donors")) if isinstance(d, dict)]
        lines = [ln for ln in as_list(document.get("lines")) if isinstance(ln, dict)]
        local_donors = {d.get("local_id") for d in donors if isinstance(d.get("local_id"), str)}
        local_lines = {ln.get("local_id") for ln in lines if isinstance(ln.get("local_id"), str)}
        donor_refs = {ln.get("donor") for ln in lines if isinstance(ln.get("donor"), str)} - local_donors
        parent_refs = {ln.get("parental_line") for ln in lines if isinstance(ln.get("parental_line"), str)}
        parent_refs -= local_lines
        names = {ln.get("name") for ln in lines if isinstance(ln.get("name"), str)}

        self.institution_code = institution.code if institution is not None else None
        visible_lines = referable_lines(user)

        self.donors = (
            {
                d["code"]: d
                for d in referable_donors(user)
                .filter(code__in=donor_refs)
                .values(
                    "id",
                    "code",
                    "donor_number",
                    "institution_id",
                    "sex",
                    "disease",
                    "str_profile",
                    "viral_screening",
                    "consent__obtained_on",
                    "consent__withdrawn_on",
                )
            }
            if donor_refs
            else {}
        )
        self.parents = (
            {
                p["name"]: p
                for p in visible_lines.filter(name__in=parent_refs).values(
                    "id",
                    "name",
                    "donor_id",
                    "donor__code",
                    "modification_type",
                    "parental_line_id",
                    "str_profile",
                    "cellosaurus_accession",
                    "reprogramming_method",
                )
            }
            if parent_refs
            else {}
        )
        # A name taken by a line the depositor may not see is not reported (it would
        # tell that the line exists); approval re-checks every name (writer.recheck).
        self.taken_names = set(visible_lines.filter(name__in=names).values_list("name", flat=True)) if names else set()

        # Donor numbers the institution already uses, and whose they are.
        self.donor_number_owner = {}
        if institution is not None:
            for code, number in (
                Donor.objects.filter(institution=institution)
                .exclude(donor_number="")
                .values_list("code", "donor_number")
            ):
                self.donor_number_owner[number] = code
            prefix = f"{institution.code}i"
            for name, donor_code in CellLine.objects.filter(name__startswith=prefix).values_list("name", "donor__code"):
                parsed = naming.parse_name(name)
                if parsed and parsed.institution == institution.code and donor_code:
                    self.donor_number_owner.setdefault(parsed.donor_number, donor_code)

        # Lines of catalog donors named in the document: STR-2's "another line of the same donor".
        self.donor_line_profiles = defaultdict(list)
        if self.donors:
            for code, name, profile in (
                visible_lines.filter(donor__code__in=list(self.donors))
                .exclude(str_profile={})
                .values_list("donor__code", "name", "str_profile")
            ):
                self.donor_line_profiles[code].append((name, profile))

        diseases = set()
        for d in donors:
            for value in (d.get("disease"), as_dict(d.get("consent")).get("disease")):
                if isinstance(value, str) and MONDO_RE.match(value):
                    diseases.add(value)
        self.diseases = (
            {
                curie: (ancestors or [], obsolete)
                for curie, ancestors, obsolete in DiseaseTerm.objects.filter(curie__in=diseases).values_list(
                    "curie", "ancestors", "obsolete"
                )
            }
            if diseases
            else {}
        )
        self.duo = {
            curie: (shorthand, obsolete)
            for curie, shorthand, obsolete in DuoTerm.objects.values_list("curie", "shorthand", "obsolete")
        }
        self.duo_by_shorthand = {s.upper(): c for c, (s, _) in self.duo.items() if s}

        written = []
        for d in donors:
            written += [as_dict(v).get("gene") for v in as_list(d.get("variants"))]
        for ln in lines:
            modification = as_dict(ln.get("modification"))
            written.append(modification.get("gene"))
            written += [as_dict(v).get("gene") for v in as_list(modification.get("variants"))]
        symbols = {s for s in written if isinstance(s, str) and s}
        self.genes = self._gene_lookup(symbols)

        # STR-3 leaves out the line's own donor: the ids of its lines and of the
        # lines of catalog parents' donors.
        donor_ids = {d["id"] for d in self.donors.values()} | {
            p["donor_id"] for p in self.parents.values() if p["donor_id"]
        }
        self.lines_of_catalog_donor = defaultdict(set)
        if donor_ids:
            for line_id, donor_id in CellLine.objects.filter(donor_id__in=donor_ids).values_list("id", "donor_id"):
                self.lines_of_catalog_donor[donor_id].add(line_id)

    @staticmethod
    def _gene_lookup(symbols):
        """symbol as written → (approved symbol, how it matched: approved|previous|alias|case)."""
        if not symbols:
            return {}
        found = {s: (s, "approved") for s in Gene.objects.filter(symbol__in=symbols).values_list("symbol", flat=True)}
        missing = symbols - set(found)
        if missing:
            # Previous symbols and aliases live in JSON lists; only a document with
            # unknown symbols pays for one pass over the gene table.
            wanted = {s.upper(): s for s in missing}
            for symbol, previous, aliases in Gene.objects.values_list(
                "symbol", "previous_symbols", "alias_symbols"
            ).iterator(chunk_size=5000):
                key = symbol.upper()
                if key in wanted and wanted[key] not in found:
                    found[wanted[key]] = (symbol, "case")
                for kind, values in (("previous", previous), ("alias", aliases)):
                    for value in values or ():
                        written = wanted.get(str(value).upper())
                        if written and written not in found:
                            found[written] = (symbol, kind)
        return found
