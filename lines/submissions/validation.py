"""Check a submission document against its protocol version: the JSON Schema, then the rules.

`validate_document` returns findings; it never raises on a malformed document.
Each finding is a dict:

    {"rule": "QC-3", "severity": "error" | "warning",
     "location": "/lines/3/qc/4/markers/1/percent_positive",   # JSON pointer
     "message": "...", "line": "L4" | None, "donor": "D2" | None}

Rule ids, severities and wording come from the rule table in lines.submissions.protocol;
thresholds come from the ProtocolVersion row the submission names.

Speed: the whole document must check in a small multiple of the JSON Schema pass
alone (10,000 lines). So the catalog is read up front in a handful of set-based
queries (names, donors, parental lines, vocabularies, STR holdings) and the
rules are dictionary look-ups; nothing queries the database per line. The
compiled schema validator is cached per protocol version.
"""

import hashlib
import json
import re
from collections import defaultdict
from datetime import date
from functools import lru_cache

from jsonschema import Draft202012Validator

from lines import naming
from lines.str.matching import (
    AMELOGENIN,
    ProfileError,
    canonical_marker,
    parse_alleles,
    score_profiles,
)
from lines.submissions.protocol import SEVERITY

PROGRESS_EVERY_LINES = 200
MONDO_RE = re.compile(r"^MONDO:\d{7}$")
DUO_RE = re.compile(r"^DUO:\d{7}$")
MAX_SCHEMA_FINDINGS = 5000


# ---------------------------------------------------------------------------
# Findings
# ---------------------------------------------------------------------------


def pointer(*parts):
    """JSON pointer (RFC 6901) from path parts."""
    if not parts:
        return ""
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def finding(rule, location, message, *, line=None, donor=None, severity=None):
    return {
        "rule": rule,
        "severity": severity or SEVERITY[rule],
        "location": location,
        "message": message,
        "line": line,
        "donor": donor,
    }


def _text(value):
    return value if isinstance(value, str) else None


def _dict(value):
    return value if isinstance(value, dict) else {}


def _list(value):
    return value if isinstance(value, list) else []


def _int(value):
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value):
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _date(value):
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# The JSON Schema pass
# ---------------------------------------------------------------------------


def inline_local_refs(schema):
    """The schema with every local `#/$defs/...` reference replaced by its target.

    jsonschema resolves a $ref on every instance it descends into; with the refs
    inlined once at compile time the same checks run about twice as fast. A
    recursive reference is left as it is."""
    defs = schema.get("$defs", {})

    def walk(node, active):
        if isinstance(node, list):
            return [walk(item, active) for item in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/") and ref[8:] in defs and ref not in active:
            target = walk(defs[ref[8:]], active | {ref})
            rest = {key: walk(value, active) for key, value in node.items() if key != "$ref"}
            return {**target, **rest}
        return {key: walk(value, active) for key, value in node.items()}

    inlined = walk(schema, frozenset())
    # Keep $defs only if a recursive reference still points into it.
    if "#/$defs/" not in json.dumps({k: v for k, v in inlined.items() if k != "$defs"}):
        inlined.pop("$defs", None)
    return inlined


@lru_cache(maxsize=16)
def _compiled_validator(number, digest, schema_text):
    # Keyed by the schema's digest as well as the version number, so a schema
    # edited in the admin is never checked with a stale compiled copy.
    schema = inline_local_refs(json.loads(schema_text))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def schema_validator(protocol):
    """The compiled jsonschema validator of a protocol version (cached)."""
    text = json.dumps(protocol.schema, sort_keys=True)
    digest = hashlib.sha256(text.encode()).hexdigest()
    return _compiled_validator(protocol.number, digest, text)


def _describe_type(value):
    return {
        dict: "an object", list: "a list", str: "text", bool: "true/false", type(None): "null",
        int: "a whole number", float: "a number",
    }.get(type(value), type(value).__name__)


def _short(value):
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _missing_property(error):
    match = re.match(r"^'(.+)' is a required property$", error.message)
    return match.group(1) if match else error.message


def _schema_message(error):
    """jsonschema's message, rewritten for a depositor: what is wrong and what is allowed."""
    kind, value, expected = error.validator, error.instance, error.validator_value
    if kind == "required":
        return f"missing required field {_missing_property(error)!r}"
    if kind == "additionalProperties":
        allowed = sorted((error.schema.get("properties") or {}).keys())
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        hint = f"; allowed fields: {', '.join(allowed)}" if allowed else ""
        return f"unknown field {', '.join(repr(e) for e in extra)} (check the spelling){hint}"
    if kind == "enum":
        return f"{_short(value)} is not allowed here; use one of: {', '.join(str(v) for v in expected)}"
    if kind == "const":
        return f"{_short(value)} is not allowed here; expected {_short(expected)}"
    if kind == "type":
        types = expected if isinstance(expected, list) else [expected]
        wanted = " or ".join({"integer": "a whole number", "number": "a number", "string": "text",
                              "object": "an object", "array": "a list", "boolean": "true/false",
                              "null": "null"}.get(t, t) for t in types)
        got = "null" if value is None else f"{_describe_type(value)} {_short(value)}"
        return f"expected {wanted}, got {got}"
    if kind == "format" and expected == "date":
        return f"{_short(value)} is not a valid date; write YYYY-MM-DD"
    if kind == "pattern":
        if error.schema.get("format") == "date":
            return f"{_short(value)} is not a valid date; write YYYY-MM-DD"
        return f"{_short(value)} does not have the expected form ({expected})"
    if kind in ("minimum", "maximum"):
        return f"{_short(value)} is {'below the minimum' if kind == 'minimum' else 'above the maximum'} {expected}"
    if kind in ("minItems", "maxItems"):
        return f"the list has {len(value)} items; {'at least' if kind == 'minItems' else 'at most'} {expected} allowed"
    if kind in ("minLength", "maxLength"):
        return f"{_short(value)} is {'too short' if kind == 'minLength' else 'too long'} (limit {expected} characters)"
    if kind == "maxProperties":
        return f"too many entries ({len(value)}; at most {expected})"
    if kind == "propertyNames":
        return f"{error.message}"
    if kind == "anyOf":
        return f"{_short(value)} is not allowed here: alleles are text such as \"11,12\", a number or a list"
    return error.message


def schema_findings(document, protocol, locals_by_path):
    validator = schema_validator(protocol)
    findings = []
    for error in validator.iter_errors(document):
        path = list(error.absolute_path)
        if error.validator == "propertyNames":
            # The offending key is the instance; point at it inside its object.
            path.append(error.instance)
            message = f"{error.instance!r} is not an accepted key here; allowed: {', '.join(error.validator_value.get('enum', []))}"
        else:
            message = _schema_message(error)
            if error.validator == "required":
                # Point at the missing member: a CSV/XLSX location then names its column.
                path.append(_missing_property(error))
        line, donor = locals_by_path(path)
        findings.append(finding("SCHEMA", pointer(*path), message, line=line, donor=donor))
        if len(findings) >= MAX_SCHEMA_FINDINGS:
            findings.append(finding(
                "SCHEMA", "", f"more than {MAX_SCHEMA_FINDINGS} schema errors; the rest are not listed",
            ))
            break
    return findings


# ---------------------------------------------------------------------------
# The catalog, read once
# ---------------------------------------------------------------------------


class Catalog:
    """Everything the rules need from the database, fetched in a few set-based queries."""

    def __init__(self, document, institution, protocol):
        from core.models import DiseaseTerm, DuoTerm
        from donors.models import Donor
        from lines.models import CellLine

        donors = [d for d in _list(document.get("donors")) if isinstance(d, dict)]
        lines = [ln for ln in _list(document.get("lines")) if isinstance(ln, dict)]
        local_donors = {d.get("local_id") for d in donors if isinstance(d.get("local_id"), str)}
        local_lines = {ln.get("local_id") for ln in lines if isinstance(ln.get("local_id"), str)}
        donor_refs = {ln.get("donor") for ln in lines if isinstance(ln.get("donor"), str)} - local_donors
        parent_refs = {ln.get("parental_line") for ln in lines if isinstance(ln.get("parental_line"), str)}
        parent_refs -= local_lines
        names = {ln.get("name") for ln in lines if isinstance(ln.get("name"), str)}

        self.institution_code = institution.code if institution is not None else None

        self.donors = {
            d["code"]: d
            for d in Donor.objects.filter(code__in=donor_refs).values(
                "id", "code", "donor_number", "institution_id", "sex", "disease", "str_profile",
                "viral_screening", "consent__obtained_on", "consent__withdrawn_on",
            )
        } if donor_refs else {}
        self.parents = {
            p["name"]: p
            for p in CellLine.objects.filter(name__in=parent_refs).values(
                "id", "name", "donor_id", "donor__code", "modification_type", "parental_line_id",
                "str_profile", "cellosaurus_accession", "reprogramming_method",
            )
        } if parent_refs else {}
        self.taken_names = set(CellLine.objects.filter(name__in=names).values_list("name", flat=True)) if names else set()

        # Donor numbers the institution already uses, and whose they are.
        self.donor_number_owner = {}
        if institution is not None:
            for code, number in Donor.objects.filter(institution=institution).exclude(donor_number="").values_list(
                "code", "donor_number"
            ):
                self.donor_number_owner[number] = code
            prefix = f"{institution.code}i"
            for name, donor_code in CellLine.objects.filter(name__startswith=prefix).values_list("name", "donor__code"):
                parsed = naming.parse_name(name)
                if parsed and parsed.institution == institution.code and donor_code:
                    self.donor_number_owner.setdefault(parsed.donor_number, donor_code)

        # Lines of catalog donors named in the document: STR-2's "another line of the same donor".
        self.donor_line_profiles = defaultdict(list)
        if donor_refs:
            for code, name, profile in CellLine.objects.filter(donor__code__in=donor_refs).exclude(
                str_profile={}
            ).values_list("donor__code", "name", "str_profile"):
                self.donor_line_profiles[code].append((name, profile))

        diseases = set()
        for d in donors:
            for value in (d.get("disease"), _dict(d.get("consent")).get("disease")):
                if isinstance(value, str) and MONDO_RE.match(value):
                    diseases.add(value)
        self.diseases = {
            curie: (ancestors or [], obsolete)
            for curie, ancestors, obsolete in DiseaseTerm.objects.filter(curie__in=diseases).values_list(
                "curie", "ancestors", "obsolete"
            )
        } if diseases else {}
        self.duo = {
            curie: (shorthand, obsolete)
            for curie, shorthand, obsolete in DuoTerm.objects.values_list("curie", "shorthand", "obsolete")
        }
        self.duo_by_shorthand = {s.upper(): c for c, (s, _) in self.duo.items() if s}

        written = []
        for d in donors:
            written += [_dict(v).get("gene") for v in _list(d.get("variants"))]
        for ln in lines:
            modification = _dict(ln.get("modification"))
            written.append(modification.get("gene"))
            written += [_dict(v).get("gene") for v in _list(modification.get("variants"))]
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
        from core.models import Gene

        if not symbols:
            return {}
        found = {s: (s, "approved") for s in Gene.objects.filter(symbol__in=symbols).values_list("symbol", flat=True)}
        missing = symbols - set(found)
        if missing:
            # Previous symbols and aliases live in JSON lists; only a document with
            # unknown symbols pays for one pass over the gene table.
            wanted = {s.upper(): s for s in missing}
            for symbol, previous, aliases in Gene.objects.values_list("symbol", "previous_symbols", "alias_symbols").iterator(
                chunk_size=5000
            ):
                key = symbol.upper()
                if key in wanted and wanted[key] not in found:
                    found[wanted[key]] = (symbol, "case")
                for kind, values in (("previous", previous), ("alias", aliases)):
                    for value in values or ():
                        written = wanted.get(str(value).upper())
                        if written and written not in found:
                            found[written] = (symbol, kind)
        return found

# ---------------------------------------------------------------------------
# STR helpers
# ---------------------------------------------------------------------------


def read_profile(raw):
    """(normalised profile, problems, unknown markers) for a document profile; never raises."""
    profile, problems, unknown = {}, [], []
    if not isinstance(raw, dict):
        return profile, problems, unknown
    for name, value in raw.items():
        marker = canonical_marker(name)
        if marker is None:
            unknown.append(str(name))
            continue
        try:
            alleles = parse_alleles(marker, value)
        except ProfileError as error:
            problems.append((str(name), error.problem))
            continue
        if alleles:
            profile[marker] = sorted(set(profile.get(marker, [])) | set(alleles))
    return profile, problems, unknown


def _raw_key(raw):
    return tuple(sorted(
        (str(k), v if isinstance(v, (str, int, float)) or v is None else repr(v)) for k, v in raw.items()
    ))


def _profile_key(profile):
    return tuple(sorted((m, tuple(a)) for m, a in profile.items()))


def tanabe(query, reference):
    return score_profiles(query, reference, algorithm="tanabe", mode="non_empty", include_amelogenin=False).score


# ---------------------------------------------------------------------------
# HGVS (VAR-2)
# ---------------------------------------------------------------------------

# Versioned RefSeq/Ensembl/LRG accessions; RefSeq numbers have 6 or 9 digits.
_TRANSCRIPT = r"(?:N[MR]_\d{6}(?:\d{3})?\.\d+|X[MR]_\d{6}(?:\d{3})?\.\d+|ENST\d{11}\.\d+|LRG_\d+t\d+)"
_GENOMIC = r"(?:N[CGTW]_\d{6}(?:\d{3})?\.\d+|ENSG\d{11}\.\d+|LRG_\d+)"
_NT = "ACGTUN"
_CPOS = r"(?:[-*]?\d+(?:[+-]\d+)?|\?)"
_GPOS = r"(?:\d+|\?)"
_NUC_CHANGE = (
    rf"(?:[{_NT}]>[{_NT}]|=|del[{_NT}]*|dup[{_NT}]*|inv|ins(?:[{_NT}]+|\(\d+\))|delins[{_NT}]+|"
    rf"[{_NT}]+\[\(?\d+(?:_\d+)?\)?\](?:;\[\(?\d+(?:_\d+)?\)?\])?|\[\(?\d+(?:_\d+)?\)?\])"
)


def _coordinate_re(position):
    span = rf"(?:{position}|\({position}_{position}\))"
    return rf"{span}(?:_{span})?{_NUC_CHANGE}"


_HGVS_C = re.compile(rf"^(?P<acc>{_TRANSCRIPT}):(?P<type>[cnr])\.(?:{_coordinate_re(_CPOS)}|\({_coordinate_re(_CPOS)}\))$")
_HGVS_G = re.compile(rf"^(?P<acc>{_GENOMIC}):(?P<type>[gm])\.(?:{_coordinate_re(_GPOS)}|\({_coordinate_re(_GPOS)}\))$")
_ACCESSION_PART = re.compile(r"^(?P<acc>[^:]*):(?P<type>[a-z])\.")

_AA3 = (
    "Ala|Arg|Asn|Asp|Cys|Gln|Glu|Gly|His|Ile|Leu|Lys|Met|Phe|Pro|Ser|Thr|Trp|Tyr|Val|Sec|Pyl|Ter|Xaa"
)
_AA1 = "ACDEFGHIKLMNPQRSTVWYUOX"
_AA = rf"(?:{_AA3}|[{_AA1}])"
_PPOS = rf"{_AA}\d+"
_PROTEIN_CHANGE = (
    rf"(?:{_PPOS}(?:_{_PPOS})?(?:{_AA}|\*|=|\?|del|dup|ins{_AA}+|delins{_AA}+|"
    rf"{_AA}?fs(?:Ter|\*)?\d*|{_AA}?ext(?:Ter|\*)?-?\d*|\*)|0|\?|=)"
)
_HGVS_P = re.compile(rf"^(?:(?:NP|XP)_\d{{6}}(?:\d{{3}})?\.\d+:|ENSP\d{{11}}\.\d+:)?p\.(?:{_PROTEIN_CHANGE}|\({_PROTEIN_CHANGE}\))$")
_LEGACY_PROTEIN = re.compile(rf"^(?:p\.)?\(?(?P<ref>[{_AA1}]|{_AA3})(?P<pos>\d+)(?P<alt>[{_AA1}*X]|{_AA3}|fs|del)\)?$")
_SIMPLE_SUBSTITUTION = re.compile(rf"p\.\(?(?P<ref>{_AA3}|[{_AA1}])(?P<pos>\d+)(?P<alt>{_AA3}|[{_AA1}*=])\)?$")

_THREE = {
    "A": "Ala", "R": "Arg", "N": "Asn", "D": "Asp", "C": "Cys", "Q": "Gln", "E": "Glu", "G": "Gly",
    "H": "His", "I": "Ile", "L": "Leu", "K": "Lys", "M": "Met", "F": "Phe", "P": "Pro", "S": "Ser",
    "T": "Thr", "W": "Trp", "Y": "Tyr", "V": "Val", "X": "Ter", "*": "Ter", "U": "Sec", "O": "Pyl",
}
_ONE = {three: one for one, three in _THREE.items() if one not in "X*"}
_ONE["Ter"] = "*"

# Reference protein sequences (UniProt canonical, Met1 = position 1) for genes whose
# literature uses a legacy numbering that skips Met1: SOD1 A4V is p.Ala5Val.
REFERENCE_PROTEINS = {
    "SOD1": (
        "MATKAVCVLKGDGPVQGIINFEQKESNGPVKVWGSIKGLTEGLHGFHVHEFGDNTAGCTSAGPHFNPLSRKHGGPKDEERHVGDLGN"
        "VTADKDGVADVSIEDSVISLSGDHCIIGRTLVVHEKADDLGKGGNEESTKTGNAGSRLACGVIGIAQ"
    ),
}


def _three_letter(code):
    return _THREE.get(code, code) if len(code) == 1 else code


def hgvs_problem(value):
    """Why a c./g./n./m./r. description is not well-formed HGVS, or None."""
    if re.search(r"\s", value):
        return "contains spaces; HGVS has none (e.g. NM_000454.5:c.14C>T)"
    if _HGVS_C.match(value) or _HGVS_G.match(value):
        return None
    head = _ACCESSION_PART.match(value)
    if not head:
        if re.match(r"^[cgnmr]\.", value):
            return "has no reference sequence; write the versioned accession first, e.g. NM_000454.5:c.14C>T"
        return "is not an HGVS description such as NM_000454.5:c.14C>T or NC_000021.9:g.31667281C>T"
    accession, kind = head.group("acc"), head.group("type")
    if "(" in accession:
        return (f"accession {accession!r} carries a gene in brackets (a ClinVar display name); "
                "write the accession alone, e.g. NM_000257.4:c.752C>A, and the gene in 'gene'")
    if not re.match(rf"^(?:{_TRANSCRIPT}|{_GENOMIC})$", accession):
        if re.match(r"^[A-Z]{2}_\d+$", accession) or re.match(r"^ENS[TG]\d+$", accession):
            return f"accession {accession!r} has no version; add it, e.g. NM_000454.5"
        return (f"accession {accession!r} is not a RefSeq/Ensembl/LRG accession "
                "(RefSeq numbers have 6 or 9 digits and a version, e.g. NM_000454.5)")
    if kind in "cnr" and not re.match(rf"^{_TRANSCRIPT}$", accession):
        return f"{kind}. coordinates need a transcript accession (NM_, NR_, ENST), not {accession}"
    if kind in "gm" and not re.match(rf"^{_GENOMIC}$", accession):
        return f"{kind}. coordinates need a genomic accession (NC_, NG_), not {accession}"
    if kind not in "cgnmr":
        return f"'{kind}.' is not an HGVS coordinate type (c., g., n., m., r.)"
    return "the change after the coordinate type is not HGVS syntax (e.g. c.14C>T, c.1A>G, c.92_94del, c.100dup)"


def protein_problem(value, gene):
    """Why a p. description is not well-formed HGVS (or uses legacy numbering), or None."""
    if re.search(r"\s", value):
        return "contains spaces; HGVS has none (e.g. p.Ala5Val)"
    if _HGVS_P.match(value):
        substitution = _SIMPLE_SUBSTITUTION.search(value)
        sequence = REFERENCE_PROTEINS.get(gene)
        if substitution and sequence:
            ref = substitution.group("ref")
            ref1 = ref if len(ref) == 1 else _ONE.get(ref)
            position = int(substitution.group("pos"))
            actual = sequence[position - 1] if 0 < position <= len(sequence) else None
            if actual and ref1 and actual != ref1:
                following = sequence[position] if position < len(sequence) else None
                if following == ref1:
                    return (f"residue {position} of {gene} is {_THREE[actual]}, not {_three_letter(ref)}: this looks like "
                            f"the legacy numbering that skips Met1; HGVS counts Met1, so write "
                            f"p.{_three_letter(ref)}{position + 1}{_three_letter(substitution.group('alt'))} "
                            "and keep the legacy name in legacy_name")
                return f"residue {position} of {gene} is {_THREE[actual]}, not {_three_letter(ref)}"
        return None
    legacy = _LEGACY_PROTEIN.match(value)
    if legacy:
        ref, pos, alt = legacy.group("ref"), int(legacy.group("pos")), legacy.group("alt")
        hint = ""
        sequence = REFERENCE_PROTEINS.get(gene)
        ref1 = ref if len(ref) == 1 else _ONE.get(ref)
        if sequence and 0 < pos < len(sequence) and sequence[pos - 1] != ref1 and sequence[pos] == ref1:
            pos += 1
            hint = f" ({gene} legacy numbering skips Met1: HGVS counts Met1)"
        suggestion = f"p.{_three_letter(ref)}{pos}{_three_letter(alt) if alt not in ('fs', 'del') else alt}"
        return (f"is a legacy protein name, not HGVS; write {suggestion}{hint} and keep "
                f"{value!r} in legacy_name")
    return "is not HGVS p. syntax (e.g. p.Ala5Val, p.(Arg495Ter), p.Gly608=, p.Arg97GlyfsTer26)"


# ---------------------------------------------------------------------------
# Helpers for QC
# ---------------------------------------------------------------------------

_MARKER_ALIASES = {
    "OCT4": "OCT4", "OCT34": "OCT4", "POU5F1": "OCT4", "NANOG": "NANOG", "SOX2": "SOX2",
    "TRA160": "TRA-1-60", "TRA181": "TRA-1-81", "SSEA4": "SSEA4", "SSEA3": "SSEA3",
}
_FLOW_METHODS = {"flow", "flow_cytometry", "facs"}
_NORMAL_KARYOTYPES = {"46,XX", "46,XY"}


def canonical_pluripotency_marker(name):
    key = re.sub(r"[^A-Z0-9]", "", str(name).upper())
    return _MARKER_ALIASES.get(key, str(name))


def _latest_by_test(qc_items):
    """test → (index, item) of the latest-dated record (later position wins ties)."""
    latest = {}
    for index, item in qc_items:
        test = item.get("test")
        if not isinstance(test, str):
            continue
        when = _date(item.get("date")) or date.min
        current = latest.get(test)
        if current is None or when >= (_date(current[1].get("date")) or date.min):
            latest[test] = (index, item)
    return latest


# ---------------------------------------------------------------------------
# The validator
# ---------------------------------------------------------------------------


class DocumentValidator:
    def __init__(self, document, *, protocol, institution, on_progress=None, user=None):
        self.document = document
        self.protocol = protocol
        self.settings = dict(protocol.settings or {})
        self.institution = institution
        self.on_progress = on_progress
        self.user = user
        self.findings = []
        self.donors = _list(document.get("donors")) if isinstance(document, dict) else []
        self.lines = _list(document.get("lines")) if isinstance(document, dict) else []

    # -- small utilities --

    def add(self, rule, location, message, *, line=None, donor=None, severity=None):
        self.findings.append(finding(rule, location, message, line=line, donor=donor, severity=severity))

    def setting(self, key, default=None):
        return self.settings.get(key, default)

    def _locals_by_path(self, path):
        line = donor = None
        if len(path) >= 2 and path[0] == "lines" and isinstance(path[1], int) and path[1] < len(self.lines):
            line = _text(_dict(self.lines[path[1]]).get("local_id"))
            donor = _text(_dict(self.lines[path[1]]).get("donor"))
        elif len(path) >= 2 and path[0] == "donors" and isinstance(path[1], int) and path[1] < len(self.donors):
            donor = _text(_dict(self.donors[path[1]]).get("local_id"))
        return line, donor

    # -- entry point --

    def run(self):
        self.findings.extend(schema_findings(self.document, self.protocol, self._locals_by_path))
        if not isinstance(self.document, dict):
            return self.findings
        total = len(self.lines)
        self._progress(0, total)
        self.catalog = Catalog(self.document, self.institution, self.protocol)
        self._index_document()
        self.check_references()
        for index, donor in self.donor_items:
            self.check_donor(index, donor)
        self.check_donor_numbers()
        for position, (index, line) in enumerate(self.line_items, start=1):
            self.check_line(index, line)
            if position % PROGRESS_EVERY_LINES == 0:
                self._progress(position, total)
        self.check_holdings()
        self._progress(total, total)
        return self.findings

    def _progress(self, done, total):
        if self.on_progress is not None:
            self.on_progress(done, total)

    def _index_document(self):
        self.donor_items = [(i, d) for i, d in enumerate(self.donors) if isinstance(d, dict)]
        self.line_items = [(i, ln) for i, ln in enumerate(self.lines) if isinstance(ln, dict)]
        self.donor_by_id = {}
        for index, donor in self.donor_items:
            local_id = _text(donor.get("local_id"))
            if local_id is not None:
                self.donor_by_id.setdefault(local_id, (index, donor))
        self.line_by_id = {}
        for index, line in self.line_items:
            local_id = _text(line.get("local_id"))
            if local_id is not None:
                self.line_by_id.setdefault(local_id, (index, line))
        self.lines_of_donor = defaultdict(list)
        for index, line in self.line_items:
            donor_ref = _text(line.get("donor"))
            if donor_ref is not None:
                self.lines_of_donor[donor_ref].append((index, line))
        self._line_str = {}
        self._score_cache = {}
        self._profiles = {}
        self._pending_str3 = []
        self._first_with_name = {}

    # -- REF-1, REF-2 --

    def check_references(self):
        for collection, items in (("donors", self.donor_items), ("lines", self.line_items)):
            seen = {}
            for index, item in items:
                local_id = _text(item.get("local_id"))
                if local_id is None:
                    continue
                if local_id in seen:
                    line = local_id if collection == "lines" else None
                    donor = local_id if collection == "donors" else None
                    self.add("REF-2", pointer(collection, index, "local_id"),
                             f"local_id {local_id!r} is used by {collection} #{seen[local_id] + 1} and #{index + 1}; "
                             "give each a unique local_id", line=line, donor=donor)
                else:
                    seen[local_id] = index
        for index, line in self.line_items:
            line_id = _text(line.get("local_id"))
            donor_ref = _text(line.get("donor"))
            if donor_ref is not None and donor_ref not in self.donor_by_id and donor_ref not in self.catalog.donors:
                self.add("REF-1", pointer("lines", index, "donor"),
                         f"donor {donor_ref!r} is neither a donor local_id in this document nor a donor code in "
                         "the catalog; add the donor to 'donors' or use the catalog's donor code",
                         line=line_id, donor=donor_ref)
            parent_ref = _text(line.get("parental_line"))
            if parent_ref is not None and parent_ref not in self.line_by_id and parent_ref not in self.catalog.parents:
                self.add("REF-1", pointer("lines", index, "parental_line"),
                         f"parental line {parent_ref!r} is neither a line local_id in this document nor a line name "
                         "in the catalog; deposit the parent first or include it in this document",
                         line=line_id, donor=donor_ref)
            if parent_ref is not None and parent_ref == line_id:
                self.add("REF-1", pointer("lines", index, "parental_line"),
                         "a line cannot be its own parental line", line=line_id, donor=donor_ref)

    # -- DONOR-*, VAR-*, CONSENT-* --

    def check_donor(self, index, donor):
        donor_id = _text(donor.get("local_id"))
        at = lambda *parts: pointer("donors", index, *parts)  # noqa: E731

        def add(rule, location, message, severity=None):
            self.add(rule, location, message, donor=donor_id, severity=severity)

        disease = donor.get("disease")
        if isinstance(disease, str):
            if not MONDO_RE.match(disease):
                add("DONOR-1", at("disease"),
                    f"disease {disease!r} is not a MONDO id; write MONDO: and 7 digits, e.g. MONDO:0004976 "
                    "for ALS (leave null for a healthy control)")
            elif disease not in self.catalog.diseases:
                add("DONOR-1", at("disease"),
                    f"{disease} is not in the catalog's disease vocabulary; check the id, or ask a curator "
                    "to load the current MONDO release", severity="warning")
            elif self.catalog.diseases[disease][1]:
                add("DONOR-1", at("disease"), f"{disease} is obsolete in MONDO; use its replacement",
                    severity="warning")

        als = donor.get("als")
        if isinstance(als, dict) and any(v is not None for v in als.values()):
            roots = set(self.setting("als_disease_roots", []))
            ancestors = set(self.catalog.diseases.get(disease, ([], False))[0]) if isinstance(disease, str) else set()
            if not isinstance(disease, str) or not ({disease} | ancestors) & roots:
                add("DONOR-2", at("als"),
                    f"an 'als' clinical block is given but the donor's disease ({disease or 'none'}) is not ALS "
                    "or FTD/ALS; correct the disease or remove the block")
            onset, sampled = _int(als.get("age_at_onset")), _int(donor.get("age_at_sampling"))
            if onset is not None and sampled is not None and onset > sampled:
                add("DONOR-2", at("als", "age_at_onset"),
                    f"age at onset ({onset}) is above age at sampling ({sampled}); onset cannot follow sampling")
            score = _int(als.get("alsfrs_r"))
            low, high = self.setting("alsfrs_r_min", 0), self.setting("alsfrs_r_max", 48)
            if score is not None and not low <= score <= high:
                add("DONOR-2", at("als", "alsfrs_r"), f"ALSFRS-R {score} is outside {low}–{high}")

        for v_index, variant in enumerate(_list(donor.get("variants"))):
            self.check_variant(variant, ("donors", index, "variants", v_index), donor=donor_id)

        self.check_consent(index, donor, donor_id)

        profile_raw = donor.get("str_profile")
        if isinstance(profile_raw, dict):
            profile, problems, _unknown = read_profile(profile_raw)
            for marker, problem in problems:
                add("STR-1", at("str_profile", marker), f"donor STR marker {marker}: {problem}")
            self.check_amelogenin(profile, donor.get("sex"), at("str_profile", AMELOGENIN), donor_id=donor_id)

    def check_gene(self, gene, path, *, donor=None, line=None):
        """VAR-1 for one symbol; returns the approved symbol (or the symbol as written)."""
        match = self.catalog.genes.get(gene)
        if match is None:
            self.add("VAR-1", pointer(*path),
                     f"{gene!r} is not an approved HGNC symbol, previous symbol or alias; check the "
                     "symbol at genenames.org (a locus such as a safe harbour goes in the description)",
                     donor=donor, line=line)
            return gene
        if match[1] != "approved":
            how = {"case": "is written in the wrong case", "previous": "is a previous HGNC symbol",
                   "alias": "is an alias"}[match[1]]
            self.add("VAR-1", pointer(*path), f"{gene!r} {how}; the approved HGNC symbol is {match[0]}",
                     donor=donor, line=line, severity="warning")
        return match[0]

    def check_variant(self, variant, path, *, donor=None, line=None):
        if not isinstance(variant, dict):
            return
        gene = _text(variant.get("gene"))
        approved = self.check_gene(gene, (*path, "gene"), donor=donor, line=line) if gene else gene
        hgvs, protein = _text(variant.get("hgvs")), _text(variant.get("protein"))
        if not hgvs and not protein and variant.get("repeat_size") is None:
            self.add("VAR-2", pointer(*path),
                     "a variant needs an HGVS description ('hgvs', e.g. NM_000454.5:c.14C>T) or a protein "
                     "change ('protein', e.g. p.Ala5Val)", donor=donor, line=line)
        if hgvs:
            problem = hgvs_problem(hgvs)
            if problem:
                self.add("VAR-2", pointer(*path, "hgvs"), f"hgvs {hgvs!r} {problem}" if not problem.startswith("accession")
                         else f"hgvs {hgvs!r}: {problem}", donor=donor, line=line)
        if protein:
            problem = protein_problem(protein, approved)
            if problem:
                self.add("VAR-2", pointer(*path, "protein"), f"protein {protein!r}: {problem}", donor=donor, line=line)

    def check_consent(self, index, donor, donor_id):
        consent = donor.get("consent")
        if not isinstance(consent, dict):
            return
        at = lambda *parts: pointer("donors", index, "consent", *parts)  # noqa: E731
        codes = [c for c in _list(consent.get("codes")) if isinstance(c, str)]
        permissions = set(self.setting("permission_codes", []))
        known_codes = []
        for c_index, code in enumerate(_list(consent.get("codes"))):
            if not isinstance(code, str):
                continue
            if not DUO_RE.match(code):
                curie = self.catalog.duo_by_shorthand.get(code.strip().upper())
                hint = f"; write {curie} for {code}" if curie else ""
                self.add("CONSENT-1", at("codes", c_index),
                         f"{code!r} is not a DUO id (DUO: and 7 digits){hint}. Store CURIEs, not shorthands",
                         donor=donor_id)
            elif code not in self.catalog.duo:
                self.add("CONSENT-1", at("codes", c_index),
                         f"{code} is not a term of the Data Use Ontology loaded in the catalog", donor=donor_id)
            elif self.catalog.duo[code][1]:
                self.add("CONSENT-1", at("codes", c_index),
                         f"{code} is obsolete in DUO; use the current term", donor=donor_id)
            else:
                known_codes.append(code)
        if not permissions & set(known_codes):
            self.add("CONSENT-1", at("codes"),
                     "no DUO data use permission: give one of NRES (DUO:0000004), GRU (DUO:0000042), "
                     "HMB (DUO:0000006), DS (DUO:0000007) or POA (DUO:0000011); modifiers such as NCU "
                     "only restrict a permission", donor=donor_id)
        consent_disease = consent.get("disease")
        if self.setting("disease_specific_code") in codes and not (
            isinstance(consent_disease, str) and consent_disease
        ):
                self.add("CONSENT-1", at("disease"),
                         "DS (disease-specific research, DUO:0000007) needs the consented disease as a MONDO id",
                         donor=donor_id)
        if isinstance(consent_disease, str) and consent_disease and not MONDO_RE.match(consent_disease):
            self.add("CONSENT-1", at("disease"),
                     f"consented disease {consent_disease!r} is not a MONDO id (MONDO: and 7 digits)",
                     donor=donor_id)

        withdrawn = _text(consent.get("withdrawn_on"))
        if withdrawn:
            count = len(self.lines_of_donor.get(donor_id, []))
            self.add("CONSENT-2", at("withdrawn_on"),
                     f"consent was withdrawn on {withdrawn}: this donor's lines ({count} in this document) may "
                     "not be deposited for distribution; remove them from the submission", donor=donor_id)

        if consent.get("genetic_data") == "none":
            has_variants = bool(_list(donor.get("variants")))
            has_str = bool(_dict(donor.get("str_profile"))) or any(
                _dict(qc).get("str_profile") for _i, line in self.lines_of_donor.get(donor_id, [])
                for qc in _list(line.get("qc"))
            )
            if has_variants or has_str:
                given = " and ".join(x for x, present in (("variants", has_variants), ("STR profiles", has_str)) if present)
                self.add("CONSENT-3", at("genetic_data"),
                         f"genetic_data is 'none' but {given} are given: they will be stored curator-only "
                         "and never shown to researchers", donor=donor_id)

    def check_amelogenin(self, profile, sex, location, *, donor_id=None, line_id=None, what="donor"):
        alleles = set(profile.get(AMELOGENIN, []))
        if not alleles or sex not in ("female", "male"):
            return
        if sex == "female" and "Y" in alleles:
            self.add("STR-4", location,
                     f"Amelogenin {','.join(sorted(alleles))} of the {what} profile shows a Y chromosome, but the "
                     "donor is recorded as female; check the sample or the donor's sex", donor=donor_id, line=line_id)
        elif sex == "male" and "Y" not in alleles:
            self.add("STR-4", location,
                     f"Amelogenin {','.join(sorted(alleles))} of the {what} profile shows no Y chromosome, but the "
                     "donor is recorded as male (loss of Y happens in culture; check)", donor=donor_id, line=line_id)

    # -- NAME-3: donor numbers across the document and the catalog --

    def check_donor_numbers(self):
        numbers_by_donor = defaultdict(dict)  # donor ref → donor number → first (index)
        for index, line in self.line_items:
            parsed = naming.parse_name(line.get("name"))
            donor_ref = _text(line.get("donor"))
            if parsed is None or donor_ref is None or parsed.institution != self.catalog.institution_code:
                continue
            numbers_by_donor[donor_ref].setdefault(parsed.donor_number, index)
        donors_by_number = defaultdict(list)
        for donor_ref, numbers in numbers_by_donor.items():
            catalog_donor = self.catalog.donors.get(donor_ref)
            expected = catalog_donor["donor_number"] if catalog_donor and catalog_donor["donor_number"] else None
            if len(numbers) > 1:
                for number, index in list(numbers.items())[1:]:
                    first = next(iter(numbers))
                    self.add("NAME-3", pointer("lines", index, "name"),
                             f"lines of donor {donor_ref} carry different donor numbers ({first} and {number}); "
                             "every line of one donor keeps the same donor number",
                             line=_text(self.lines[index].get("local_id")), donor=donor_ref)
            for number, index in numbers.items():
                donors_by_number[number].append((donor_ref, index))
                if expected and number != expected:
                    self.add("NAME-3", pointer("lines", index, "name"),
                             f"donor {donor_ref} is registered with donor number {expected}, not {number}",
                             line=_text(self.lines[index].get("local_id")), donor=donor_ref)
                owner = self.catalog.donor_number_owner.get(number)
                if owner and owner != donor_ref:
                    self.add("NAME-3", pointer("lines", index, "name"),
                             f"donor number {number} already belongs to catalog donor {owner}; a new donor takes "
                             "a new number (leave the name empty to have one assigned)",
                             line=_text(self.lines[index].get("local_id")), donor=donor_ref)
        for number, users in donors_by_number.items():
            if len(users) > 1:
                for donor_ref, index in users[1:]:
                    self.add("NAME-3", pointer("lines", index, "name"),
                             f"donor number {number} is used for donors {users[0][0]} and {donor_ref}; "
                             "one donor number belongs to one donor",
                             line=_text(self.lines[index].get("local_id")), donor=donor_ref)

    # -- lines --

    def _donor_facts(self, donor_ref):
        """(sex, consent obtained_on, withdrawn_on, viral screening, STR profile) of a line's donor."""
        if donor_ref in self.donor_by_id:
            donor = self.donor_by_id[donor_ref][1]
            consent = _dict(donor.get("consent"))
            return (donor.get("sex"), _date(consent.get("obtained_on")), consent.get("withdrawn_on"),
                    _dict(donor.get("viral_screening")), donor.get("str_profile"), False)
        catalog = self.catalog.donors.get(donor_ref)
        if catalog:
            return (catalog["sex"], catalog["consent__obtained_on"], catalog["consent__withdrawn_on"],
                    _dict(catalog["viral_screening"]), catalog["str_profile"], True)
        return (None, None, None, {}, None, False)

    def check_line(self, index, line):
        line_id = _text(line.get("local_id"))
        donor_ref = _text(line.get("donor"))
        at = lambda *parts: pointer("lines", index, *parts)  # noqa: E731

        def add(rule, location, message, severity=None):
            self.add(rule, location, message, line=line_id, donor=donor_ref, severity=severity)

        sex, obtained_on, withdrawn_on, donor_viral, donor_profile, in_catalog = self._donor_facts(donor_ref)
        modification = _dict(line.get("modification"))
        modification_type = _text(modification.get("type"))
        modified = modification_type is not None and modification_type != "none"
        parent_ref = _text(line.get("parental_line"))

        if in_catalog and withdrawn_on:
            add("CONSENT-2", at("donor"),
                f"catalog donor {donor_ref} withdrew consent on {withdrawn_on}: new lines of this donor may not "
                "be deposited for distribution")

        # LINE-1
        if modified and parent_ref is None:
            add("LINE-1", at("parental_line"),
                f"a {modification_type} line needs its parental line (the unmodified line it was edited from)")
        elif modification_type == "none" and parent_ref is not None:
            add("LINE-1", at("parental_line"),
                f"an unmodified line has no parental line, but {parent_ref!r} is given; set modification.type "
                "or remove parental_line")

        # LINE-2
        derived_on = _date(line.get("derived_on"))
        if derived_on and obtained_on and derived_on < obtained_on:
            add("LINE-2", at("derived_on"),
                f"derived_on {derived_on} is before consent was obtained ({obtained_on}); a line may only be "
                "derived after consent")

        # LINE-3
        culture = _dict(line.get("culture"))
        banked = _int(culture.get("passage_at_banking"))
        low, high = self.setting("passage_min", 1), self.setting("passage_max", 200)
        if banked is not None and not low <= banked <= high:
            add("LINE-3", at("culture", "passage_at_banking"), f"passage at banking {banked} is outside {low}–{high}")

        qc_items = [(i, item) for i, item in enumerate(_list(line.get("qc"))) if isinstance(item, dict)]
        for q_index, item in qc_items:
            when = _date(item.get("date"))
            if derived_on and when and when < derived_on:
                add("LINE-2", at("qc", q_index, "date"),
                    f"{item.get('test')} QC dated {when} is before the line was derived ({derived_on})")
            passage = _int(item.get("passage"))
            if passage is not None and banked is not None and low <= banked <= high and passage > banked:
                add("LINE-3", at("qc", q_index, "passage"),
                    f"{item.get('test')} QC at passage {passage} is above the passage at banking ({banked}); "
                    "QC describes the banked cells or earlier")

        # NAME-*
        self.check_name(index, line, line_id, donor_ref, modified, parent_ref, add, at)

        # The edited gene and the variants made by the edit.
        edited_gene = _text(modification.get("gene"))
        if edited_gene:
            self.check_gene(edited_gene, ("lines", index, "modification", "gene"), donor=donor_ref, line=line_id)
        for v_index, variant in enumerate(_list(modification.get("variants"))):
            self.check_variant(variant, ("lines", index, "modification", "variants", v_index),
                               donor=donor_ref, line=line_id)

        # QC-*
        self.check_qc(index, line, qc_items, donor_viral, modified, parent_ref, add, at)

        # STR-*
        self.check_str(index, line, qc_items, sex, donor_ref, donor_profile, parent_ref, add, at)

    def check_name(self, index, line, line_id, donor_ref, modified, parent_ref, add, at):
        name = line.get("name")
        parent_name, parent_is_subclone = self._parent_name(parent_ref) if modified and parent_ref else (None, False)
        if parent_is_subclone:
            root = naming.subclone_parent(parent_name) if parent_name else None
            add("NAME-4", at("parental_line"),
                f"the parental line {parent_ref!r} is itself a subclone; numbering is flat: name the original "
                f"unmodified line{f' {root}' if root else ''} as parental line (the line becomes "
                f"{root or '<parent>'}-<n>) and describe the earlier edit in modification.description")
        if not isinstance(name, str):
            return
        problems = naming.name_problems(name)
        max_length = self.setting("max_name_length", naming.MAX_LENGTH)
        if len(name) > max_length and not any("characters long" in p for p in problems):
            problems.insert(0, f"is {len(name)} characters long; at most {max_length}")
        if problems:
            add("NAME-1", at("name"), f"name {name!r} {'; and '.join(problems)}")
            return
        parsed = naming.parse_name(name)
        code = self.catalog.institution_code
        if code and parsed.institution != code:
            add("NAME-2", at("name"),
                f"name {name!r} starts with institution code {parsed.institution}, but the depositing "
                f"institution's code is {code}")
        if parsed.type != naming.IPSC:
            add("NAME-2", at("name"), f"name {name!r} has type letter {parsed.type!r}; an iPSC line takes 'i'")
        if name in self.catalog.taken_names:
            add("NAME-3", at("name"), f"name {name!r} is already taken in the catalog; leave the name empty to "
                "have the next free one assigned")
        first = self._first_with_name.setdefault(name, index)
        if first != index:
            add("NAME-3", at("name"), f"name {name!r} is also given to line #{first + 1} of this document; "
                "names are unique")

        if modified and parent_ref is not None and not parent_is_subclone:
            if parent_name is None:
                add("NAME-4", at("name"),
                    f"the line is named {name!r} but its parent {parent_ref!r} has no name yet; leave both names "
                    "empty to have them assigned, or name the parent too")
            elif not (parsed.is_subclone and parsed.parent == parent_name):
                add("NAME-4", at("name"),
                    f"a modified line is named after its parent plus -<n>: expected {parent_name}-<n>, "
                    f"got {name!r}")
        elif modified and parsed.is_subclone is False:
            add("NAME-4", at("name"), f"a modified line is named parent + -<n>; {name!r} has no subclone number")

    def _parent_name(self, parent_ref):
        """(name, is itself a subclone) of a parental line in the document or the catalog."""
        if parent_ref in self.line_by_id:
            parent = self.line_by_id[parent_ref][1]
            parent_type = _text(_dict(parent.get("modification")).get("type"))
            name = _text(parent.get("name"))
            parsed = naming.parse_name(name)
            is_subclone = (parent_type not in (None, "none")) or bool(parsed and parsed.is_subclone)
            return name, is_subclone
        catalog = self.catalog.parents.get(parent_ref)
        if catalog:
            parsed = naming.parse_name(catalog["name"])
            is_subclone = bool(parsed and parsed.is_subclone) or (
                catalog["modification_type"] not in ("", "none") and catalog["parental_line_id"] is not None
            )
            return catalog["name"], is_subclone
        return None, False

    def check_qc(self, index, line, qc_items, donor_viral, modified, parent_ref, add, at):
        tests = {item.get("test") for _i, item in qc_items if isinstance(item.get("test"), str)}
        required = list(self.setting("core_tests", []))
        method = _text(_dict(line.get("reprogramming")).get("method"))
        if method is None and parent_ref:
            method = self._parent_reprogramming(parent_ref)
        if method in self.setting("vector_methods", []) and not modified:
            required.append("vector_clearance")
        missing = [t for t in required if t not in tests]
        if missing:
            why = " (required after Sendai or episomal reprogramming)" if missing == ["vector_clearance"] else ""
            add("QC-1", at("qc"), f"missing core QC test{'s' if len(missing) > 1 else ''}: {', '.join(missing)}{why}")

        viral_tests = list(self.setting("viral_tests", []))
        if viral_tests:
            screened = set()
            for source in (donor_viral, _dict(line.get("viral_screening"))):
                screened |= {virus for virus, result in source.items() if result in ("negative", "positive", "inconclusive")}
            for _i, item in qc_items:
                if item.get("test") == "viral_screening":
                    per_virus = _dict(item.get("viral_screening"))
                    if per_virus:
                        screened |= {v for v, r in per_virus.items() if r in ("negative", "positive", "inconclusive")}
                    elif item.get("result") in ("pass", "fail", "inconclusive"):
                        screened |= set(viral_tests)
            unscreened = [v for v in viral_tests if v not in screened]
            if unscreened:
                add("QC-1", at("qc"),
                    f"no viral screening for {', '.join(unscreened)}: give donor.viral_screening, "
                    "line.viral_screening or a viral_screening QC record")

        # QC-2 on the latest record of each required (or viral) test.
        latest = _latest_by_test(qc_items)
        for test in [*required, "viral_screening"]:
            if test not in latest:
                continue
            q_index, item = latest[test]
            result = item.get("result")
            if result == "fail":
                add("QC-2", at("qc", q_index, "result"),
                    f"{test} failed; a line with a failed core test cannot be deposited (retest and submit the "
                    "passing record with its date)")
            elif result == "inconclusive":
                add("QC-2", at("qc", q_index, "result"),
                    f"{test} is inconclusive; curators will ask for a retest", severity="warning")

        self.check_pluripotency(qc_items, add, at)
        self.check_genomic_integrity(qc_items, add, at)
        self.check_trilineage(qc_items, add, at)

    def _parent_reprogramming(self, parent_ref):
        if parent_ref in self.line_by_id:
            return _text(_dict(self.line_by_id[parent_ref][1].get("reprogramming")).get("method"))
        catalog = self.catalog.parents.get(parent_ref)
        return catalog["reprogramming_method"] if catalog else None

    def check_pluripotency(self, qc_items, add, at):
        records = [(i, item) for i, item in qc_items if item.get("test") == "pluripotency"]
        if not records:
            return
        minimum = self.setting("min_flow_marker_percent", 70)
        count_needed = self.setting("min_pluripotency_markers", 2)
        nuclear, surface = set(self.setting("nuclear_markers", [])), set(self.setting("surface_markers", []))
        seen = set()
        for q_index, item in records:
            flow = str(item.get("method", "")).lower() in _FLOW_METHODS
            for m_index, marker in enumerate(_list(item.get("markers"))):
                if not isinstance(marker, dict) or not isinstance(marker.get("marker"), str):
                    continue
                name = canonical_pluripotency_marker(marker["marker"])
                seen.add(name)
                percent = _number(marker.get("percent_positive"))
                if flow and percent is None:
                    add("QC-3", at("qc", q_index, "markers", m_index, "percent_positive"),
                        f"flow cytometry marker {marker['marker']} has no percent_positive")
                elif flow and percent < minimum:
                    add("QC-3", at("qc", q_index, "markers", m_index, "percent_positive"),
                        f"{marker['marker']} is {percent:g} % positive; flow markers need at least {minimum:g} %")
        q_index = records[-1][0]
        if len(seen) < count_needed:
            add("QC-3", at("qc", q_index, "markers"),
                f"{len(seen)} pluripotency marker{'s' if len(seen) != 1 else ''} given; at least {count_needed} are "
                f"needed, including a nuclear one ({', '.join(sorted(nuclear))}) and a surface one "
                f"({', '.join(sorted(surface))})")
        else:
            if not seen & nuclear:
                add("QC-3", at("qc", q_index, "markers"),
                    f"no nuclear pluripotency marker: add one of {', '.join(sorted(nuclear))}")
            if not seen & surface:
                add("QC-3", at("qc", q_index, "markers"),
                    f"no surface pluripotency marker: add one of {', '.join(sorted(surface))}")

    def check_genomic_integrity(self, qc_items, add, at):
        min_bands = self.setting("min_karyotype_bands", 400)
        max_cnv = self.setting("max_cnv_mb", 5)
        for q_index, item in qc_items:
            if item.get("test") != "genomic_integrity":
                continue
            inherited = item.get("donor_inherited") is True
            method = str(item.get("method", "")).lower()
            if method in ("g_banding", "karyotype", "g-banding", "karyotyping"):
                bands = _int(item.get("bands"))
                if bands is None:
                    add("QC-4", at("qc", q_index, "bands"),
                        f"G-banding needs its band resolution ('bands', at least {min_bands})")
                elif bands < min_bands:
                    add("QC-4", at("qc", q_index, "bands"),
                        f"G-banding at {bands} bands is below the {min_bands}-band resolution needed to call a "
                        "karyotype normal")
            karyotype = _text(item.get("karyotype"))
            if karyotype is not None:
                compact = re.sub(r"\s", "", karyotype)
                if compact not in _NORMAL_KARYOTYPES:
                    if inherited:
                        add("QC-4", at("qc", q_index, "karyotype"),
                            f"abnormal karyotype {karyotype}, marked as inherited from the donor", severity="warning")
                    else:
                        add("QC-4", at("qc", q_index, "karyotype"),
                            f"abnormal karyotype {karyotype}; if the donor carries it too, set donor_inherited: true")
            for c_index, cnv in enumerate(_list(item.get("cnvs"))):
                size = _number(_dict(cnv).get("size_mb"))
                if size is None or size <= max_cnv:
                    continue
                where = _dict(cnv).get("chromosome")
                label = f"{size:g} Mb {_dict(cnv).get('type') or 'CNV'}{f' on chr{where}' if where else ''}"
                if inherited or _dict(cnv).get("donor_inherited") is True:
                    add("QC-4", at("qc", q_index, "cnvs", c_index),
                        f"{label} (over {max_cnv} Mb), marked as inherited from the donor", severity="warning")
                else:
                    add("QC-4", at("qc", q_index, "cnvs", c_index),
                        f"{label} is over {max_cnv} Mb; if the donor carries it too, set donor_inherited: true")

    def check_trilineage(self, qc_items, add, at):
        records = [(i, item) for i, item in qc_items if item.get("test") == "trilineage"]
        if not records:
            return
        layers = set(self.setting("germ_layers", ["ectoderm", "mesoderm", "endoderm"]))
        covered = set()
        for _i, item in records:
            covered |= {g for g in _list(item.get("germ_layers")) if isinstance(g, str)}
        missing = sorted(layers - covered)
        if missing:
            add("QC-5", at("qc", records[-1][0], "germ_layers"),
                f"trilineage does not cover {', '.join(missing)}; all three germ layers must be shown")

    # -- STR --

    def _identity_profile(self, line):
        """(qc index, raw profile) of the latest identity STR record of a line, or (None, None)."""
        found = (None, None)
        for q_index, item in enumerate(_list(line.get("qc"))):
            if isinstance(item, dict) and item.get("test") == "identity" and (
                "str" in str(item.get("method", "")).lower() or "str_profile" in item
            ):
                found = (q_index, item.get("str_profile"))
        return found

    def read_profile(self, raw):
        """read_profile, cached: lines of one donor repeat the same profile."""
        if not isinstance(raw, dict):
            return {}, [], []
        key = _raw_key(raw)
        if key not in self._profiles:
            self._profiles[key] = read_profile(raw)
        return self._profiles[key]

    def _line_profile(self, line_ref):
        """Normalised identity STR of a document line (cached), or {}."""
        if line_ref not in self._line_str:
            line = self.line_by_id.get(line_ref, (None, {}))[1]
            raw = self._identity_profile(line)[1]
            self._line_str[line_ref] = self.read_profile(raw)[0]
        return self._line_str[line_ref]

    def _score(self, query, reference):
        key = (_profile_key(query), _profile_key(reference))
        if key not in self._score_cache:
            self._score_cache[key] = tanabe(query, reference)
        return self._score_cache[key]

    def check_str(self, index, line, qc_items, sex, donor_ref, donor_profile, parent_ref, add, at):
        q_index, raw = self._identity_profile(line)
        if q_index is None:
            return
        location = at("qc", q_index, "str_profile")
        if not isinstance(raw, dict) or not raw:
            add("STR-1", location, "the identity test by STR has no str_profile; give the marker → alleles profile")
            return
        profile, problems, unknown = self.read_profile(raw)
        for marker, problem in problems:
            add("STR-1", at("qc", q_index, "str_profile", marker), f"STR marker {marker}: {problem}")
        if unknown:
            add("STR-1", location, f"unknown STR marker{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                "not scored (check the spelling, e.g. TH01, vWA, Penta D)", severity="warning")
        scorable = sum(1 for m, a in profile.items() if a and m != AMELOGENIN)
        minimum = self.setting("min_str_markers", 8)
        if scorable < minimum:
            add("STR-1", location,
                f"the identity STR profile has {scorable} scorable marker{'s' if scorable != 1 else ''} "
                f"(Amelogenin not counted); at least {minimum} are needed")
        self.check_amelogenin(profile, sex, at("qc", q_index, "str_profile", AMELOGENIN),
                              donor_id=donor_ref, line_id=_text(line.get("local_id")), what="line")
        if scorable == 0:
            return
        threshold = self.setting("str_match_threshold", 80)
        line_id = _text(line.get("local_id"))

        # STR-2: the donor, else the parental line, else a sibling line of the same donor.
        comparisons = []
        if isinstance(donor_profile, dict) and donor_profile:
            reference = self.read_profile(donor_profile)[0]
            if reference:
                comparisons.append((f"donor {donor_ref}'s profile", reference))
        if parent_ref:
            if parent_ref in self.line_by_id:
                reference = self._line_profile(parent_ref)
            else:
                reference = self.read_profile(_dict(self.catalog.parents.get(parent_ref, {}).get("str_profile")))[0]
            if reference:
                comparisons.append((f"parental line {parent_ref}", reference))
        if not comparisons:
            for _i, sibling in self.lines_of_donor.get(donor_ref, []):
                sibling_id = _text(sibling.get("local_id"))
                if sibling_id == line_id or sibling_id is None:
                    continue
                reference = self._line_profile(sibling_id)
                if reference:
                    comparisons.append((f"line {sibling_id} of the same donor", reference))
                    break
            else:
                for name, catalog_profile in self.catalog.donor_line_profiles.get(donor_ref, [])[:1]:
                    reference = self.read_profile(catalog_profile)[0]
                    if reference:
                        comparisons.append((f"catalog line {name} of the same donor", reference))
        for label, reference in comparisons:
            score = self._score(profile, reference)
            if score < threshold:
                add("STR-2", location,
                    f"the line's STR does not match {label}: Tanabe {score:.1f} % (needs ≥ {threshold:g} %); "
                    "check for a sample swap or mislabelled line")

        # STR-3: holdings of other donors and Cellosaurus, searched for all lines at once
        # after the loop (see check_holdings).
        if scorable >= minimum:
            self._pending_str3.append((profile, self._str3_exclusions(line, donor_ref, parent_ref), location,
                                       line_id, donor_ref))

    def _str3_exclusions(self, line, donor_ref, parent_ref):
        """What STR-3 leaves out for a line: its own donor (and that donor's catalog lines),
        its catalog parent and the parent's donor, and the Cellosaurus entries the line or
        its parent declare they are."""
        from lines.str.search import DONOR, LINE

        exclude = set()
        donor_ids = set()
        catalog_donor = self.catalog.donors.get(donor_ref)
        if catalog_donor:
            donor_ids.add(catalog_donor["id"])
        parent = self.catalog.parents.get(parent_ref) if parent_ref else None
        accessions = {_text(line.get("cellosaurus"))}
        if parent:
            donor_ids.add(parent["donor_id"])
            exclude.add((LINE, parent["id"]))
            accessions.add(parent["cellosaurus_accession"])
        for donor_id in donor_ids - {None}:
            exclude.add((DONOR, donor_id))
            exclude |= {(LINE, line_pk) for line_pk in self.catalog.lines_of_catalog_donor.get(donor_id, ())}
        exclude |= {a for a in accessions if a}
        return frozenset(exclude)

    def check_holdings(self):
        """STR-3 for every line queued by check_str, all searched together (search_many
        scores each distinct profile once and checks the hits in one query per kind)."""
        if not self._pending_str3:
            return
        from lines.str.search import search_many

        results = search_many(
            [profile for profile, *_ in self._pending_str3],
            algorithm="tanabe", mode="non_empty", include_amelogenin=False,
            min_markers=self.setting("min_str_markers", 8), score_filter=self.setting("str_match_threshold", 80),
            max_results=MAX_HOLDINGS_HITS, exclude_each=[exclude for _, exclude, *_ in self._pending_str3],
        )
        for (_profile, _exclude, location, line_id, donor_ref), hits in zip(self._pending_str3, results, strict=True):
            for hit in hits:
                what = {"line": "catalog line", "donor": "catalog donor"}.get(hit.kind, "Cellosaurus reference")
                accession = f" ({hit.accession})" if hit.accession else ""
                self.add("STR-3", location,
                         f"the line's STR matches {what} {hit.name}{accession} at Tanabe {hit.score:.1f} %: "
                         "possible duplicate or misidentified line; explain the relation or check the sample",
                         line=line_id, donor=donor_ref)


MAX_HOLDINGS_HITS = 5


def validate_document(document, *, protocol, institution, on_progress=None, user=None):
    """Every finding for `document` under `protocol` (a lines.models.ProtocolVersion),
    deposited by `institution` (prism.Institution). on_progress(done, total) is called
    as lines are checked. Never raises on malformed input: problems become findings."""
    return DocumentValidator(
        document, protocol=protocol, institution=institution, on_progress=on_progress, user=user
    ).run()
