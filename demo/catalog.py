"""The demo catalog: an invented but realistic ALS consortium, built deterministically.

`seed_demo()` writes institutions, donors (familial and sporadic ALS across the
known genes, C9orf72 expansion carriers, healthy controls), consent, variants,
lines with isogenic sets, full QC panels, distribution requests and one demo user
per role, in one transaction. Everything is drawn from one `random.Random(SEED)`
in a fixed order and dated relative to a fixed ANCHOR day, so every run writes
the same catalog. The facts it draws from are in demo/facts.py.

Running it again replaces exactly the objects an earlier run wrote (matched by
line name, donor code, demo usernames and institution codes) and leaves
everything else alone; it refuses, changing nothing, when other data points at
demo objects (a real request for a demo line, say).
"""

import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import ProtectedError, RestrictedError
from django.test.utils import override_settings
from simple_history.utils import bulk_create_with_history

from core.accounts import create_user_with_role
from core.models import Institution
from core.vocabulary import ALS, CELL_TYPES, DISEASE_TERMS, GENES
from demo import facts
from distribution.models import DistributionRequest, RequestedLine, Shipment
from donors.models import Consent, Donor, Variant
from lines.models import CellLine, QCRecord
from lines.naming import clone_letter, format_name
from lines.qc import summarise_qc_status
from lines.str.matching import format_profile, normalise_profile

SEED = 20240611
# Every date is relative to this day, not today, so that two runs on different
# days write the same catalog.
ANCHOR = date(2026, 9, 30)
CHANGE_REASON = "demo catalog (manage.py seed_demo)"

DEMO_USERS = {
    # username: (role, password, institution code or None)
    "researcher": ("researcher", "demo-researcher", None),
    "depositor": ("depositor", "demo-depositor", "RNB"),
    "curator": ("curator", "demo-curator", None),
}
# Other researchers whose requests fill the distribution queue; they have no
# password (they cannot sign in) and are not printed.
REQUESTER_USERNAMES = ["k.lindqvist", "a.okafor", "m.haddad", "neurovance-api", "l.fernandez"]

DISEASE_LABELS = {curie: label for curie, label, _ in DISEASE_TERMS}
CELL_TYPE_LABELS = dict(CELL_TYPES)
HGNC_IDS = {symbol: hgnc_id for hgnc_id, symbol, *_ in GENES}


class DemoConflict(Exception):
    """The demo cannot be (re)built without touching data that is not the demo's."""


@dataclass
class DemoSummary:
    institutions: int = 0
    donors: int = 0
    lines: int = 0
    qc_records: int = 0
    variants: int = 0
    requests: int = 0
    replaced_lines: int = 0
    credentials: list = field(default_factory=list)


def catalog_has_lines():
    return CellLine.objects.exists()


# ---------------------------------------------------------------- drawing helpers


def _weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def _aware(day, rng):
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=UTC)


def _clamp(value, low, high):
    return max(low, min(high, value))


# ------------------------------------------------------------------------- plan


class _Builder:
    """Draws the whole catalog as unsaved model instances, in a fixed order."""

    def __init__(self, seed):
        self.rng = random.Random(seed)
        self.institutions = {}
        self.donors = []  # Donor instances, with helper attributes (_kind, _subtype …)
        self.consents = []
        self.consent_codes = {}  # donor code → [CURIE]
        self.donor_variants = []
        self.lines = []
        self.line_variants = []
        self.qc = {}  # line name → [QCRecord]
        self.seen_str = set()
        self.next_donor_number = {}

    # -- institutions and donors

    def build_institutions(self):
        for code, name, country, city, _continent in facts.INSTITUTIONS:
            self.institutions[code] = Institution(code=code, name=name, country=country, city=city)
            self.next_donor_number[code] = 1

    def _pick_institution(self, kind, variant):
        if variant and variant[3] == "D90A" and self.rng.random() < 0.7:
            return "NALS"  # D90A homozygosity is a Scandinavian founder effect
        if variant and variant[3] == "P56S":
            return "SPNB"  # VAPB P56S: Brazilian founder families
        return _weighted(self.rng, list(facts.INSTITUTION_WEIGHTS.items()))

    def _str_profile(self, kit_markers, sex):
        rng = self.rng
        while True:
            raw = {"Amelogenin": "X" if sex == "female" else "X,Y"}
            for marker in kit_markers:
                alleles = [_weighted(rng, facts.STR_ALLELES[marker]) for _ in range(2)]
                raw[marker] = ",".join(alleles)
            profile = normalise_profile(raw)
            key = tuple(sorted((m, tuple(a)) for m, a in profile.items()))
            if key not in self.seen_str:
                self.seen_str.add(key)
                return profile

    def build_donors(self):
        rng = self.rng
        kinds = [kind for kind, count in facts.COHORT for _ in range(count)]
        rng.shuffle(kinds)
        variant_weights = [(v, v[5]) for v in facts.VARIANTS]
        kit_of = {code: facts.STR_KITS[i % len(facts.STR_KITS)] for i, code in enumerate(self.institutions)}
        # Every subtype appears at least once (its most frequent variant), the rest by weight.
        subtypes = list(dict.fromkeys(v[0] for v in facts.VARIANTS))
        first_of_each = [max((v for v in facts.VARIANTS if v[0] == s), key=lambda v: v[5]) for s in subtypes]
        for kind in kinds:
            variant = None
            if kind == "familial_variant":
                variant = first_of_each.pop(0) if first_of_each else _weighted(rng, variant_weights)
            if kind == "sporadic_de_novo_fus":
                variant = next(v for v in facts.VARIANTS if v[3] == "P525L")
            code = self._pick_institution(kind, variant)
            number = f"{self.next_donor_number[code]:03d}"
            self.next_donor_number[code] += 1
            self.donors.append(self._donor(kind, variant, code, number, kit_of[code]))

    def _donor(self, kind, variant, code, number, kit):
        rng = self.rng
        control = kind == "control"
        sex = rng.choice(["female", "male"]) if control else ("male" if rng.random() < 0.6 else "female")
        ancestry = _weighted(rng, list(facts.ANCESTRY_WEIGHTS[code].items()))
        sampled_on = ANCHOR - timedelta(days=rng.randint(380, 900))
        donor = Donor(
            code=f"{code}D{number}",
            institution=self.institutions[code],
            donor_number=number,
            sex=sex,
            ancestry=ancestry,
            str_profile=self._str_profile(kit[1], sex),
        )
        donor._kind, donor._variant, donor._sampled_on, donor._kit = kind, variant, sampled_on, kit[0]
        donor.viral_screening = self._viral_screening(sampled_on)
        if control:
            donor.age_at_sampling = rng.randint(22, 82)
            donor.c9orf72_repeats = rng.choice([2, 2, 2, 5, 8, 3]) if rng.random() < 0.5 else None
            donor._subtype = None
            return donor

        if kind in ("sporadic_c9", "familial_c9"):
            subtype = "FTDALS1"
        elif variant is not None:
            subtype = variant[0]
        else:
            subtype = None
        donor._subtype = subtype
        familial = kind.startswith("familial")
        donor.family_history = "familial" if familial else "sporadic"
        if subtype:
            donor.disease = facts.SUBTYPES[subtype][0]
        else:
            donor.disease = facts.FAMILIAL_UNKNOWN if familial else facts.SPORADIC
        donor.disease_label = DISEASE_LABELS[donor.disease]

        mean, sd = facts.ONSET_AGE[subtype or ("familial" if familial else "sporadic")]
        if kind == "sporadic_de_novo_fus":
            onset = rng.randint(17, 28)  # FUS P525L: de novo, juvenile, aggressive
        else:
            onset = _clamp(round(rng.gauss(mean, sd)), 19, 84)
        legacy = variant[3] if variant else ""
        pace = "fast" if legacy in facts.FAST_VARIANTS else "slow" if legacy in facts.SLOW_VARIANTS else "typical"
        if pace == "typical" and rng.random() < 0.15:
            pace = rng.choice(["fast", "slow"])
        months = rng.randint(4, 30) if pace == "fast" else rng.randint(8, 60) if pace == "typical" else rng.randint(24, 150)
        donor.age_at_onset = onset
        donor.age_at_sampling = onset + months // 12
        rate_mean, rate_sd = facts.PROGRESSION[pace]
        rate = max(0.05, rng.gauss(rate_mean, rate_sd))
        donor.alsfrs_r = _clamp(round(48 - rate * months), 0, 47)
        donor.alsfrs_r_date = sampled_on - timedelta(days=rng.randint(0, 28))
        donor.progression_rate = Decimal(f"{(48 - donor.alsfrs_r) / months:.2f}")

        site_weights = [("spinal", 65), ("bulbar", 28), ("respiratory", 3), ("generalized", 2), ("unknown", 2)]
        if subtype == "FTDALS1" or (sex == "female" and onset > 60):
            site_weights = [("spinal", 50), ("bulbar", 45), ("respiratory", 3), ("generalized", 2)]
        if legacy == "D90A":
            site_weights = [("spinal", 1)]  # D90A homozygotes: slow, lower-limb onset
        donor.onset_site = _weighted(rng, site_weights)

        if subtype == "FTDALS1":
            # Sized by Southern blot: hundreds to thousands of G4C2 units.
            donor.c9orf72_repeats = int(round(rng.uniform(300, 3200), -1))
        elif rng.random() < 0.85:
            donor.c9orf72_repeats = _weighted(rng, [(2, 45), (3, 5), (5, 15), (8, 15), (6, 5), (10, 8), (12, 4), (17, 3)])
        if rng.random() < 0.6:
            donor.atxn2_repeats = _weighted(rng, [(22, 80), (23, 15), (24, 2), (27, 1), (29, 1), (31, 1)])
        donor.clinical_data = {
            "diagnostic_criteria": _weighted(rng, [("El Escorial: clinically definite", 50),
                                                    ("El Escorial: clinically probable", 30),
                                                    ("Gold Coast criteria", 20)]),
            "disease_duration_months": months,
            "riluzole": rng.random() < 0.8,
            "cognition": "ALS-FTD" if subtype == "FTDALS1" and rng.random() < 0.35 else
            _weighted(rng, [("normal", 70), ("ALSci", 20), ("ALSbi", 10)]),
        }
        return donor

    def _viral_screening(self, sampled_on):
        rng = self.rng
        screening = {"HIV-1/2": "negative", "HBV (HBsAg)": "negative", "HCV (anti-HCV)": "negative"}
        if rng.random() < 0.04:
            screening["HCV (anti-HCV)"] = "not tested"
        if rng.random() < 0.3:
            screening["HTLV-I/II"] = "negative"
        screening["method"] = _weighted(rng, [("serology (CMIA)", 3), ("NAT (PCR)", 1)])
        screening["tested_on"] = (sampled_on + timedelta(days=rng.randint(3, 30))).isoformat()
        return screening

    def ensure_atxn2_intermediates(self, count=5):
        """A few sporadic donors with ATXN2 intermediate repeats (27–33), a known risk factor."""
        sporadic = [d for d in self.donors if d._kind == "sporadic"]
        have = [d for d in sporadic if d.atxn2_repeats and d.atxn2_repeats >= 27]
        for donor in sporadic[:: max(1, len(sporadic) // count)]:
            if len(have) >= count:
                break
            if donor not in have:
                donor.atxn2_repeats = self.rng.randint(27, 33)
                have.append(donor)

    def build_variants(self):
        for donor in self.donors:
            if donor._subtype == "FTDALS1":
                n = donor.c9orf72_repeats
                self.donor_variants.append(Variant(
                    donor=donor, gene="C9orf72", hgnc_id=HGNC_IDS["C9orf72"],
                    hgvs=f"{facts.C9ORF72_TRANSCRIPT}:{facts.C9ORF72_REPEAT_START}GGGGCC[{n}]",
                    legacy_name="G4C2 repeat expansion", zygosity="heterozygous",
                    classification="pathogenic", origin="germline", repeat_size=n,
                ))
            elif donor._variant is not None:
                subtype, c_dot, p_dot, legacy, inheritance, _ = donor._variant
                gene = facts.SUBTYPES[subtype][1]
                if inheritance == "AR":
                    zygosity = "homozygous"
                elif inheritance == "XD":
                    zygosity = "hemizygous" if donor.sex == "male" else "heterozygous"
                elif inheritance == "ADH":
                    zygosity = "homozygous" if donor.institution.code == "NALS" else "heterozygous"
                else:
                    zygosity = "heterozygous"
                self.donor_variants.append(Variant(
                    donor=donor, gene=gene, hgnc_id=HGNC_IDS[gene],
                    hgvs=f"{facts.TRANSCRIPTS[gene]}:{c_dot}", protein=p_dot, legacy_name=legacy,
                    zygosity=zygosity, origin="germline",
                    classification="likely_pathogenic" if legacy in facts.LIKELY_PATHOGENIC else "pathogenic",
                ))

    def build_consents(self):
        rng = self.rng
        for donor in self.donors:
            permission = _weighted(rng, facts.CONSENT_PERMISSIONS)
            codes = [permission] + [curie for curie, p in facts.CONSENT_MODIFIERS if rng.random() < p]
            consent = Consent(
                donor=donor,
                disease=ALS if permission == "DUO:0000007" else "",
                genetic_data=_weighted(rng, [("open", 50), ("controlled", 40), ("none", 10)]),
                recontact=rng.random() < 0.6,
                obtained_on=donor._sampled_on - timedelta(days=rng.randint(0, 45)),
                document_reference=f"{donor.institution.code} ICF v{rng.randint(2, 5)}.{rng.randint(0, 3)}",
            )
            self.consents.append(consent)
            self.consent_codes[donor.code] = codes

    def withdraw_consents(self):
        """Two donors withdraw consent: their lines are withdrawn and no longer distributed."""
        # Donors sampled early: their lines were released well before the withdrawal.
        candidates = [c for c in self.consents if c.donor._kind in ("sporadic", "familial_variant")
                      and c.donor._sampled_on <= ANCHOR - timedelta(days=700)]
        withdrawn = [candidates[len(candidates) // 3], candidates[(2 * len(candidates)) // 3]]
        for consent in self.consents:
            consent.donor._withdrawn = consent in withdrawn
        for consent in withdrawn:
            consent.withdrawn_on = ANCHOR - timedelta(days=self.rng.randint(30, 120))
            consent.withdrawal_reason = "Donor asked in writing that their cells no longer be distributed."
        return withdrawn

    # -- lines

    def build_lines(self, minimum=310):
        rng = self.rng
        clones = {}
        for donor in self.donors:
            clones[donor.code] = _weighted(rng, [(1, 45), (2, 40), (3, 15)])
        total = sum(clones.values())
        i = 0
        while total < minimum - 40:  # subclones add about 45
            donor = self.donors[(i * 7) % len(self.donors)]
            if clones[donor.code] < 4:
                clones[donor.code] += 1
                total += 1
            i += 1
        for donor in self.donors:
            source = _weighted(rng, facts.SOURCE_CELL_TYPES)
            method = _weighted(rng, facts.REPROGRAMMING_METHODS)
            for k in range(clones[donor.code]):
                derived = donor._sampled_on + timedelta(days=rng.randint(50, 150) + 10 * k)
                line = CellLine(
                    name=format_name(donor.institution.code, donor.donor_number, clone_letter(k)),
                    donor=donor,
                    institution=donor.institution,
                    source_cell_type=source,
                    source_cell_type_label=CELL_TYPE_LABELS[source],
                    reprogramming_method=method,
                    derived_on=derived,
                    culture_medium=_weighted(rng, facts.CULTURE_MEDIA),
                    culture_matrix=_weighted(rng, facts.CULTURE_MATRICES),
                    passage_at_banking=rng.randint(8, 28),
                    str_profile=donor.str_profile,
                )
                if rng.random() < 0.4:
                    # The lab's own name for the clone, as depositors keep them.
                    line.alternative_names = [f"{donor.institution.code}-{rng.choice(['ALS', 'iPS', 'P'])}"
                                              f"{int(donor.donor_number):02d} cl{k + 1}"]
                self.lines.append(line)

    def build_isogenic_sets(self):
        """Knock-in sets from healthy control lines and gene-corrected patient lines.

        Subclones are named parent-<n> with flat numbering (hPSCreg), from an
        unmodified parent derived early enough to have been edited and banked.
        """
        rng = self.rng
        early = [ln for ln in self.lines
                 if ln.derived_on <= ANCHOR - timedelta(days=560) and not ln.donor._withdrawn]
        controls = [ln for ln in early if ln.donor._kind == "control" and ln.name.endswith("-A")]
        patients = [ln for ln in early if ln.donor._variant is not None and ln.name.endswith("-A")
                    and ln.donor._variant[4] != "XD"]
        c9 = [ln for ln in early if ln.donor._subtype == "FTDALS1" and ln.name.endswith("-A")]
        subclones = []

        for parent in controls[:6]:
            n = 0
            for subtype, c_dot, p_dot, legacy in rng.sample(facts.KNOCK_INS, rng.randint(2, 4)):
                gene = facts.SUBTYPES[subtype][1]
                zygosities = ["heterozygous"] if rng.random() < 0.6 else ["heterozygous", "homozygous"]
                for zygosity in zygosities:
                    n += 1
                    line = self._subclone(parent, n, "knock_in",
                                          f"{gene} {c_dot} ({p_dot}, legacy {legacy}) knocked in, "
                                          f"{zygosity}, by CRISPR/Cas9 HDR with an ssODN template; "
                                          "edit confirmed by Sanger sequencing, top predicted off-target "
                                          "sites clean.")
                    self.line_variants.append(Variant(
                        line=line, gene=gene, hgnc_id=HGNC_IDS[gene],
                        hgvs=f"{facts.TRANSCRIPTS[gene]}:{c_dot}", protein=p_dot, legacy_name=legacy,
                        zygosity=zygosity, classification="pathogenic", origin="engineered",
                    ))
                    subclones.append(line)
            if rng.random() < 0.5:
                n += 1
                gene = rng.choice(["TBK1", "C9orf72", "OPTN"])
                subclones.append(self._subclone(parent, n, "knock_out",
                                                f"{gene} knock-out: frameshift indels in both alleles of an "
                                                "early coding exon (CRISPR/Cas9 NHEJ); no protein by western blot."))

        for parent in patients[:12]:
            subtype, c_dot, p_dot, legacy, _inh, _w = parent.donor._variant
            gene = facts.SUBTYPES[subtype][1]
            for n in range(1, rng.choice([1, 1, 2]) + 1):
                subclones.append(self._subclone(
                    parent, n, "gene_correction",
                    f"{gene} {c_dot} ({p_dot}, legacy {legacy}) corrected to the reference allele by "
                    "CRISPR/Cas9 HDR: the isogenic control of the parental line.",
                ))

        for parent in c9[:4]:
            subclones.append(self._subclone(
                parent, 1, "gene_correction",
                "C9orf72 G4C2 repeat expansion excised (paired guides flanking the repeat); "
                "the normal allele kept; isogenic control of the parental line.",
            ))
        self.lines.extend(subclones)

    def _subclone(self, parent, n, modification, description):
        rng = self.rng
        parent._has_subclones = True
        return CellLine(
            name=f"{parent.name}-{n}",  # flat numbering per parent (lines.naming)
            donor=parent.donor,
            institution=parent.institution,
            source_cell_type=parent.source_cell_type,
            source_cell_type_label=parent.source_cell_type_label,
            reprogramming_method=parent.reprogramming_method,
            derived_on=parent.derived_on + timedelta(days=rng.randint(90, 200)),
            parental_line=parent,
            modification_type=modification,
            modification_description=description,
            culture_medium=parent.culture_medium,
            culture_matrix=parent.culture_matrix,
            passage_at_banking=_clamp((parent.passage_at_banking or 10) + rng.randint(6, 14), 1, 200),
            str_profile=parent.str_profile,
        )

    # -- status, QC and release

    def assign_status_and_qc(self, withdrawn_consents):
        rng = self.rng
        withdrawn_donors = {c.donor.code: c for c in withdrawn_consents}
        consents = {c.donor.code: c for c in self.consents}
        qc_withdrawn_done = False
        for line in self.lines:
            donor = line.donor
            roll = rng.random()
            if donor.code in withdrawn_donors:
                scenario = "consent_withdrawn"
            elif getattr(line, "_has_subclones", False):
                scenario = "released"  # an isogenic set's parent is banked and released first
            elif roll < 0.05:
                scenario = "submitted"
            elif roll < 0.09:
                scenario = "draft"
            elif roll < 0.12:
                scenario = "submitted_failed"
            elif roll < 0.14:
                scenario = "released_legacy_incomplete"
            elif roll < 0.155:
                scenario = "released_retest_failed"
            elif not qc_withdrawn_done and roll < 0.17 and line.parental_line is None:
                scenario = "withdrawn_karyotype"
                qc_withdrawn_done = True
            else:
                scenario = "released"
            self._apply_scenario(line, scenario, consents[donor.code], withdrawn_donors.get(donor.code))

    def _apply_scenario(self, line, scenario, consent, withdrawal):
        rng = self.rng
        qc_day = line.derived_on + timedelta(days=rng.randint(40, 120))
        records = self._qc_panel(line, qc_day, scenario)
        self.qc[line.name] = records
        last_qc = max(r.tested_on for r in records) if records else qc_day
        release_day = min(last_qc + timedelta(days=rng.randint(10, 60)), ANCHOR - timedelta(days=3))

        # Collaboration or return-of-data terms make a depositor hand-check each
        # request; a few depositors restrict lines for their own reasons.
        restricted = bool({"DUO:0000020", "DUO:0000029"} & set(self.consent_codes[line.donor.code])) or (
            rng.random() < 0.04
        )
        if scenario in ("released", "released_legacy_incomplete", "released_retest_failed",
                        "consent_withdrawn", "withdrawn_karyotype"):
            line.status = "released"
            line.released_at = _aware(release_day, rng)
            line.availability = "restricted" if restricted else "available"
        elif scenario in ("submitted", "submitted_failed"):
            line.status = "submitted"
            line.availability = "not_distributed"
        else:
            line.status = "draft"
            line.availability = "not_distributed"

        if scenario == "released_retest_failed":
            line.availability = "not_distributed"
            line.comments = ("Mycoplasma positive at the routine re-test of the distribution bank; "
                             "distribution suspended while an earlier vial is re-expanded and tested.")
        elif scenario == "released_legacy_incomplete":
            line.comments = "Banked before trilineage testing was required; differentiation data pending."
        elif scenario == "consent_withdrawn":
            line.status = "withdrawn"
            line.availability = "not_distributed"
            line.status_reason = (f"The donor withdrew consent on {withdrawal.withdrawn_on.isoformat()}; "
                                  "no further distribution.")
        elif scenario == "withdrawn_karyotype":
            line.status = "withdrawn"
            line.availability = "not_distributed"
            line.status_reason = ("Trisomy 12 in 8 of 20 metaphases of the distribution bank "
                                  "(re-test); the master bank is being re-derived.")
        if line.released_at is not None:
            records.extend(self._retest(line, scenario, release_day))
        line.qc_status = summarise_qc_status(line, records)

    def _qc_panel(self, line, day, scenario):
        rng = self.rng
        passage = line.passage_at_banking or 12
        tests = ["identity", "genomic_integrity", "mycoplasma", "sterility", "pluripotency", "trilineage"]
        if line.reprogramming_method in ("sendai", "episomal"):
            tests.append("vector_clearance")
        if scenario == "draft":
            tests = tests[: rng.randint(1, 4)]
        elif scenario == "submitted" and rng.random() < 0.4:
            tests.remove(rng.choice(["trilineage", "sterility"]))
        elif scenario == "released_legacy_incomplete":
            tests.remove("trilineage")

        failing = None
        inconclusive = None
        if scenario == "submitted_failed":
            failing = _weighted(rng, [("genomic_integrity", 4), ("mycoplasma", 2), ("identity", 1),
                                      ("vector_clearance", 2), ("pluripotency", 1)])
            if failing not in tests:
                failing = "genomic_integrity"
        elif scenario == "submitted" and rng.random() < 0.3:
            inconclusive = "pluripotency"

        lab = rng.choice(facts.TESTING_LABS)
        records = []
        for i, test in enumerate(tests):
            result = "fail" if test == failing else "inconclusive" if test == inconclusive and test in tests else "pass"
            method, details = self._qc_details(line, test, result, passage)
            records.append(QCRecord(
                line=line, test=test, method=method, result=result, details=details, passage=passage,
                tested_on=day + timedelta(days=i * rng.randint(0, 6)),
                testing_lab=lab if test not in ("identity", "genomic_integrity") else rng.choice(facts.TESTING_LABS[:3]),
            ))
        if line.modification_type == "none" and rng.random() < 0.3 and scenario.startswith("released"):
            records.append(QCRecord(
                line=line, test="post_thaw", method="colony count 5 days after thaw", result="pass",
                details={"undifferentiated_colonies": rng.randint(18, 60),
                         "differentiated_percent": rng.randint(2, 20)},
                passage=passage + 1, tested_on=day + timedelta(days=rng.randint(10, 30)), testing_lab=lab,
            ))
        return records

    def _retest(self, line, scenario, released_on):
        """The failing re-test of a released line's distribution bank, after release."""
        passage = line.passage_at_banking or 12
        later = min(released_on + timedelta(days=self.rng.randint(60, 200)), ANCHOR - timedelta(days=2))
        if scenario == "released_retest_failed":
            return [QCRecord(
                line=line, test="mycoplasma", method="qPCR (Venor GeM)", result="fail",
                details={"result": "positive", "species": "Mycoplasma hyorhinis", "sample": "distribution bank"},
                passage=passage + 5, tested_on=later, testing_lab="Minerva Biolabs",
            )]
        if scenario == "withdrawn_karyotype":
            karyotype = "47,XX,+12[8]/46,XX[12]" if line.donor.sex == "female" else "47,XY,+12[8]/46,XY[12]"
            return [QCRecord(
                line=line, test="genomic_integrity", method="G-banding", result="fail",
                details={"karyotype": karyotype, "band_resolution": 450, "metaphases_counted": 20,
                         "abnormality": "trisomy 12 (mosaic)", "sample": "distribution bank"},
                passage=passage + 10, tested_on=later, testing_lab="WiCell Cytogenetics Lab",
            )]
        return []

    def _qc_details(self, line, test, result, passage):
        rng = self.rng
        donor = line.donor
        ok = result == "pass"
        if test == "identity":
            reference = (f"parental line {line.parental_line.name}" if line.parental_line is not None
                         else f"donor {donor.code} {'blood' if rng.random() < 0.6 else 'source cell'} DNA")
            profile = line.str_profile if result != "fail" else self._str_profile(
                [m for m in donor.str_profile if m != "Amelogenin"], donor.sex)
            markers = len([m for m in donor.str_profile if m != "Amelogenin"])
            return "STR profiling", {
                "kit": donor._kit, "profile": format_profile(profile), "reference": reference,
                "markers_compared": markers,
                "tanabe_score": 100.0 if result != "fail" else round(rng.uniform(35, 55), 1),
                "match": result != "fail",
            }
        if test == "genomic_integrity":
            normal = "46,XX" if donor.sex == "female" else "46,XY"
            if rng.random() < 0.2 and ok:
                return "SNP array", {
                    "platform": "Illumina Infinium Global Screening Array",
                    "largest_cnv_mb": round(rng.uniform(0.1, 1.5), 2),
                    "log_r_dev": round(rng.uniform(0.1, 0.3), 2), "abnormalities": [],
                }
            details = {"karyotype": normal, "band_resolution": rng.choice([400, 450, 500, 550]),
                       "metaphases_counted": 20}
            if not ok:
                change = rng.choice(facts.CULTURE_ABNORMALITIES)
                if change == "+12":
                    details["karyotype"] = f"47,{normal[3:]},+12[{rng.randint(5, 20)}]/{normal}[{rng.randint(0, 15)}]"
                else:
                    details["karyotype"] = f"{normal},{change}"
                details["abnormality"] = change
            return "G-banding", details
        if test == "mycoplasma":
            method = rng.choice(["qPCR (Venor GeM)", "MycoAlert luminescence", "PCR"])
            if method == "MycoAlert luminescence":
                ratio = round(rng.uniform(0.3, 0.8), 2) if ok else round(rng.uniform(1.4, 3.0), 2)
                return method, {"ratio": ratio, "result": "negative" if ok else "positive"}
            return method, {"result": "negative" if ok else "positive"}
        if test == "sterility":
            return "BacT/ALERT culture, 14 days", {"bacteria": "no growth", "fungi": "no growth", "days": 14}
        if test == "pluripotency":
            markers = rng.sample(facts.PLURIPOTENCY_MARKERS, rng.randint(3, 5))
            if rng.random() < 0.7:
                values = {m: round(rng.uniform(85, 99.5), 1) for m in markers}
                if result != "pass":
                    values[markers[-1]] = round(rng.uniform(45, 68), 1)
                return "flow cytometry", {"markers": values, "threshold_percent": 70}
            return "immunocytochemistry", {"markers": {m: "positive" if ok else "weak" for m in markers}}
        if test == "trilineage":
            layers = {layer: {"markers": rng.sample(names, 2), "detected": True}
                      for layer, names in facts.GERM_LAYER_MARKERS.items()}
            if not ok:
                layers["endoderm"]["detected"] = False
            method, protocol = rng.choice([
                ("directed differentiation + ICC", "STEMdiff Trilineage, immunostaining"),
                ("embryoid bodies + qPCR", "hPSC ScoreCard panel"),
            ])
            return method, {"germ_layers": layers, "protocol": protocol}
        if test == "vector_clearance":
            if line.reprogramming_method == "sendai":
                return "RT-qPCR (SeV genome)", {
                    "vector": "CytoTune-iPS 2.0 Sendai", "passage_tested": passage,
                    "transgene_free": ok, "detected": [] if ok else ["SeV"],
                }
            copies = round(rng.uniform(0.0, 0.6), 2) if ok else round(rng.uniform(2.0, 6.0), 2)
            return "qPCR (EBNA1/OriP)", {
                "vector": "Epi5 episomal plasmids", "passage_tested": passage,
                "plasmid_copies_per_100_cells": copies, "threshold": 1.0,
            }
        return "", {}


# ---------------------------------------------------------------- writing


def _demo_scope(plan_line_names, plan_donor_codes):
    return (CellLine.objects.filter(name__in=plan_line_names),
            Donor.objects.filter(code__in=plan_donor_codes))


def _delete_previous_demo(builder, usernames):
    """Delete what an earlier run wrote: exactly the planned lines and donors and
    the demo users' requests. Refuses (DemoConflict) when other data points at them."""
    line_names = [ln.name for ln in builder.lines]
    lines, donors = _demo_scope(line_names, [d.code for d in builder.donors])
    if not lines.exists() and not donors.exists():
        return 0
    User = get_user_model()
    demo_users = User.objects.filter(username__in=usernames)
    foreign = RequestedLine.objects.filter(line__in=lines).exclude(request__requester__in=demo_users)
    if foreign.exists():
        raise DemoConflict(
            f"{foreign.values('request').distinct().count()} request(s) by non-demo users ask for demo "
            "lines; remove them before rebuilding the demo"
        )
    foreign_lines = CellLine.objects.filter(donor__in=donors).exclude(name__in=line_names)
    if foreign_lines.exists():
        raise DemoConflict(
            f"{foreign_lines.count()} line(s) not made by seed_demo belong to demo donors "
            f"(e.g. {foreign_lines.first().name}); remove them before rebuilding the demo"
        )
    from lines.str.store import DONOR, LINE, unindex

    unindex(LINE, lines.values_list("pk", flat=True))
    unindex(DONOR, donors.values_list("pk", flat=True))
    requests = DistributionRequest.objects.filter(requester__in=demo_users)
    Shipment.objects.filter(request__in=requests).delete()
    Shipment.objects.filter(line__in=lines).delete()
    RequestedLine.objects.filter(request__in=requests).delete()
    requests.delete()
    count = lines.count()
    # Subclones first: a parent is PROTECTed by its subclones.
    QCRecord.objects.filter(line__in=lines).delete()
    Variant.objects.filter(line__in=lines).delete()
    lines.filter(parental_line__isnull=False).delete()
    lines.delete()
    Variant.objects.filter(donor__in=donors).delete()
    Consent.objects.filter(donor__in=donors).delete()
    donors.delete()
    return count


def _bulk(objs, model):
    return bulk_create_with_history(objs, model, batch_size=500, default_change_reason=CHANGE_REASON)


def _write_users():
    credentials = []
    users = {}
    institutions = {i.code: i for i in Institution.objects.filter(code__in=[c for *_, c in DEMO_USERS.values() if c])}
    for username, (role, password, code) in DEMO_USERS.items():
        user, _token = create_user_with_role(
            username, role, institution=institutions.get(code), password=password,
            email=f"{username}@demo.prism.invalid",
        )
        users[username] = user
        credentials.append((username, password, role, code or ""))
    # Curators are staff (create_user_with_role) and get their admin rights from
    # the role (core.auth), so the demo curator needs nothing more.
    organisations = facts.REQUESTER_ORGANISATIONS
    for username, (org, org_type) in zip(REQUESTER_USERNAMES, organisations, strict=True):
        users[username] = create_user_with_role(username, "researcher", organisation_type=org_type,
                                                email=f"{username}@demo.prism.invalid")[0]
        users[username]._organisation = org
    users["researcher"]._organisation = "University of Edinburgh, Euan MacDonald Centre"
    return users, credentials


# (requester, status, purpose codes, summary). The demo researcher's own requests
# cover most states, so that signing in as them shows the whole workflow.
REQUEST_SPECS = [
    ("researcher", "draft", ["DUO:0000007"], "Motor neuron TDP-43 mislocalisation in TARDBP and C9orf72 lines."),
    ("researcher", "submitted", ["DUO:0000006"], "Axonal transport in iPSC motor neurons: SOD1 vs isogenic controls."),
    ("researcher", "under_review", ["DUO:0000007"], "Nucleocytoplasmic transport defects in C9orf72 ALS."),
    ("researcher", "approved", ["DUO:0000042"], "Multi-omic reference of healthy donor iPSC motor neurons."),
    ("researcher", "shipped", ["DUO:0000007"], "FUS condensates in patient-derived motor neurons."),
    ("researcher", "completed", ["DUO:0000006"], "Astrocyte reactivity in SOD1 and sporadic ALS."),
    ("k.lindqvist", "agreement_executed", ["DUO:0000007"], "SOD1 D90A homozygous vs heterozygous motor neurons."),
    ("k.lindqvist", "completed", ["DUO:0000007"], "Electrophysiology of ALS motor neurons on MEAs."),
    ("a.okafor", "submitted", ["DUO:0000006"], "Ancestry-diverse iPSC panel for motor neuron eQTL mapping."),
    ("a.okafor", "cancelled", ["DUO:0000042"], "Pilot comparison of motor neuron differentiation protocols."),
    ("m.haddad", "under_review", ["DUO:0000007"], "Antisense oligonucleotide screening in C9orf72 motor neurons."),
    ("neurovance-api", "rejected", ["DUO:0000006"], "Compound screening for an ALS drug programme."),
    ("l.fernandez", "shipped", ["DUO:0000007"], "TBK1 and OPTN loss of function in iPSC-derived microglia."),
    ("l.fernandez", "submitted", ["DUO:0000007"], "Stress granule dynamics in sporadic ALS motor neurons."),
]
# How far each status has gone along draft → submitted → under review → approved
# → agreement → shipped → completed.
STEPS = ["draft", "submitted", "under_review", "approved", "agreement_executed", "shipped", "completed"]


class _RequestBuilder:
    """Requests as the workflow (distribution.models) would have left them: lines
    judged by the DUO eligibility rules, conditions accepted, an event per step."""

    def __init__(self, rng, users, builder):
        from distribution.eligibility import Purpose, evaluate_lines

        self.rng, self.users, self.curator = rng, users, users["curator"]
        self.Purpose, self.evaluate_lines = Purpose, evaluate_lines
        by_name = {ln.name: ln for ln in builder.lines}
        self.available = [by_name[n] for n in sorted(by_name)
                          if by_name[n].status == "released" and by_name[n].availability == "available"]
        self.restricted = [by_name[n] for n in sorted(by_name)
                           if by_name[n].status == "released" and by_name[n].availability == "restricted"]
        self.withdrawn = [by_name[n] for n in sorted(by_name)
                          if by_name[n].status == "withdrawn" and "consent" in by_name[n].status_reason]
        self.judged = {}
        self.requests, self.items, self.shipments, self.events = [], [], [], []

    def judge(self, lines, purpose):
        key = (purpose, tuple(ln.pk for ln in lines))
        if key not in self.judged:
            self.judged[key] = dict(zip([ln.pk for ln in lines], self.evaluate_lines(lines, purpose), strict=True))
        return self.judged[key]

    def event(self, request, actor, action, from_status, to_status, day, reason="", details=None):
        self.events.append(dict(request=request, actor=actor, action=action, from_status=from_status,
                                to_status=to_status, reason=reason, details=details or {},
                                at=_aware(day, self.rng)))

    def build(self):
        for i, spec in enumerate(REQUEST_SPECS):
            self.build_one(i, *spec)
        return self

    def build_one(self, i, username, status, codes, summary):
        rng, curator = self.rng, self.curator
        user = self.users[username]
        organisation_type = user.profile.organisation_type
        commercial = organisation_type == "commercial"
        purpose = self.Purpose(frozenset(codes), ALS if "DUO:0000007" in codes else None, commercial,
                               organisation_type)
        request = DistributionRequest(
            requester=user, organisation=user._organisation, organisation_type=organisation_type,
            purpose_codes=codes, purpose_disease=purpose.disease or "", purpose_summary=summary,
            commercial=commercial, status=status,
        )
        on_hold_line = self.withdrawn[0] if (username == "l.fernandez" and status == "submitted"
                                             and self.withdrawn) else None
        step = STEPS.index(status) if status in STEPS else (2 if status == "rejected" else 1)
        # Open requests are recent; the further one has gone, the earlier it began
        # (each step below takes at most ~6 weeks), so that nothing happens after ANCHOR.
        if status in ("draft", "submitted", "under_review"):
            created = ANCHOR - timedelta(days=rng.randint(25, 100))
        else:
            created = ANCHOR - timedelta(days=rng.randint(40 * step + 20, 40 * step + 200))
        if on_hold_line is not None:
            created = min(created, on_hold_line.donor.consent.withdrawn_on - timedelta(days=30))

        def released_before(ln):
            return ln.released_at.date() < created - timedelta(days=7)

        judged = self.judge(self.available, purpose)
        eligible = [ln for ln in self.available if judged[ln.pk].decision == "APPROVE" and released_before(ln)]
        if status == "rejected":
            # Lines whose consent asks for ethics approval the requester never showed.
            eligible = [ln for ln in eligible if "DUO:0000021" in {c.code for c in judged[ln.pk].conditions}]
        count = rng.randint(1, 4)
        if status == "agreement_executed":
            count = max(count, 2)  # one of its lines is taken out during review
        chosen = rng.sample(eligible, count)
        if username == "m.haddad":
            # A restricted line: the consent check abstains and a curator decides.
            chosen.append([ln for ln in self.restricted if released_before(ln)][i])
        if on_hold_line is not None:
            chosen = [on_hold_line, *chosen[:1]]
        request._created_on = created
        self.requests.append(request)
        self.event(request, user, "created", "", "draft", created)
        day = created
        results = {} if status == "draft" else {
            **judged, **self.judge([ln for ln in chosen if ln.pk not in judged], purpose)}

        items = []
        for line in chosen:
            item = RequestedLine(request=request, line=line, vials=rng.randint(1, 3))
            if line.pk in results:
                result = results[line.pk]
                if line is on_hold_line:
                    # Judged when submitted, before the donor withdrew consent.
                    item.eligibility, item.eligibility_reasons, item.conditions = "APPROVE", [], []
                else:
                    item.eligibility = result.decision
                    item.eligibility_reasons = [r.as_dict() for r in result.reasons]
                    item.conditions = [c.as_dict() for c in result.conditions]
            items.append(item)
        self.items.extend(items)
        request.accepted_conditions = sorted({c["code"] for it in items for c in it.conditions}) if step >= 1 else []

        if step >= 1:
            day += timedelta(days=rng.randint(2, 20))
            request.submitted_at = _aware(day, rng)
            self.event(request, user, "submitted", "draft", "submitted", day)
        if step >= 2:
            day += timedelta(days=rng.randint(1, 10))
            request.curator = curator
            self.event(request, curator, "review_started", "submitted", "under_review", day)
        if status == "rejected":
            day += timedelta(days=rng.randint(14, 40))
            request.decided_at = _aware(day, rng)
            request.decision_reason = ("Ethics approval (DUO:0000021, IRB) required by the donors' consent "
                                       "was not provided after two reminders.")
            self.event(request, curator, "rejected", "under_review", "rejected", day, request.decision_reason)
        if status == "cancelled":
            day += timedelta(days=rng.randint(5, 30))
            self.event(request, user, "cancelled", "submitted", "cancelled", day, "Cancelled by the requester.")
        if step >= 3:
            day += timedelta(days=rng.randint(5, 25))
            decided = _aware(day, rng)
            if status == "agreement_executed" and len(items) > 1:
                gone = items[-1]
                gone.decision, gone.decided_by, gone.decided_at = "rejected", curator, decided
                gone.decision_reason = ("No distribution vials of this clone are left; another clone of "
                                        "the same donor is offered instead.")
                self.event(request, curator, "line_rejected", "under_review", "under_review", day,
                           gone.decision_reason, {"line": gone.line.name, "decision": "rejected"})
            for item in items:
                if item.decision == "pending":
                    item.decision, item.decided_by, item.decided_at = "approved", curator, decided
                    item.decision_reason = "Consent allows the stated purpose."
            request.decided_at = decided
            request.decision_reason = "Purpose matches the consent of every line; conditions accepted."
            self.event(request, curator, "approved", "under_review", "approved", day, request.decision_reason)
            request.agreement_reference = f"MTA-{day.year}-{i + 1:03d}"
            request.agreement_sent_on = day + timedelta(days=2)
        if step >= 4:
            day += timedelta(days=rng.randint(10, 40))
            request.agreement_executed_on = day
            self.event(request, curator, "agreement_executed", "approved", "agreement_executed", day,
                       f"Agreement {request.agreement_reference} executed on {day:%Y-%m-%d}")
        if step >= 5:
            day += timedelta(days=rng.randint(3, 14))
            shipped = []
            for item in items:
                if item.decision != "approved":
                    continue
                line = item.line
                shipment = Shipment(
                    request=request, line=line, shipped_on=day, vials=item.vials,
                    batch=f"{line.name}-DB{rng.randint(1, 3):02d}", passage=(line.passage_at_banking or 10) + 3,
                    courier_reference=f"WB{rng.randint(10**9, 10**10 - 1)}", recorded_by=curator,
                )
                self.shipments.append(shipment)
                shipped.append(shipment)
            self.event(request, curator, "shipped", "agreement_executed", "shipped", day, "",
                       {"shipments": [{"line": s.line.name, "vials": s.vials, "batch": s.batch} for s in shipped]})
        if step >= 6:
            day += timedelta(days=rng.randint(2, 6))
            for shipment in self.shipments:
                if shipment.request is request:
                    shipment.received_on = day
            day += timedelta(days=rng.randint(0, 20))
            request.completed_on = day
            self.event(request, user, "completed", "shipped", "completed", day, "Received in good condition.")
        if on_hold_line is not None:
            consent_day = on_hold_line.donor.consent.withdrawn_on
            request.on_hold = True
            request.hold_reason = on_hold_line.status_reason
            self.event(request, curator, "put_on_hold", status, status, max(consent_day, day), request.hold_reason)
        request._last_day = day

    def write(self):
        from distribution.models import RequestEvent

        _bulk(self.requests, DistributionRequest)
        _bulk(self.items, RequestedLine)
        _bulk(self.shipments, Shipment)
        RequestEvent.objects.bulk_create([RequestEvent(**event) for event in self.events])
        # created_at/updated_at are set to now on insert; the demo's requests are older.
        for request in self.requests:
            DistributionRequest.objects.filter(pk=request.pk).update(
                created_at=_aware(request._created_on, self.rng), updated_at=_aware(request._last_day, self.rng)
            )
        return len(self.requests)


def build_builder(seed=SEED):
    builder = _Builder(seed)
    builder.build_institutions()
    builder.build_donors()
    builder.ensure_atxn2_intermediates()
    builder.build_variants()
    builder.build_consents()
    withdrawn = builder.withdraw_consents()
    builder.build_lines()
    builder.build_isogenic_sets()
    builder.assign_status_and_qc(withdrawn)
    return builder


@transaction.atomic
def seed_demo(seed=SEED, *, alongside_other_lines=False):
    """Write the demo catalog (replacing an earlier run's). Returns a DemoSummary.

    Invented lines must not slip into a real catalog: when lines other than the
    demo's exist, it refuses (DemoConflict) unless `alongside_other_lines`."""
    builder = build_builder(seed)
    if not alongside_other_lines:
        others = CellLine.objects.exclude(name__in=[ln.name for ln in builder.lines])
        if others.exists():
            raise DemoConflict(
                f"the catalog holds {others.count()} line(s) that are not the demo's (e.g. {others.first().name}); "
                "the invented demo would mix with them. Use --force to add it anyway"
            )
    summary = DemoSummary()
    usernames = [*DEMO_USERS, *REQUESTER_USERNAMES]
    try:
        # Replacing the demo's own rows: recording thousands of deletions one
        # INSERT at a time would take most of the run, and the history of a
        # demo being rebuilt tells nobody anything. New rows still get theirs.
        with override_settings(SIMPLE_HISTORY_ENABLED=False):
            summary.replaced_lines = _delete_previous_demo(builder, usernames)
    except (ProtectedError, RestrictedError) as exc:
        raise DemoConflict(f"other data refers to demo objects: {exc.args[0]}") from exc

    for institution in builder.institutions.values():
        saved, _ = Institution.objects.update_or_create(
            code=institution.code,
            defaults={"name": institution.name, "country": institution.country, "city": institution.city},
        )
        institution.pk = saved.pk
    users, summary.credentials = _write_users()

    # Instances refer to each other before they have ids; bulk_create picks up a
    # related object's id once that object is saved, so saving in dependency
    # order is all it takes.
    _bulk(builder.donors, Donor)
    _bulk(builder.consents, Consent)
    through = Consent.codes.through
    through.objects.bulk_create([
        through(consent_id=c.pk, duoterm_id=curie)
        for c in builder.consents for curie in builder.consent_codes[c.donor.code]
    ])
    parents = [ln for ln in builder.lines if ln.parental_line is None]
    subclones = [ln for ln in builder.lines if ln.parental_line is not None]
    _bulk(parents, CellLine)
    _bulk(subclones, CellLine)
    _bulk(builder.donor_variants + builder.line_variants, Variant)
    records = []
    for line in builder.lines:
        for record in builder.qc[line.name]:
            record.line = line
            records.append(record)
    _bulk(records, QCRecord)

    requests = _RequestBuilder(random.Random(seed + 1), users, builder).build().write()

    # What other writers keep current by explicit calls: search text and the STR index.
    from lines.search_text import refresh_search_text
    from lines.str.store import DONOR, LINE, reindex_many

    refresh_search_text(CellLine.objects.filter(pk__in=[ln.pk for ln in builder.lines]))
    reindex_many(LINE, builder.lines)
    reindex_many(DONOR, builder.donors)

    summary.institutions = len(builder.institutions)
    summary.donors = len(builder.donors)
    summary.lines = len(builder.lines)
    summary.qc_records = len(records)
    summary.variants = len(builder.donor_variants) + len(builder.line_variants)
    summary.requests = requests
    return summary


def demo_digest():
    """A digest of the demo catalog's content as stored (no ids, no timestamps of writing):
    two builds that write the same catalog give the same digest."""
    h = hashlib.sha256()
    for row in Donor.objects.order_by("code").values_list(
        "code", "sex", "age_at_sampling", "ancestry", "disease", "family_history", "onset_site",
        "age_at_onset", "alsfrs_r", "c9orf72_repeats", "atxn2_repeats",
    ):
        h.update(repr(row).encode())
    for row in CellLine.objects.order_by("name").values_list(
        "name", "donor__code", "parental_line__name", "modification_type", "status", "availability",
        "qc_status", "reprogramming_method", "source_cell_type", "released_at",
    ):
        h.update(repr(row).encode())
    for row in Variant.objects.order_by("gene", "hgvs", "donor__code", "line__name").values_list(
        "gene", "hgvs", "protein", "zygosity", "donor__code", "line__name",
    ):
        h.update(repr(row).encode())
    for row in QCRecord.objects.order_by("line__name", "test", "tested_on", "result").values_list(
        "line__name", "test", "result", "tested_on",
    ):
        h.update(repr(row).encode())
    return h.hexdigest()
