"""The small fact tables the demo catalog is built from (see demo/catalog.py).

Written for this project from the public literature: MONDO subtype ↔ gene pairs
(as in core.vocabulary), MANE Select RefSeq transcripts, and pathogenic variants
reported in ALS families (ClinVar, ALSoD). Coding positions follow HGVS: c.1 is
the A of the ATG, so SOD1 "legacy" names, which skip Met1, are one residue lower
than the p. notation (A4V = p.Ala5Val, D90A = p.Asp91Ala, G93A = p.Gly94Ala).
The institutions, donors and lines themselves are invented.
"""

from core.vocabulary import FAMILIAL_ALS, SPORADIC_ALS

# (code, name, country, city, continent). Invented consortium members; codes
# follow the hPSCreg rule (2–6 capital letters).
INSTITUTIONS = [
    ("NALS", "Nordic ALS Stem Cell Centre", "Sweden", "Umeå", "Europe"),
    ("RNB", "Rhine Neuroregeneration Biobank", "Germany", "Bonn", "Europe"),
    ("LMNI", "London Motor Neurone Institute", "United Kingdom", "London", "Europe"),
    ("BNSC", "Boston Neurogenomics Stem Cell Core", "United States", "Boston", "North America"),
    ("MNIC", "Montreal Neuro iPSC Core", "Canada", "Montreal", "North America"),
    ("KNSC", "Kansai Neural Stem Cell Consortium", "Japan", "Kyoto", "Asia"),
    ("SPNB", "São Paulo Neurogenetics Cell Bank", "Brazil", "São Paulo", "South America"),
    ("CTNR", "Cape Town Neurogenetics Resource", "South Africa", "Cape Town", "Africa"),
    ("MAIN", "Melbourne ALS iPSC Network", "Australia", "Melbourne", "Oceania"),
]

# Ancestry mix of each institution's donors (weights): diversity is the point of
# a consortium, and it follows where each bank recruits.
ANCESTRY_WEIGHTS = {
    "NALS": {"European": 90, "Middle Eastern": 5, "South Asian": 3, "unknown": 2},
    "RNB": {"European": 80, "Middle Eastern": 10, "African": 4, "East Asian": 3, "unknown": 3},
    "LMNI": {"European": 62, "South Asian": 16, "African": 14, "East Asian": 5, "unknown": 3},
    "BNSC": {
        "European": 55,
        "African": 20,
        "Admixed American": 13,
        "East Asian": 8,
        "South Asian": 4,
    },
    "MNIC": {"European": 70, "East Asian": 10, "African": 8, "Middle Eastern": 7, "South Asian": 5},
    "KNSC": {"East Asian": 96, "European": 2, "unknown": 2},
    "SPNB": {"Admixed American": 65, "European": 20, "African": 15},
    "CTNR": {"African": 70, "European": 15, "South Asian": 10, "Admixed American": 5},
    "MAIN": {"European": 62, "East Asian": 14, "Oceanian": 12, "South Asian": 12},
}

# How many donors each institution recruits (weights, not counts).
INSTITUTION_WEIGHTS = {
    "NALS": 14,
    "RNB": 16,
    "LMNI": 15,
    "BNSC": 16,
    "MNIC": 9,
    "KNSC": 12,
    "SPNB": 8,
    "CTNR": 6,
    "MAIN": 8,
}

# Subtype key → (MONDO id, gene symbol, HGNC id). Labels come from core.vocabulary.
SUBTYPES = {
    "ALS1": ("MONDO:0007103", "SOD1", "HGNC:11179"),
    "ALS6": ("MONDO:0011951", "FUS", "HGNC:4010"),
    "ALS8": ("MONDO:0012077", "VAPB", "HGNC:12649"),
    "ALS10": ("MONDO:0012790", "TARDBP", "HGNC:11571"),
    "ALS12": ("MONDO:0013264", "OPTN", "HGNC:17142"),
    "ALS15": ("MONDO:0010459", "UBQLN2", "HGNC:12509"),
    "ALS18": ("MONDO:0013891", "PFN1", "HGNC:8881"),
    "ALS19": ("MONDO:0014223", "ERBB4", "HGNC:3432"),
    "ALS20": ("MONDO:0014181", "HNRNPA1", "HGNC:5031"),
    "ALS21": ("MONDO:0011632", "MATR3", "HGNC:6912"),
    "ALS23": ("MONDO:0027694", "ANXA11", "HGNC:535"),
    "FTDALS1": ("MONDO:0007105", "C9orf72", "HGNC:28337"),
    "FTDALS2": ("MONDO:0014395", "CHCHD10", "HGNC:15559"),
    "FTDALS4": ("MONDO:0014641", "TBK1", "HGNC:11584"),
    "FTDALS5": ("MONDO:0030875", "CCNF", "HGNC:1591"),
    "FTDALS6": ("MONDO:0013501", "VCP", "HGNC:12666"),
}

# The gene of each subtype, by MONDO id (what tests and validation check variants against).
GENE_OF_SUBTYPE = {mondo: gene for mondo, gene, _ in SUBTYPES.values()}

# MANE Select transcripts of the genes with coding variants below.
TRANSCRIPTS = {
    "SOD1": "NM_000454.5",
    "FUS": "NM_004960.4",
    "TARDBP": "NM_007375.4",
    "TBK1": "NM_013254.4",
    "OPTN": "NM_001008211.1",
    "VCP": "NM_007126.5",
    "UBQLN2": "NM_013444.4",
    "PFN1": "NM_005022.4",
    "VAPB": "NM_004738.5",
    "MATR3": "NM_199189.3",
    "ANXA11": "NM_145869.2",
    "CCNF": "NM_001761.3",
    "CHCHD10": "NM_213720.3",
    "HNRNPA1": "NM_002136.4",
    "ERBB4": "NM_005235.3",
}

# The C9orf72 G4C2 repeat lies in intron 1, upstream of the coding sequence.
C9ORF72_TRANSCRIPT = "NM_001256054.3"
C9ORF72_REPEAT_START = "c.-45+163"

# Known pathogenic coding variants: (subtype, c., p., legacy name, inheritance, weight).
# inheritance: "AD" heterozygous, "AR" homozygous, "XD" X-linked dominant
# (hemizygous in men), "ADH" dominant but often homozygous (SOD1 D90A: recessive
# in Scandinavia, dominant elsewhere). Weights shape how often each appears.
VARIANTS = [
    ("ALS1", "c.14C>T", "p.Ala5Val", "A4V", "AD", 6),
    ("ALS1", "c.272A>C", "p.Asp91Ala", "D90A", "ADH", 4),
    ("ALS1", "c.281G>C", "p.Gly94Ala", "G93A", "AD", 3),
    ("ALS1", "c.256G>C", "p.Gly86Arg", "G85R", "AD", 2),
    ("ALS1", "c.112G>A", "p.Gly38Arg", "G37R", "AD", 2),
    ("ALS1", "c.140A>G", "p.His47Arg", "H46R", "AD", 1),
    ("ALS1", "c.341T>C", "p.Ile114Thr", "I113T", "AD", 3),
    ("ALS1", "c.302A>G", "p.Glu101Gly", "E100G", "AD", 1),
    ("ALS1", "c.435G>C", "p.Leu145Phe", "L144F", "AD", 1),
    ("ALS6", "c.1561C>T", "p.Arg521Cys", "R521C", "AD", 3),
    ("ALS6", "c.1562G>A", "p.Arg521His", "R521H", "AD", 2),
    ("ALS6", "c.1574C>T", "p.Pro525Leu", "P525L", "AD", 3),
    ("ALS6", "c.1483C>T", "p.Arg495Ter", "R495X", "AD", 1),
    ("ALS10", "c.1009A>G", "p.Met337Val", "M337V", "AD", 3),
    ("ALS10", "c.892G>A", "p.Gly298Ser", "G298S", "AD", 2),
    ("ALS10", "c.1144G>A", "p.Ala382Thr", "A382T", "AD", 3),
    ("ALS10", "c.991C>A", "p.Gln331Lys", "Q331K", "AD", 1),
    ("ALS10", "c.943G>A", "p.Ala315Thr", "A315T", "AD", 1),
    ("ALS10", "c.1042G>T", "p.Gly348Cys", "G348C", "AD", 1),
    ("FTDALS4", "c.2086G>A", "p.Glu696Lys", "E696K", "AD", 2),
    ("FTDALS4", "c.140G>A", "p.Arg47His", "R47H", "AD", 2),
    ("ALS12", "c.1433A>G", "p.Glu478Gly", "E478G", "AD", 2),
    ("ALS12", "c.1192C>T", "p.Gln398Ter", "Q398X", "AR", 1),
    ("FTDALS6", "c.464G>A", "p.Arg155His", "R155H", "AD", 3),
    ("FTDALS6", "c.463C>T", "p.Arg155Cys", "R155C", "AD", 1),
    ("FTDALS6", "c.572G>A", "p.Arg191Gln", "R191Q", "AD", 1),
    ("FTDALS6", "c.476G>A", "p.Arg159His", "R159H", "AD", 1),
    ("ALS15", "c.1490C>A", "p.Pro497His", "P497H", "XD", 1),
    ("ALS15", "c.1516C>A", "p.Pro506Thr", "P506T", "XD", 1),
    ("ALS18", "c.211T>G", "p.Cys71Gly", "C71G", "AD", 1),
    ("ALS18", "c.341T>C", "p.Met114Thr", "M114T", "AD", 1),
    ("ALS8", "c.166C>T", "p.Pro56Ser", "P56S", "AD", 2),
    ("ALS21", "c.254C>G", "p.Ser85Cys", "S85C", "AD", 1),
    ("ALS23", "c.119A>G", "p.Asp40Gly", "D40G", "AD", 1),
    ("FTDALS5", "c.1861A>G", "p.Ser621Gly", "S621G", "AD", 1),
    ("FTDALS2", "c.176C>T", "p.Ser59Leu", "S59L", "AD", 2),
    ("ALS20", "c.785A>T", "p.Asp262Val", "D262V", "AD", 1),
    ("ALS19", "c.2780G>A", "p.Arg927Gln", "R927Q", "AD", 1),
]

# Variants with fewer families or functional studies behind them than the classic
# SOD1/TARDBP/FUS/VCP mutations: ACMG "likely pathogenic" rather than "pathogenic".
LIKELY_PATHOGENIC = {"R47H", "E696K", "R927Q", "S621G", "D262V", "S85C", "D40G", "P506T"}

# Typical age at onset (mean, sd) by subtype; sporadic ALS peaks around 60.
ONSET_AGE = {
    "ALS1": (47, 10),
    "ALS6": (38, 12),
    "ALS8": (45, 8),
    "ALS10": (54, 9),
    "ALS12": (50, 10),
    "ALS15": (36, 10),
    "ALS18": (46, 8),
    "ALS19": (50, 8),
    "ALS20": (52, 8),
    "ALS21": (50, 8),
    "ALS23": (62, 8),
    "FTDALS1": (57, 8),
    "FTDALS2": (52, 10),
    "FTDALS4": (62, 8),
    "FTDALS5": (58, 8),
    "FTDALS6": (50, 8),
    "familial": (54, 10),
    "sporadic": (61, 10),
}

# Monthly ALSFRS-R decline (mean, sd): SOD1 A4V and FUS P525L are fast, D90A slow.
PROGRESSION = {"fast": (1.6, 0.5), "typical": (0.8, 0.35), "slow": (0.3, 0.12)}
FAST_VARIANTS = {"A4V", "P525L", "R521C", "G93A"}
SLOW_VARIANTS = {"D90A", "H46R", "E100G"}

# How the donor cohort is made up: (kind, count). Kinds are read in demo/catalog.py.
COHORT = [
    ("control", 32),
    ("sporadic", 52),
    ("sporadic_c9", 8),
    ("sporadic_de_novo_fus", 2),
    ("familial_c9", 24),
    ("familial_variant", 52),
    ("familial_unknown", 6),
]

FAMILIAL_UNKNOWN = FAMILIAL_ALS
SPORADIC = SPORADIC_ALS

# STR marker → (allele, weight) lists; roughly the common alleles of each
# locus, so that profiles look like real ones.
STR_ALLELES = {
    "CSF1PO": [("8", 2), ("9", 3), ("10", 25), ("11", 30), ("12", 32), ("13", 7), ("14", 1)],
    "D13S317": [("8", 11), ("9", 8), ("10", 6), ("11", 30), ("12", 28), ("13", 12), ("14", 5)],
    "D16S539": [("8", 2), ("9", 12), ("10", 6), ("11", 30), ("12", 31), ("13", 16), ("14", 3)],
    "D18S51": [
        ("12", 13),
        ("13", 12),
        ("14", 16),
        ("15", 15),
        ("16", 13),
        ("17", 12),
        ("18", 8),
        ("19", 4),
        ("20", 3),
        ("21", 2),
        ("22", 2),
    ],
    "D21S11": [
        ("27", 4),
        ("28", 16),
        ("29", 19),
        ("30", 25),
        ("30.2", 3),
        ("31", 7),
        ("31.2", 10),
        ("32.2", 10),
        ("33.2", 4),
        ("34", 2),
    ],
    "D3S1358": [("14", 12), ("15", 26), ("16", 25), ("17", 21), ("18", 15), ("19", 1)],
    "D5S818": [("9", 4), ("10", 5), ("11", 36), ("12", 38), ("13", 15), ("14", 2)],
    "D7S820": [("8", 16), ("9", 15), ("10", 28), ("11", 21), ("12", 15), ("13", 3), ("14", 2)],
    "D8S1179": [("10", 9), ("11", 8), ("12", 14), ("13", 32), ("14", 21), ("15", 11), ("16", 5)],
    "FGA": [
        ("19", 6),
        ("20", 13),
        ("21", 18),
        ("22", 19),
        ("22.2", 1),
        ("23", 14),
        ("24", 14),
        ("25", 8),
        ("26", 5),
        ("27", 2),
    ],
    "Penta D": [
        ("8", 3),
        ("9", 19),
        ("10", 12),
        ("11", 16),
        ("12", 18),
        ("13", 19),
        ("14", 10),
        ("15", 3),
    ],
    "Penta E": [
        ("5", 7),
        ("7", 16),
        ("8", 5),
        ("10", 8),
        ("11", 9),
        ("12", 16),
        ("13", 10),
        ("14", 8),
        ("15", 6),
        ("16", 5),
        ("17", 4),
        ("18", 3),
        ("19", 2),
        ("20", 1),
    ],
    "TH01": [("6", 23), ("7", 19), ("8", 11), ("9", 15), ("9.3", 30), ("10", 2)],
    "TPOX": [("8", 53), ("9", 12), ("10", 5), ("11", 25), ("12", 5)],
    "vWA": [("14", 10), ("15", 11), ("16", 20), ("17", 28), ("18", 20), ("19", 9), ("20", 2)],
    "D2S1338": [
        ("16", 4),
        ("17", 18),
        ("18", 7),
        ("19", 13),
        ("20", 14),
        ("22", 3),
        ("23", 12),
        ("24", 10),
        ("25", 10),
    ],
    "D19S433": [("12", 8), ("13", 25), ("14", 36), ("14.2", 4), ("15", 17), ("15.2", 4), ("16", 6)],
}

# STR kits: (name, markers without Amelogenin). 8 to 16 scored markers per profile.
STR_KITS = [
    (
        "PowerPlex 16 HS",
        [
            "CSF1PO",
            "D13S317",
            "D16S539",
            "D18S51",
            "D21S11",
            "D3S1358",
            "D5S818",
            "D7S820",
            "D8S1179",
            "FGA",
            "Penta D",
            "Penta E",
            "TH01",
            "TPOX",
            "vWA",
        ],
    ),
    (
        "AmpFLSTR Identifiler Plus",
        [
            "CSF1PO",
            "D13S317",
            "D16S539",
            "D18S51",
            "D21S11",
            "D3S1358",
            "D5S818",
            "D7S820",
            "D8S1179",
            "FGA",
            "TH01",
            "TPOX",
            "vWA",
            "D2S1338",
            "D19S433",
        ],
    ),
    (
        "GenePrint 10",
        ["D13S317", "D16S539", "D21S11", "D5S818", "D7S820", "TH01", "TPOX", "vWA", "CSF1PO"],
    ),
    (
        "ANSI/ATCC ASN-0002 8-locus panel",
        ["CSF1PO", "D13S317", "D16S539", "D5S818", "D7S820", "TH01", "TPOX", "vWA"],
    ),
]

# (CL id, weight); labels come from core.vocabulary.CELL_TYPES.
SOURCE_CELL_TYPES = [
    ("CL:0002620", 40),  # skin fibroblast
    ("CL:0000057", 8),  # fibroblast
    ("CL:2000001", 30),  # peripheral blood mononuclear cell
    ("CL:0000084", 6),  # T cell
    ("CL:1000497", 8),  # kidney cell (urine-derived renal epithelial cells)
    ("CL:0000312", 3),  # keratinocyte
]

REPROGRAMMING_METHODS = [
    ("sendai", 55),
    ("episomal", 25),
    ("mrna", 10),
    ("lentivirus", 6),
    ("retrovirus", 4),
]

CULTURE_MEDIA = [
    ("mTeSR1", 30),
    ("mTeSR Plus", 25),
    ("StemFlex", 15),
    ("Essential 8", 20),
    ("StemMACS iPS-Brew XF", 10),
]
CULTURE_MATRICES = [
    ("Matrigel (hESC-qualified)", 45),
    ("Geltrex", 20),
    ("Vitronectin (VTN-N)", 20),
    ("Laminin-521", 15),
]

PLURIPOTENCY_MARKERS = ["OCT4", "NANOG", "SOX2", "TRA-1-60", "TRA-1-81", "SSEA4"]
GERM_LAYER_MARKERS = {
    "ectoderm": ["PAX6", "SOX1", "NES", "OTX2"],
    "mesoderm": ["TBXT", "HAND1", "MIXL1", "PDGFRA"],
    "endoderm": ["SOX17", "FOXA2", "GATA4", "CXCR4"],
}

# Karyotypic changes that cell culture selects for (recurrent in hPSC banks).
CULTURE_ABNORMALITIES = [
    "+12",
    "+20q11.21 gain",
    "i(20q)",
    "+17q",
    "+1q",
]

TESTING_LABS = [
    "Cell Line Genetics",
    "WiCell Cytogenetics Lab",
    "Eurofins Genomics",
    "Minerva Biolabs",
    "Lonza MycoAlert service",
    "In-house QC core",
]

# DUO permission (CURIE) weights for consent.
CONSENT_PERMISSIONS = [
    ("DUO:0000042", 40),
    ("DUO:0000006", 30),
    ("DUO:0000007", 24),
    ("DUO:0000004", 6),
]
# (modifier CURIE, probability).
CONSENT_MODIFIERS = [
    ("DUO:0000046", 0.20),  # NCU
    ("DUO:0000045", 0.05),  # NPU
    ("DUO:0000021", 0.30),  # IRB
    ("DUO:0000019", 0.15),  # PUB
    ("DUO:0000020", 0.04),  # COL
    ("DUO:0000029", 0.04),  # RTN
]

# Knock-ins made in healthy control lines (iNDI-style isogenic sets): (subtype, c., p., legacy).
KNOCK_INS = [
    ("ALS1", "c.14C>T", "p.Ala5Val", "A4V"),
    ("ALS1", "c.281G>C", "p.Gly94Ala", "G93A"),
    ("ALS10", "c.1009A>G", "p.Met337Val", "M337V"),
    ("ALS10", "c.991C>A", "p.Gln331Lys", "Q331K"),
    ("ALS6", "c.1574C>T", "p.Pro525Leu", "P525L"),
    ("ALS6", "c.1561C>T", "p.Arg521Cys", "R521C"),
    ("FTDALS6", "c.464G>A", "p.Arg155His", "R155H"),
    ("FTDALS4", "c.2086G>A", "p.Glu696Lys", "E696K"),
    ("ALS18", "c.211T>G", "p.Cys71Gly", "C71G"),
]

REQUESTER_ORGANISATIONS = [
    ("Karolinska Institutet, Dept. of Neuroscience", "academic"),
    ("University of Toronto, Tanz Centre", "academic"),
    ("ALS Therapy Alliance Foundation", "non_profit"),
    ("NeuroVance Therapeutics Ltd", "commercial"),
    ("Universidad de Buenos Aires, Instituto de Neurociencias", "academic"),
]
