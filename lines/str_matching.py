"""STR profiles: normalisation (marker aliases, allele sets) and CLASTR-compatible scoring.

A normalised profile is a dict from canonical marker name to a sorted list of
distinct allele strings: {"D5S818": ["11", "12"], "TH01": ["6", "9.3"]}.
"ND" (not determined) and empty values mean no allele; "12,12" is one allele.
Sources: CLASTR (Robin et al. 2019) and ../shared/DOMAIN.md.
"""

import re

AMELOGENIN = "Amelogenin"

CORE_MARKERS = (
    "Amelogenin", "CSF1PO", "D2S1338", "D3S1358", "D5S818", "D7S820", "D8S1179", "D13S317",
    "D16S539", "D18S51", "D19S433", "D21S11", "FGA", "Penta D", "Penta E", "TH01", "TPOX", "vWA",
)
OPTIONAL_MARKERS = (
    "D10S1248", "D1S1656", "D2S441", "D6S1043", "D12S391", "D22S1045", "DXS101", "DYS391",
    "F13A01", "F13B", "FESFPS", "LPL", "Penta C", "SE33",
)
KNOWN_MARKERS = CORE_MARKERS + OPTIONAL_MARKERS


def _key(name):
    return re.sub(r"[\s_\-.]", "", name).upper()


# Aliases seen in the wild (CLASTR's list plus common misspellings: letter O for zero).
_ALIASES = {
    "AM": AMELOGENIN,
    "AMEL": AMELOGENIN,
    "AMELO": AMELOGENIN,
    "CSF1P0": "CSF1PO",
    "THO1": "TH01",
    "TPOX": "TPOX",
    "TP0X": "TPOX",
    "VWA": "vWA",
    "VWA31": "vWA",
    "FIBRA": "FGA",
    "FGA": "FGA",
    "PENTAD": "Penta D",
    "PENTAE": "Penta E",
    "PENTAC": "Penta C",
    "F13A1": "F13A01",
    "FES": "FESFPS",
    "FESFPS": "FESFPS",
}
_CANONICAL = {_key(m): m for m in KNOWN_MARKERS}
_CANONICAL.update({_key(alias): marker for alias, marker in _ALIASES.items()})

# A repeat count with an optional micro-variant (9.3), or X/Y for Amelogenin.
_ALLELE_RE = re.compile(r"^\d{1,3}(\.\d)?$")
_AMELOGENIN_RE = re.compile(r"^[XY]$")
_NOT_DETERMINED = {"", "ND", "N/D", "NA", "N/A", "-"}


class ProfileError(ValueError):
    """A profile problem that names the marker and says what is wrong."""

    def __init__(self, marker, problem):
        self.marker = marker
        self.problem = problem
        super().__init__(f"{marker}: {problem}")


def canonical_marker(name):
    """The canonical name of a marker, or None when the marker is unknown."""
    return _CANONICAL.get(_key(str(name)))


def parse_alleles(marker, value):
    """A sorted list of distinct allele strings from "11,12", "11, 12", ["11", 12] or "ND".

    `marker` must be canonical. Raises ProfileError for a malformed allele.
    """
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        parts = [str(v) for v in value]
    elif isinstance(value, (int, float)):
        parts = [str(value)]
    elif isinstance(value, str):
        parts = re.split(r"[,/;\s]+", value.strip())
    else:
        raise ProfileError(marker, f"alleles must be a string or a list, not {type(value).__name__}")
    pattern = _AMELOGENIN_RE if marker == AMELOGENIN else _ALLELE_RE
    alleles = set()
    for part in parts:
        allele = part.strip()
        if allele.upper() in _NOT_DETERMINED:
            continue
        if marker == AMELOGENIN:
            allele = allele.upper()
        elif allele.endswith(".0"):
            allele = allele[:-2]
        if not pattern.match(allele):
            expected = "X or Y" if marker == AMELOGENIN else "a repeat number such as 12 or 9.3"
            raise ProfileError(marker, f"malformed allele {allele!r} (expected {expected})")
        alleles.add(allele)
    return sorted(alleles, key=allele_sort_key)


def allele_sort_key(allele):
    try:
        return (0, float(allele), allele)
    except ValueError:
        return (1, 0.0, allele)


def normalise_profile(raw, *, strict=True):
    """Normalise a marker → alleles mapping.

    strict: an unknown marker raises ProfileError. Not strict: unknown markers are
    kept under their own name (importers keep what the source says).
    Markers with no allele (all "ND") are dropped.
    """
    if not isinstance(raw, dict):
        raise ProfileError("profile", "a profile is an object from marker name to alleles")
    profile = {}
    for name, value in raw.items():
        marker = canonical_marker(name)
        if marker is None:
            if strict:
                raise ProfileError(str(name), "unknown STR marker")
            marker = str(name).strip()
        alleles = parse_alleles(marker, value)
        if not alleles:
            continue
        if marker in profile:
            alleles = sorted(set(profile[marker]) | set(alleles), key=allele_sort_key)
        profile[marker] = alleles
    return profile


def format_profile(profile):
    """{"TH01": ["6", "9.3"]} → {"TH01": "6,9.3"}: the form people read and write."""
    return {marker: ",".join(alleles) for marker, alleles in profile.items()}
