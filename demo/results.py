"""The demo's experimental results: invented values, labelled as such, on lines whose
donors' consent opens their data (so that everyone sees them).

- motor-neuron differentiation (% ISL1+, MNX1+, ChAT+) for most released lines;
- survival over 21 days and TDP-43 mislocalisation for ALS lines, controls and
  isogenic corrected lines (ALS lines die faster and mislocalise more; a
  correction brings a line back towards control);
- one invented compound, PRX-0417, screened on 20 lines in dose-response, with a
  genotype effect the comparison shows: SOD1 lines respond at a lower EC50 than
  controls, C9orf72 lines at a higher one.

Each dataset is written by the same functions a worker runs on a deposit
(results.pipeline.write_dataset: measurements, lines and 4PL fits) and released by
the curator's action.
"""

import hashlib
import math
from datetime import timedelta

import orjson
from django.core.files.base import ContentFile

from demo.drawing import ANCHOR
from lines.models import CellLine
from lines.models.catalog import ModificationType
from results.actions import release_dataset
from results.models import Dataset, DatasetStatus
from results.pipeline import write_dataset

LABEL = "Invented demo data, not real measurements."
COMPOUND = "PRX-0417 (invented)"
SCREEN_EC50_UM = {"SOD1": 0.35, "C9orf72": 3.2, "control": 1.1}
CONCENTRATIONS_UM = (0.003, 0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)
PROTOCOL = {
    "name": "PRISM motor neuron differentiation (invented)",
    "version": "2.0",
    "url": "https://prism.invalid/protocols/mn",
}


def _open_lines():
    """Released lines whose donor's consent opens their data, with genotype and disease."""
    lines = (
        CellLine.objects.filter(status="released", donor__consent__genetic_data="open")
        .filter(donor__consent__withdrawn_on__isnull=True)
        .select_related("donor", "parental_line")
        .prefetch_related("donor__variants")
        .order_by("name")
    )
    found = []
    for line in lines:
        genes = {v.gene for v in line.donor.variants.all() if v.classification in ("pathogenic", "likely_pathogenic")}
        if line.modification_type == ModificationType.GENE_CORRECTION:
            kind = "corrected"
        elif not line.donor.disease:
            kind = "control"
        elif genes & {"SOD1", "C9orf72"}:
            kind = sorted(genes & {"SOD1", "C9orf72"})[0]
        else:
            kind = "ALS"
        found.append((line, kind))
    return found


def _document(title, assay, lines, measurements, performed_on, description):
    return {
        "title": f"{title} [invented demo data]",
        "description": f"{description} {LABEL}",
        "assay": assay,
        "protocol": PROTOCOL,
        "cell_type": "CL:0000100",
        "cell_type_label": "motor neuron",
        "performed_on": performed_on.isoformat(),
        "licence": "CC-BY-4.0",
        "lines": [{"line": line.name, "lot": f"{line.name}-DB01"} for line in lines],
        "measurements": measurements,
    }


def _store(document, depositor, curator):
    content = orjson.dumps(document)
    dataset = Dataset(
        depositor=depositor,
        institution=depositor.profile.institution,
        assay=document["assay"],
        title=document["title"],
        status=DatasetStatus.PENDING_REVIEW,
        format="json",
        document_sha256=hashlib.sha256(content).hexdigest(),
    )
    dataset.document.save(f"demo-{document['assay']}.json", ContentFile(content), save=False)
    dataset.save()
    write_dataset(dataset, document)
    release_dataset(dataset, curator, "Demo: released (invented data).")
    return dataset


def make_results(rng, users):
    """Write the demo datasets; returns how many."""
    depositor, curator = users["depositor"], users["curator"]
    lines = _open_lines()
    if not lines:
        return 0
    datasets = 0
    # Differentiation for most lines.
    chosen = [(line, kind) for line, kind in lines if rng.random() < 0.8]
    rows = []
    for line, kind in chosen:
        base = rng.gauss(62 if kind != "C9orf72" else 55, 8)
        for marker, shift in (("ISL1", 0), ("MNX1", -6), ("CHAT", -18)):
            for replicate in (1, 2, 3):
                value = min(98.0, max(5.0, base + shift + rng.gauss(0, 3)))
                rows.append(
                    {"line": line.name, "marker": marker, "value": round(value, 1), "unit": "%", "replicate": replicate}
                )
    _store(
        _document(
            "Motor neuron differentiation efficiency across the consortium",
            "differentiation_efficiency",
            [line for line, _k in chosen],
            rows,
            ANCHOR - timedelta(days=120),
            "Percentage of ISL1+, MNX1+ and ChAT+ cells at day 28 by immunostaining.",
        ),
        depositor,
        curator,
    )
    datasets += 1

    # Survival and TDP-43: ALS vs control vs isogenic corrected.
    groups = {
        kind: [line for line, k in lines if k == kind] for kind in ("SOD1", "C9orf72", "ALS", "control", "corrected")
    }
    kinds = {line.pk: kind for line, kind in lines}
    corrected = groups["corrected"][:5]
    # The corrected lines' parents too, so that the comparison has isogenic pairs.
    parents = [c.parental_line for c in corrected if c.parental_line_id in kinds]
    panel = list(
        dict.fromkeys(
            groups["SOD1"][:4] + groups["C9orf72"][:4] + groups["ALS"][:3] + groups["control"][:5] + corrected + parents
        )
    )
    decline = {"SOD1": 2.6, "C9orf72": 2.2, "ALS": 1.8, "control": 0.7, "corrected": 0.9}
    survival, tdp43 = [], []
    for line in panel:
        kind = kinds[line.pk]
        rate = max(0.2, rng.gauss(decline[kind], 0.25))
        for day in (0, 7, 14, 21):
            for replicate in (1, 2, 3):
                value = 100.0 if day == 0 else max(5.0, 100 - rate * day + rng.gauss(0, 2.5))
                survival.append(
                    {
                        "line": line.name,
                        "time_point": day,
                        "time_unit": "d",
                        "value": round(value, 1),
                        "unit": "%",
                        "replicate": replicate,
                    }
                )
        mislocalised = {"SOD1": 9, "C9orf72": 24, "ALS": 18, "control": 5, "corrected": 7}[kind]
        for replicate in (1, 2, 3):
            tdp43.append(
                {
                    "line": line.name,
                    "value": round(max(0.5, rng.gauss(mislocalised, 2.5)), 1),
                    "unit": "%",
                    "replicate": replicate,
                }
            )
    for title, assay, values, text in (
        (
            "Motor neuron survival over 21 days",
            "survival",
            survival,
            "Surviving motor neurons (% of day 0) by live imaging.",
        ),
        (
            "TDP-43 mislocalisation in motor neurons",
            "tdp43_mislocalisation",
            tdp43,
            "% of neurons with cytoplasmic TDP-43 at day 35.",
        ),
    ):
        _store(_document(title, assay, panel, values, ANCHOR - timedelta(days=75), text), depositor, curator)
        datasets += 1

    # The compound screen: 20 lines, 9 concentrations, 3 replicates.
    screen = groups["SOD1"][:7] + groups["C9orf72"][:7] + groups["control"][:6]
    rows = []
    for line in screen:
        kind = kinds[line.pk]
        ec50 = SCREEN_EC50_UM[kind] * math.exp(rng.gauss(0, 0.25))
        hill, top, bottom = rng.uniform(0.9, 1.5), rng.uniform(85, 95), rng.uniform(30, 40)
        for concentration in CONCENTRATIONS_UM:
            # Survival rescue rises with the dose (a positive Hill slope).
            mean = bottom + (top - bottom) / (1 + 10 ** ((math.log10(ec50) - math.log10(concentration)) * hill))
            for replicate in (1, 2, 3):
                rows.append(
                    {
                        "line": line.name,
                        "compound": COMPOUND,
                        "concentration": concentration,
                        "concentration_unit": "uM",
                        "readout": "motor neuron survival",
                        "value": round(mean + rng.gauss(0, 2.0), 2),
                        "unit": "%",
                        "replicate": replicate,
                    }
                )
    if screen:
        _store(
            _document(
                f"{COMPOUND} dose-response on 20 lines",
                "dose_response",
                screen,
                rows,
                ANCHOR - timedelta(days=40),
                "Motor neuron survival at day 21 under stress, per concentration; 4PL fitted per line.",
            ),
            depositor,
            curator,
        )
        datasets += 1
    return datasets


def delete_demo_results(depositors):
    """Remove what an earlier run wrote (datasets deposited by the demo users)."""
    return Dataset.objects.filter(depositor__in=depositors).delete()[0]
