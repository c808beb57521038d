"""Fixtures of the results tests: lines with a chosen consent, a recipient who was
shipped vials of them, and deposits made through results.deposit."""

import orjson
import pytest

from core.accounts import create_user_with_role
from results.deposit import deposit_dataset
from tests.factories import CellLineFactory, ConsentFactory, DistributionRequestFactory, DonorFactory, VariantFactory

GRU, RTN = "DUO:0000042", "DUO:0000029"


def line_with_consent(
    name, genetic_data="open", codes=(GRU,), institution=None, gene=None, disease="MONDO:0004976", **kw
):
    donor = DonorFactory(
        disease=disease, disease_label="amyotrophic lateral sclerosis" if disease else "", institution=institution
    )
    ConsentFactory(donor=donor, genetic_data=genetic_data, codes=list(codes))
    if gene:
        VariantFactory(donor=donor, gene=gene, classification="pathogenic")
    return CellLineFactory(name=name, donor=donor, institution=institution, status="released", **kw)


def deposit_json(user, document, files=()):
    """Deposit a JSON document; validation is queued after commit (see the `deposit` fixture)."""
    return deposit_dataset(user, assay=document["assay"], fmt="json", content=orjson.dumps(document), files=files)


@pytest.fixture
def deposit(django_capture_on_commit_callbacks):
    """deposit(user, document): deposit and run the queued validation, as a worker would; the row refreshed."""

    def run(user, document, files=()):
        with django_capture_on_commit_callbacks(execute=True):
            dataset = deposit_json(user, document, files)
        dataset.refresh_from_db()
        return dataset

    return run


@pytest.fixture
def recipient(db):
    return create_user_with_role("remy", "researcher", email="remy@example.org", password="pw-remy-123")[0]


@pytest.fixture
def shipped_lines(recipient, curator, owner_institution):
    """Three released lines of the owning institution, shipped to `recipient` under RTN."""
    lines = [
        line_with_consent("UKBi001-A", institution=owner_institution, codes=(GRU, RTN), gene="SOD1"),
        line_with_consent("UKBi002-A", institution=owner_institution, codes=(GRU, RTN), gene="C9orf72"),
        line_with_consent("UKBi003-A", institution=owner_institution, codes=(GRU,), disease=""),
    ]
    request = DistributionRequestFactory(
        requester=recipient, lines=lines, purpose_codes=("DUO:0000042",), status="shipped", curator=curator
    )
    return request, lines
