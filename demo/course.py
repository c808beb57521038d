"""The demo donors' clinical course: ALSFRS-R visits every few months, milestones,
medication and HPO features, written through donors.actions.write_courses (so every
stage, ΔFS and slope is derived, as for a deposited course).

Each ALS donor's trajectory is drawn around the facts the plan already gave them: the
visit at sampling scores exactly their ALSFRS-R, so their ΔFS (and progression class:
slow, intermediate, fast) is unchanged. Points are lost first in the onset region
(bulbar onset: speech, salivation, swallowing; spinal: an arm or a leg; respiratory:
breathing) and spread to the others as the disease advances; a gastrostomy follows
loss of swallowing (item 5 is then answered as 5b), non-invasive ventilation and
tracheostomy follow respiratory insufficiency. Drawn from its own random.Random, so
the plan's sequence (and the tests that read it) does not move.
"""

import random

from demo.drawing import clamp
from donors.actions import write_courses
from donors.course import TOTAL_MAX

REGIONS = {
    "bulbar": ("1", "2", "3"),
    "arm": ("4", "5", "6"),
    "leg": ("7", "8", "9"),
    "breath": ("10", "11", "12"),
}
# Which region goes first for each site of onset (spinal: an arm or a leg).
FIRST_REGION = {"bulbar": ["bulbar"], "spinal": ["arm", "leg"], "respiratory": ["breath"]}
CRITERIA = {
    "El Escorial: clinically definite": ("el_escorial", "definite"),
    "El Escorial: clinically probable": ("el_escorial", "probable"),
    "Gold Coast criteria": ("gold_coast", "als"),
}
COGNITION = {"normal": "normal", "ALSci": "ALSci", "ALSbi": "ALSbi", "ALS-FTD": "ALS-FTD"}
FEATURES = {
    "bulbar": [("HP:0001260", 0.95), ("HP:0002015", 0.8), ("HP:0001308", 0.6)],
    "arm": [("HP:0008959", 0.8), ("HP:0009129", 0.6), ("HP:0007289", 0.6)],
    "leg": [("HP:0009053", 0.8), ("HP:0007210", 0.5), ("HP:0002355", 0.6)],
    "breath": [("HP:0002747", 0.9), ("HP:0012764", 0.6)],
}
UPPER_MOTOR_NEURON = [("HP:0001347", 0.7), ("HP:0003487", 0.4), ("HP:0001257", 0.45), ("HP:0002380", 0.8)]
FTD = "HP:0002145"


def _weight(item: str, region: str, first: str, spread: float, remaining: dict[str, int]) -> float:
    """How likely the next point lost is on `item`: the onset region first; breathing late
    (unless it is the onset) and, within it, dyspnoea before orthopnoea before
    respiratory insufficiency (item 12 drops once dyspnoea is marked: a ventilator)."""
    if region == first:
        weight = 6.0 * (1 - spread) + 1
    elif region == "breath":
        weight = 0.25 + 3 * spread**2
    else:
        weight = 1.0 + 2 * spread
    if item == "12":
        weight *= 1.0 if remaining["10"] <= 2 else 0.0
    elif item == "11":
        weight *= 0.6
    return weight


def _loss_order(rng: random.Random, first: str) -> list[str]:
    """The items in the order the donor loses points (each item four times): the onset
    region weighs most, then spread to all."""
    remaining = {item: 4 for items in REGIONS.values() for item in items}
    region_of = {item: region for region, items in REGIONS.items() for item in items}
    order = []
    for point in range(TOTAL_MAX):
        spread = point / TOTAL_MAX
        weights = [
            (item, _weight(item, region_of[item], first, spread, remaining) * left)
            for item, left in remaining.items()
            if left
        ]
        item = rng.choices([i for i, _ in weights], [w for _, w in weights])[0]
        remaining[item] -= 1
        order.append(item)
    return order


def _schedule(rng: random.Random, sampling: float, room: float) -> list[float]:
    """Visit times (months from onset): from diagnosis every ~3 months, one at sampling,
    and a few after it (no later than `room` months after sampling)."""
    first = min(sampling, round(rng.uniform(3, 11) * 2) / 2)
    times = []
    t = first
    while t < sampling - 1:
        times.append(t)
        t = round(t + rng.uniform(2.5, 4.5), 1)
    times.append(sampling)
    t = sampling
    for _ in range(rng.choice([1, 2, 2, 3, 4])):
        t = round(t + rng.uniform(2.5, 4.5), 1)
        if t - sampling > room:
            break
        times.append(t)
    return times


def _block(rng: random.Random, donor, anchor) -> dict:
    sampling = float(donor.clinical_data["disease_duration_months"])
    lost_at_sampling = TOTAL_MAX - donor.alsfrs_r
    site = donor.onset_site if donor.onset_site in FIRST_REGION else rng.choice(["bulbar", "spinal"])
    first = rng.choice(FIRST_REGION[site])
    order = _loss_order(rng, first)
    curve = rng.uniform(0.85, 1.2)
    room = (anchor - donor._sampled_on).days / 30.44
    visits, events, gastrostomy, kinds = [], [], False, set()
    weight = rng.gauss(78 if donor.sex == "male" else 64, 9)
    fvc_base = rng.gauss(97, 7)
    lost = 0
    for months in _schedule(rng, sampling, room):
        share = (months / sampling) ** curve if sampling else 1.0
        lost = max(lost, min(44, round(lost_at_sampling * share)))
        if months == sampling:
            lost = lost_at_sampling
        items = {item: 4 for items in REGIONS.values() for item in items}
        for item in order[:lost]:
            items[item] -= 1
        if items["3"] <= 1 and not gastrostomy:
            gastrostomy = True
            events.append(
                {"kind": "gastrostomy", "months_from_onset": max(0.0, round(months - rng.uniform(0.3, 1.5), 1))}
            )
        items["5b" if gastrostomy else "5a"] = items.pop("5")
        for kind, reached in (("niv", items["12"] <= 3), ("tracheostomy", items["12"] == 0)):
            if reached and kind not in kinds:
                kinds.add(kind)
                events.append({"kind": kind, "months_from_onset": max(0.0, round(months - rng.uniform(0.2, 1.0), 1))})
        respiratory_loss = 12 - items["10"] - items["11"] - items["12"]
        visits.append(
            {
                "months_from_onset": months,
                "alsfrs_r": items,
                "fvc_percent_predicted": round(clamp(fvc_base - 7.5 * respiratory_loss + rng.gauss(0, 3), 15, 125), 1),
                "weight_kg": round(weight - 0.12 * lost - (1.5 if items["3"] < 3 else 0), 1),
                "medications": _medications(rng, donor, months),
            }
        )
    if lost >= 40 and rng.random() < 0.5:
        events.append(
            {"kind": "death", "months_from_onset": round(visits[-1]["months_from_onset"] + rng.uniform(1, 4), 1)}
        )
    criteria, certainty = CRITERIA.get(donor.clinical_data.get("diagnostic_criteria"), ("", ""))
    return {
        "sampling_months_from_onset": sampling,
        "diagnostic_criteria": criteria or None,
        "diagnostic_certainty": certainty or None,
        "cognitive_status": COGNITION.get(donor.clinical_data.get("cognition")),
        "phenotypic_features": _features(rng, donor, first, visits),
        "visits": visits,
        "events": events,
    }


def _medications(rng: random.Random, donor, months: float) -> list[str]:
    taken = []
    if donor.clinical_data.get("riluzole"):
        taken.append("riluzole")
    if donor._subtype == "ALS1" and months >= 6 and rng.random() < 0.9:
        taken.append("tofersen")
    if donor.code.endswith(("3", "7")) and months >= 4:
        taken.append("edaravone")
    return taken


def _features(rng: random.Random, donor, first: str, visits: list[dict]) -> list[str]:
    at_sampling = next(
        v for v in visits if v["months_from_onset"] == float(donor.clinical_data["disease_duration_months"])
    )
    involved = {first} | {
        region for region, items in REGIONS.items() if any(at_sampling["alsfrs_r"].get(i, 4) < 4 for i in items)
    }
    features = {curie for region in involved for curie, p in FEATURES[region] if rng.random() < p}
    features |= {curie for curie, p in UPPER_MOTOR_NEURON if rng.random() < p}
    if donor.clinical_data.get("cognition") == "ALS-FTD":
        features.add(FTD)
    return sorted(features)


def make_courses(rng: random.Random, donors, anchor) -> int:
    """Write a clinical course for every demo donor with ALS (controls and unaffected
    carriers have none). Returns the number of visits written."""
    courses = []
    for donor in donors:
        if not donor.disease or donor.alsfrs_r is None or not donor.clinical_data.get("disease_duration_months"):
            continue
        courses.append((donor, _block(rng, donor, anchor)))
    write_courses(courses)
    return sum(len(block["visits"]) for _, block in courses)
