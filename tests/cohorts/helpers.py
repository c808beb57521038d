"""A small catalog for the cohort builder: C9orf72 carriers, sporadic ALS donors and
healthy controls, each line released, QC passed, in stock, on GRU consent unless
told otherwise."""

from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, VariantFactory

GRU = "DUO:0000042"
HMB = "DUO:0000006"


def usable_line(*, sex="female", age=55, ancestry="European", kind="sporadic", codes=(GRU,), **line):
    """A line of a new donor; kind is c9 (familial C9orf72 carrier), sporadic or control."""
    donor = DonorFactory(
        sex=sex,
        age_at_sampling=age,
        ancestry=ancestry,
        family_history="familial" if kind == "c9" else "sporadic" if kind == "sporadic" else "",
        disease="" if kind == "control" else "MONDO:0004976",
        disease_label="" if kind == "control" else "amyotrophic lateral sclerosis",
        onset_site="" if kind == "control" else "spinal",
        age_at_onset=None if kind == "control" else age - 2,
    )
    ConsentFactory(donor=donor, codes=list(codes))
    if kind == "c9":
        VariantFactory(donor=donor, gene="C9orf72", hgvs="", protein="", legacy_name="G4C2 expansion")
    line.setdefault("qc_status", "passed")
    line.setdefault("vials_in_stock", 6)
    return CellLineFactory(donor=donor, **line)


def three_arm_catalog(n=3):
    """n C9orf72 carriers, n sporadic, and for each carrier a control of its sex and age."""
    c9 = [usable_line(kind="c9", sex=("female", "male")[i % 2], age=50 + 3 * i) for i in range(n)]
    sporadic = [usable_line(kind="sporadic", sex=("female", "male")[i % 2], age=52 + 3 * i) for i in range(n)]
    controls = [usable_line(kind="control", sex=("female", "male")[i % 2], age=51 + 3 * i) for i in range(n)]
    return c9, sporadic, controls


def definition(n=3, seed=7, **extra):
    return {
        "seed": seed,
        "purpose": {"codes": [GRU]},
        "arms": [
            {"name": "C9orf72", "filters": "gene=C9orf72", "size": n},
            {"name": "sporadic", "filters": "family_history=sporadic&affection_status=affected", "size": n},
            {"name": "control", "filters": "affection_status=unaffected", "size": n, "matched_to": "C9orf72"},
        ],
        **extra,
    }
