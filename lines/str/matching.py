"""STR profiles: normalisation (marker aliases, allele sets) and CLASTR-compatible scoring.

A normalised profile is a dict from canonical marker name to a sorted list of
distinct allele strings: {"D5S818": ["11", "12"], "TH01": ["6", "9.3"]}.
"ND" (not determined) and empty values mean no allele; "12,12" is one allele.
Sources: CLASTR (Robin et al. 2019) and ../shared/DOMAIN.md.
"""

import re

AMELOGENIN = "Amelogenin"

CORE_MARKERS = (
    "Amelogenin",
    "CSF1PO",
    "D2S1338",
    "D3S1358",
    "D5S818",
    "D7S820",
    "D8S1179",
    "D13S317",
    "D16S539",
    "D18S51",
    "D19S433",
    "D21S11",
    "FGA",
    "Penta D",
    "Penta E",
    "TH01",
    "TPOX",
    "vWA",
)
OPTIONAL_MARKERS = (
    "D10S1248",
    "D1S1656",
    "D2S441",
    "D6S1043",
    "D12S391",
    "D22S1045",
    "DXS101",
    "DYS391",
    "F13A01",
    "F13B",
    "FESFPS",
    "LPL",
    "Penta C",
    "SE33",
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


def check_profile(raw, *, strict=True, keep_empty_markers=False):
    """Like normalise_profile, but collects every problem instead of stopping at the first.

    Returns (profile, problems) where problems maps a marker name (as the caller wrote
    it) to what is wrong with it; an empty dict means the profile is good. Used by the
    API and batch upload so one answer lists every bad marker.
    """
    if not isinstance(raw, dict):
        return {}, {"profile": "a profile is an object from marker name to alleles"}
    profile, problems = {}, {}
    for name, value in raw.items():
        marker = canonical_marker(name)
        if marker is None:
            if strict:
                problems[str(name)] = "unknown STR marker"
                continue
            marker = str(name).strip()
        try:
            alleles = parse_alleles(marker, value)
        except ProfileError as error:
            problems[str(name)] = error.problem
            continue
        if marker in profile:
            alleles = sorted(set(profile[marker]) | set(alleles), key=allele_sort_key)
        if alleles or keep_empty_markers:
            profile[marker] = alleles
    return profile, problems


def normalise_query_profile(raw):
    """Normalise a profile someone is searching with: strict marker names, and a marker
    given as "ND" is kept with no allele, because CLASTR counts it as a scored marker."""
    profile, problems = check_profile(raw, strict=True, keep_empty_markers=True)
    if problems:
        marker, problem = next(iter(problems.items()))
        raise ProfileError(marker, problem)
    return profile


# ---------------------------------------------------------------------------
# Scoring (CLASTR: Robin, Capes-Davis & Bairoch 2019; DOMAIN.md "STR similarity")
# ---------------------------------------------------------------------------

TANABE = "tanabe"
MASTERS_QUERY = "masters_query"
MASTERS_REFERENCE = "masters_reference"
ALGORITHMS = (TANABE, MASTERS_QUERY, MASTERS_REFERENCE)
# CLASTR's own test names ("masters_vs_query") are accepted too.
_ALGORITHM_ALIASES = {"masters_vs_query": MASTERS_QUERY, "masters_vs_reference": MASTERS_REFERENCE}

NON_EMPTY = "non_empty"
QUERY_MARKERS = "query"
REFERENCE_MARKERS = "reference"
MODES = (NON_EMPTY, QUERY_MARKERS, REFERENCE_MARKERS)

# CLASTR's defaults.
DEFAULT_ALGORITHM = TANABE
DEFAULT_MODE = NON_EMPTY
DEFAULT_SCORE_FILTER = 60
DEFAULT_MIN_MARKERS = 8
DEFAULT_MAX_RESULTS = 200

# STRprofiler flags a possible mixture of two cell populations when several
# markers carry more than two alleles; three markers is the default here.
MIXTURE_MARKER_THRESHOLD = 3

# A reference is scored as one profile per group of agreeing sources; one with
# more groups than this is scored on the first ones only (real Cellosaurus
# entries have a handful).
MAX_PROFILE_VARIANTS = 256


def canonical_algorithm(name):
    name = _ALGORITHM_ALIASES.get(name, name)
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r} (expected one of {', '.join(ALGORITHMS)})")
    return name


def canonical_mode(name):
    if name not in MODES:
        raise ValueError(f"unknown scoring mode {name!r} (expected one of {', '.join(MODES)})")
    return name


class StrScore:
    """The outcome of comparing two profiles: the score in percent and the counts behind it."""

    __slots__ = ("score", "shared_alleles", "query_alleles", "reference_alleles", "markers")

    def __init__(self, score, shared_alleles, query_alleles, reference_alleles, markers):
        self.score = score
        self.shared_alleles = shared_alleles
        self.query_alleles = query_alleles
        self.reference_alleles = reference_alleles
        self.markers = markers

    def as_dict(self):
        return {
            "score": round(self.score, 2),
            "shared_alleles": self.shared_alleles,
            "query_alleles": self.query_alleles,
            "reference_alleles": self.reference_alleles,
            "markers": self.markers,
        }

    def __repr__(self):
        return (
            f"StrScore(score={self.score:.2f}, shared={self.shared_alleles}, query={self.query_alleles}, "
            f"reference={self.reference_alleles}, markers={self.markers})"
        )


def compute_score(algorithm, shared, query_alleles, reference_alleles):
    """The score in percent from allele counts; 0 when there is nothing to compare."""
    if algorithm == TANABE:
        total = query_alleles + reference_alleles
        return 200.0 * shared / total if total else 0.0
    if algorithm == MASTERS_QUERY:
        return 100.0 * shared / query_alleles if query_alleles else 0.0
    return 100.0 * shared / reference_alleles if reference_alleles else 0.0


def score_profiles(query, reference, *, algorithm=DEFAULT_ALGORITHM, mode=DEFAULT_MODE, include_amelogenin=False):
    """Compare two normalised profiles the way CLASTR does.

    A marker counts as present when it is a key of the profile, even with no allele
    (a query marker typed as "ND"); its alleles count as a set.
    non_empty: markers present in both profiles are scored.
    query: every query marker is scored; reference alleles count where both have the marker.
    reference: every reference marker is scored; query alleles count where both have it.
    Amelogenin only says sex: it is left out of counts and score unless include_amelogenin.
    """
    algorithm = canonical_algorithm(algorithm)
    mode = canonical_mode(mode)
    shared = query_alleles = reference_alleles = markers = 0
    for marker in query.keys() | reference.keys():
        if marker == AMELOGENIN and not include_amelogenin:
            continue
        in_query, in_reference = marker in query, marker in reference
        q = set(query.get(marker) or ())
        r = set(reference.get(marker) or ())
        if in_query and in_reference:
            shared += len(q & r)
            query_alleles += len(q)
            reference_alleles += len(r)
            markers += 1
        elif in_query and mode == QUERY_MARKERS:
            query_alleles += len(q)
            markers += 1
        elif in_reference and mode == REFERENCE_MARKERS:
            reference_alleles += len(r)
            markers += 1
    score = compute_score(algorithm, shared, query_alleles, reference_alleles)
    return StrScore(score, shared, query_alleles, reference_alleles, markers)


def _option(option):
    """(alleles, sources) of one reported version of a marker: {"alleles": [...], "sources":
    [...]} as the Cellosaurus importer keeps it, or a bare allele list (no sources known)."""
    if isinstance(option, dict):
        alleles, sources = option.get("alleles") or (), option.get("sources") or ()
    else:
        alleles, sources = option or (), ()
    return sorted({str(a) for a in alleles}, key=allele_sort_key), [str(s) for s in sources]


def source_profiles(profile, conflicts=None, *, limit=MAX_PROFILE_VARIANTS):
    """The profiles a reference's sources report, as CLASTR's ConflictResolver scores
    them: one per group of agreeing sources, [(sources, profile)].

    `conflicts` maps a marker to the versions its sources report
    ({"D5S818": [{"alleles": ["13"], "sources": ["ATCC"]}, {"alleles": ["13", "14"],
    "sources": ["PubMed=19787792"]}]}). When every conflicting marker names the same
    sources, each source's profile takes the version it reported at every such marker,
    and sources whose profiles agree form one group: no profile is scored that no
    source reported. When the sources cannot be lined up (a version without sources,
    or markers naming different sources), CLASTR falls back to every combination of
    the versions, and so does this.
    """
    if not conflicts:
        return [([], profile)]
    options = {marker: [_option(o) for o in versions if o] for marker, versions in conflicts.items()}
    options = {marker: versions for marker, versions in options.items() if versions}
    named = [{s for _, sources in versions for s in sources} for versions in options.values()]
    resolvable = all(sources for versions in options.values() for _, sources in versions) and all(
        n == named[0] for n in named
    )
    if not resolvable:
        variants = [dict(profile)]
        for marker, versions in options.items():
            variants = [{**v, marker: alleles} for v in variants for alleles, _ in versions][:limit]
        return [([], variant) for variant in variants]
    groups: dict = {}
    order = list(dict.fromkeys(s for versions in options.values() for _, sources in versions for s in sources))
    for source in order:
        variant = dict(profile)
        for marker, versions in options.items():
            variant[marker] = next(alleles for alleles, sources in versions if source in sources)
        key = tuple(sorted((m, tuple(a)) for m, a in variant.items()))
        groups.setdefault(key, ([], variant))[0].append(source)
    return list(groups.values())[:limit]


def profile_variants(profile, conflicts=None, *, limit=MAX_PROFILE_VARIANTS):
    """The profiles a reference is scored as: one per group of agreeing sources."""
    return [variant for _, variant in source_profiles(profile, conflicts, limit=limit)]


class ConflictScore:
    """Best and worst score over a reference's variant profiles (CLASTR reports both)."""

    __slots__ = ("best", "worst", "variants")

    def __init__(self, best, worst, variants):
        self.best = best
        self.worst = worst
        self.variants = variants


def _rank_key(result):
    return (result.score, result.markers)


def score_with_conflicts(query, reference, conflicts=None, **options):
    """Score the query against each variant of a conflicting reference: best and worst."""
    results = [score_profiles(query, variant, **options) for variant in profile_variants(reference, conflicts)]
    best = max(results, key=_rank_key)
    worst = min(results, key=_rank_key)
    return ConflictScore(best, worst, len(results))


SHARED, PARTLY_SHARED, DIFFERENT, ONLY_QUERY, ONLY_REFERENCE = (
    "shared",
    "partly shared",
    "different",
    "only in the query",
    "only in the reference",
)


def marker_comparison(query, reference):
    """Marker by marker, as CLASTR shows a hit: for each marker of either profile (in
    the standard order, Amelogenin first), the query's and the reference's alleles,
    the alleles both have, and how they compare."""
    order = {marker: i for i, marker in enumerate(KNOWN_MARKERS)}
    rows = []
    for marker in sorted(query.keys() | reference.keys(), key=lambda m: (order.get(m, len(order)), m)):
        q, r = query.get(marker), reference.get(marker)
        if q is None or r is None:
            state = ONLY_QUERY if r is None else ONLY_REFERENCE
            shared = []
        else:
            shared = sorted(set(q) & set(r), key=allele_sort_key)
            state = SHARED if set(q) == set(r) else PARTLY_SHARED if shared else DIFFERENT
        rows.append(
            {"marker": marker, "query": list(q or ()), "reference": list(r or ()), "shared": shared, "state": state}
        )
    return rows


def best_source_profile(query, reference, conflicts=None, **options):
    """The profile (of a reference's source groups) that scores best against the query:
    the one a hit's score was taken from."""
    variants = profile_variants(reference, conflicts)
    return max(variants, key=lambda v: _rank_key(score_profiles(query, v, **options)))


def is_possible_mixture(profile, *, threshold=MIXTURE_MARKER_THRESHOLD):
    """True when `threshold` or more markers carry more than two alleles: a cell line
    has at most two per marker, so three suggest two populations mixed (STRprofiler)."""
    return sum(1 for alleles in profile.values() if len(set(alleles)) > 2) >= threshold


def scored_marker_count(profile, *, include_amelogenin=False):
    """Markers with at least one allele, Amelogenin counted only when asked."""
    return sum(1 for marker, alleles in profile.items() if alleles and (include_amelogenin or marker != AMELOGENIN))


def similarity_band(score, algorithm=DEFAULT_ALGORITHM):
    """How to read a score (DOMAIN.md): related, ambiguous or unrelated.
    Tanabe: ≥90 related, 80–90 ambiguous; Masters: ≥80 related, 60–80 ambiguous."""
    related, ambiguous = (90, 80) if canonical_algorithm(algorithm) == TANABE else (80, 60)
    if score >= related:
        return "related"
    if score >= ambiguous:
        return "ambiguous"
    return "unrelated"
