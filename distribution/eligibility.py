"""May this purpose use this line? Consent (GA4GH DUO) matched against a request's purpose.

The rules follow the DUOS consent-ontology matcher (DataBiosphere) as summarised
in DOMAIN.md. Each line gets APPROVE, DENY or ABSTAIN (a curator decides), the
reasons in words a researcher understands with the DUO CURIE they come from, and
the conditions the requester must accept in the agreement.

`evaluate()` is pure: it takes plain facts about a line and a purpose, plus the
ancestors of the purpose disease in the MONDO hierarchy, and touches no database.
`evaluate_lines()` and `filter_lines_for_purpose()` are the database-facing
wrappers; the second answers the same question for a whole queryset in one SQL
query so the catalog can list only the lines a purpose may use.

Judgement calls (documented in README "Distribution"):
- Conditions IRB, COL, PUB, RTN, MOR, TS, GSO, NMDS are terms of the agreement:
  the requester accepts them and the line stays APPROVE.
- GS, IS, PS, US (a named region, institution, project or user) and RS (a
  research-type restriction) name something the catalog does not hold in a
  form it can check, so the line becomes ABSTAIN and a curator checks the
  consent document; the term is still listed as a condition.
- NCU, NPU and NPUNCU all deny a commercial purpose and a for-profit requester:
  a company's use counts as commercial even when it calls the project basic research.
- A line whose depositor restricts distribution (availability "restricted") is
  ABSTAIN; a line not distributed or withdrawn is DENY.
"""

from __future__ import annotations

from dataclasses import dataclass, field

APPROVE = "APPROVE"
DENY = "DENY"
ABSTAIN = "ABSTAIN"

NRES = "DUO:0000004"
GRU = "DUO:0000042"
HMB = "DUO:0000006"
DS = "DUO:0000007"
POA = "DUO:0000011"
RS = "DUO:0000012"
NMDS = "DUO:0000015"
GSO = "DUO:0000016"
NPUNCU = "DUO:0000018"
PUB = "DUO:0000019"
COL = "DUO:0000020"
IRB = "DUO:0000021"
GS = "DUO:0000022"
MOR = "DUO:0000024"
TS = "DUO:0000025"
US = "DUO:0000026"
PS = "DUO:0000027"
IS = "DUO:0000028"
RTN = "DUO:0000029"
CC = "DUO:0000043"
NPOA = "DUO:0000044"
NPU = "DUO:0000045"
NCU = "DUO:0000046"

SHORTHAND = {
    NRES: "NRES", GRU: "GRU", HMB: "HMB", DS: "DS", POA: "POA", RS: "RS", NMDS: "NMDS",
    GSO: "GSO", NPUNCU: "NPUNCU", PUB: "PUB", COL: "COL", IRB: "IRB", GS: "GS", MOR: "MOR",
    TS: "TS", US: "US", PS: "PS", IS: "IS", RTN: "RTN", CC: "CC", NPOA: "NPOA", NPU: "NPU",
    NCU: "NCU",
}

# The research purposes a request may state (DUO permissions; NRES is a consent
# term, not a purpose).
PURPOSE_CODES = (GRU, HMB, DS, POA)
CONSENT_PERMISSIONS = frozenset({NRES, GRU, HMB, DS, POA})
NON_COMMERCIAL_CODES = (NCU, NPU, NPUNCU)

ORGANISATION_TYPES = ("academic", "non_profit", "commercial")

# Terms of the agreement the requester accepts; the line stays APPROVE.
AGREEMENT_CONDITIONS = {
    IRB: "Ethics approval required: you must hold approval from your ethics committee (IRB/REC) "
    "for this project and give its reference before the material is shipped.",
    COL: "Collaboration required: the work must be done in collaboration with the depositing "
    "institution.",
    PUB: "Publication required: results obtained with this line must be made public.",
    RTN: "Return of results: data derived from this line must be returned to the bank.",
    MOR: "Publication moratorium: you may not publish results before the moratorium date in the "
    "agreement.",
    TS: "Time limit: use of this line is limited to the period stated in the agreement.",
    GSO: "Genetic studies only: the line may be used only for studies that include genotype "
    "research.",
    NMDS: "No methods development: the line may not be used to develop general methods, "
    "software or algorithms.",
}

# Restrictions naming a region, institution, project, user or research type the
# catalog cannot check itself: a curator reads the consent document (ABSTAIN).
CURATOR_CHECKED_CONDITIONS = {
    GS: "Geographic restriction: use is limited to a region named in the donor's consent; "
    "a curator checks that your institution is inside it.",
    IS: "Institution-specific restriction: use is limited to institutions named in the donor's "
    "consent; a curator checks yours.",
    PS: "Project-specific restriction: use is limited to the project named in the donor's "
    "consent; a curator checks your project against it.",
    US: "User-specific restriction: use is limited to investigators named in the donor's "
    "consent; a curator checks that you are one of them.",
    RS: "Research-type restriction: the donor's consent limits the type of research; a curator "
    "checks your purpose against it.",
}

CONDITION_TEXT = {**AGREEMENT_CONDITIONS, **CURATOR_CHECKED_CONDITIONS}


def term(code):
    """'DS (DUO:0000007)' — shorthand for reading, CURIE for the record."""
    short = SHORTHAND.get(code)
    return f"{short} ({code})" if short else code


@dataclass(frozen=True)
class Reason:
    text: str
    code: str = ""

    def as_dict(self):
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class Condition:
    code: str
    text: str
    curator_checks: bool = False

    def as_dict(self):
        return {
            "code": self.code,
            "shorthand": SHORTHAND.get(self.code, ""),
            "text": self.text,
            "curator_checks": self.curator_checks,
        }


@dataclass(frozen=True)
class ConsentFacts:
    codes: frozenset
    disease: str = ""
    withdrawn: bool = False


@dataclass(frozen=True)
class LineFacts:
    name: str
    status: str = "released"
    availability: str = "available"
    consent: ConsentFacts | None = None


@dataclass(frozen=True)
class Purpose:
    codes: frozenset
    disease: str | None = None
    commercial: bool = False
    organisation_type: str = "academic"

    @property
    def for_profit(self):
        return self.commercial or self.organisation_type == "commercial"


@dataclass
class Eligibility:
    line: str
    decision: str
    reasons: list = field(default_factory=list)
    conditions: list = field(default_factory=list)

    def as_dict(self):
        return {
            "line": self.line,
            "decision": self.decision,
            "reasons": [r.as_dict() for r in self.reasons],
            "conditions": [c.as_dict() for c in self.conditions],
        }


class PurposeError(ValueError):
    """A purpose that cannot be judged; `problems` name each bad field."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


def check_purpose(purpose, known_diseases=None):
    """Raise PurposeError when the purpose cannot be judged (which field, and why)."""
    problems = {}
    not_purposes = sorted(set(purpose.codes) - set(PURPOSE_CODES))
    if not purpose.codes:
        problems["purpose.codes"] = (
            "state at least one research purpose: "
            + ", ".join(term(c) for c in PURPOSE_CODES)
        )
    elif not_purposes:
        problems["purpose.codes"] = (
            f"not a research purpose: {', '.join(not_purposes)}; choose from "
            + ", ".join(term(c) for c in PURPOSE_CODES)
        )
    if DS in purpose.codes and not purpose.disease:
        problems["purpose.disease"] = f"a disease-specific purpose {term(DS)} needs a MONDO disease id"
    elif purpose.disease and DS not in purpose.codes:
        problems["purpose.disease"] = f"a disease is only stated with a disease-specific purpose {term(DS)}"
    elif purpose.disease and known_diseases is not None and purpose.disease not in known_diseases:
        problems["purpose.disease"] = f"unknown MONDO disease id {purpose.disease}"
    if purpose.organisation_type not in ORGANISATION_TYPES:
        problems["organisation_type"] = f"choose one of {', '.join(ORGANISATION_TYPES)}"
    if problems:
        raise PurposeError(problems)


def _combine(decisions):
    if DENY in decisions:
        return DENY
    if ABSTAIN in decisions:
        return ABSTAIN
    return APPROVE


def _match_purpose(code, purpose, consent, disease_ancestors):
    """One research purpose against the consent's permissions → (decision, reason)."""
    granted = consent.codes & CONSENT_PERMISSIONS
    # A prohibition outranks every permission, even "no restriction".
    if code == POA and NPOA in consent.codes:
        return DENY, Reason("The donor's consent prohibits population origins or ancestry research.", NPOA)
    if NRES in granted:
        return APPROVE, Reason("The donor's consent places no restriction on use.", NRES)
    if code == GRU:
        if GRU in granted:
            return APPROVE, Reason("The donor consented to general research use.", GRU)
        given = ", ".join(term(c) for c in sorted(granted))
        return DENY, Reason(
            f"Your purpose is general research use {term(GRU)}, but the donor's consent covers only "
            f"{given}.", next(iter(sorted(granted)))
        )
    if code == HMB:
        if GRU in granted:
            return APPROVE, Reason("The donor consented to general research use, which includes "
                                   "health, medical and biomedical research.", GRU)
        if HMB in granted:
            return APPROVE, Reason("The donor consented to health, medical or biomedical research.", HMB)
        if DS in granted:
            return DENY, Reason(
                "Your purpose is health/medical/biomedical research in general, but the donor "
                f"consented only to research on one disease {term(DS)}.", DS
            )
        return DENY, Reason(
            "Your purpose is health/medical/biomedical research, but the donor consented only to "
            f"population origins or ancestry research {term(POA)}.", POA
        )
    if code == DS:
        if GRU in granted:
            return APPROVE, Reason("The donor consented to general research use, which includes "
                                   "disease-specific research.", GRU)
        if HMB in granted:
            return APPROVE, Reason("The donor consented to health, medical or biomedical research, "
                                   "which includes research on a specific disease.", HMB)
        if DS in granted:
            if not consent.disease:
                return ABSTAIN, Reason(
                    "The donor consented to research on a specific disease, but the catalog does not "
                    "record which disease; a curator checks the consent document.", DS
                )
            if purpose.disease == consent.disease:
                return APPROVE, Reason(
                    f"The donor consented to research on {consent.disease}, the disease you study.", DS
                )
            if disease_ancestors is None:
                return ABSTAIN, Reason(
                    f"The catalog's disease hierarchy does not hold {purpose.disease}, so it cannot "
                    f"tell whether it falls under {consent.disease}; a curator decides.", DS
                )
            if consent.disease in disease_ancestors:
                return APPROVE, Reason(
                    f"The donor consented to research on {consent.disease}; {purpose.disease} is a "
                    "form of that disease.", DS
                )
            return DENY, Reason(
                f"The donor consented only to research on {consent.disease}; {purpose.disease} is "
                "not that disease nor a form of it.", DS
            )
        return DENY, Reason(
            "Your purpose is disease research, but the donor consented only to population origins "
            f"or ancestry research {term(POA)}.", POA
        )
    if code == POA:
        if GRU in granted:
            return APPROVE, Reason("The donor consented to general research use, which includes "
                                   "population origins and ancestry research.", GRU)
        if POA in granted:
            return APPROVE, Reason("The donor consented to population origins or ancestry research.", POA)
        given = ", ".join(term(c) for c in sorted(granted))
        return DENY, Reason(
            f"Population origins or ancestry research {term(POA)} is allowed only on general "
            f"research use or ancestry consent; the donor's consent covers {given}.",
            next(iter(sorted(granted))),
        )
    raise PurposeError({"purpose.codes": f"not a research purpose: {code}"})


def evaluate(line, purpose, disease_ancestors=None):
    """The decision for one line (LineFacts) and one Purpose.

    `disease_ancestors` is the set of MONDO ancestors of `purpose.disease`, or None
    when the hierarchy does not hold that disease (then a DS match cannot be decided).
    """
    reasons, conditions, decisions = [], [], []
    if line.status == "withdrawn":
        return Eligibility(line.name, DENY, [Reason("This line has been withdrawn and is not distributed.")])
    if line.status != "released":
        return Eligibility(line.name, DENY, [Reason("This line is not released by the bank yet.")])
    if line.availability == "not_distributed":
        return Eligibility(line.name, DENY, [Reason("This line is not available for distribution.")])
    if line.availability == "restricted":
        decisions.append(ABSTAIN)
        reasons.append(Reason("The depositor restricts distribution of this line; a curator decides."))

    consent = line.consent
    if consent is None:
        reasons.append(Reason("No consent is recorded for this line's donor; a curator checks the "
                              "consent document."))
        return Eligibility(line.name, ABSTAIN, reasons)
    if consent.withdrawn:
        return Eligibility(line.name, DENY, [Reason("The donor has withdrawn consent: the line may no "
                                                    "longer be distributed.")])
    if not consent.codes & CONSENT_PERMISSIONS:
        reasons.append(Reason("The donor's consent lists no data use permission (NRES, GRU, HMB, DS "
                              "or POA); a curator checks the consent document."))
        decisions.append(ABSTAIN)
    else:
        for code in sorted(purpose.codes):
            decision, reason = _match_purpose(code, purpose, consent, disease_ancestors)
            decisions.append(decision)
            reasons.append(reason)

    for code in NON_COMMERCIAL_CODES:
        if code not in consent.codes:
            continue
        what = {
            NCU: "non-commercial use only",
            NPU: "use by not-for-profit organisations only",
            NPUNCU: "non-commercial use by not-for-profit organisations only",
        }[code]
        if purpose.commercial:
            decisions.append(DENY)
            reasons.append(Reason(f"The donor consented to {what}; your purpose is commercial.", code))
        elif purpose.organisation_type == "commercial":
            decisions.append(DENY)
            reasons.append(Reason(
                f"The donor consented to {what}; your organisation is for-profit, so its use counts "
                "as commercial.", code
            ))
        else:
            reasons.append(Reason(f"The donor consented to {what}; your non-commercial use by a "
                                  "not-for-profit organisation fits.", code))

    for code in sorted(consent.codes):
        if code in AGREEMENT_CONDITIONS:
            conditions.append(Condition(code, AGREEMENT_CONDITIONS[code]))
        elif code in CURATOR_CHECKED_CONDITIONS:
            conditions.append(Condition(code, CURATOR_CHECKED_CONDITIONS[code], curator_checks=True))
            decisions.append(ABSTAIN)
            reasons.append(Reason(CURATOR_CHECKED_CONDITIONS[code], code))

    return Eligibility(line.name, _combine(decisions), reasons, conditions)


# --- database-facing -----------------------------------------------------------


def disease_ancestors_for(disease):
    """MONDO ancestors of `disease` from prism.DiseaseTerm, or None when unknown."""
    from core.models import DiseaseTerm

    if not disease:
        return frozenset()
    row = DiseaseTerm.objects.filter(curie=disease).values_list("ancestors", flat=True).first()
    return None if row is None else frozenset(row)


def facts_for_lines(lines):
    """LineFacts for CellLines (a queryset, or a list of instances), in order.

    Three flat queries (lines, consents, consent codes) and no model instances:
    about 15,000 lines a second (bench/eligibility.py)."""
    from donors.models import Consent

    if hasattr(lines, "values_list"):
        rows = list(lines.values_list("name", "status", "availability", "donor_id"))
        consents = Consent.objects.filter(donor_id__in=lines.values("donor_id"))
    else:
        rows = [(line.name, line.status, line.availability, line.donor_id) for line in lines]
        consents = Consent.objects.filter(donor_id__in={row[3] for row in rows if row[3] is not None})
    consent_rows = list(consents.values_list("id", "donor_id", "disease", "withdrawn_on"))
    codes = {}
    through = Consent.codes.through
    for consent_id, code in through.objects.filter(consent_id__in=consents.values("id")).values_list(
        "consent_id", "duoterm_id"
    ):
        codes.setdefault(consent_id, set()).add(code)
    by_donor = {
        donor_id: ConsentFacts(frozenset(codes.get(consent_id, ())), disease, withdrawn_on is not None)
        for consent_id, donor_id, disease, withdrawn_on in consent_rows
    }
    return [
        LineFacts(name, status, availability, by_donor.get(donor_id) if donor_id is not None else None)
        for name, status, availability, donor_id in rows
    ]


def evaluate_lines(lines, purpose):
    """Eligibility of each CellLine in `lines` (a queryset or a list), in order."""
    ancestors = disease_ancestors_for(purpose.disease) if DS in purpose.codes else frozenset()
    return [evaluate(facts, purpose, ancestors) for facts in facts_for_lines(lines)]


def filter_lines_for_purpose(queryset, purpose_codes, disease=None, commercial=False,
                             organisation_type="academic"):
    """The lines of `queryset` that `evaluate()` would APPROVE for this purpose, in SQL.

    Set-based: one query with EXISTS subqueries on the consent's codes, so it
    runs on any number of lines. Lines that would be ABSTAIN (a curator could
    still allow them) are left out: this lists what the purpose may use now.
    Raises PurposeError for a purpose that cannot be judged.
    """
    from django.db.models import Exists, OuterRef, Q

    from donors.models import Consent

    purpose = Purpose(frozenset(purpose_codes), disease or None, bool(commercial), organisation_type)
    check_purpose(purpose)
    through = Consent.codes.through

    def has(*codes):
        return Exists(through.objects.filter(consent_id=OuterRef("donor__consent__id"),
                                             duoterm_id__in=codes))

    q = Q(status="released", availability="available", donor__consent__isnull=False,
          donor__consent__withdrawn_on__isnull=True)
    for code in purpose.codes:
        if code == GRU:
            q &= has(NRES, GRU)
        elif code == HMB:
            q &= has(NRES, GRU, HMB)
        elif code == POA:
            q &= has(NRES, GRU, POA) & ~has(NPOA)
        elif code == DS:
            ancestors = disease_ancestors_for(purpose.disease)
            diseases = {purpose.disease, *(ancestors or ())}
            q &= has(NRES, GRU, HMB) | (has(DS) & Q(donor__consent__disease__in=diseases))
    if purpose.for_profit:
        q &= ~has(*NON_COMMERCIAL_CODES)
    q &= ~has(*CURATOR_CHECKED_CONDITIONS)
    return queryset.filter(q)


# Query parameters of the catalog's line filters (lines/holdings/filters.py) → purpose fields.
PURPOSE_PARAMS = {
    "purpose.codes": "purpose",
    "purpose.disease": "purpose_disease",
    "organisation_type": "purpose_organisation_type",
}


def filter_lines_by_purpose_params(queryset, codes, disease=None, commercial=None, organisation_type=None,
                                   user=None):
    """The line filters' purpose parameters: `purpose` (DUO codes, repeatable),
    `purpose_disease`, `purpose_commercial`, `purpose_organisation_type` (default:
    the user's profile, else academic). Raises PurposeError keyed by parameter name."""
    from core.models import DiseaseTerm

    if organisation_type in (None, ""):
        profile = getattr(user, "profile", None) if user is not None and user.is_authenticated else None
        organisation_type = profile.organisation_type if profile else "academic"
    purpose = Purpose(frozenset(codes or ()), disease or None, bool(commercial), organisation_type)
    known = set(DiseaseTerm.objects.filter(curie=purpose.disease).values_list("curie", flat=True))
    try:
        check_purpose(purpose, known_diseases=known)
    except PurposeError as error:
        raise PurposeError({PURPOSE_PARAMS.get(k, k): v for k, v in error.problems.items()}) from error
    return filter_lines_for_purpose(queryset, purpose.codes, purpose.disease, purpose.commercial,
                                    purpose.organisation_type)
