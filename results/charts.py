"""Vega-Lite specifications of the results charts (rendered by the vendored Vega,
Vega-Lite and vega-embed in static/vendor/vega/; no CDN). Each chart's numbers are
also on the page as a table and downloadable as CSV."""

import math
from typing import Any

import numpy as np

from results.fitting import four_pl, to_um

SCHEMA = "https://vega.github.io/schema/vega-lite/v5.json"
CURVE_POINTS = 60


def fit_curves(fits) -> list[dict[str, Any]]:
    """Points along each fitted 4PL curve (log-spaced over two decades around the EC50)."""
    rows = []
    for fit in fits:
        if fit.status != "fitted":
            continue
        centre = math.log10(fit.ec50_um)
        for x in np.linspace(centre - 4, centre + 4, CURVE_POINTS * 2):
            y = float(four_pl(np.array([x]), fit.bottom, fit.top, centre, fit.hill)[0])
            rows.append({"line": fit.line.name, "compound": fit.compound, "concentration_um": 10**x, "fitted": y})
    return rows


def dose_response_spec(measurements, curves) -> dict[str, Any]:
    points = [
        {
            "line": m.line.name,
            "compound": m.compound,
            "concentration_um": to_um(m.concentration, m.concentration_unit),
            "value": m.value,
        }
        for m in measurements
        if m.concentration
    ]
    tested = {}
    for point in points:
        key = (point["line"], point["compound"])
        low, high = tested.get(key, (point["concentration_um"], point["concentration_um"]))
        tested[key] = (min(low, point["concentration_um"]), max(high, point["concentration_um"]))
    # Each curve is drawn over the concentrations its line was tested at, not beyond.
    curves = [
        c
        for c in curves
        if (c["line"], c["compound"]) in tested
        and tested[(c["line"], c["compound"])][0] <= c["concentration_um"] <= tested[(c["line"], c["compound"])][1]
    ]
    x = {"field": "concentration_um", "type": "quantitative", "scale": {"type": "log"}, "title": "Concentration (µM)"}
    return {
        "$schema": SCHEMA,
        "width": "container",
        "height": 320,
        "title": "Dose-response with fitted four-parameter logistic curves",
        "layer": [
            {
                "data": {"values": points},
                "mark": {"type": "point", "filled": True, "opacity": 0.6},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", "type": "quantitative", "title": "Response"},
                    "color": {"field": "line", "type": "nominal", "title": "Line"},
                    "tooltip": [
                        {"field": "line"},
                        {"field": "compound"},
                        {"field": "concentration_um"},
                        {"field": "value"},
                    ],
                },
            },
            {
                "data": {"values": curves},
                "mark": {"type": "line"},
                "encoding": {
                    "x": x,
                    "y": {"field": "fitted", "type": "quantitative"},
                    "color": {"field": "line", "type": "nominal"},
                    "detail": {"field": "compound"},
                },
            },
        ],
    }


def comparison_spec(answer: dict[str, Any]) -> dict[str, Any]:
    readout = answer["readout"]
    title = f"{readout['label']} ({readout['unit']})"
    log = readout["key"].startswith("ec50:")
    y = {"type": "quantitative", "title": title, "scale": {"type": "log"} if log else {"zero": False}}
    if "pairs" in answer:
        values = []
        for pair in answer["pairs"]:
            name = f"{pair['parent']} → {pair['subclone']}"
            values += [
                {"pair": name, "role": "parent", "value": pair["parent_value"]},
                {"pair": name, "role": "edited or corrected", "value": pair["subclone_value"]},
            ]
        return {
            "$schema": SCHEMA,
            "width": "container",
            "height": 320,
            "title": f"{title}: isogenic pairs",
            "data": {"values": values},
            "mark": {"type": "line", "point": True},
            "encoding": {
                "x": {"field": "role", "type": "nominal", "title": None, "sort": ["parent", "edited or corrected"]},
                "y": {"field": "value", **y},
                "color": {"field": "pair", "type": "nominal", "title": "Pair"},
            },
        }
    values = [
        {"group": group["group"], "line": point["line"], "value": point["value"], "too_small": group["too_small"]}
        for group in answer["groups"]
        for point in group["points"]
    ]
    order = [group["group"] for group in answer["groups"]]
    x = {
        "field": "group",
        "type": "nominal",
        "title": answer["grouping_label"],
        "sort": order,
        "axis": {"labelAngle": 0},
    }
    return {
        "$schema": SCHEMA,
        "width": "container",
        "height": 340,
        "title": f"{title} by {answer['grouping_label'].lower()}",
        "data": {"values": values},
        "layer": [
            {
                "mark": {"type": "boxplot", "extent": 1.5, "opacity": 0.35},
                "encoding": {"x": x, "y": {"field": "value", **y}},
            },
            {
                "mark": {"type": "point", "filled": True, "size": 60},
                "encoding": {
                    "x": x,
                    "y": {"field": "value", **y},
                    "xOffset": {"field": "line", "type": "nominal"},
                    "color": {"field": "group", "type": "nominal", "legend": None, "sort": order},
                    "opacity": {"condition": {"test": "datum.too_small", "value": 0.35}, "value": 0.9},
                    "tooltip": [{"field": "line"}, {"field": "group"}, {"field": "value", "format": ".3g"}],
                },
            },
        ],
    }
