"""STR-1 to STR-4: a line's identity STR profile, against its donor, its parental
line, and the catalog's holdings and Cellosaurus references (STR-3).

STR-3 searches every profile the catalog holds, hidden ones included: a deposit
that duplicates another institution's unreleased line must still be caught. But
a match the depositor may not see is reported without its name ("matches a
profile held by the catalog; a curator will check"), so a finding never tells a
depositor what another institution holds unreleased.
"""

from lines.str.matching import (
    AMELOGENIN,
    ProfileError,
    canonical_marker,
    parse_alleles,
    score_profiles,
)
from lines.str.search import DONOR, LINE, search_many
from lines.submissions.rules.catalog import referable_lines
from lines.submissions.rules.findings import as_dict, as_list, as_text, pointer

MAX_HOLDINGS_HITS = 5
HIDDEN_MATCH = "the line's STR matches a profile held by the catalog; a curator will check"


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
    return tuple(
        sorted((str(k), v if isinstance(v, (str, int, float)) or v is None else repr(v)) for k, v in raw.items())
    )


def _profile_key(profile):
    return tuple(sorted((m, tuple(a)) for m, a in profile.items()))


def tanabe(query, reference):
    return score_profiles(query, reference, algorithm="tanabe", mode="non_empty", include_amelogenin=False).score


def check_amelogenin(ctx, profile, sex, location, *, donor_id=None, line_id=None, what="donor"):
    alleles = set(profile.get(AMELOGENIN, []))
    if not alleles or sex not in ("female", "male"):
        return
    if sex == "female" and "Y" in alleles:
        ctx.add(
            "STR-4",
            location,
            f"Amelogenin {','.join(sorted(alleles))} of the {what} profile shows a Y chromosome, but the "
            "donor is recorded as female; check the sample or the donor's sex",
            donor=donor_id,
            line=line_id,
        )
    elif sex == "male" and "Y" not in alleles:
        ctx.add(
            "STR-4",
            location,
            f"Amelogenin {','.join(sorted(alleles))} of the {what} profile shows no Y chromosome, but the "
            "donor is recorded as male (loss of Y happens in culture; check)",
            donor=donor_id,
            line=line_id,
        )


def check_donor_profile(ctx, index, donor):
    """STR-1 (marker problems) and STR-4 (Amelogenin against sex) of a donor's own profile."""
    profile_raw = donor.get("str_profile")
    if not isinstance(profile_raw, dict):
        return
    donor_id = as_text(donor.get("local_id"))
    profile, problems, _unknown = read_profile(profile_raw)
    for marker, problem in problems:
        ctx.add(
            "STR-1",
            pointer("donors", index, "str_profile", marker),
            f"donor STR marker {marker}: {problem}",
            donor=donor_id,
        )
    check_amelogenin(
        ctx,
        profile,
        donor.get("sex"),
        pointer("donors", index, "str_profile", AMELOGENIN),
        donor_id=donor_id,
    )


class IdentityChecks:
    """The line STR rules of one run, with their caches: lines of one donor repeat one
    profile, and STR-3 searches every line's profile together at the end."""

    def __init__(self, ctx):
        self.ctx = ctx
        self._line_str = {}
        self._score_cache = {}
        self._profiles = {}
        self._keys = {}
        self._pending_str3 = []

    def _identity_profile(self, line):
        """(qc index, raw profile) of the latest identity STR record of a line, or (None, None)."""
        found = (None, None)
        for q_index, item in enumerate(as_list(line.get("qc"))):
            if (
                isinstance(item, dict)
                and item.get("test") == "identity"
                and ("str" in str(item.get("method", "")).lower() or "str_profile" in item)
            ):
                found = (q_index, item.get("str_profile"))
        return found

    def read_profile(self, raw):
        """read_profile, cached: lines of one donor repeat the same profile."""
        if not isinstance(raw, dict):
            return {}, [], []
        try:  # the common case, plain string values: no sorting, no repr
            key = ("items", tuple(raw.items()))
            hash(key)
        except TypeError:
            key = _raw_key(raw)
        if key not in self._profiles:
            self._profiles[key] = read_profile(raw)
        return self._profiles[key]

    def _line_profile(self, line_ref):
        """Normalised identity STR of a document line (cached), or {}."""
        if line_ref not in self._line_str:
            line = self.ctx.line_by_id.get(line_ref, (None, {}))[1]
            raw = self._identity_profile(line)[1]
            self._line_str[line_ref] = self.read_profile(raw)[0]
        return self._line_str[line_ref]

    def _key(self, profile):
        """_profile_key, once per profile object (the profiles come from the read_profile
        cache, so the same few objects recur); the object is kept so its id stays its own."""
        known = self._keys.get(id(profile))
        if known is None or known[0] is not profile:
            known = self._keys[id(profile)] = (profile, _profile_key(profile))
        return known[1]

    def _score(self, query, reference):
        key = (self._key(query), self._key(reference))
        if key not in self._score_cache:
            self._score_cache[key] = tanabe(query, reference)
        return self._score_cache[key]

    def check_line(self, view):
        """STR-1, STR-2 and STR-4 for a line's identity profile; queues STR-3 (check_holdings)."""
        line, sex, donor_ref, donor_profile, parent_ref = (
            view.line,
            view.sex,
            view.donor_ref,
            view.donor_profile,
            view.parent_ref,
        )
        add, at = view.add, view.at
        q_index, raw = self._identity_profile(line)
        if q_index is None:
            return
        location = at("qc", q_index, "str_profile")
        if not isinstance(raw, dict) or not raw:
            add(
                "STR-1",
                location,
                "the identity test by STR has no str_profile; give the marker → alleles profile",
            )
            return
        profile, problems, unknown = self.read_profile(raw)
        for marker, problem in problems:
            add("STR-1", at("qc", q_index, "str_profile", marker), f"STR marker {marker}: {problem}")
        if unknown:
            add(
                "STR-1",
                location,
                f"unknown STR marker{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
                "not scored (check the spelling, e.g. TH01, vWA, Penta D)",
                severity="warning",
            )
        scorable = sum(1 for m, a in profile.items() if a and m != AMELOGENIN)
        minimum = self.ctx.setting("min_str_markers", 8)
        if scorable < minimum:
            add(
                "STR-1",
                location,
                f"the identity STR profile has {scorable} scorable marker{'s' if scorable != 1 else ''} "
                f"(Amelogenin not counted); at least {minimum} are needed",
            )
        check_amelogenin(
            self.ctx,
            profile,
            sex,
            at("qc", q_index, "str_profile", AMELOGENIN),
            donor_id=donor_ref,
            line_id=as_text(line.get("local_id")),
            what="line",
        )
        if scorable == 0:
            return
        threshold = self.ctx.setting("str_match_threshold", 80)
        line_id = as_text(line.get("local_id"))

        # STR-2: the donor, else the parental line, else a sibling line of the same donor.
        comparisons = []
        if isinstance(donor_profile, dict) and donor_profile:
            reference = self.read_profile(donor_profile)[0]
            if reference:
                comparisons.append((f"donor {donor_ref}'s profile", reference))
        if parent_ref:
            if parent_ref in self.ctx.line_by_id:
                reference = self._line_profile(parent_ref)
            else:
                reference = self.read_profile(as_dict(self.ctx.catalog.parents.get(parent_ref, {}).get("str_profile")))[
                    0
                ]
            if reference:
                comparisons.append((f"parental line {parent_ref}", reference))
        if not comparisons:
            for _i, sibling in self.ctx.lines_of_donor.get(donor_ref, []):
                sibling_id = as_text(sibling.get("local_id"))
                if sibling_id == line_id or sibling_id is None:
                    continue
                reference = self._line_profile(sibling_id)
                if reference:
                    comparisons.append((f"line {sibling_id} of the same donor", reference))
                    break
            else:
                for name, catalog_profile in self.ctx.catalog.donor_line_profiles.get(donor_ref, [])[:1]:
                    reference = self.read_profile(catalog_profile)[0]
                    if reference:
                        comparisons.append((f"catalog line {name} of the same donor", reference))
        for label, reference in comparisons:
            score = self._score(profile, reference)
            if score < threshold:
                add(
                    "STR-2",
                    location,
                    f"the line's STR does not match {label}: Tanabe {score:.1f} % (needs ≥ {threshold:g} %); "
                    "check for a sample swap or mislabelled line",
                )

        # STR-3: holdings of other donors and Cellosaurus, searched for all lines at once
        # after the loop (see check_holdings).
        if scorable >= minimum:
            self._pending_str3.append(
                (
                    profile,
                    self._str3_exclusions(line, donor_ref, parent_ref),
                    location,
                    line_id,
                    donor_ref,
                )
            )

    def _str3_exclusions(self, line, donor_ref, parent_ref):
        """What STR-3 leaves out for a line: its own donor (and that donor's catalog lines),
        its catalog parent and the parent's donor, and the Cellosaurus entries the line or
        its parent declare they are."""
        exclude = set()
        donor_ids = set()
        catalog_donor = self.ctx.catalog.donors.get(donor_ref)
        if catalog_donor:
            donor_ids.add(catalog_donor["id"])
        parent = self.ctx.catalog.parents.get(parent_ref) if parent_ref else None
        accessions = {as_text(line.get("cellosaurus"))}
        if parent:
            donor_ids.add(parent["donor_id"])
            exclude.add((LINE, parent["id"]))
            accessions.add(parent["cellosaurus_accession"])
        for donor_id in donor_ids - {None}:
            exclude.add((DONOR, donor_id))
            exclude |= {(LINE, line_pk) for line_pk in self.ctx.catalog.lines_of_catalog_donor.get(donor_id, ())}
        exclude |= {a for a in accessions if a}
        return frozenset(exclude)

    def check_holdings(self):
        """STR-3 for every line queued by check_line, all searched together (search_many
        scores each distinct profile once and checks the hits in one query per kind)."""
        if not self._pending_str3:
            return
        results = search_many(
            [profile for profile, *_ in self._pending_str3],
            algorithm="tanabe",
            mode="non_empty",
            include_amelogenin=False,
            min_markers=self.ctx.setting("min_str_markers", 8),
            score_filter=self.ctx.setting("str_match_threshold", 80),
            max_results=MAX_HOLDINGS_HITS,
            exclude_each=[exclude for _, exclude, *_ in self._pending_str3],
        )
        hidden = self._hidden_from_depositor([hit for hits in results for hit in hits])
        for (_profile, _exclude, location, line_id, donor_ref), hits in zip(self._pending_str3, results, strict=True):
            told_hidden = False
            for hit in hits:
                if (str(hit.kind), hit.object_id) in hidden:
                    if not told_hidden:
                        self.ctx.add("STR-3", location, HIDDEN_MATCH, line=line_id, donor=donor_ref)
                        told_hidden = True
                    continue
                what = {"line": "catalog line", "donor": "catalog donor"}.get(hit.kind, "Cellosaurus reference")
                accession = f" ({hit.accession})" if hit.accession else ""
                self.ctx.add(
                    "STR-3",
                    location,
                    f"the line's STR matches {what} {hit.name}{accession} at Tanabe {hit.score:.1f} %: "
                    "possible duplicate or misidentified line; explain the relation or check the sample",
                    line=line_id,
                    donor=donor_ref,
                )

    def _hidden_from_depositor(self, hits):
        """(kind, object_id) of the line and donor hits the depositor may not see: lines
        outside CellLine.objects.visible_to(user), donors without a visible line.
        Cellosaurus references are public."""
        line_ids = {hit.object_id for hit in hits if str(hit.kind) == str(LINE)}
        donor_ids = {hit.object_id for hit in hits if str(hit.kind) == str(DONOR)}
        if not line_ids and not donor_ids:
            return set()
        visible = referable_lines(self.ctx.user)
        seen_lines = set(visible.filter(pk__in=line_ids).values_list("pk", flat=True)) if line_ids else set()
        seen_donors = (
            set(visible.filter(donor_id__in=donor_ids).values_list("donor_id", flat=True).distinct())
            if donor_ids
            else set()
        )
        return {(str(LINE), pk) for pk in line_ids - seen_lines} | {(str(DONOR), pk) for pk in donor_ids - seen_donors}
