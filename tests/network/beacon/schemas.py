"""The official Beacon v2 schemas (PRISM_REFERENCE_DATA/beacon_v2), resolved with a
referencing Registry: relative $refs resolve between the files, and the
raw.githubusercontent.com addresses the default model uses resolve to the same
files on disk. Nothing is copied by hand."""

import json
from functools import cache
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from tests.conftest import reference_data_dir

UPSTREAM = "https://raw.githubusercontent.com/ga4gh-beacon/beacon-v2/main/"


def beacon_dir() -> Path:
    path = reference_data_dir() / "beacon_v2"
    if not path.is_dir():
        pytest.skip(f"the Beacon v2 schemas are not at {path} (set PRISM_REFERENCE_DATA)")
    return path


def _retrieve(uri: str) -> Resource:
    root = beacon_dir()
    if uri.startswith(UPSTREAM):
        path = root / uri.removeprefix(UPSTREAM)
    elif uri.startswith("file://"):
        path = Path(uri.removeprefix("file://"))
    else:
        raise NoSuchResource(ref=uri)
    if not path.is_file() and path.parent.name == "common":
        # The default model refers to ../common/info.json, which upstream keeps in the
        # framework's common/ folder only.
        path = root / "framework" / "json" / "common" / path.name
    if not path.is_file():
        raise NoSuchResource(ref=uri)
    return Resource.from_contents(json.loads(path.read_text()), default_specification=DRAFT202012)


@cache
def validator(relative: str) -> Draft202012Validator:
    """A validator for a schema file under beacon_v2/ (e.g. framework/json/responses/beaconInfoResponse.json)."""
    path = beacon_dir() / relative
    schema = json.loads(path.read_text())
    schema.setdefault("$id", path.as_uri())
    registry = Registry(retrieve=_retrieve)
    return Draft202012Validator(schema, registry=registry)


def assert_valid(document: dict, relative: str) -> None:
    errors = sorted(validator(relative).iter_errors(document), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{list(e.path)}: {e.message}" for e in errors[:5])


RESPONSES = "framework/json/responses/"
MODEL = "models/json/beacon-v2-default-model/"
