"""The assays a dataset may hold, each with its own JSON Schema for its measurements
(results/assays/schemas/<assay>.schema.json) inside the dataset schema every deposit
shares (dataset.schema.json), and the measurement table's columns derived from it.

`schema_of(assay)` is the whole deposit's schema for an assay; `validator_of(assay)`
its compiled validator (cached); `table_columns(assay)` the template's columns with
the kind each cell is read as and the description its help row shows.
"""

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from results.models import Assay

SCHEMAS = Path(__file__).parent / "schemas"
# Omics are files with metadata only: their measurement schema allows no rows.
FILE_ONLY_ASSAYS = frozenset({Assay.RNA_SEQ.value, Assay.VCF.value})
# The readout a measurement row stands for when its assay has no readout column.
READOUT_COLUMN = {Assay.DIFFERENTIATION.value: "marker", Assay.DOSE_RESPONSE.value: "readout"}
FIXED_READOUT = {
    Assay.SURVIVAL.value: "survival",
    Assay.TDP43.value: "cytoplasmic TDP-43",
    Assay.NEURITE.value: "neurite length",
    Assay.MEA.value: "mean firing rate",
}
DEFAULT_READOUT = {Assay.DOSE_RESPONSE.value: "response"}
_KINDS = {"number": "number", "integer": "int", "string": "text"}


def _load(name: str) -> dict[str, Any]:
    return json.loads((SCHEMAS / f"{name}.schema.json").read_text())


@cache
def measurement_schema(assay: str) -> dict[str, Any]:
    """The assay's own schema: the list of its measurement rows."""
    if assay not in Assay.values:
        raise KeyError(assay)
    return _load(assay)


@cache
def _schema_text(assay: str) -> str:
    schema = _load("dataset")
    schema["properties"]["assay"] = {"const": assay}
    schema["properties"]["measurements"] = measurement_schema(assay)
    if assay not in FILE_ONLY_ASSAYS:
        schema["required"] = [*schema["required"], "measurements"]
    return json.dumps(schema)


def schema_of(assay: str) -> dict[str, Any]:
    """The JSON Schema of a whole deposit of this assay (a fresh copy)."""
    return json.loads(_schema_text(assay))


@cache
def validator_of(assay: str) -> Draft202012Validator:
    return Draft202012Validator(schema_of(assay), format_checker=Draft202012Validator.FORMAT_CHECKER)


def table_columns(assay: str) -> dict[str, tuple[str, str]]:
    """Column → (kind, description) of the assay's measurement table, plus `lot`."""
    items = measurement_schema(assay).get("items") or {}
    required = set(items.get("required", []))
    columns = {}
    for name, spec in (items.get("properties") or {}).items():
        description = spec.get("description", "")
        if name in required:
            description = f"required. {description}"
        columns[name] = (_KINDS.get(spec.get("type"), "text"), description)
    if columns:
        columns["lot"] = ("text", "Batch or lot of the line's vials (optional, once per line)")
    return columns


def readout_of(assay: str, row: dict[str, Any]) -> str:
    """The readout a validated measurement row stands for."""
    if assay in FIXED_READOUT:
        return FIXED_READOUT[assay]
    column = READOUT_COLUMN.get(assay)
    value = row.get(column) if column else None
    return value if isinstance(value, str) and value else DEFAULT_READOUT.get(assay, assay)


def assay_catalogue() -> list[dict[str, Any]]:
    """Every assay with its label, description and schema, for the API and the deposit page."""
    return [
        {
            "assay": value,
            "label": label,
            "description": measurement_schema(value).get("description", ""),
            "files_only": value in FILE_ONLY_ASSAYS,
            "columns": [{"name": n, "kind": k, "description": d} for n, (k, d) in table_columns(value).items()],
        }
        for value, label in Assay.choices
    ]


def example_schema(assay: str) -> dict[str, Any]:
    return copy.deepcopy(schema_of(assay))
