"""hPSCreg-style line names: parse, check, and assign the next free one.

`<institution code><i|e><3-character donor number>-<clone letter>[-<subclone number>]`,
at most 15 characters (Kurtz et al., Stem Cell Reports 2018; hpscreg.eu/about/api).
A new line of a registered donor keeps the donor number and takes the next clone
letter; a genetically modified line is named parent + `-<n>`, numbered flat per
parent (editing a subclone again gives a new subclone of the original parent,
never `-1-1`).

Everything here except `assign_names` is pure; `assign_names` reads the catalog
once (set-based) and is called by approval to name lines the document left unnamed.
"""

import re
import string
from dataclasses import dataclass, field

from donors.models import Donor
from lines.models import CellLine

# Bioregistry's pattern for hPSCreg, with named groups.
NAME_RE = re.compile(
    r"^(?P<institution>[A-Z]{2,6})(?P<type>[ei])(?P<donor_number>[A-Za-z0-9]{3})"
    r"-(?P<clone>[A-Z]{1,2})(?:-(?P<subclone>[A-Za-z0-9]{1,2}))?\Z"
)  # \Z, not $: "$" also matches before a trailing newline ("UKBi008-A\n").
MAX_LENGTH = 15
IPSC = "i"
ESC = "e"


@dataclass(frozen=True)
class LineName:
    institution: str
    type: str
    donor_number: str
    clone: str
    subclone: str | None = None

    @property
    def is_subclone(self):
        return self.subclone is not None

    @property
    def donor_prefix(self):
        """UKBi008: the part every line of one donor shares."""
        return f"{self.institution}{self.type}{self.donor_number}"

    @property
    def parent(self):
        """The unmodified parent's name for a subclone (UKBi008-A for UKBi008-A-2)."""
        return f"{self.donor_prefix}-{self.clone}"

    def __str__(self):
        base = f"{self.donor_prefix}-{self.clone}"
        return f"{base}-{self.subclone}" if self.subclone else base


def parse_name(name):
    """A LineName, or None when `name` breaks the pattern (length is not checked here)."""
    if not isinstance(name, str):
        return None
    match = NAME_RE.match(name)
    if not match:
        return None
    return LineName(**match.groupdict())


def name_problems(name):
    """What is wrong with a name's form, in words a depositor can act on ([] when fine)."""
    if not isinstance(name, str) or not name:
        return ["a name must be a non-empty string"]
    problems = []
    if name != name.strip():
        problems.append(
            "has a space, tab or newline at its start or end; a name is stored exactly as "
            "hPSCreg writes it, so remove it"
        )
    if len(name) > MAX_LENGTH:
        problems.append(f"is {len(name)} characters long; hPSCreg names are at most {MAX_LENGTH}")
    if parse_name(name.strip()) is None:
        problems.append(
            "does not follow <institution code (2–6 capitals)><i|e><3-character donor number>"
            "-<clone letter>[-<subclone number>], e.g. UKBi008-A or UKBi008-A-2"
        )
    return problems


def is_valid_name(name):
    return not name_problems(name)


def format_name(institution, donor_number, clone, subclone=None, type=IPSC):
    return str(LineName(institution, type, donor_number, clone, str(subclone) if subclone else None))


def clone_letter(index):
    """0 → A, 25 → Z, 26 → AA … (one or two capitals, as the pattern allows)."""
    letters = string.ascii_uppercase
    if index < 26:
        return letters[index]
    index -= 26
    if index >= 26 * 26:
        raise ValueError("no clone letter left for this donor (ZZ used)")
    return letters[index // 26] + letters[index % 26]


def _clone_index(letter):
    letters = string.ascii_uppercase
    if len(letter) == 1:
        return letters.index(letter)
    return 26 + letters.index(letter[0]) * 26 + letters.index(letter[1])


def next_clone_letter(used_letters):
    """The letter after the highest used one (gaps are not reused: a withdrawn
    UKBi008-B must never be confused with a new line)."""
    indices = [_clone_index(letter) for letter in used_letters if re.fullmatch(r"[A-Z]{1,2}", letter or "")]
    return clone_letter(max(indices) + 1 if indices else 0)


def next_subclone_number(used_numbers):
    """Flat numbering per parent: one above the highest numeric subclone used."""
    numbers = [int(n) for n in used_numbers if str(n).isdigit()]
    following = max(numbers) + 1 if numbers else 1
    if following > 99:
        raise ValueError("no subclone number left for this parent (99 used)")
    return str(following)


def next_donor_number(used_numbers):
    """Three digits, one above the highest numeric donor number used (001 first)."""
    numbers = [int(n) for n in used_numbers if str(n).isdigit()]
    following = max(numbers) + 1 if numbers else 1
    if following > 999:
        raise ValueError("no three-digit donor number left for this institution")
    return f"{following:03d}"


def subclone_parent(name):
    """UKBi008-A for UKBi008-A-2; None when `name` is not a well-formed subclone name."""
    parsed = parse_name(name)
    return parsed.parent if parsed and parsed.is_subclone else None


@dataclass
class NameAssignment:
    """What approval needs: every line's name and every new donor's donor number."""

    line_names: dict = field(default_factory=dict)  # line local_id → name
    donor_numbers: dict = field(default_factory=dict)  # donor local_id or catalog code → donor number


def assign_names(document, *, institution):
    """Name every line of a (valid) document; lines that carry a name keep it.

    `institution` is the depositing prism.Institution. Reads the catalog in a few
    set-based queries: the institution's donor numbers and line names, and the
    catalog donors and parental lines the document refers to. Call it inside the
    approval transaction after locking the institution row
    (`Institution.objects.select_for_update().get(pk=...)`), so two approvals for one
    institution cannot hand out the same number; the unique constraint on
    CellLine.name is the last line of defence.

    Returns a NameAssignment: line_names {line local_id: name} for every line,
    donor_numbers {donor local_id (document donors) or donor code (catalog donors):
    donor number}.
    """

    code = institution.code
    donors = [d for d in document.get("donors") or [] if isinstance(d, dict)]
    lines = [line for line in document.get("lines") or [] if isinstance(line, dict)]
    local_donors = {d.get("local_id") for d in donors}

    taken_names = set(CellLine.objects.filter(name__startswith=code).values_list("name", flat=True))
    used_donor_numbers = set(
        Donor.objects.filter(institution=institution).exclude(donor_number="").values_list("donor_number", flat=True)
    )
    catalog_donor_codes = {line.get("donor") for line in lines} - local_donors
    catalog_donors = {
        d["code"]: d
        for d in Donor.objects.filter(code__in=catalog_donor_codes).values(
            "id", "code", "donor_number", "institution_id"
        )
    }
    parent_refs = {line.get("parental_line") for line in lines if line.get("parental_line")}
    local_lines = {line.get("local_id"): line for line in lines}
    catalog_parents = set(
        CellLine.objects.filter(name__in=parent_refs - set(local_lines)).values_list("name", flat=True)
    )
    for name in taken_names:
        parsed = parse_name(name)
        if parsed and parsed.institution == code:
            used_donor_numbers.add(parsed.donor_number)

    result = NameAssignment()
    # Names the document gives are kept, and they fix their donor's number.
    for line in lines:
        parsed = parse_name(line.get("name"))
        if parsed:
            result.line_names[line["local_id"]] = line["name"]
            taken_names.add(line["name"])
            result.donor_numbers.setdefault(line.get("donor"), parsed.donor_number)
            used_donor_numbers.add(parsed.donor_number)

    def donor_number_for(donor_ref):
        if donor_ref in result.donor_numbers:
            return result.donor_numbers[donor_ref]
        catalog = catalog_donors.get(donor_ref)
        number = None
        if catalog and catalog["donor_number"] and catalog["institution_id"] == institution.pk:
            number = catalog["donor_number"]
        if number is None:
            number = next_donor_number(used_donor_numbers)
            used_donor_numbers.add(number)
        result.donor_numbers[donor_ref] = number
        return number

    # What follows each "…-" prefix of a taken name (UKBi001-A-2: "UKBi001-" → "A-2",
    # "UKBi001-A-" → "2"), so a lookup costs one dict access, not a pass over every name.
    suffixes: dict[str, list[str]] = {}

    def take(name):
        taken_names.add(name)
        at = name.find("-")
        while at != -1:
            suffixes.setdefault(name[: at + 1], []).append(name[at + 1 :])
            at = name.find("-", at + 1)

    for name in list(taken_names):
        take(name)

    def used_under(prefix):
        return suffixes.get(prefix, [])

    def name_of(local_id, stack=()):
        if local_id in result.line_names:
            return result.line_names[local_id]
        line = local_lines[local_id]
        parent_ref = line.get("parental_line")
        modified = (line.get("modification") or {}).get("type", "none") != "none"
        if modified and parent_ref and parent_ref not in stack:
            if parent_ref in local_lines:
                parent_name = name_of(parent_ref, (*stack, local_id))
            elif parent_ref in catalog_parents:
                parent_name = parent_ref
            else:
                parent_name = None
            if parent_name:
                # Flat numbering: a subclone of a subclone hangs off the original parent.
                parent_name = subclone_parent(parent_name) or parent_name
                prefix = f"{parent_name}-"
                used = [u for u in used_under(prefix) if "-" not in u]
                name = f"{parent_name}-{next_subclone_number(used)}"
                take(name)
                result.line_names[local_id] = name
                return name
        number = donor_number_for(line.get("donor"))
        prefix = f"{code}{IPSC}{number}-"
        letters = [u.split("-")[0] for u in used_under(prefix)]
        name = f"{prefix}{next_clone_letter(letters)}"
        take(name)
        result.line_names[local_id] = name
        return name

    for line in lines:
        name_of(line.get("local_id"))
    # Donors of the document with no line named yet still get a number.
    line_donors = {line.get("donor") for line in lines}
    for donor in donors:
        if donor.get("local_id") in line_donors:
            donor_number_for(donor.get("local_id"))
    return result
