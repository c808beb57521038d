"""Deposit documents for the results tests: invented values, labelled as such."""

import math
import random

CONCENTRATIONS_UM = (0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0)


def metadata(**overrides):
    data = {
        "title": "Invented test data: riluzole dose-response in motor neurons",
        "description": "Invented values for tests.",
        "protocol": {"name": "PRISM MN differentiation", "version": "2.1", "url": "https://example.org/mn"},
        "cell_type": "CL:0000100",
        "cell_type_label": "motor neuron",
        "performed_on": "2026-05-04",
        "licence": "CC-BY-4.0",
    }
    data.update(overrides)
    return data


def response(concentration_um, ec50_um, hill=-1.2, top=100.0, bottom=8.0):
    return bottom + (top - bottom) / (1 + 10 ** ((math.log10(ec50_um) - math.log10(concentration_um)) * hill))


def dose_response_rows(line_ec50, compound="riluzole", replicates=3, noise=2.0, seed=7):
    """Measurement rows (uM) for {line name: EC50 in uM}."""
    rng = random.Random(seed)
    rows = []
    for line, ec50 in line_ec50.items():
        for concentration in CONCENTRATIONS_UM:
            for replicate in range(1, replicates + 1):
                rows.append(
                    {
                        "line": line,
                        "compound": compound,
                        "concentration": concentration,
                        "concentration_unit": "uM",
                        "replicate": replicate,
                        "readout": "viability",
                        "value": round(response(concentration, ec50) + rng.gauss(0, noise), 2),
                        "unit": "%",
                    }
                )
    return rows


def dose_response_document(line_ec50, **overrides):
    document = {
        **metadata(),
        "assay": "dose_response",
        "lines": [{"line": name, "lot": "B1"} for name in line_ec50],
        "measurements": dose_response_rows(line_ec50),
    }
    document.update(overrides)
    return document


def differentiation_document(line_values, **overrides):
    document = {
        **metadata(title="Invented test data: motor neuron differentiation"),
        "assay": "differentiation_efficiency",
        "lines": [{"line": name} for name in line_values],
        "measurements": [
            {"line": name, "marker": "ISL1", "value": value, "unit": "%", "replicate": r}
            for name, value in line_values.items()
            for r in (1, 2)
        ],
    }
    document.update(overrides)
    return document
