"""A small bank for the Beacon and federation tests: five ALS donors (one ALS1
subtype, one under a consent that keeps genetic data to curators), a healthy
control, and a draft line only curators and its depositor see."""

import pytest
from django.utils import timezone

from core.models import DiseaseTerm
from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, LotFactory, VariantFactory

ALS = "MONDO:0004976"
ALS1 = "MONDO:0007103"


def build_bank(owner, other):
    now = timezone.now()
    DiseaseTerm.objects.update_or_create(
        curie=ALS, defaults={"label": "amyotrophic lateral sclerosis", "ancestors": []}
    )
    DiseaseTerm.objects.update_or_create(curie=ALS1, defaults={"label": "ALS type 1", "ancestors": [ALS]})
    made = {}
    for number, (sex, onset, disease, genetic) in enumerate(
        [
            ("female", "bulbar", ALS1, "open"),
            ("female", "bulbar", ALS, "open"),
            ("female", "spinal", ALS, "open"),
            ("male", "spinal", ALS, "open"),
            ("male", "bulbar", ALS, "controlled"),
        ],
        start=1,
    ):
        donor = DonorFactory(
            institution=owner,
            code=f"NETD{number:03d}",
            donor_number=f"{number:03d}",
            sex=sex,
            onset_site=onset,
            disease=disease,
            disease_label="amyotrophic lateral sclerosis",
            age_at_sampling=55 + number * 2,
        )
        ConsentFactory(donor=donor, genetic_data=genetic, codes=["DUO:0000042"])
        VariantFactory(donor=donor, gene="C9orf72", hgnc_id="HGNC:28337", hgvs="", protein="", legacy_name="G4C2")
        made[donor.code] = CellLineFactory(donor=donor, name=f"UKBi{number:03d}-A", released_at=now)
    control = DonorFactory(
        institution=other, code="NETC001", donor_number="001", disease="", disease_label="", onset_site="", sex="male"
    )
    ConsentFactory(donor=control, genetic_data="open", codes=["DUO:0000042", "DUO:0000046"])
    made["control"] = CellLineFactory(donor=control, name="UCSFi001-A", released_at=now)
    made["draft"] = CellLineFactory(donor=control, name="UCSFi001-B", status="draft")
    LotFactory(line=made["NETD001"], code="P001", status="released")
    refresh_search_text(CellLine.objects.all())
    return made


@pytest.fixture
def bank(owner_institution, other_institution):
    return build_bank(owner_institution, other_institution)
