"""Reading the Cellosaurus flat file (cellosaurus.txt): a streaming parser that yields
one record per entry, and no database access.

Two layouts are in circulation and both are read:
- release 29 (2019): free-text sequence variations ("Heterozygous for SOD1 p.Gly86Ser
  (c.256G>A) (PubMed=…)") and, where STR sources disagree, one ST line per variant
  ("D13S317: 8,11 (PubMed=25877200)" then "D13S317: 8 (Microsynth)");
- newer releases: DT lines, structured variations ("Mutation; HGNC; 11179; SOD1; Simple;
  p.Gly86Ser (c.256G>A); ZygosityUnknown.") and disagreeing sources on one ST line
  ("D21S11: 29,30 (ATCC); 29 (Cosmic-CLP)").
The line codes and their occurrence rules are those of the file's own header.

A full release is ~160k entries and ~3M lines, so the reader holds one entry at a time.
An entry that breaks the format (no AC, a line that is not `XX   value`, a field given
twice that may occur once, an unterminated entry …) comes out as a MalformedEntry that
names the line, so an importer can report it and carry on with the rest.
"""

import gzip
import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from lines.cellosaurus.variations import parse_sequence_variation
from lines.naming import is_valid_name
from lines.str.matching import ProfileError, canonical_marker, parse_alleles

HUMAN_TAXID = 9606
IPSC_CATEGORY = "Induced pluripotent stem cell"

ACCESSION_RE = re.compile(r"^CVCL_[A-Z0-9]{4}$")
_LINE_RE = re.compile(r"^([A-Z]{2})   (\S.*?)\s*$")
_OX_RE = re.compile(r"^NCBI_TaxID=(\d+); ! (.+)$")
_LINK_RE = re.compile(r"^(CVCL_[A-Z0-9]{4}) ! (.+)$")
_DI_RE = re.compile(r"^([^;]+); ([^;]+); (.+)$")
# Line codes the header says occur at most once per entry.
_ONCE = {"ID", "AC", "AS", "SY", "SX", "AG", "CA", "DT"}


def conforms_to_hpscreg(name):
    """Whether a line name follows the hPSCreg nomenclature: Bioregistry's pattern
    and at most 15 characters (lines.naming)."""
    return is_valid_name(name)


@dataclass
class StrVariant:
    """One version of a marker's alleles and the sources that report it."""

    alleles: list
    sources: list = field(default_factory=list)


@dataclass
class Disease:
    database: str
    identifier: str
    label: str

    def note(self):
        return f"{self.label} ({self.database}:{self.identifier})"


@dataclass
class MalformedEntry:
    """An entry the reader could not accept; `line_number` points at the problem."""

    line_number: int
    reason: str
    entry_line: int | None = None
    accession: str = ""
    name: str = ""

    def describe(self):
        who = " ".join(part for part in (self.accession, repr(self.name) if self.name else "") if part)
        where = f"line {self.line_number}"
        if self.entry_line and self.entry_line != self.line_number:
            where += f" (entry starting at line {self.entry_line})"
        return f"{where}: {who + ': ' if who else ''}{self.reason}"


@dataclass
class CellosaurusEntry:
    line_number: int
    name: str
    accession: str
    secondary_accessions: list = field(default_factory=list)
    synonyms: list = field(default_factory=list)
    xrefs: list = field(default_factory=list)  # (database, identifier)
    comments: list = field(default_factory=list)  # (topic, text)
    diseases: list = field(default_factory=list)  # Disease
    species: list = field(default_factory=list)  # (taxid, name)
    parents: list = field(default_factory=list)  # (accession, name) from HI
    same_donor: list = field(default_factory=list)  # (accession, name) from OI
    sex: str = ""
    age: str = ""
    category: str = ""
    dates: str = ""
    str_sources: list = field(default_factory=list)
    str_markers: dict = field(default_factory=dict)  # canonical marker → [StrVariant]
    warnings: list = field(default_factory=list)

    @property
    def is_human(self):
        return any(taxid == HUMAN_TAXID for taxid, _ in self.species)

    @property
    def is_ipsc(self):
        return self.category == IPSC_CATEGORY

    @property
    def hpscreg_names(self):
        return [identifier for database, identifier in self.xrefs if database == "hPSCreg"]

    def comments_on(self, topic):
        return [text for t, text in self.comments if t == topic]

    @property
    def problematic(self):
        return " ".join(self.comments_on("Problematic cell line"))

    @property
    def str_profile(self):
        return primary_profile(self.str_markers)

    @property
    def str_conflicts(self):
        return profile_conflicts(self.str_markers)

    @property
    def has_str(self):
        return bool(self.str_profile)

    @property
    def age_years(self):
        return parse_age_years(self.age)

    @property
    def donor_sex(self):
        return parse_sex(self.sex)

    def sequence_variations(self):
        """(parsed variations, texts that could not be parsed into a gene and a change)."""
        parsed, unparsed = [], []
        for text in self.comments_on("Sequence variation"):
            variations = parse_sequence_variation(text)
            if variations is None:
                unparsed.append(text)
            else:
                parsed.extend(variations)
        return parsed, unparsed


# --- files ---------------------------------------------------------------------------


@contextmanager
def open_cellosaurus(path):
    """Open a Cellosaurus text file, gzip or plain (decided by content, not by name)."""
    path = Path(path)
    with path.open("rb") as raw:
        gzipped = raw.read(2) == b"\x1f\x8b"
    opener = gzip.open if gzipped else open
    # Cellosaurus is UTF-8; a stray byte must not end a 160k-entry import.
    with opener(path, "rt", encoding="utf-8", errors="replace") as text:
        yield text


def read_entries(path):
    """Every entry of a file, as CellosaurusEntry or MalformedEntry, in file order."""
    with open_cellosaurus(path) as lines:
        yield from iter_entries(lines)


# --- entries -------------------------------------------------------------------------


def iter_entries(lines: Iterable[str]) -> Iterator[CellosaurusEntry | MalformedEntry]:
    """Stream entries from lines of text. The header (everything before the first ID
    line) is skipped; each entry runs from its ID line to its `//` terminator."""
    raw = None
    start = 0
    seen_entry = False
    stray = None  # first line of a run of text outside any entry (e.g. after a broken ID line)
    for number, text in enumerate(lines, 1):
        line = text.rstrip("\r\n")
        if line.rstrip() == "//":
            if raw is None:
                if stray is not None:
                    yield MalformedEntry(
                        stray[0],
                        f"text outside any entry (no ID line): {stray[1][:60]!r}, up to the '//' at line {number}",
                    )
                    stray = None
                elif seen_entry:
                    yield MalformedEntry(number, "'//' terminator without an entry")
                continue
            yield _build_entry(raw, start)
            raw = None
            continue
        if not line.strip():
            continue
        match = _LINE_RE.match(line)
        if raw is None:
            if match and match.group(1) == "ID":
                if stray is not None:
                    yield MalformedEntry(stray[0], f"text outside any entry: {stray[1][:60]!r}")
                    stray = None
                raw, start, seen_entry = [(number, "ID", match.group(2))], number, True
            elif stray is None and (seen_entry or _entry_like(line, match)):
                stray = (number, line)
            continue
        if match is None:
            raw.append((number, None, line))
        elif match.group(1) == "ID":
            yield _unterminated(raw, start, f"no '//' terminator before the next entry at line {number}")
            raw, start = [(number, "ID", match.group(2))], number
        else:
            raw.append((number, match.group(1), match.group(2)))
    if raw is not None:
        yield _unterminated(raw, start, "the file ends inside this entry (no '//' terminator)")
    elif stray is not None:
        yield MalformedEntry(stray[0], f"text outside any entry: {stray[1][:60]!r}")


def _entry_like(line, match):
    """Whether a line before the first entry belongs to an entry rather than to the
    header (whose lines start with a space, a rule or `AN   `)."""
    return line.startswith("ID") or (match is not None and match.group(1) != "AN")


def _identity(raw):
    name = next((value for _, code, value in raw if code == "ID"), "")
    accession = next((value for _, code, value in raw if code == "AC"), "")
    return name, accession


def _unterminated(raw, start, reason):
    name, accession = _identity(raw)
    return MalformedEntry(start, reason, start, accession, name)


class _Broken(Exception):
    def __init__(self, line_number, reason):
        self.line_number = line_number
        self.reason = reason


def _build_entry(raw, start):
    name, accession = _identity(raw)
    try:
        return _parse_fields(raw, start, name, accession)
    except _Broken as problem:
        return MalformedEntry(problem.line_number, problem.reason, start, accession, name)


def _parse_fields(raw, start, name, accession):
    counts = {}
    for number, code, value in raw:
        if code is None:
            raise _Broken(
                number,
                f"unreadable line {value[:60]!r} (expected a two-letter code and three spaces)",
            )
        counts[code] = counts.get(code, 0) + 1
        if code in _ONCE and counts[code] > 1:
            raise _Broken(number, f"{code} line given twice; it may occur once per entry")
    if not accession:
        raise _Broken(start, "entry has no AC (accession) line")
    if not ACCESSION_RE.match(accession):
        number = next(n for n, code, _ in raw if code == "AC")
        raise _Broken(number, f"accession {accession!r} is not of the form CVCL_XXXX")

    entry = CellosaurusEntry(line_number=start, name=name, accession=accession)
    for number, code, value in raw:
        if code in ("ID", "AC"):
            continue
        if code == "AS":
            entry.secondary_accessions = _split(value)
        elif code == "SY":
            entry.synonyms = _split(value)
        elif code == "DR":
            database, sep, identifier = value.partition("; ")
            if not sep:
                raise _Broken(number, f"cross-reference {value!r} is not 'database; identifier'")
            entry.xrefs.append((database.strip(), identifier.strip()))
        elif code == "CC":
            topic, sep, text = value.partition(": ")
            entry.comments.append((topic, text) if sep else ("", value))
        elif code == "ST":
            _read_str_line(entry, number, value)
        elif code == "DI":
            match = _DI_RE.match(value)
            if not match:
                raise _Broken(number, f"disease {value!r} is not 'database; identifier; name'")
            entry.diseases.append(Disease(*(part.strip() for part in match.groups())))
        elif code == "OX":
            match = _OX_RE.match(value)
            if not match:
                raise _Broken(number, f"species {value!r} is not 'NCBI_TaxID=<number>; ! <name>'")
            entry.species.append((int(match.group(1)), match.group(2).strip()))
        elif code in ("HI", "OI"):
            match = _LINK_RE.match(value)
            if not match:
                raise _Broken(number, f"{code} link {value!r} is not 'CVCL_XXXX ! <name>'")
            (entry.parents if code == "HI" else entry.same_donor).append(match.groups())
        elif code == "SX":
            entry.sex = value
        elif code == "AG":
            entry.age = value
        elif code == "CA":
            entry.category = value
        elif code == "DT":
            entry.dates = value
        # RX, WW and codes added by later releases carry nothing the catalog keeps.
    return entry


def _split(value):
    return [part.strip() for part in value.rstrip(";").split(";") if part.strip()]


# --- STR -----------------------------------------------------------------------------

# Cellosaurus writes "Not_detected" where a marker gave no product (e.g. loss of Amelogenin Y).
_NOT_DETECTED_WORDS = re.compile(r"not[_ ]detected", re.IGNORECASE)


def _read_str_line(entry, number, value):
    if value.startswith("Source(s):"):
        entry.str_sources.extend(_split(value.partition(":")[2]))
        return
    marker_name, sep, alleles_text = value.partition(": ")
    if not sep or not marker_name.strip():
        raise _Broken(number, f"STR line {value!r} is not 'Marker: alleles'")
    marker = canonical_marker(marker_name) or marker_name.strip()
    try:
        pieces = split_str_value(alleles_text)
    except ValueError as problem:
        raise _Broken(number, f"STR {marker_name}: {problem}") from None
    variants = entry.str_markers.setdefault(marker, [])
    for text, sources in pieces:
        try:
            alleles = parse_alleles(marker, _NOT_DETECTED_WORDS.sub("", text))
        except ProfileError as problem:
            # One odd allele must not throw away a reference profile: keep the rest.
            entry.warnings.append(f"line {number}: {entry.accession}: STR {problem}; this value was left out")
            continue
        same = next((v for v in variants if v.alleles == alleles), None)
        if same is None:
            variants.append(StrVariant(alleles, list(sources)))
        else:
            same.sources.extend(s for s in sources if s not in same.sources)
    if not variants:
        del entry.str_markers[marker]


def split_str_value(value):
    """'29,30 (ATCC); 29 (Cosmic-CLP)' → [('29,30', ['ATCC']), ('29', ['Cosmic-CLP'])].

    Sources in parentheses may themselves contain ';' ("X,Y (ATCC; ESTDAB)")."""
    pieces = []
    position, end = 0, len(value)
    while position < end:
        stop = position
        while stop < end and value[stop] not in "(;)":
            stop += 1
        if stop < end and value[stop] == ")":
            raise ValueError(f"unbalanced ')' in {value!r}")
        alleles = value[position:stop].strip()
        sources = []
        if stop < end and value[stop] == "(":
            close = value.find(")", stop)
            if close == -1:
                raise ValueError(f"unclosed '(' in {value!r}")
            sources = _split(value[stop + 1 : close])
            stop = close + 1
            while stop < end and value[stop] == " ":
                stop += 1
            if stop < end and value[stop] != ";":
                raise ValueError(f"unexpected text {value[stop:]!r} after the sources")
        if alleles or sources:
            pieces.append((alleles, sources))
        position = stop + 1
    return pieces


def primary_profile(markers):
    """One profile from per-marker variants: where sources disagree, the variant reported
    by most sources wins, the first listed on a tie (all of them stay in the conflicts)."""
    profile = {}
    for marker, variants in markers.items():
        best = max(variants, key=lambda v: (len(v.sources), -variants.index(v)))
        if best.alleles:
            profile[marker] = list(best.alleles)
    return profile


def profile_conflicts(markers):
    """Every version of each marker whose sources disagree, with the sources reporting it:
    {"D21S11": [{"alleles": ["29", "30"], "sources": ["ATCC"]}, {"alleles": ["29"],
    "sources": ["Cosmic-CLP"]}]}, so the scorer can rebuild each source's own profile
    (lines.str.matching.source_profiles)."""
    return {
        marker: [{"alleles": list(v.alleles), "sources": list(v.sources)} for v in variants]
        for marker, variants in markers.items()
        if len(variants) > 1
    }


# --- donor facts ---------------------------------------------------------------------

_AGE_YEARS_RE = re.compile(r"^(\d{1,3})Y(?:\d{1,2}M)?(?:\d{1,2}[WD])?$")
_AGE_MONTHS_RE = re.compile(r"^(\d{1,3})M(?:\d{1,2}[WD])?$")
_AGE_DAYS_RE = re.compile(r"^(?:\d{1,3}[WD]|<1[MY])$")


def parse_age_years(text):
    """Whole years at sampling from "45Y", "30Y6M", "18M", "10D", "<1M"; None when the source
    gives no single age ("Age unspecified", "Fetus", "45Y-50Y", "Adult")."""
    text = (text or "").strip()
    if match := _AGE_YEARS_RE.match(text):
        years = int(match.group(1))
    elif match := _AGE_MONTHS_RE.match(text):
        years = int(match.group(1)) // 12
    elif _AGE_DAYS_RE.match(text):
        years = 0
    else:
        return None
    return years if years <= 120 else None


_SEX = {"female": "female", "male": "male", "sex ambiguous": "undifferentiated"}


def parse_sex(text):
    """A donors.models.Sex value; "Sex unspecified" and "Mixed sex" are unknown."""
    return _SEX.get((text or "").strip().lower(), "unknown")
