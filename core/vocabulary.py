"""The built-in vocabularies: enough for a fresh catalog to validate ALS deposits.

Written for this project from the public ontologies (GA4GH DUO, MONDO, HGNC,
Cell Ontology). `manage.py load_vocabularies` replaces and extends them with the
full official files; nothing here is the only copy of the truth.
"""

from django.apps import apps as django_apps

from core.models import DiseaseTerm, DuoTerm

# (curie, shorthand, label, branch)
DUO_TERMS = [
    ("DUO:0000004", "NRES", "no restriction", "permission"),
    ("DUO:0000042", "GRU", "general research use", "permission"),
    ("DUO:0000006", "HMB", "health or medical or biomedical research", "permission"),
    ("DUO:0000007", "DS", "disease specific research", "permission"),
    ("DUO:0000011", "POA", "population origins or ancestry research only", "permission"),
    ("DUO:0000012", "RS", "research specific restrictions", "modifier"),
    ("DUO:0000015", "NMDS", "no general methods research", "modifier"),
    ("DUO:0000016", "GSO", "genetic studies only", "modifier"),
    ("DUO:0000018", "NPUNCU", "not for profit, non commercial use only", "modifier"),
    ("DUO:0000019", "PUB", "publication required", "modifier"),
    ("DUO:0000020", "COL", "collaboration required", "modifier"),
    ("DUO:0000021", "IRB", "ethics approval required", "modifier"),
    ("DUO:0000022", "GS", "geographical restriction", "modifier"),
    ("DUO:0000024", "MOR", "publication moratorium", "modifier"),
    ("DUO:0000025", "TS", "time limit on use", "modifier"),
    ("DUO:0000026", "US", "user specific restriction", "modifier"),
    ("DUO:0000027", "PS", "project specific restriction", "modifier"),
    ("DUO:0000028", "IS", "institution specific restriction", "modifier"),
    ("DUO:0000029", "RTN", "return to database or resource", "modifier"),
    ("DUO:0000043", "CC", "clinical care use", "modifier"),
    ("DUO:0000044", "NPOA", "population origins or ancestry research prohibited", "modifier"),
    ("DUO:0000045", "NPU", "not for profit organisation use only", "modifier"),
    ("DUO:0000046", "NCU", "non-commercial use only", "modifier"),
]

PERMISSION_CODES = {curie for curie, _, _, branch in DUO_TERMS if branch == "permission"}

ALS = "MONDO:0004976"
FAMILIAL_ALS = "MONDO:0005144"
SPORADIC_ALS = "MONDO:0005145"
FTD_ALS = "MONDO:0030923"

# (curie, label, parents). Subtype ↔ gene pairs follow MONDO and OMIM.
DISEASE_TERMS = [
    ("MONDO:0020128", "motor neuron disorder", []),
    ("MONDO:0024257", "hereditary motor neuron disease", ["MONDO:0020128"]),
    (ALS, "amyotrophic lateral sclerosis", ["MONDO:0020128"]),
    (FAMILIAL_ALS, "familial amyotrophic lateral sclerosis", [ALS, "MONDO:0024257"]),
    (SPORADIC_ALS, "sporadic amyotrophic lateral sclerosis", [ALS]),
    (FTD_ALS, "frontotemporal dementia and/or amyotrophic lateral sclerosis", []),
    ("MONDO:0017593", "juvenile amyotrophic lateral sclerosis", [FAMILIAL_ALS]),
    ("MONDO:0007103", "amyotrophic lateral sclerosis type 1", [FAMILIAL_ALS]),
    ("MONDO:0008780", "amyotrophic lateral sclerosis type 2, juvenile", ["MONDO:0017593"]),
    ("MONDO:0011691", "amyotrophic lateral sclerosis type 3", [FAMILIAL_ALS]),
    ("MONDO:0011223", "amyotrophic lateral sclerosis type 4", [FAMILIAL_ALS]),
    ("MONDO:0011196", "amyotrophic lateral sclerosis type 5", ["MONDO:0017593"]),
    ("MONDO:0011951", "amyotrophic lateral sclerosis type 6", [FAMILIAL_ALS]),
    ("MONDO:0011952", "amyotrophic lateral sclerosis type 7", [FAMILIAL_ALS]),
    ("MONDO:0012077", "amyotrophic lateral sclerosis type 8", [FAMILIAL_ALS]),
    ("MONDO:0012753", "amyotrophic lateral sclerosis type 9", [FAMILIAL_ALS]),
    ("MONDO:0012790", "amyotrophic lateral sclerosis type 10", [FAMILIAL_ALS]),
    ("MONDO:0012945", "amyotrophic lateral sclerosis type 11", [FAMILIAL_ALS]),
    ("MONDO:0013264", "amyotrophic lateral sclerosis type 12", [FAMILIAL_ALS]),
    ("MONDO:0010459", "amyotrophic lateral sclerosis type 15", [FAMILIAL_ALS]),
    ("MONDO:0013891", "amyotrophic lateral sclerosis type 18", [FAMILIAL_ALS]),
    ("MONDO:0014223", "amyotrophic lateral sclerosis type 19", [FAMILIAL_ALS]),
    ("MONDO:0014181", "amyotrophic lateral sclerosis type 20", [FAMILIAL_ALS]),
    ("MONDO:0011632", "amyotrophic lateral sclerosis type 21", [FAMILIAL_ALS]),
    ("MONDO:0014531", "amyotrophic lateral sclerosis type 22", [FAMILIAL_ALS]),
    ("MONDO:0027694", "amyotrophic lateral sclerosis type 23", [FAMILIAL_ALS]),
    (
        "MONDO:0030885",
        "amyotrophic lateral sclerosis 26 with or without frontotemporal dementia",
        [FAMILIAL_ALS],
    ),
    ("MONDO:0957538", "amyotrophic lateral sclerosis 28", [FAMILIAL_ALS]),
    (
        "MONDO:0007105",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 1",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    (
        "MONDO:0014395",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 2",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    (
        "MONDO:0014640",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 3",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    (
        "MONDO:0014641",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 4",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    (
        "MONDO:0030875",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 5",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    (
        "MONDO:0013501",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 6",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    (
        "MONDO:0010936",
        "frontotemporal dementia and/or amyotrophic lateral sclerosis 7",
        [FAMILIAL_ALS, FTD_ALS],
    ),
    # Other neurodegenerative diseases, so that PD and AD banks validate too.
    ("MONDO:0005180", "Parkinson disease", []),
    ("MONDO:0004975", "Alzheimer disease", []),
    ("MONDO:0017276", "frontotemporal dementia", []),
]

# Diseases under which an `als` clinical block makes sense (DONOR-2).
ALS_FAMILY_ROOTS = {ALS, FTD_ALS}

# (hgnc_id, symbol, name, previous symbols, aliases)
GENES = [
    ("HGNC:11179", "SOD1", "superoxide dismutase 1", ["ALS", "ALS1"], ["IPOA"]),
    ("HGNC:28337", "C9orf72", "C9orf72-SMCR8 complex subunit", [], ["DENNL72", "DENND9"]),
    ("HGNC:11571", "TARDBP", "TAR DNA binding protein", [], ["TDP-43", "ALS10"]),
    ("HGNC:4010", "FUS", "FUS RNA binding protein", ["ALS6"], ["TLS", "FUS1"]),
    ("HGNC:11584", "TBK1", "TANK binding kinase 1", [], ["NAK"]),
    ("HGNC:17142", "OPTN", "optineurin", ["GLC1E"], ["FIP2", "NRP"]),
    ("HGNC:12666", "VCP", "valosin containing protein", [], ["p97", "CDC48"]),
    ("HGNC:12509", "UBQLN2", "ubiquilin 2", [], ["PLIC2", "ALS15"]),
    ("HGNC:8881", "PFN1", "profilin 1", [], ["ALS18"]),
    ("HGNC:7744", "NEK1", "NIMA related kinase 1", [], []),
    ("HGNC:6323", "KIF5A", "kinesin family member 5A", [], []),
    ("HGNC:535", "ANXA11", "annexin A11", [], []),
    ("HGNC:11280", "SQSTM1", "sequestosome 1", [], ["p62"]),
    ("HGNC:6912", "MATR3", "matrin 3", [], []),
    ("HGNC:15559", "CHCHD10", "coiled-coil-helix-coiled-coil-helix domain containing 10", [], []),
    ("HGNC:10555", "ATXN2", "ataxin 2", ["SCA2"], []),
    ("HGNC:443", "ALS2", "alsin Rho guanine nucleotide exchange factor ALS2", [], ["ALSIN"]),
    ("HGNC:445", "SETX", "senataxin", [], ["ALS4"]),
    ("HGNC:11226", "SPG11", "SPG11 vesicle trafficking associated, spatacsin", [], []),
    ("HGNC:12649", "VAPB", "VAMP associated protein B and C", [], ["ALS8"]),
    ("HGNC:483", "ANG", "angiogenin", ["RNASE5"], ["ALS9"]),
    ("HGNC:16873", "FIG4", "FIG4 phosphoinositide 5-phosphatase", [], ["SAC3", "ALS11"]),
    ("HGNC:2711", "DCTN1", "dynactin subunit 1", [], ["P135"]),
    ("HGNC:24537", "CHMP2B", "charged multivesicular body protein 2B", [], []),
    ("HGNC:8157", "SIGMAR1", "sigma non-opioid intracellular receptor 1", [], []),
    ("HGNC:5031", "HNRNPA1", "heterogeneous nuclear ribonucleoprotein A1", [], []),
    ("HGNC:5033", "HNRNPA2B1", "heterogeneous nuclear ribonucleoprotein A2/B1", [], []),
    ("HGNC:12407", "TUBA4A", "tubulin alpha 4a", [], []),
    ("HGNC:1591", "CCNF", "cyclin F", [], []),
    ("HGNC:11802", "TIA1", "TIA1 cytotoxic granule associated RNA binding protein", [], []),
    ("HGNC:3432", "ERBB4", "erb-b2 receptor tyrosine kinase 4", [], ["HER4"]),
    ("HGNC:23150", "UNC13A", "unc-13 homolog A", [], []),
    ("HGNC:7737", "NEFH", "neurofilament heavy chain", [], []),
    ("HGNC:9461", "PRPH", "peripherin", [], []),
    ("HGNC:2671", "DAO", "D-amino acid oxidase", [], []),
    ("HGNC:4315", "GLE1", "GLE1 RNA export mediator", [], []),
    ("HGNC:11277", "SPTLC1", "serine palmitoyltransferase long chain base subunit 1", [], []),
    ("HGNC:11547", "TAF15", "TATA-box binding protein associated factor 15", [], []),
    ("HGNC:4601", "GRN", "granulin precursor", [], []),
    ("HGNC:6893", "MAPT", "microtubule associated protein tau", [], ["TAU"]),
    ("HGNC:22407", "TMEM106B", "transmembrane protein 106B", [], []),
    ("HGNC:12392", "DNAJC7", "DnaJ heat shock protein family (Hsp40) member C7", [], []),
    ("HGNC:11117", "SMN1", "survival of motor neuron 1, telomeric", [], []),
    ("HGNC:11118", "SMN2", "survival of motor neuron 2, centromeric", [], []),
    ("HGNC:18618", "LRRK2", "leucine rich repeat kinase 2", [], ["PARK8"]),
    ("HGNC:11138", "SNCA", "synuclein alpha", [], ["PARK1"]),
    ("HGNC:4177", "GBA1", "glucosylceramidase beta 1", ["GBA"], []),
    ("HGNC:620", "APP", "amyloid beta precursor protein", [], []),
    ("HGNC:9508", "PSEN1", "presenilin 1", [], ["AD3"]),
    ("HGNC:613", "APOE", "apolipoprotein E", [], []),
]

# (curie, label)
CELL_TYPES = [
    ("CL:0000057", "fibroblast"),
    ("CL:0002620", "skin fibroblast"),
    ("CL:0000232", "erythrocyte"),
    ("CL:0000842", "mononuclear cell"),
    ("CL:2000001", "peripheral blood mononuclear cell"),
    ("CL:0000236", "B cell"),
    ("CL:0000084", "T cell"),
    ("CL:0000312", "keratinocyte"),
    ("CL:1000497", "kidney cell"),
    ("CL:0000066", "epithelial cell"),
    ("CL:0000034", "stem cell"),
]


def compute_ancestors(parents_by_term):
    """Every ancestor of every term, from a map term → direct parents (cycle-safe)."""
    ancestors = {}

    def walk(term, seen):
        if term in ancestors:
            return ancestors[term]
        found = set()
        for parent in parents_by_term.get(term, ()):
            if parent in seen:
                continue
            found.add(parent)
            found |= walk(parent, seen | {parent})
        ancestors[term] = found
        return found

    for term in parents_by_term:
        walk(term, {term})
    return {term: sorted(found) for term, found in ancestors.items()}


def load_builtin(apps=None):
    """Write the built-in vocabularies; safe to run again (updates in place)."""
    if apps is None:
        apps = django_apps
    DuoTerm = apps.get_model("prism", "DuoTerm")
    DiseaseTerm = apps.get_model("prism", "DiseaseTerm")
    Gene = apps.get_model("prism", "Gene")
    CellType = apps.get_model("prism", "CellType")

    for curie, shorthand, label, branch in DUO_TERMS:
        DuoTerm.objects.update_or_create(
            curie=curie,
            defaults={"shorthand": shorthand, "label": label, "branch": branch, "obsolete": False},
        )
    parents = {curie: list(ps) for curie, _, ps in DISEASE_TERMS}
    ancestors = compute_ancestors(parents)
    for curie, label, _ in DISEASE_TERMS:
        DiseaseTerm.objects.update_or_create(curie=curie, defaults={"label": label, "ancestors": ancestors[curie]})
    for curie, _, ps in DISEASE_TERMS:
        DiseaseTerm.objects.get(curie=curie).parents.set(ps)
    for hgnc_id, symbol, name, previous, aliases in GENES:
        Gene.objects.update_or_create(
            symbol=symbol,
            defaults={
                "hgnc_id": hgnc_id,
                "name": name,
                "previous_symbols": previous,
                "alias_symbols": aliases,
            },
        )
    for curie, label in CELL_TYPES:
        CellType.objects.update_or_create(curie=curie, defaults={"label": label})


def term_labels(curies):
    """{CURIE: label} for the DUO and MONDO terms among `curies` (two queries at most), so
    pages show a code with its name: "DUO:0000046 (non-commercial use only)"."""
    wanted = {c for c in curies if c}
    labels = {}
    duo = [c for c in wanted if c.startswith("DUO:")]
    mondo = [c for c in wanted if c.startswith("MONDO:")]
    if duo:
        labels.update(DuoTerm.objects.filter(curie__in=duo).values_list("curie", "label"))
    if mondo:
        labels.update(DiseaseTerm.objects.filter(curie__in=mondo).values_list("curie", "label"))
    return labels
