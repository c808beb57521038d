"""What a donor's free-form clinical facts (Donor.clinical_data) are called on a page:
a label and a unit for each known key, plain words for values, so a page never shows
a raw key (`diagnostic_criteria`) or a Python value (`riluzole True`). The one home of
those labels; the API keeps the keys and values as deposited.
"""

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Fact:
    label: str
    unit: str = ""
    values: dict | None = None  # coded value → words
    yes: str = "yes"
    no: str = "no"


COGNITION = {
    "normal": "Normal cognition",
    "ALSci": "ALS with cognitive impairment (ALSci)",
    "ALSbi": "ALS with behavioural impairment (ALSbi)",
    "ALScbi": "ALS with cognitive and behavioural impairment (ALScbi)",
    "ALS-FTD": "ALS with frontotemporal dementia (ALS-FTD)",
}

FACTS = {
    "diagnostic_criteria": Fact("Diagnostic criteria"),
    "disease_duration_months": Fact("Disease duration at sampling", "months"),
    "riluzole": Fact("Riluzole", yes="taking riluzole", no="not taking riluzole"),
    "edaravone": Fact("Edaravone", yes="taking edaravone", no="not taking edaravone"),
    "tofersen": Fact("Tofersen", yes="treated with tofersen", no="not treated with tofersen"),
    "cognition": Fact("Cognitive status", values=COGNITION),
    "fvc_percent_predicted": Fact("Forced vital capacity", "% of predicted"),
    "weight_kg": Fact("Weight", "kg"),
    "bmi": Fact("Body-mass index", "kg/m²"),
    "kings_stage": Fact("King's stage"),
    "mitos_stage": Fact("MiToS stage"),
    "gastrostomy": Fact("Gastrostomy"),
    "niv": Fact("Non-invasive ventilation"),
    "updrs_iii": Fact("MDS-UPDRS part III", "points"),
    "hoehn_yahr": Fact("Hoehn and Yahr stage"),
    "mmse": Fact("MMSE", "of 30"),
    "moca": Fact("MoCA", "of 30"),
    "levodopa": Fact("Levodopa", yes="taking levodopa", no="not taking levodopa"),
    "apoe": Fact("APOE genotype"),
    "cdr": Fact("Clinical Dementia Rating"),
}


def _words(value: Any, fact: Fact) -> str:
    if isinstance(value, bool):
        return fact.yes if value else fact.no
    if value is None or value == "":
        return "not recorded"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, list):
        return ", ".join(_words(v, fact) for v in value) or "none"
    if isinstance(value, dict):
        return "; ".join(f"{_label(str(k))}: {_words(v, Fact(''))}" for k, v in value.items())
    text = str(value)
    if fact.values:
        text = fact.values.get(text, text)
    return f"{text} {fact.unit}" if fact.unit else text


def _label(key: str) -> str:
    return key.replace("_", " ").strip().capitalize() or key


def clinical_facts(data: dict | None) -> list[dict[str, str]]:
    """[{"key", "label", "text"}] for a donor's clinical_data, known keys first in a fixed
    order, then the others with their key made readable."""
    data = data or {}
    order = {key: i for i, key in enumerate(FACTS)}
    rows = []
    for key in sorted(data, key=lambda k: (order.get(k, len(order)), k)):
        fact = FACTS.get(key) or Fact(_label(key))
        rows.append({"key": key, "label": fact.label, "text": _words(data[key], fact)})
    return rows
