"""DUO matching: may a research purpose use material given under this consent?

The one home of the GA4GH Data Use Ontology rules (DUOS consent-ontology matcher,
DataBiosphere, as summarised in DOMAIN.md). Each rule answers APPROVE, DENY or
ABSTAIN (a curator decides), with reasons in words a researcher understands and
the DUO CURIE they come from, and the conditions the requester accepts in the
agreement.

Two forms of the same rule, side by side, held equal by tests/donors/test_duo.py:
- `evaluate(consent, purpose, disease_ancestors)`: pure Python over plain facts,
  no database (the eligibility check and the request workflow);
- `approved_q(purpose, disease_ancestors, consent=...)`: the rows whose consent
  `evaluate()` would APPROVE, as one SQL condition with EXISTS subqueries, so the
  catalog lists the lines a purpose may use at any size.
`conditions(codes)` is the one list of agreement conditions with their wording:
the eligibility answer, the line page and the API all read it. The commercial-use
rule (NCU, NPU, NPUNCU) has its two forms here too.

Judgement calls (documented in README "Distribution"):
- IRB, COL, PUB, RTN, MOR, TS, GSO, NMDS are terms of the agreement: the requester
  accepts them and the consent still approves.
- GS, IS, PS, US (a named region, institution, project or user) and RS (a
  research-type restriction) name something the catalog does not hold in a form
  it can check, so the answer becomes ABSTAIN and a curator checks the consent
  document; the term is still listed as a condition.
- NCU, NPU and NPUNCU all deny a commercial purpose and a for-profit requester: a
  company's use counts as commercial even when it calls the project basic research.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef, Q

from core.models import DiseaseTerm
from donors.models import Consent

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
    NRES: "NRES",
    GRU: "GRU",
    HMB: "HMB",
    DS: "DS",
    POA: "POA",
    RS: "RS",
    NMDS: "NMDS",
    GSO: "GSO",
    NPUNCU: "NPUNCU",
    PUB: "PUB",
    COL: "COL",
    IRB: "IRB",
    GS: "GS",
    MOR: "MOR",
    TS: "TS",
    US: "US",
    PS: "PS",
    IS: "IS",
    RTN: "RTN",
    CC: "CC",
    NPOA: "NPOA",
    NPU: "NPU",
    NCU: "NCU",
}

# The research purposes a request may state (DUO permissions; NRES is a consent
# term, not a purpose).
PURPOSE_CODES = (GRU, HMB, DS, POA)
CONSENT_PERMISSIONS = frozenset({NRES, GRU, HMB, DS, POA})
NON_COMMERCIAL_CODES = (NCU, NPU, NPUNCU)
NOT_FOR_PROFIT_CODES = (NPU, NPUNCU)

ORGANISATION_TYPES = ("academic", "non_profit", "commercial")

# Terms of the agreement the requester accepts; the consent still approves.
AGREEMENT_CONDITIONS = {
    IRB: "Ethics approval required: you must hold approval from your ethics committee (IRB/REC) "
    "for this project and give its reference before the material is shipped.",
    COL: "Collaboration required: the work must be done in collaboration with the depositing institution.",
    PUB: "Publication required: results obtained with this line must be made public.",
    RTN: "Return of results: data derived from this line must be returned to the bank.",
    MOR: "Publication moratorium: you may not publish results before the moratorium date in the agreement.",
    TS: "Time limit: use of this line is limited to the period stated in the agreement.",
    GSO: "Genetic studies only: the line may be used only for studies that include genotype research.",
    NMDS: "No methods development: the line may not be used to develop general methods, software or algorithms.",
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

_NON_COMMERCIAL_WHAT = {
    NCU: "non-commercial use only",
    NPU: "use by not-for-profit organisations only",
    NPUNCU: "non-commercial use by not-for-profit organisations only",
}


def term(code: str) -> str:
    """'DS (DUO:0000007)': shorthand for reading, CURIE for the record."""
    short = SHORTHAND.get(code)
    return f"{short} ({code})" if short else code


@dataclass(frozen=True)
class Reason:
    text: str
    code: str = ""

    def as_dict(self) -> dict:
        return {"code": self.code, "text": self.text}


@dataclass(frozen=True)
class Condition:
    code: str
    text: str
    curator_checks: bool = False

    def as_dict(self) -> dict:
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
class Purpose:
    codes: frozenset
    disease: str | None = None
    commercial: bool = False
    organisation_type: str = "academic"

    @property
    def for_profit(self) -> bool:
        return self.commercial or self.organisation_type == "commercial"


@dataclass
class Answer:
    """What the consent says about a purpose: the decision, why, and the conditions."""

    decision: str
    reasons: list = field(default_factory=list)
    conditions: list = field(default_factory=list)


class PurposeError(ValueError):
    """A purpose that cannot be judged; `problems` name each bad field."""

    def __init__(self, problems: dict[str, str]):
        self.problems = problems
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))


def check_purpose(purpose: Purpose, known_diseases: Iterable[str] | None = None) -> None:
    """Raise PurposeError when the purpose cannot be judged (which field, and why)."""
    problems = {}
    not_purposes = sorted(set(purpose.codes) - set(PURPOSE_CODES))
    if not purpose.codes:
        problems["purpose.codes"] = "state at least one research purpose: " + ", ".join(term(c) for c in PURPOSE_CODES)
    elif not_purposes:
        problems["purpose.codes"] = f"not a research purpose: {', '.join(not_purposes)}; choose from " + ", ".join(
            term(c) for c in PURPOSE_CODES
        )
    if DS in purpose.codes and not purpose.disease:
        problems["purpose.disease"] = f"a disease-specific purpose {term(DS)} needs a MONDO disease id"
    elif purpose.disease and DS not in purpose.codes:
        problems["purpose.disease"] = f"a disease is only stated with a disease-specific purpose {term(DS)}"
    elif purpose.disease and known_diseases is not None and purpose.disease not in set(known_diseases):
        problems["purpose.disease"] = f"unknown MONDO disease id {purpose.disease}"
    if purpose.organisation_type not in ORGANISATION_TYPES:
        problems["organisation_type"] = f"choose one of {', '.join(ORGANISATION_TYPES)}"
    if problems:
        raise PurposeError(problems)


def combine(decisions: Iterable[str]) -> str:
    """DENY outranks ABSTAIN, which outranks APPROVE (every rule must approve)."""
    decisions = set(decisions)
    if DENY in decisions:
        return DENY
    if ABSTAIN in decisions:
        return ABSTAIN
    return APPROVE


def conditions(codes: Iterable[str]) -> list[Condition]:
    """The agreement conditions a consent with these DUO codes carries, in code order,
    with their wording: what the eligibility answer lists and the line page shows."""
    found = []
    for code in sorted(set(codes)):
        if code in AGREEMENT_CONDITIONS:
            found.append(Condition(code, AGREEMENT_CONDITIONS[code]))
        elif code in CURATOR_CHECKED_CONDITIONS:
            found.append(Condition(code, CURATOR_CHECKED_CONDITIONS[code], curator_checks=True))
    return found


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
            f"Your purpose is general research use {term(GRU)}, but the donor's consent covers only {given}.",
            next(iter(sorted(granted))),
        )
    if code == HMB:
        if GRU in granted:
            return APPROVE, Reason(
                "The donor consented to general research use, which includes health, medical and biomedical research.",
                GRU,
            )
        if HMB in granted:
            return APPROVE, Reason("The donor consented to health, medical or biomedical research.", HMB)
        if DS in granted:
            return DENY, Reason(
                "Your purpose is health/medical/biomedical research in general, but the donor "
                f"consented only to research on one disease {term(DS)}.",
                DS,
            )
        return DENY, Reason(
            "Your purpose is health/medical/biomedical research, but the donor consented only to "
            f"population origins or ancestry research {term(POA)}.",
            POA,
        )
    if code == DS:
        if GRU in granted:
            return APPROVE, Reason(
                "The donor consented to general research use, which includes disease-specific research.",
                GRU,
            )
        if HMB in granted:
            return APPROVE, Reason(
                "The donor consented to health, medical or biomedical research, "
                "which includes research on a specific disease.",
                HMB,
            )
        if DS in granted:
            return _match_disease(purpose, consent, disease_ancestors)
        return DENY, Reason(
            "Your purpose is disease research, but the donor consented only to population origins "
            f"or ancestry research {term(POA)}.",
            POA,
        )
    if code == POA:
        if GRU in granted:
            return APPROVE, Reason(
                "The donor consented to general research use, which includes population origins and ancestry research.",
                GRU,
            )
        if POA in granted:
            return APPROVE, Reason("The donor consented to population origins or ancestry research.", POA)
        given = ", ".join(term(c) for c in sorted(granted))
        return DENY, Reason(
            f"Population origins or ancestry research {term(POA)} is allowed only on general "
            f"research use or ancestry consent; the donor's consent covers {given}.",
            next(iter(sorted(granted))),
        )
    raise PurposeError({"purpose.codes": f"not a research purpose: {code}"})


def _match_disease(purpose, consent, disease_ancestors):
    """A disease-specific purpose on a disease-specific consent: the MONDO descent rule."""
    if not consent.disease:
        return ABSTAIN, Reason(
            "The donor consented to research on a specific disease, but the catalog does not "
            "record which disease; a curator checks the consent document.",
            DS,
        )
    if purpose.disease == consent.disease:
        return APPROVE, Reason(f"The donor consented to research on {consent.disease}, the disease you study.", DS)
    if disease_ancestors is None:
        return ABSTAIN, Reason(
            f"The catalog's disease hierarchy does not hold {purpose.disease}, so it cannot "
            f"tell whether it falls under {consent.disease}; a curator decides.",
            DS,
        )
    if consent.disease in disease_ancestors:
        return APPROVE, Reason(
            f"The donor consented to research on {consent.disease}; {purpose.disease} is a form of that disease.",
            DS,
        )
    return DENY, Reason(
        f"The donor consented only to research on {consent.disease}; {purpose.disease} is "
        "not that disease nor a form of it.",
        DS,
    )


def _match_commercial(code, purpose):
    what = _NON_COMMERCIAL_WHAT[code]
    if purpose.commercial:
        return DENY, Reason(f"The donor consented to {what}; your purpose is commercial.", code)
    if purpose.organisation_type == "commercial":
        return DENY, Reason(
            f"The donor consented to {what}; your organisation is for-profit, so its use counts as commercial.",
            code,
        )
    return None, Reason(
        f"The donor consented to {what}; your non-commercial use by a not-for-profit organisation fits.",
        code,
    )


def evaluate(consent: ConsentFacts, purpose: Purpose, disease_ancestors: frozenset | None = None) -> Answer:
    """What the consent says about this purpose.

    `disease_ancestors` is the set of MONDO ancestors of `purpose.disease`, or None
    when the hierarchy does not hold that disease (then a DS match cannot be decided).
    """
    if consent.withdrawn:
        return Answer(
            DENY,
            [Reason("The donor has withdrawn consent: the line may no longer be distributed.")],
        )
    reasons, decisions = [], []
    if not consent.codes & CONSENT_PERMISSIONS:
        reasons.append(
            Reason(
                "The donor's consent lists no data use permission (NRES, GRU, HMB, DS "
                "or POA); a curator checks the consent document."
            )
        )
        decisions.append(ABSTAIN)
    else:
        for code in sorted(purpose.codes):
            decision, reason = _match_purpose(code, purpose, consent, disease_ancestors)
            decisions.append(decision)
            reasons.append(reason)

    for code in NON_COMMERCIAL_CODES:
        if code in consent.codes:
            decision, reason = _match_commercial(code, purpose)
            if decision is not None:
                decisions.append(decision)
            reasons.append(reason)

    found = conditions(consent.codes)
    for condition in found:
        if condition.curator_checks:
            decisions.append(ABSTAIN)
            reasons.append(Reason(condition.text, condition.code))
    return Answer(combine(decisions), reasons, found)


def allows_commercial_use(consent: ConsentFacts | None) -> bool:
    """The consent stands and carries none of NCU, NPU, NPUNCU."""
    return consent is not None and not consent.withdrawn and not consent.codes & set(NON_COMMERCIAL_CODES)


# --- the SQL twins --------------------------------------------------------------------


def disease_ancestors_for(disease: str | None) -> frozenset | None:
    """MONDO ancestors of `disease` from prism.DiseaseTerm, or None when unknown."""
    if not disease:
        return frozenset()
    row = DiseaseTerm.objects.filter(curie=disease).values_list("ancestors", flat=True).first()
    return None if row is None else frozenset(row)


def _path(consent, name):
    return f"{consent}__{name}" if consent else name


def _has(consent, codes):
    return Exists(Consent.codes.through.objects.filter(consent_id=OuterRef(_path(consent, "id")), duoterm_id__in=codes))


def approved_q(purpose: Purpose, disease_ancestors: frozenset | None = frozenset(), *, consent: str = "consent") -> Q:
    """The rows whose consent `evaluate()` would APPROVE for this (checked) purpose.

    `consent` is the path from the queried model to its Consent: "consent" from a
    Donor, "donor__consent" from a CellLine, "" on Consent itself. One SQL
    condition with EXISTS subqueries on the consent's codes; answers that would be
    ABSTAIN (a curator could still allow them) are left out.
    """
    q = Q(**{_path(consent, "id__isnull"): False, _path(consent, "withdrawn_on__isnull"): True})
    for code in purpose.codes:
        if code == GRU:
            q &= _has(consent, (NRES, GRU))
        elif code == HMB:
            q &= _has(consent, (NRES, GRU, HMB))
        elif code == POA:
            q &= _has(consent, (NRES, GRU, POA)) & ~_has(consent, (NPOA,))
        elif code == DS:
            # The consented disease is the purpose's disease or one of its MONDO ancestors.
            diseases = {purpose.disease, *(disease_ancestors or ())}
            q &= _has(consent, (NRES, GRU, HMB)) | (
                _has(consent, (DS,)) & Q(**{_path(consent, "disease__in"): diseases})
            )
    if purpose.for_profit:
        q &= ~_has(consent, NON_COMMERCIAL_CODES)
    q &= ~_has(consent, tuple(CURATOR_CHECKED_CONDITIONS))
    return q


def commercial_use_q(*, donor: str = "donor_id") -> Q:
    """The rows whose donor's consent `allows_commercial_use()`: `donor` is the path to
    the donor's id ("donor_id" from a CellLine, "id" from a Donor)."""
    non_commercial = Consent.codes.through.objects.filter(
        consent__donor_id=OuterRef(donor), duoterm_id__in=NON_COMMERCIAL_CODES
    )
    standing = Consent.objects.filter(donor_id=OuterRef(donor), withdrawn_on__isnull=True)
    return Exists(standing) & ~Exists(non_commercial)
