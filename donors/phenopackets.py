"""A donor as a GA4GH Phenopacket v2 (ISO 4454:2022), built with the `phenopackets`
package's protobuf classes.

What goes in follows the one disclosure rule (donors.disclosure): the clinical course
(visits, ALSFRS-R, FVC, weight, medication, milestones, HPO features, diagnostic
certainty, cognitive status) only when `may_see_clinical_course`, variants only when
`may_see_genetic_data`. Exact dates never leave the bank: every time is an Age, counted
as the donor's age at onset (whole years, as the bank records it) plus the months from
onset, so a reader recovers months from onset exactly and no calendar date appears.
Without a recorded age at onset the times are the months from onset alone and the
disease carries no onset (donors.phenopacket_import then refuses the times, saying so).

Codes: diseases MONDO, features HPO, allelic state GENO, body weight LOINC 29463-7.
ALSFRS-R (total and items), FVC % predicted, the onset site and the other coded choices
have no LOINC code we are sure of, so they carry local codes under the PRISM prefix
(declared in the metadata resources); donors.phenopacket_import reads them back.
"""

import datetime
from decimal import Decimal
from typing import Any

from google.protobuf import json_format
from google.protobuf.timestamp_pb2 import Timestamp
from phenopackets import (
    FEMALE,
    MALE,
    UNKNOWN_SEX,
    Age,
    Biosample,
    Diagnosis,
    Disease,
    Expression,
    GeneDescriptor,
    GenomicInterpretation,
    Individual,
    Interpretation,
    Measurement,
    MedicalAction,
    MetaData,
    OntologyClass,
    Phenopacket,
    PhenotypicFeature,
    Procedure,
    Quantity,
    Resource,
    TherapeuticRegimen,
    TimeElement,
    Value,
    VariantInterpretation,
    VariationDescriptor,
    VitalStatus,
)

from core.models import PhenotypeTerm
from donors import course
from donors.disclosure import may_see_clinical_course, may_see_genetic_data
from donors.models import (
    ClinicalEventKind,
    CognitiveStatus,
    DiagnosticCertainty,
    DiagnosticCriteria,
    Donor,
    FamilyHistory,
    OnsetSite,
)

PRISM_PREFIX = "PRISM"
DAYS_PER_MONTH = 365.25 / 12

SEX = {"female": FEMALE, "male": MALE}
ALLELIC_STATE = {
    "heterozygous": ("GENO:0000135", "heterozygous"),
    "homozygous": ("GENO:0000136", "homozygous"),
    "hemizygous": ("GENO:0000134", "hemizygous"),
    "compound_heterozygous": ("GENO:0000402", "compound heterozygous"),
}
ACMG = {
    "pathogenic": "PATHOGENIC",
    "likely_pathogenic": "LIKELY_PATHOGENIC",
    "uncertain": "UNCERTAIN_SIGNIFICANCE",
    "likely_benign": "LIKELY_BENIGN",
    "benign": "BENIGN",
}
# The local codes this module writes and donors.phenopacket_import reads.
ALSFRS_TOTAL = f"{PRISM_PREFIX}:alsfrs-r-total"
ALSFRS_ITEM = f"{PRISM_PREFIX}:alsfrs-r-item-"  # + "1" … "12", "5a", "5b"
FVC_PERCENT = f"{PRISM_PREFIX}:fvc-percent-predicted"
WEIGHT_LOINC = "LOINC:29463-7"
CHOICES = {  # donor field -> (local assay code, its choices)
    "onset_site": (f"{PRISM_PREFIX}:onset-site", OnsetSite),
    "family_history": (f"{PRISM_PREFIX}:family-history", FamilyHistory),
    "diagnostic_criteria": (f"{PRISM_PREFIX}:diagnostic-criteria", DiagnosticCriteria),
    "diagnostic_certainty": (f"{PRISM_PREFIX}:diagnostic-certainty", DiagnosticCertainty),
    "cognitive_status": (f"{PRISM_PREFIX}:cognitive-status", CognitiveStatus),
}
MEDICATION = f"{PRISM_PREFIX}:medication-"  # + riluzole, edaravone, tofersen
PROCEDURE = {
    "gastrostomy": f"{PRISM_PREFIX}:gastrostomy",
    "niv": f"{PRISM_PREFIX}:non-invasive-ventilation",
    "tracheostomy": f"{PRISM_PREFIX}:tracheostomy",
}
PERCENT = OntologyClass(id="UCUM:%", label="percent")
SCORE = OntologyClass(id="UCUM:{score}", label="score")
KILOGRAM = OntologyClass(id="UCUM:kg", label="kilogram")


class NotDisclosed(PermissionError):
    """The caller may not see this donor's clinical course."""


def iso_duration(months: float | Decimal) -> str:
    """An ISO 8601 duration of `months` (to 0.1 month) as years, months and days."""
    tenths = round(float(months) * 10)
    whole, tenth = divmod(tenths, 10)
    years, rest = divmod(whole, 12)
    days = round(tenth / 10 * DAYS_PER_MONTH)
    text = "P" + (f"{years}Y" if years else "") + (f"{rest}M" if rest else "") + (f"{days}D" if days else "")
    return text if text != "P" else "P0D"


def _age(donor: Donor, months_from_onset: float | Decimal) -> TimeElement:
    onset_months = (donor.age_at_onset or 0) * 12
    return TimeElement(age=Age(iso8601duration=iso_duration(onset_months + float(months_from_onset))))


def choice_value_id(field: str, value: str) -> str:
    return f"{PRISM_PREFIX}:{field.replace('_', '-')}-{value}"


def _choice(field: str, value: str) -> Measurement:
    code, choices = CHOICES[field]
    label = dict(choices.choices).get(value, value)
    return Measurement(
        assay=OntologyClass(id=code, label=field.replace("_", " ")),
        value=Value(ontology_class=OntologyClass(id=choice_value_id(field, value), label=label)),
    )


def _quantity(assay: OntologyClass, value: float, unit: OntologyClass, when: TimeElement) -> Measurement:
    return Measurement(assay=assay, value=Value(quantity=Quantity(unit=unit, value=value)), time_observed=when)


def _measurements(donor: Donor, visits: list) -> list[Measurement]:
    out = []
    for field in CHOICES:
        value = getattr(donor, field)
        if value:
            out.append(_choice(field, value))
    for visit in visits:
        when = _age(donor, visit.months_from_onset)
        out.append(_quantity(OntologyClass(id=ALSFRS_TOTAL, label="ALSFRS-R total score"), visit.alsfrs_r, SCORE, when))
        for item in course.ITEMS:
            if item in visit.items:
                assay = OntologyClass(
                    id=f"{ALSFRS_ITEM}{item}", label=f"ALSFRS-R item {item} ({course.ITEM_NAMES[item]})"
                )
                out.append(_quantity(assay, visit.items[item], SCORE, when))
        if visit.fvc_percent_predicted is not None:
            assay = OntologyClass(id=FVC_PERCENT, label="forced vital capacity, % predicted")
            out.append(_quantity(assay, float(visit.fvc_percent_predicted), PERCENT, when))
        if visit.weight_kg is not None:
            assay = OntologyClass(id=WEIGHT_LOINC, label="Body weight")
            out.append(_quantity(assay, float(visit.weight_kg), KILOGRAM, when))
    return out


def _medical_actions(donor: Donor, visits: list, events: list) -> list[MedicalAction]:
    actions = []
    for name in course.MEDICATIONS:
        taken = [v.months_from_onset for v in visits if name in (v.medications or [])]
        if taken:
            regimen = TherapeuticRegimen(
                ontology_class=OntologyClass(id=f"{MEDICATION}{name}", label=name),
                start_time=_age(donor, min(taken)),
                end_time=_age(donor, max(taken)),
            )
            actions.append(MedicalAction(therapeutic_regimen=regimen))
    for event in events:
        if event.kind in PROCEDURE:
            code = OntologyClass(id=PROCEDURE[event.kind], label=ClinicalEventKind(event.kind).label)
            procedure = Procedure(code=code, performed=_age(donor, event.months_from_onset))
            actions.append(MedicalAction(procedure=procedure))
    return actions


def _interpretations(donor: Donor) -> list[Interpretation]:
    genomic = []
    for variant in donor.variants.all():
        descriptor = VariationDescriptor(
            id=f"{donor.code}-{variant.pk}",
            label=variant.legacy_name or variant.protein or variant.hgvs or variant.gene,
            gene_context=GeneDescriptor(value_id=variant.hgnc_id or f"HGNC:{variant.gene}", symbol=variant.gene),
        )
        if variant.hgvs:
            syntax = "hgvs.g" if ":g." in variant.hgvs else "hgvs.c"
            descriptor.expressions.append(Expression(syntax=syntax, value=variant.hgvs))
        if variant.protein:
            descriptor.expressions.append(Expression(syntax="hgvs.p", value=variant.protein))
        if variant.zygosity in ALLELIC_STATE:
            curie, label = ALLELIC_STATE[variant.zygosity]
            descriptor.allelic_state.CopyFrom(OntologyClass(id=curie, label=label))
        interpretation = VariantInterpretation(variation_descriptor=descriptor)
        if variant.classification in ACMG:
            interpretation.acmg_pathogenicity_classification = ACMG[variant.classification]
        genomic.append(
            GenomicInterpretation(
                subject_or_biosample_id=donor.code,
                interpretation_status="CAUSATIVE" if variant.classification == "pathogenic" else "CANDIDATE",
                variant_interpretation=interpretation,
            )
        )
    if not genomic:
        return []
    disease = OntologyClass(id=donor.disease or "NCIT:C17998", label=donor.disease_label or "Unknown")
    diagnosis = Diagnosis(disease=disease, genomic_interpretations=genomic)
    return [Interpretation(id=f"{donor.code}-variants", progress_status="UNKNOWN_PROGRESS", diagnosis=diagnosis)]


def donor_phenopacket(donor: Donor, user: Any, *, created: datetime.datetime | None = None) -> Phenopacket:
    """The phenopacket of `donor` as `user` may see it. Raises NotDisclosed when the
    consent keeps the clinical course from `user` (the caller answers 403)."""
    if not may_see_clinical_course(user, donor):
        raise NotDisclosed(f"the clinical course of {donor.code} is not shared under the donor's consent")
    visits = list(donor.visits.all())
    events = list(donor.clinical_events.all())
    subject = Individual(id=donor.code, sex=SEX.get(donor.sex, UNKNOWN_SEX))
    last = max([v.months_from_onset for v in visits] + [e.months_from_onset for e in events], default=None)
    if last is not None:
        subject.time_at_last_encounter.CopyFrom(_age(donor, last))
    death = next((e for e in events if e.kind == ClinicalEventKind.DEATH), None)
    if death is not None:
        subject.vital_status.CopyFrom(
            VitalStatus(status=VitalStatus.DECEASED, time_of_death=_age(donor, death.months_from_onset))
        )
    packet = Phenopacket(id=f"{donor.code}-phenopacket", subject=subject)
    if donor.disease:
        disease = Disease(term=OntologyClass(id=donor.disease, label=donor.disease_label or donor.disease))
        if donor.age_at_onset is not None:
            disease.onset.CopyFrom(_age(donor, 0))
        if donor.kings_stage_at_sampling:
            disease.disease_stage.append(
                OntologyClass(
                    id=f"{PRISM_PREFIX}:kings-stage-{donor.kings_stage_at_sampling}",
                    label=f"King's stage {donor.kings_stage_at_sampling} at sampling",
                )
            )
        packet.diseases.append(disease)
    labels = _hpo_labels(donor.phenotypic_features or [])
    for curie in donor.phenotypic_features or []:
        packet.phenotypic_features.append(
            PhenotypicFeature(type=OntologyClass(id=curie, label=labels.get(curie, curie)))
        )
    if donor.sampling_months_from_onset is not None:
        packet.biosamples.append(
            Biosample(
                id=f"{donor.code}-sampling",
                individual_id=donor.code,
                description="The donor's cells the iPSC lines were reprogrammed from.",
                time_of_collection=_age(donor, donor.sampling_months_from_onset),
            )
        )
    packet.measurements.extend(_measurements(donor, visits))
    packet.medical_actions.extend(_medical_actions(donor, visits, events))
    if may_see_genetic_data(user, donor):
        packet.interpretations.extend(_interpretations(donor))
    packet.meta_data.CopyFrom(_meta_data(created))
    return packet


def _hpo_labels(curies: list[str]) -> dict[str, str]:
    return dict(PhenotypeTerm.objects.filter(curie__in=curies).values_list("curie", "label"))


def _meta_data(created: datetime.datetime | None) -> MetaData:
    stamp = Timestamp()
    stamp.FromDatetime(created or datetime.datetime.now(datetime.UTC).replace(microsecond=0))
    resources = [
        ("mondo", "Mondo Disease Ontology", "http://purl.obolibrary.org/obo/mondo.owl", "MONDO"),
        ("hp", "Human Phenotype Ontology", "http://purl.obolibrary.org/obo/hp.owl", "HP"),
        ("geno", "Genotype Ontology", "http://purl.obolibrary.org/obo/geno.owl", "GENO"),
        ("loinc", "Logical Observation Identifiers Names and Codes", "https://loinc.org", "LOINC"),
        ("ucum", "Unified Code for Units of Measure", "https://ucum.org", "UCUM"),
        ("prism", "PRISM Catalog local codes (ALSFRS-R, FVC, coded choices)", "https://prism.invalid/codes", "PRISM"),
    ]
    return MetaData(
        created=stamp,
        created_by="PRISM Catalog",
        phenopacket_schema_version="2.0",
        resources=[
            Resource(id=i, name=n, url=u, version="unspecified", namespace_prefix=p, iri_prefix=f"{u}#")
            for i, n, u, p in resources
        ],
    )


def phenopacket_json(packet: Phenopacket) -> dict[str, Any]:
    """The phenopacket as the JSON the schema specifies (camelCase field names)."""
    return json_format.MessageToDict(packet)
