"""A small holdings catalog for the API tests: two institutions, lines in every
status, consents at every genetic-data level, an isogenic set, QC records.

Who sees which line:
- everyone:           UKBi001-A, UKBi001-A-1, UKBi001-A-2, UKBi002-A, UCSFi004-A, UCSFi005-A
- UKB depositors too: UKBi003-A (draft)
- UCSF depositors:    UCSFi004-B (withdrawn)
- curators:           all eight
"""

import datetime
from dataclasses import dataclass, field

from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    QCRecordFactory,
    VariantFactory,
)

PUBLIC = {"UKBi001-A", "UKBi001-A-1", "UKBi001-A-2", "UKBi002-A", "UCSFi004-A", "UCSFi005-A"}
UKB_ONLY = {"UKBi003-A"}
UCSF_ONLY = {"UCSFi004-B"}
ALL = PUBLIC | UKB_ONLY | UCSF_ONLY
CORE = ("identity", "genomic_integrity", "mycoplasma", "sterility", "pluripotency", "trilineage")


@dataclass
class Catalog:
    lines: dict = field(default_factory=dict)
    donors: dict = field(default_factory=dict)
    qc: dict = field(default_factory=dict)


def _full_qc(line, result="pass"):
    records = []
    for test in (*CORE, "vector_clearance"):
        records.append(
            QCRecordFactory(
                line=line,
                test=test,
                method="standard",
                result=result,
                tested_on=datetime.date(2024, 9, 1),
            )
        )
    line.refresh_qc_status()
    return records


def build_catalog(ukb, ucsf):
    c = Catalog()
    # Familial ALS type 1, open genetic data, general research use: the showcase.
    d1 = DonorFactory(
        code="PD-ALS1",
        institution=ukb,
        donor_number="001",
        disease="MONDO:0007103",
        disease_label="amyotrophic lateral sclerosis type 1",
        sex="female",
        age_at_sampling=54,
        ancestry="European",
        family_history="familial",
        onset_site="spinal",
        age_at_onset=50,
        c9orf72_repeats=2,
        str_profile={"TH01": ["6", "9.3"]},
    )
    ConsentFactory(donor=d1, genetic_data="open", codes=["DUO:0000042"])
    VariantFactory(donor=d1, gene="SOD1", protein="p.Ala5Val", legacy_name="A4V", zygosity="heterozygous")
    parent = CellLineFactory(
        name="UKBi001-A",
        donor=d1,
        institution=ukb,
        cellosaurus_accession="CVCL_ZZ01",
        alternative_names=["ALS-SOD1-PARENT"],
        str_profile={"TH01": ["6", "9.3"]},
        released_at=datetime.datetime(2025, 1, 2, tzinfo=datetime.UTC),
    )
    c.qc["UKBi001-A"] = _full_qc(parent)
    corrected = CellLineFactory(
        name="UKBi001-A-1",
        donor=d1,
        institution=ukb,
        parental_line=parent,
        modification_type="gene_correction",
        released_at=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC),
    )
    VariantFactory(
        donor=None,
        line=corrected,
        gene="SOD1",
        protein="p.Val5Ala",
        legacy_name="",
        hgvs="NM_000454.5:c.14T>C",
        zygosity="homozygous",
        origin="engineered",
    )
    reporter = CellLineFactory(
        name="UKBi001-A-2",
        donor=d1,
        institution=ukb,
        parental_line=parent,
        modification_type="reporter",
        availability="restricted",
    )
    # Sporadic ALS, controlled genetic data, non-commercial: variants for curators only.
    d2 = DonorFactory(
        code="PD-SALS2",
        institution=ukb,
        donor_number="002",
        disease="MONDO:0005145",
        disease_label="sporadic amyotrophic lateral sclerosis",
        sex="male",
        age_at_sampling=61,
        family_history="sporadic",
        onset_site="bulbar",
        age_at_onset=60,
        c9orf72_repeats=850,
        str_profile={"TH01": ["7", "8"]},
    )
    ConsentFactory(donor=d2, genetic_data="controlled", codes=["DUO:0000006", "DUO:0000046"])
    VariantFactory(
        donor=d2,
        gene="C9orf72",
        protein="",
        legacy_name="G4C2 expansion",
        hgvs="",
        zygosity="heterozygous",
        repeat_size=850,
    )
    sporadic = CellLineFactory(
        name="UKBi002-A",
        donor=d2,
        institution=ukb,
        reprogramming_method="episomal",
        str_profile={"TH01": ["7", "8"]},
    )
    # A draft of UKB with a gene no released line carries (FUS): must not leak.
    d3 = DonorFactory(
        code="PD-DRAFT3",
        institution=ukb,
        donor_number="003",
        disease="MONDO:0011951",
        disease_label="amyotrophic lateral sclerosis type 6",
        sex="male",
        ancestry="East Asian",
    )
    ConsentFactory(donor=d3, genetic_data="open")
    VariantFactory(donor=d3, gene="FUS", protein="p.Arg521Cys", legacy_name="R521C")
    draft = CellLineFactory(
        name="UKBi003-A",
        donor=d3,
        institution=ukb,
        status="draft",
        reprogramming_method="mrna",
        availability="not_distributed",
    )
    c.qc["UKBi003-A"] = [QCRecordFactory(line=draft, test="mycoplasma", result="pass")]
    # Parkinson's at UCSF: open data, not-for-profit only, IRB and publication conditions.
    d4 = DonorFactory(
        code="PD-PARK4",
        institution=ucsf,
        donor_number="004",
        disease="MONDO:0005180",
        disease_label="Parkinson disease",
        sex="female",
        age_at_sampling=70,
        ancestry="African",
        family_history="",
        onset_site="",
        age_at_onset=None,
    )
    ConsentFactory(
        donor=d4,
        genetic_data="open",
        codes=["DUO:0000042", "DUO:0000045", "DUO:0000021", "DUO:0000019"],
    )
    VariantFactory(
        donor=d4,
        gene="LRRK2",
        protein="p.Gly2019Ser",
        legacy_name="G2019S",
        zygosity="heterozygous",
    )
    park = CellLineFactory(name="UCSFi004-A", donor=d4, institution=ucsf, reprogramming_method="lentivirus")
    withdrawn = CellLineFactory(
        name="UCSFi004-B",
        donor=d4,
        institution=ucsf,
        status="withdrawn",
        status_reason="Mycoplasma found after release",
        availability="not_distributed",
        modification_type="knock_out",
    )
    c.qc["UCSFi004-B"] = [QCRecordFactory(line=withdrawn, test="mycoplasma", result="fail")]
    # A healthy control without genetic-data sharing, failed QC.
    d5 = DonorFactory(
        code="PD-CTRL5",
        institution=ucsf,
        donor_number="005",
        disease="",
        disease_label="",
        sex="male",
        age_at_sampling=30,
        ancestry="South Asian",
        family_history="",
        onset_site="",
        age_at_onset=None,
    )
    ConsentFactory(donor=d5, genetic_data="none", codes=["DUO:0000004"])
    control = CellLineFactory(name="UCSFi005-A", donor=d5, institution=ucsf, reprogramming_method="episomal")
    c.qc["UCSFi005-A"] = [QCRecordFactory(line=control, test="sterility", result="fail")]
    control.refresh_qc_status()

    for line in (parent, corrected, reporter, sporadic, draft, park, withdrawn, control):
        c.lines[line.name] = line
    for donor in (d1, d2, d3, d4, d5):
        c.donors[donor.code] = donor

    refresh_search_text(CellLine.objects.all())
    return c


def visible_for(role):
    return {
        "anonymous": PUBLIC,
        "researcher": PUBLIC,
        "depositor": PUBLIC | UKB_ONLY,
        "other_depositor": PUBLIC | UCSF_ONLY,
        "curator": ALL,
    }[role]
