"""Helpers of the holdings page tests (their fixtures are in conftest.py): the QC
panel, the five callers, a signed-in client, the line names on a page."""

import re

from django.test import Client

CORE = (
    "identity",
    "genomic_integrity",
    "mycoplasma",
    "sterility",
    "pluripotency",
    "trilineage",
    "vector_clearance",
)
ROLES = ("anonymous", "researcher", "depositor", "other_depositor", "curator")


def browser_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def line_names(html):
    """Line names in the catalog table (the row headers link to the line pages)."""
    return set(re.findall(r'<th scope="row" data-label="Line"><a href="/lines/([^/"]+)/"', html))
