"""Fixtures of the holdings page tests: a catalog of two institutions' lines, and
clients signed in as each role."""

import pytest
from django.utils import timezone

from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    QCRecordFactory,
    VariantFactory,
)
from tests.lines.holdings.pages_catalog import CORE, browser_for


@pytest.fixture
def as_role(request):
    def get(role):
        return browser_for(None if role == "anonymous" else request.getfixturevalue(role))

    return get


@pytest.fixture
def catalog(owner_institution, other_institution):
    """UKB: a SOD1 A4V line with a full passing QC panel (open consent, commercial use
    allowed) and its subclone, plus a withdrawn line. UCSF: a FUS line under a
    non-commercial consent that keeps genetic data to curators, a healthy control
    with a failed QC test, and an unreleased draft."""
    now = timezone.now()
    sod1 = DonorFactory(
        institution=owner_institution,
        code="UKBD001",
        donor_number="001",
        sex="female",
        age_at_sampling=61,
        ancestry="European",
        age_at_onset=58,
    )
    ConsentFactory(donor=sod1, genetic_data="open", codes=["DUO:0000042"])
    VariantFactory(donor=sod1)
    fus = DonorFactory(
        institution=other_institution,
        code="UCSFD001",
        donor_number="001",
        sex="male",
        age_at_sampling=34,
        ancestry="East Asian",
        age_at_onset=30,
        str_profile={},
    )
    ConsentFactory(donor=fus, genetic_data="controlled", codes=["DUO:0000042", "DUO:0000046"])
    VariantFactory(
        donor=fus,
        gene="FUS",
        hgnc_id="HGNC:4010",
        hgvs="NM_004960.4:c.1561C>T",
        protein="p.Arg521Cys",
        legacy_name="R521C",
    )
    control = DonorFactory(
        institution=other_institution,
        code="UCSFD002",
        donor_number="002",
        disease="",
        disease_label="",
        family_history="",
        onset_site="",
        age_at_onset=None,
        sex="male",
        age_at_sampling=70,
    )
    ConsentFactory(donor=control, genetic_data="open", codes=["DUO:0000042"])
    hidden = DonorFactory(institution=owner_institution, code="UKBD003", donor_number="003")
    ConsentFactory(donor=hidden)

    profile = {"D5S818": ["11", "12"], "TH01": ["6", "9.3"], "Amelogenin": ["X"]}
    parent = CellLineFactory(donor=sod1, name="UKBi001-A", released_at=now, qc_status="passed", str_profile=profile)
    for test in CORE:
        QCRecordFactory(
            line=parent,
            test=test,
            result="pass",
            details={"markers": {"OCT4": 97.5, "NANOG": 95}} if test == "pluripotency" else {},
        )
    subclone = CellLineFactory(
        donor=sod1,
        name="UKBi001-A-1",
        parental_line=parent,
        released_at=now,
        modification_type="gene_correction",
    )
    fus_line = CellLineFactory(donor=fus, name="UCSFi001-A", released_at=now, str_profile={"TH01": ["7", "8"]})
    control_line = CellLineFactory(donor=control, name="UCSFi002-A", released_at=now, qc_status="failed")
    QCRecordFactory(line=control_line, test="mycoplasma", result="fail")
    withdrawn = CellLineFactory(donor=hidden, name="UKBi003-A", status="withdrawn", status_reason="consent withdrawn")
    draft = CellLineFactory(donor=fus, name="UCSFi001-B", status="draft")
    refresh_search_text(CellLine.objects.all())
    return {
        "parent": parent,
        "subclone": subclone,
        "fus": fus_line,
        "control": control_line,
        "withdrawn": withdrawn,
        "draft": draft,
    }
