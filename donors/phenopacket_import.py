"""A GA4GH Phenopacket v2 read into a protocol v3 donor entry (donor fields and the
`course` block), so a depositor can start a submission from a phenopacket.

The reverse of donors.phenopackets: times are Ages (ISO 8601 durations) and months
from onset are the age minus the age at onset (the disease's onset); ALSFRS-R items,
FVC, body weight, the coded choices, medication and milestones are read from the
codes that module writes. What is derived (totals, stages, ΔFS) is never read: the
submission's writer derives it again. A phenopacket that cannot be read raises
PhenopacketError with every problem located by its JSON path (camelCase, as in the
phenopacket), e.g. `measurements[3].value.quantity.value`.

Consent is not in a phenopacket: the entry has none, and `into_document` keeps the
consent of the document's donor with the same local id.
"""

import copy
import re
from collections.abc import Mapping
from typing import Any

from google.protobuf import json_format
from phenopackets import FEMALE, MALE, AcmgPathogenicityClassification, Phenopacket, Sex, TimeElement

from donors import course
from donors.phenopackets import (
    ACMG,
    ALLELIC_STATE,
    ALSFRS_ITEM,
    ALSFRS_TOTAL,
    CHOICES,
    DAYS_PER_MONTH,
    FVC_PERCENT,
    MEDICATION,
    PROCEDURE,
    WEIGHT_LOINC,
    choice_value_id,
)

PROTOCOL_3 = "prism-line-submission/3"
PARSE_PATH = re.compile(r'at "?Phenopacket\.?([\w.\[\]]*)')
DURATION = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")
SEX = {FEMALE: "female", MALE: "male"}
ZYGOSITY = {curie: name for name, (curie, _) in ALLELIC_STATE.items()}
CLASSIFICATION = {acmg: name for name, acmg in ACMG.items()}
PROCEDURE_KIND = {code: kind for kind, code in PROCEDURE.items()}
CHOICE_FIELD = {code: field for field, (code, _) in CHOICES.items()}


class PhenopacketError(ValueError):
    """The phenopacket cannot be read: problems as (JSON path, what is wrong)."""

    def __init__(self, problems: list[tuple[str, str]]):
        super().__init__("; ".join(f"{path}: {message}" for path, message in problems))
        self.problems = problems


def parse(data: Mapping[str, Any] | str) -> Phenopacket:
    """The phenopacket message from its JSON (text or parsed). Raises PhenopacketError."""
    packet = Phenopacket()
    try:
        if isinstance(data, str):
            json_format.Parse(data, packet)
        elif isinstance(data, Mapping):
            json_format.ParseDict(data, packet)
        else:
            raise PhenopacketError([("$", "a phenopacket is a JSON object")])
    except json_format.ParseError as exc:
        # protobuf names the place as "at Phenopacket.subject.sex": keep it as the path.
        where = PARSE_PATH.search(str(exc))
        path = (where.group(1).strip(".") if where else "") or "$"
        raise PhenopacketError([(path, f"not a Phenopacket v2: {exc}")]) from exc
    return packet


def _months(text: str) -> float | None:
    match = DURATION.match(text)
    if not match or text == "P":
        return None
    years, months, weeks, days = (int(g) if g else 0 for g in match.groups())
    return years * 12 + months + (weeks * 7 + days) / DAYS_PER_MONTH


class _Reader:
    def __init__(self, packet: Phenopacket):
        self.packet = packet
        self.problems: list[tuple[str, str]] = []
        self.onset: float | None = None

    def problem(self, path: str, message: str) -> None:
        self.problems.append((path, message))

    def age(self, element: TimeElement, path: str) -> float | None:
        """Months of an Age time element, or None with a problem recorded."""
        if element.WhichOneof("element") != "age":
            self.problem(path, "give the time as an age (an ISO 8601 duration such as P61Y4M); dates are not taken")
            return None
        months = _months(element.age.iso8601duration)
        if months is None:
            self.problem(f"{path}.age.iso8601duration", f"{element.age.iso8601duration!r} is not an ISO 8601 duration")
        return months

    def from_onset(self, element: TimeElement, path: str) -> float | None:
        months = self.age(element, path)
        if months is None:
            return None
        if self.onset is None:
            self.problem(path, "a time needs the disease's onset age (diseases[0].onset) to count months from onset")
            return None
        value = round(months - self.onset, 1)
        if value < 0:
            self.problem(path, f"{value} months is before the disease's onset")
            return None
        return value


def _disease(reader: _Reader, entry: dict, als: dict) -> None:
    packet = reader.packet
    for i, disease in enumerate(packet.diseases):
        if disease.excluded:
            continue
        if not disease.term.id.startswith("MONDO:"):
            reader.problem(f"diseases[{i}].term.id", f"{disease.term.id!r} is not a MONDO id")
        entry["disease"] = disease.term.id
        if disease.HasField("onset"):
            onset = reader.age(disease.onset, f"diseases[{i}].onset")
            if onset is not None:
                reader.onset = onset
                als["age_at_onset"] = int(onset // 12)
        return
    entry["disease"] = None


def _visit_at(visits: dict[float, dict], months: float) -> dict:
    return visits.setdefault(months, {"months_from_onset": months, "alsfrs_r": {}, "medications": []})


def _measurements(reader: _Reader, als: dict, block: dict, visits: dict[float, dict]) -> None:
    totals: dict[float, tuple[int, str]] = {}
    for i, measurement in enumerate(reader.packet.measurements):
        path = f"measurements[{i}]"
        code = measurement.assay.id
        if code in CHOICE_FIELD:
            field = CHOICE_FIELD[code]
            value_id = measurement.value.ontology_class.id
            _, choices = CHOICES[field]
            known = {choice_value_id(field, v): v for v in choices.values}
            if value_id not in known:
                reader.problem(f"{path}.value.ontologyClass.id", f"{value_id!r} is not a {field.replace('_', ' ')}")
            elif field in ("onset_site", "family_history"):
                als[field] = known[value_id]
            else:
                block[field] = known[value_id]
            continue
        if code not in (ALSFRS_TOTAL, FVC_PERCENT, WEIGHT_LOINC) and not code.startswith(ALSFRS_ITEM):
            continue  # another assay: not part of the course
        if not measurement.HasField("time_observed"):
            reader.problem(f"{path}.timeObserved", f"{code} needs the age it was observed at")
            continue
        months = reader.from_onset(measurement.time_observed, f"{path}.timeObserved")
        if measurement.value.WhichOneof("value") != "quantity":
            reader.problem(f"{path}.value.quantity", f"{code} needs a quantity")
            continue
        if months is None:
            continue
        value = measurement.value.quantity.value
        visit = _visit_at(visits, months)
        if code.startswith(ALSFRS_ITEM):
            item = code.removeprefix(ALSFRS_ITEM)
            if item not in course.ITEMS:
                reader.problem(f"{path}.assay.id", f"{code!r}: ALSFRS-R has no item {item!r}")
            elif value != int(value) or not course.ITEM_MIN <= value <= course.ITEM_MAX:
                reader.problem(f"{path}.value.quantity.value", f"item {item} is {value:g}, not a whole number 0–4")
            else:
                visit["alsfrs_r"][item] = int(value)
        elif code == ALSFRS_TOTAL:
            totals[months] = (int(value), f"{path}.value.quantity.value")
        elif code == FVC_PERCENT:
            visit["fvc_percent_predicted"] = round(value, 1)
        else:
            visit["weight_kg"] = round(value, 1)
    for months, (stated, path) in totals.items():
        items = visits[months]["alsfrs_r"]
        if not items:
            reader.problem(path, f"an ALSFRS-R total at {months} months without its 12 items (totals are derived)")
        elif not course.item_problems(items) and course.total(items) != stated:
            reader.problem(path, f"the total {stated} disagrees with its items ({course.total(items)})")


def _medical_actions(reader: _Reader, visits: dict[float, dict], events: list[dict]) -> None:
    for i, action in enumerate(reader.packet.medical_actions):
        path = f"medicalActions[{i}]"
        kind = action.WhichOneof("action")
        if kind == "therapeutic_regimen" and action.therapeutic_regimen.ontology_class.id.startswith(MEDICATION):
            regimen = action.therapeutic_regimen
            name = regimen.ontology_class.id.removeprefix(MEDICATION)
            if name not in course.MEDICATIONS:
                reader.problem(f"{path}.therapeuticRegimen.ontologyClass.id", f"{name!r} is not one of the medications")
                continue
            start = reader.from_onset(regimen.start_time, f"{path}.therapeuticRegimen.startTime")
            end = None
            if regimen.HasField("end_time"):
                end = reader.from_onset(regimen.end_time, f"{path}.therapeuticRegimen.endTime")
            if start is None:
                continue
            upper = end if end is not None else float("inf")
            for months, visit in visits.items():
                if start <= months <= upper:
                    visit["medications"].append(name)
        elif kind == "procedure" and action.procedure.code.id in PROCEDURE_KIND:
            performed = reader.from_onset(action.procedure.performed, f"{path}.procedure.performed")
            if performed is not None:
                events.append({"kind": PROCEDURE_KIND[action.procedure.code.id], "months_from_onset": performed})


def _variants(packet: Phenopacket) -> list[dict]:
    variants = []
    for interpretation in packet.interpretations:
        for genomic in interpretation.diagnosis.genomic_interpretations:
            descriptor = genomic.variant_interpretation.variation_descriptor
            if not descriptor.gene_context.symbol:
                continue
            variant: dict[str, Any] = {"gene": descriptor.gene_context.symbol}
            for expression in descriptor.expressions:
                if expression.syntax in ("hgvs.c", "hgvs.g"):
                    variant["hgvs"] = expression.value
                elif expression.syntax == "hgvs.p":
                    variant["protein"] = expression.value
            if descriptor.allelic_state.id in ZYGOSITY:
                variant["zygosity"] = ZYGOSITY[descriptor.allelic_state.id]
            acmg = genomic.variant_interpretation.acmg_pathogenicity_classification
            name = CLASSIFICATION.get(AcmgPathogenicityClassification.Name(acmg))
            if name:
                variant["classification"] = name
            variants.append(variant)
    return variants


def donor_entry(data: Mapping[str, Any] | str) -> dict[str, Any]:
    """The protocol v3 donor entry (without consent) a phenopacket describes.
    Raises PhenopacketError naming every problem by its path."""
    packet = parse(data)
    reader = _Reader(packet)
    subject = packet.subject
    if not subject.id:
        reader.problem("subject.id", "the subject needs an id (the donor's local id)")
    if subject.sex not in Sex.values():
        reader.problem("subject.sex", f"{subject.sex} is not a Sex (FEMALE, MALE, OTHER_SEX, UNKNOWN_SEX)")
    entry: dict[str, Any] = {"local_id": subject.id, "sex": SEX.get(subject.sex, "unknown")}
    als: dict[str, Any] = {}
    block: dict[str, Any] = {}
    _disease(reader, entry, als)
    visits: dict[float, dict] = {}
    events: list[dict] = []
    _measurements(reader, als, block, visits)
    _medical_actions(reader, visits, events)
    if subject.vital_status.status == subject.vital_status.DECEASED and subject.vital_status.HasField("time_of_death"):
        months = reader.from_onset(subject.vital_status.time_of_death, "subject.vitalStatus.timeOfDeath")
        if months is not None:
            events.append({"kind": "death", "months_from_onset": months})
    for i, biosample in enumerate(packet.biosamples):
        if biosample.HasField("time_of_collection"):
            path = f"biosamples[{i}].timeOfCollection"
            months = reader.from_onset(biosample.time_of_collection, path)
            age = reader.age(biosample.time_of_collection, path)
            if months is not None and age is not None:
                block["sampling_months_from_onset"] = months
                entry["age_at_sampling"] = int(age // 12)
            break
    features = [f.type.id for f in packet.phenotypic_features if not f.excluded]
    for i, curie in enumerate(features):
        if not curie.startswith("HP:"):
            reader.problem(f"phenotypicFeatures[{i}].type.id", f"{curie!r} is not an HPO id")
    if reader.problems:
        raise PhenopacketError(reader.problems)
    for visit in visits.values():
        visit["medications"] = sorted(set(visit["medications"]))
    if als:
        entry["als"] = als
    variants = _variants(packet)
    if variants:
        entry["variants"] = variants
    if visits or events or block or features:
        block["phenotypic_features"] = sorted(set(features))
        block["visits"] = [visits[m] for m in sorted(visits)]
        block["events"] = sorted(events, key=lambda e: (e["months_from_onset"], e["kind"]))
        entry["course"] = block
    return entry


def into_document(document: Mapping[str, Any], entry: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of a protocol 3 submission document with `entry` merged into the donor of
    the same local id (keeping that donor's consent and lines), or added as a new donor
    (which then needs its consent before the document validates)."""
    if document.get("protocol") != PROTOCOL_3:
        raise PhenopacketError(
            [("protocol", f"a clinical course needs {PROTOCOL_3}, not {document.get('protocol')!r}")]
        )
    merged = copy.deepcopy(dict(document))
    donors = merged.setdefault("donors", [])
    for donor in donors:
        if donor.get("local_id") == entry["local_id"]:
            als = {**(donor.get("als") or {}), **entry.get("als", {})}
            donor.update({k: v for k, v in entry.items() if k != "als"})
            if als:
                donor["als"] = als
            return merged
    donors.append(copy.deepcopy(dict(entry)))
    return merged
