"""{% line_results line %}: the Results section of a line page (templates/lines/detail.html
loads it by name, so lines/ imports nothing from results/, a layer above it)."""

import statistics
from collections import defaultdict

from django import template

from results.charts import dose_response_spec, fit_curves
from results.models import Assay, FitStatus
from results.selectors import datasets_of_line

register = template.Library()
MAX_DATASETS = 20


@register.inclusion_tag("results/_line_results.html", takes_context=True)
def line_results(context, line):
    request = context.get("request")
    user = getattr(request, "user", None)
    rows, points, fitted = [], [], []
    for dataset in datasets_of_line(line, user)[:MAX_DATASETS]:
        shown = dataset.data_visible_to(user)
        fits, readouts = [], []
        if shown:
            fits = list(dataset.fits.filter(line=line).select_related("line").order_by("compound"))
            if dataset.assay == Assay.DOSE_RESPONSE:
                points += list(dataset.measurements.filter(line=line).select_related("line")[:2000])
                fitted += fits
            values = defaultdict(list)
            units = {}
            for readout, value, unit in dataset.measurements.filter(line=line, compound="").values_list(
                "readout", "value", "unit"
            ):
                values[readout].append(value)
                units[readout] = unit
            readouts = [
                {"readout": r, "median": statistics.median(v), "n": len(v), "unit": units[r]}
                for r, v in sorted(values.items())
            ]
        rows.append(
            {"dataset": dataset, "shown": shown, "fits": fits, "readouts": readouts, "fitted": FitStatus.FITTED}
        )
    chart = dose_response_spec(points, fit_curves(fitted)) if points else None
    return {"datasets": rows, "line": line, "request": request, "chart": chart}
