"""The demo catalog drawn as unsaved model instances, in a fixed order: institutions,
donors (familial and sporadic ALS across the known genes, C9orf72 expansion
carriers, healthy controls), consent, variants, lines with isogenic sets, and
each line's status and QC (demo/qc.py). The facts it draws from are in demo/facts.py.
"""

import random
from datetime import timedelta
from decimal import Decimal

from core.models import Institution
from core.vocabulary import ALS, CELL_TYPES, DISEASE_TERMS, GENES
from demo import facts
from demo.drawing import ANCHOR, aware, clamp, weighted
from demo.qc import QCPanels
from donors.models import Consent, Donor, Variant
from lines.models import CellLine
from lines.naming import clone_letter, format_name
from lines.qc import summarise_qc_status
from lines.str.matching import normalise_profile

DISEASE_LABELS = {curie: label for curie, label, _ in DISEASE_TERMS}
CELL_TYPE_LABELS = dict(CELL_TYPES)
HGNC_IDS = {symbol: hgnc_id for hgnc_id, symbol, *_ in GENES}


class Plan(QCPanels):
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
        return weighted(self.rng, list(facts.INSTITUTION_WEIGHTS.items()))

    def _str_profile(self, kit_markers, sex):
        rng = self.rng
        while True:
            raw = {"Amelogenin": "X" if sex == "female" else "X,Y"}
            for marker in kit_markers:
                alleles = [weighted(rng, facts.STR_ALLELES[marker]) for _ in range(2)]
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
                variant = first_of_each.pop(0) if first_of_each else weighted(rng, variant_weights)
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
        ancestry = weighted(rng, list(facts.ANCESTRY_WEIGHTS[code].items()))
        sampled_on = ANCHOR - timedelta(days=rng.randint(380, 900))
        donor = Donor(
            code=f"{code}D{number}",
            institution=self.institutions[code],
            donor_number=number,
            sex=sex,
            ancestry=ancestry,
            str_profile=self._str_profile(kit[1], sex),
        )
        donor._kind, donor._variant, donor._sampled_on, donor._kit = (
            kind,
            variant,
            sampled_on,
            kit[0],
        )
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
        # FUS P525L: de novo, juvenile, aggressive
        onset = rng.randint(17, 28) if kind == "sporadic_de_novo_fus" else clamp(round(rng.gauss(mean, sd)), 19, 84)
        legacy = variant[3] if variant else ""
        pace = "fast" if legacy in facts.FAST_VARIANTS else "slow" if legacy in facts.SLOW_VARIANTS else "typical"
        if pace == "typical" and rng.random() < 0.15:
            pace = rng.choice(["fast", "slow"])
        months = (
            rng.randint(4, 30) if pace == "fast" else rng.randint(8, 60) if pace == "typical" else rng.randint(24, 150)
        )
        donor.age_at_onset = onset
        donor.age_at_sampling = onset + months // 12
        rate_mean, rate_sd = facts.PROGRESSION[pace]
        rate = max(0.05, rng.gauss(rate_mean, rate_sd))
        donor.alsfrs_r = clamp(round(48 - rate * months), 0, 47)
        donor.alsfrs_r_date = sampled_on - timedelta(days=rng.randint(0, 28))
        donor.progression_rate = Decimal(f"{(48 - donor.alsfrs_r) / months:.2f}")

        site_weights = [
            ("spinal", 65),
            ("bulbar", 28),
            ("respiratory", 3),
            ("generalized", 2),
            ("unknown", 2),
        ]
        if subtype == "FTDALS1" or (sex == "female" and onset > 60):
            site_weights = [("spinal", 50), ("bulbar", 45), ("respiratory", 3), ("generalized", 2)]
        if legacy == "D90A":
            site_weights = [("spinal", 1)]  # D90A homozygotes: slow, lower-limb onset
        donor.onset_site = weighted(rng, site_weights)

        if subtype == "FTDALS1":
            # Sized by Southern blot: hundreds to thousands of G4C2 units.
            donor.c9orf72_repeats = int(round(rng.uniform(300, 3200), -1))
        elif rng.random() < 0.85:
            donor.c9orf72_repeats = weighted(
                rng, [(2, 45), (3, 5), (5, 15), (8, 15), (6, 5), (10, 8), (12, 4), (17, 3)]
            )
        if rng.random() < 0.6:
            donor.atxn2_repeats = weighted(rng, [(22, 80), (23, 15), (24, 2), (27, 1), (29, 1), (31, 1)])
        donor.clinical_data = {
            "diagnostic_criteria": weighted(
                rng,
                [
                    ("El Escorial: clinically definite", 50),
                    ("El Escorial: clinically probable", 30),
                    ("Gold Coast criteria", 20),
                ],
            ),
            "disease_duration_months": months,
            "riluzole": rng.random() < 0.8,
            "cognition": "ALS-FTD"
            if subtype == "FTDALS1" and rng.random() < 0.35
            else weighted(rng, [("normal", 70), ("ALSci", 20), ("ALSbi", 10)]),
        }
        return donor

    def _viral_screening(self, sampled_on):
        rng = self.rng
        screening = {"HIV-1/2": "negative", "HBV (HBsAg)": "negative", "HCV (anti-HCV)": "negative"}
        if rng.random() < 0.04:
            screening["HCV (anti-HCV)"] = "not tested"
        if rng.random() < 0.3:
            screening["HTLV-I/II"] = "negative"
        screening["method"] = weighted(rng, [("serology (CMIA)", 3), ("NAT (PCR)", 1)])
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
                self.donor_variants.append(
                    Variant(
                        donor=donor,
                        gene="C9orf72",
                        hgnc_id=HGNC_IDS["C9orf72"],
                        hgvs=f"{facts.C9ORF72_TRANSCRIPT}:{facts.C9ORF72_REPEAT_START}GGGGCC[{n}]",
                        legacy_name="G4C2 repeat expansion",
                        zygosity="heterozygous",
                        classification="pathogenic",
                        origin="germline",
                        repeat_size=n,
                    )
                )
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
                self.donor_variants.append(
                    Variant(
                        donor=donor,
                        gene=gene,
                        hgnc_id=HGNC_IDS[gene],
                        hgvs=f"{facts.TRANSCRIPTS[gene]}:{c_dot}",
                        protein=p_dot,
                        legacy_name=legacy,
                        zygosity=zygosity,
                        origin="germline",
                        classification="likely_pathogenic" if legacy in facts.LIKELY_PATHOGENIC else "pathogenic",
                    )
                )

    def build_consents(self):
        rng = self.rng
        for donor in self.donors:
            permission = weighted(rng, facts.CONSENT_PERMISSIONS)
            codes = [permission] + [curie for curie, p in facts.CONSENT_MODIFIERS if rng.random() < p]
            consent = Consent(
                donor=donor,
                disease=ALS if permission == "DUO:0000007" else "",
                genetic_data=weighted(rng, [("open", 50), ("controlled", 40), ("none", 10)]),
                recontact=rng.random() < 0.6,
                obtained_on=donor._sampled_on - timedelta(days=rng.randint(0, 45)),
                document_reference=f"{donor.institution.code} ICF v{rng.randint(2, 5)}.{rng.randint(0, 3)}",
            )
            self.consents.append(consent)
            self.consent_codes[donor.code] = codes

    def withdraw_consents(self):
        """Two donors will withdraw consent: the date and reason are drawn here, and
        seed_demo records the withdrawal through the withdrawal action (which stops
        their lines and holds open requests) once the requests are made."""
        # Donors sampled early: their lines were released well before the withdrawal.
        candidates = [
            c
            for c in self.consents
            if c.donor._kind in ("sporadic", "familial_variant") and c.donor._sampled_on <= ANCHOR - timedelta(days=700)
        ]
        withdrawn = [candidates[len(candidates) // 3], candidates[(2 * len(candidates)) // 3]]
        for consent in self.consents:
            consent.donor._withdrawn = consent in withdrawn
        for consent in withdrawn:
            consent._withdraws_on = ANCHOR - timedelta(days=self.rng.randint(30, 120))
            consent._withdrawal_reason = "Donor asked in writing that their cells no longer be distributed."
        return withdrawn

    # -- lines

    def build_lines(self, minimum=310):
        rng = self.rng
        clones = {}
        for donor in self.donors:
            clones[donor.code] = weighted(rng, [(1, 45), (2, 40), (3, 15)])
        total = sum(clones.values())
        i = 0
        while total < minimum - 40:  # subclones add about 45
            donor = self.donors[(i * 7) % len(self.donors)]
            if clones[donor.code] < 4:
                clones[donor.code] += 1
                total += 1
            i += 1
        for donor in self.donors:
            source = weighted(rng, facts.SOURCE_CELL_TYPES)
            method = weighted(rng, facts.REPROGRAMMING_METHODS)
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
                    culture_medium=weighted(rng, facts.CULTURE_MEDIA),
                    culture_matrix=weighted(rng, facts.CULTURE_MATRICES),
                    passage_at_banking=rng.randint(8, 28),
                    str_profile=donor.str_profile,
                )
                if rng.random() < 0.4:
                    # The lab's own name for the clone, as depositors keep them.
                    line.alternative_names = [
                        f"{donor.institution.code}-{rng.choice(['ALS', 'iPS', 'P'])}"
                        f"{int(donor.donor_number):02d} cl{k + 1}"
                    ]
                self.lines.append(line)

    def build_isogenic_sets(self):
        """Knock-in sets from healthy control lines and gene-corrected patient lines.

        Subclones are named parent-<n> with flat numbering (hPSCreg), from an
        unmodified parent derived early enough to have been edited and banked.
        """
        rng = self.rng
        early = [ln for ln in self.lines if ln.derived_on <= ANCHOR - timedelta(days=560) and not ln.donor._withdrawn]
        controls = [ln for ln in early if ln.donor._kind == "control" and ln.name.endswith("-A")]
        patients = [
            ln
            for ln in early
            if ln.donor._variant is not None and ln.name.endswith("-A") and ln.donor._variant[4] != "XD"
        ]
        c9 = [ln for ln in early if ln.donor._subtype == "FTDALS1" and ln.name.endswith("-A")]
        subclones = []

        for parent in controls[:6]:
            n = 0
            for subtype, c_dot, p_dot, legacy in rng.sample(facts.KNOCK_INS, rng.randint(2, 4)):
                gene = facts.SUBTYPES[subtype][1]
                zygosities = ["heterozygous"] if rng.random() < 0.6 else ["heterozygous", "homozygous"]
                for zygosity in zygosities:
                    n += 1
                    line = self._subclone(
                        parent,
                        n,
                        "knock_in",
                        f"{gene} {c_dot} ({p_dot}, legacy {legacy}) knocked in, "
                        f"{zygosity}, by CRISPR/Cas9 HDR with an ssODN template; "
                        "edit confirmed by Sanger sequencing, top predicted off-target "
                        "sites clean.",
                    )
                    self.line_variants.append(
                        Variant(
                            line=line,
                            gene=gene,
                            hgnc_id=HGNC_IDS[gene],
                            hgvs=f"{facts.TRANSCRIPTS[gene]}:{c_dot}",
                            protein=p_dot,
                            legacy_name=legacy,
                            zygosity=zygosity,
                            classification="pathogenic",
                            origin="engineered",
                        )
                    )
                    subclones.append(line)
            if rng.random() < 0.5:
                n += 1
                gene = rng.choice(["TBK1", "C9orf72", "OPTN"])
                subclones.append(
                    self._subclone(
                        parent,
                        n,
                        "knock_out",
                        f"{gene} knock-out: frameshift indels in both alleles of an "
                        "early coding exon (CRISPR/Cas9 NHEJ); no protein by western blot.",
                    )
                )

        for parent in patients[:12]:
            subtype, c_dot, p_dot, legacy, _inh, _w = parent.donor._variant
            gene = facts.SUBTYPES[subtype][1]
            for n in range(1, rng.choice([1, 1, 2]) + 1):
                subclones.append(
                    self._subclone(
                        parent,
                        n,
                        "gene_correction",
                        f"{gene} {c_dot} ({p_dot}, legacy {legacy}) corrected to the reference allele by "
                        "CRISPR/Cas9 HDR: the isogenic control of the parental line.",
                    )
                )

        for parent in c9[:4]:
            subclones.append(
                self._subclone(
                    parent,
                    1,
                    "gene_correction",
                    "C9orf72 G4C2 repeat expansion excised (paired guides flanking the repeat); "
                    "the normal allele kept; isogenic control of the parental line.",
                )
            )
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
            passage_at_banking=clamp((parent.passage_at_banking or 10) + rng.randint(6, 14), 1, 200),
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
        if scenario in (
            "released",
            "released_legacy_incomplete",
            "released_retest_failed",
            "consent_withdrawn",
            "withdrawn_karyotype",
        ):
            line.status = "released"
            line.released_at = aware(release_day, rng)
            line.availability = "restricted" if restricted else "available"
        elif scenario in ("submitted", "submitted_failed"):
            line.status = "submitted"
            line.availability = "not_distributed"
        else:
            line.status = "draft"
            line.availability = "not_distributed"

        if scenario == "released_retest_failed":
            line.availability = "not_distributed"
            line.comments = (
                "Mycoplasma positive at the routine re-test of the distribution bank; "
                "distribution suspended while an earlier vial is re-expanded and tested."
            )
        elif scenario == "released_legacy_incomplete":
            line.comments = "Banked before trilineage testing was required; differentiation data pending."
        # A consent withdrawal (see withdraw_consents) or a failed re-test withdraws a
        # released line later, through the withdrawal action; until then it is released.
        line._withdrawal = None
        if scenario == "consent_withdrawn":
            line._withdrawal = ("consent", withdrawal)
        if line.released_at is not None:
            records.extend(self._retest(line, scenario, release_day))
        if scenario == "withdrawn_karyotype":
            failed_on = max(r.tested_on for r in records if r.result == "fail")
            line._withdrawal = (
                "qc",
                (
                    "Trisomy 12 in 8 of 20 metaphases of the distribution bank "
                    "(re-test); the master bank is being re-derived.",
                    failed_on,
                ),
            )
        line.qc_status = summarise_qc_status(line, records)
