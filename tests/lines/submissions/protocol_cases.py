"""The case tables of test_protocol_rules: for every rule of PROTOCOL.md (v1), one
change to a valid document that breaks it (BREAKS) and one near it that passes
(PASSES)."""

from tests.documents import line, str_profile


def set_path(document, path, value):
    target = document
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value


# --- one change each: (rule, severity, change, expected location) -----------------


def _subclone(doc):
    doc["lines"].append(
        line(
            "L3",
            "D1",
            doc["donors"][0]["str_profile"],
            parental_line="L1",
            modification={"type": "knock_in", "gene": "SOD1"},
        )
    )


BREAKS = {
    "SCHEMA sex not in enum": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["donors", 0, "sex"], "F"),
        "/donors/0/sex",
    ),
    "SCHEMA passage as text": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["lines", 0, "culture", "passage_at_banking"], "15"),
        "/lines/0/culture/passage_at_banking",
    ),
    "SCHEMA bad date": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["lines", 0, "derived_on"], "2025-13-01"),
        "/lines/0/derived_on",
    ),
    "SCHEMA unknown field": (
        "SCHEMA",
        "error",
        lambda d: set_path(d, ["lines", 0, "pasage"], 3),
        "/lines/0",
    ),
    "REF-1 unknown donor": (
        "REF-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "donor"], "D9"),
        "/lines/0/donor",
    ),
    "REF-1 unknown parent": (
        "REF-1",
        "error",
        lambda d: (
            set_path(d, ["lines", 0, "parental_line"], "NOPEi001-A"),
            set_path(d, ["lines", 0, "modification"], {"type": "knock_out"}),
        ),
        "/lines/0/parental_line",
    ),
    "REF-2 duplicate line": (
        "REF-2",
        "error",
        lambda d: set_path(d, ["lines", 1, "local_id"], "L1"),
        "/lines/1/local_id",
    ),
    "REF-2 duplicate donor": (
        "REF-2",
        "error",
        lambda d: (
            set_path(d, ["donors", 1, "local_id"], "D1"),
            set_path(d, ["lines", 1, "donor"], "D1"),
        ),
        "/donors/1/local_id",
    ),
    "NAME-1 pattern": (
        "NAME-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UKB-008-A"),
        "/lines/0/name",
    ),
    "NAME-1 too long": (
        "NAME-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UKBABCi0080-A"),
        "/lines/0/name",
    ),
    "NAME-2 other institution": (
        "NAME-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UCSFi001-A"),
        "/lines/0/name",
    ),
    "NAME-2 ESC letter": (
        "NAME-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "name"], "UKBe001-A"),
        "/lines/0/name",
    ),
    "NAME-3 two donor numbers for one donor": (
        "NAME-3",
        "error",
        lambda d: (
            set_path(d, ["lines", 1, "donor"], "D1"),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi002-B"),
        ),
        "/lines/1/name",
    ),
    "NAME-3 one number for two donors": (
        "NAME-3",
        "error",
        lambda d: (
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi001-B"),
        ),
        "/lines/1/name",
    ),
    "NAME-3 same name twice": (
        "NAME-3",
        "error",
        lambda d: (
            set_path(d, ["lines", 1, "donor"], "D1"),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi001-A"),
        ),
        "/lines/1/name",
    ),
    "NAME-4 subclone not named after parent": (
        "NAME-4",
        "error",
        lambda d: (
            _subclone(d),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-B"),
        ),
        "/lines/2/name",
    ),
    "NAME-4 parent is a subclone": (
        "NAME-4",
        "error",
        lambda d: (
            _subclone(d),
            d["lines"].append(
                line(
                    "L4",
                    "D1",
                    d["donors"][0]["str_profile"],
                    parental_line="L3",
                    modification={"type": "knock_out"},
                    name="UKBi001-A-2",
                )
            ),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-A-1"),
        ),
        "/lines/3/parental_line",
    ),
    "DONOR-1 not MONDO": (
        "DONOR-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "disease"], "ALS"),
        "/donors/0/disease",
    ),
    "DONOR-1 outside vocabulary": (
        "DONOR-1",
        "warning",
        lambda d: (
            set_path(d, ["donors", 0, "disease"], "MONDO:0999999"),
            set_path(d, ["donors", 0, "als"], None),
        ),
        "/donors/0/disease",
    ),
    "DONOR-2 onset after sampling": (
        "DONOR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "als", "age_at_onset"], 60),
        "/donors/0/als/age_at_onset",
    ),
    "DONOR-2 ALSFRS-R over 48": (
        "DONOR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "als", "alsfrs_r"], 52),
        "/donors/0/als/alsfrs_r",
    ),
    "DONOR-2 als block on Parkinson": (
        "DONOR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "disease"], "MONDO:0005180"),
        "/donors/0/als",
    ),
    "VAR-1 unknown gene": (
        "VAR-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "gene"], "SODX"),
        "/donors/0/variants/0/gene",
    ),
    "VAR-1 previous symbol": (
        "VAR-1",
        "warning",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "gene"], "ALS1"),
        "/donors/0/variants/0/gene",
    ),
    "VAR-2 unversioned accession": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "hgvs"], "NM_000454:c.14C>T"),
        "/donors/0/variants/0/hgvs",
    ),
    "VAR-2 bad c. syntax": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "hgvs"], "NM_000454.5:c.14CT"),
        "/donors/0/variants/0/hgvs",
    ),
    "VAR-2 legacy protein": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "protein"], "A4V"),
        "/donors/0/variants/0/protein",
    ),
    "VAR-2 legacy numbering in HGVS form": (
        "VAR-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "protein"], "p.Ala4Val"),
        "/donors/0/variants/0/protein",
    ),
    "CONSENT-1 no permission": (
        "CONSENT-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "codes"], ["DUO:0000046"]),
        "/donors/0/consent/codes",
    ),
    "CONSENT-1 unknown DUO id": (
        "CONSENT-1",
        "error",
        lambda d: d["donors"][0]["consent"]["codes"].append("DUO:0009999"),
        "/donors/0/consent/codes/2",
    ),
    "CONSENT-1 shorthand": (
        "CONSENT-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "codes"], ["GRU"]),
        "/donors/0/consent/codes/0",
    ),
    "CONSENT-1 DS without disease": (
        "CONSENT-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "codes"], ["DUO:0000007"]),
        "/donors/0/consent/disease",
    ),
    "CONSENT-2 withdrawn": (
        "CONSENT-2",
        "error",
        lambda d: set_path(d, ["donors", 0, "consent", "withdrawn_on"], "2025-05-01"),
        "/donors/0/consent/withdrawn_on",
    ),
    "CONSENT-3 genetic data none": (
        "CONSENT-3",
        "warning",
        lambda d: set_path(d, ["donors", 0, "consent", "genetic_data"], "none"),
        "/donors/0/consent/genetic_data",
    ),
    "LINE-1 modified without parent": (
        "LINE-1",
        "error",
        lambda d: set_path(d, ["lines", 0, "modification"], {"type": "knock_in"}),
        "/lines/0/parental_line",
    ),
    "LINE-1 unmodified with parent": (
        "LINE-1",
        "error",
        lambda d: set_path(d, ["lines", 1, "parental_line"], "L1"),
        "/lines/1/parental_line",
    ),
    "LINE-2 derived before consent": (
        "LINE-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "derived_on"], "2024-12-01"),
        "/lines/0/derived_on",
    ),
    "LINE-2 QC before derivation": (
        "LINE-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 2, "date"], "2025-05-01"),
        "/lines/0/qc/2/date",
    ),
    "LINE-3 passage 0": (
        "LINE-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "culture", "passage_at_banking"], 0),
        "/lines/0/culture/passage_at_banking",
    ),
    "LINE-3 QC passage above banking": (
        "LINE-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "passage"], 30),
        "/lines/0/qc/1/passage",
    ),
    "QC-1 missing sterility": (
        "QC-1",
        "error",
        lambda d: d["lines"][0]["qc"].pop(3),
        "/lines/0/qc",
    ),
    "QC-1 sendai without vector clearance": (
        "QC-1",
        "error",
        lambda d: d["lines"][0]["qc"].pop(6),
        "/lines/0/qc",
    ),
    "QC-1 no viral screening": (
        "QC-1",
        "error",
        lambda d: set_path(d, ["donors", 0, "viral_screening"], None),
        "/lines/0/qc",
    ),
    "QC-2 failed": (
        "QC-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 2, "result"], "fail"),
        "/lines/0/qc/2/result",
    ),
    "QC-2 inconclusive": (
        "QC-2",
        "warning",
        lambda d: set_path(d, ["lines", 0, "qc", 3, "result"], "inconclusive"),
        "/lines/0/qc/3/result",
    ),
    "QC-3 flow marker below 70": (
        "QC-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 4, "markers", 1, "percent_positive"], 55),
        "/lines/0/qc/4/markers/1/percent_positive",
    ),
    "QC-3 one marker": (
        "QC-3",
        "error",
        lambda d: d["lines"][0]["qc"][4]["markers"].pop(),
        "/lines/0/qc/4/markers",
    ),
    "QC-3 no surface marker": (
        "QC-3",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 4, "markers", 1], {"marker": "NANOG", "percent_positive": 90}),
        "/lines/0/qc/4/markers",
    ),
    "QC-4 few bands": (
        "QC-4",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "bands"], 300),
        "/lines/0/qc/1/bands",
    ),
    "QC-4 abnormal karyotype": (
        "QC-4",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "karyotype"], "47,XX,+12"),
        "/lines/0/qc/1/karyotype",
    ),
    "QC-4 large CNV": (
        "QC-4",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 1, "cnvs"], [{"chromosome": "20", "type": "gain", "size_mb": 7.5}]),
        "/lines/0/qc/1/cnvs/0",
    ),
    "QC-4 inherited abnormality": (
        "QC-4",
        "warning",
        lambda d: (
            set_path(d, ["lines", 0, "qc", 1, "karyotype"], "46,XX,t(1;3)"),
            set_path(d, ["lines", 0, "qc", 1, "donor_inherited"], True),
        ),
        "/lines/0/qc/1/karyotype",
    ),
    "QC-5 two layers": (
        "QC-5",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 5, "germ_layers"], ["ectoderm", "mesoderm"]),
        "/lines/0/qc/5/germ_layers",
    ),
    "STR-1 few markers": (
        "STR-1",
        "error",
        lambda d: set_path(
            d,
            ["lines", 0, "qc", 0, "str_profile"],
            {"TH01": "6,9.3", "D5S818": "11,12", "TPOX": "8", "Amelogenin": "X"},
        ),
        "/lines/0/qc/0/str_profile",
    ),
    "STR-2 not the donor's": (
        "STR-2",
        "error",
        lambda d: set_path(d, ["lines", 0, "qc", 0, "str_profile"], str_profile("someone else")),
        "/lines/0/qc/0/str_profile",
    ),
    "STR-4 Y on a female donor": (
        "STR-4",
        "warning",
        lambda d: set_path(d, ["lines", 0, "qc", 0, "str_profile", "Amelogenin"], "X,Y"),
        "/lines/0/qc/0/str_profile/Amelogenin",
    ),
}


PASSES = {
    "SCHEMA unknown sex allowed value": (
        "SCHEMA",
        lambda d: set_path(d, ["donors", 0, "sex"], "undifferentiated"),
    ),
    "REF-1 parent in document": ("REF-1", _subclone),
    "NAME-1 conforming subclone name": (
        "NAME-1",
        lambda d: (
            _subclone(d),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-A-1"),
        ),
    ),
    "NAME-2 own code": ("NAME-2", lambda d: set_path(d, ["lines", 0, "name"], "UKBi001-A")),
    "REF-2 a donor and a line may share a local_id": (
        "REF-2",
        lambda d: set_path(d, ["lines", 0, "local_id"], "D1"),
    ),
    "NAME-3 two lines of one donor, one number": (
        "NAME-3",
        lambda d: (
            set_path(d, ["lines", 1, "donor"], "D1"),
            set_path(d, ["lines", 1, "qc", 0, "str_profile"], d["donors"][0]["str_profile"]),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 1, "name"], "UKBi001-B"),
        ),
    ),
    "NAME-4 named parent + -n": (
        "NAME-4",
        lambda d: (
            _subclone(d),
            set_path(d, ["lines", 0, "name"], "UKBi001-A"),
            set_path(d, ["lines", 2, "name"], "UKBi001-A-3"),
        ),
    ),
    "DONOR-1 healthy control": (
        "DONOR-1",
        lambda d: (
            set_path(d, ["donors", 0, "disease"], None),
            set_path(d, ["donors", 0, "als"], None),
        ),
    ),
    "DONOR-2 ALS subtype with als block, ALSFRS-R 48": (
        "DONOR-2",
        lambda d: (
            set_path(d, ["donors", 0, "disease"], "MONDO:0007103"),
            set_path(d, ["donors", 0, "als", "alsfrs_r"], 48),
        ),
    ),
    "VAR-1 C9orf72": (
        "VAR-1",
        lambda d: set_path(d, ["donors", 0, "variants", 0, "gene"], "C9orf72"),
    ),
    "VAR-2 various HGVS": (
        "VAR-2",
        lambda d: set_path(
            d,
            ["donors", 0, "variants"],
            [
                {"gene": "SOD1", "hgvs": "NM_000454.5:c.272A>C", "protein": "p.(Asp91Ala)"},
                {"gene": "FUS", "hgvs": "NM_004960.4:c.1483C>T", "protein": "p.Arg495Ter"},
                {"gene": "TARDBP", "hgvs": "NC_000001.11:g.11022209A>G", "protein": "p.M337V"},
                {"gene": "SOD1", "hgvs": "NM_000454.5:c.-1_2del", "protein": "p.Met1?"},
                {"gene": "FUS", "hgvs": "NM_004960.4:c.1509dup", "protein": "p.Gly504TrpfsTer12"},
            ],
        ),
    ),
    "CONSENT-1 DS with disease": (
        "CONSENT-1",
        lambda d: set_path(
            d,
            ["donors", 0, "consent"],
            {"codes": ["DUO:0000007"], "disease": "MONDO:0004976", "genetic_data": "open"},
        ),
    ),
    "CONSENT-2 not withdrawn": (
        "CONSENT-2",
        lambda d: set_path(d, ["donors", 0, "consent", "withdrawn_on"], None),
    ),
    "CONSENT-3 open genetic data": (
        "CONSENT-3",
        lambda d: set_path(d, ["donors", 0, "consent", "genetic_data"], "open"),
    ),
    "LINE-1 modified with parent": ("LINE-1", _subclone),
    "LINE-2 derived on consent day": (
        "LINE-2",
        lambda d: set_path(d, ["lines", 0, "derived_on"], "2025-01-10"),
    ),
    "LINE-3 passage 200": (
        "LINE-3",
        lambda d: set_path(d, ["lines", 0, "culture", "passage_at_banking"], 200),
    ),
    "QC-1 mRNA needs no vector clearance; line-level viral screening": (
        "QC-1",
        lambda d: (
            set_path(d, ["lines", 0, "reprogramming"], {"method": "mrna"}),
            d["lines"][0]["qc"].pop(6),
            set_path(d, ["donors", 0, "viral_screening"], None),
            set_path(
                d,
                ["lines", 0, "viral_screening"],
                {"HIV-1": "negative", "HIV-2": "negative", "HBV": "negative", "HCV": "negative"},
            ),
            set_path(d, ["donors", 1, "viral_screening"], None),
            d["lines"][1]["qc"].append({"test": "viral_screening", "method": "pcr", "result": "pass"}),
        ),
    ),
    "QC-2 fail then later pass": (
        "QC-2",
        lambda d: d["lines"][0]["qc"].insert(
            0, {"test": "mycoplasma", "method": "pcr", "result": "fail", "date": "2025-08-01"}
        ),
    ),
    "QC-3 flow at 70 and immunostaining": (
        "QC-3",
        lambda d: (
            set_path(d, ["lines", 0, "qc", 4, "markers", 1, "percent_positive"], 70),
            set_path(
                d,
                ["lines", 1, "qc", 4],
                {
                    "test": "pluripotency",
                    "method": "immunostaining",
                    "result": "pass",
                    "markers": [{"marker": "NANOG"}, {"marker": "SSEA-4"}],
                },
            ),
        ),
    ),
    "QC-4 small CNV, SNP array, inherited": (
        "QC-4",
        lambda d: set_path(
            d,
            ["lines", 0, "qc", 1],
            {
                "test": "genomic_integrity",
                "method": "snp_array",
                "result": "pass",
                "cnvs": [{"chromosome": "1", "type": "loss", "size_mb": 5}],
            },
        ),
    ),
    "QC-5 three layers in two records": (
        "QC-5",
        lambda d: (
            set_path(d, ["lines", 0, "qc", 5, "germ_layers"], ["ectoderm", "mesoderm"]),
            d["lines"][0]["qc"].append(
                {
                    "test": "trilineage",
                    "method": "scorecard",
                    "result": "pass",
                    "germ_layers": ["endoderm"],
                }
            ),
        ),
    ),
    "STR-1 eight markers and ND": (
        "STR-1",
        lambda d: set_path(
            d,
            ["lines", 0, "qc", 0, "str_profile"],
            {
                **{m: v for m, v in list(d["donors"][0]["str_profile"].items())[:8]},
                "TPOX": "ND",
                "Amelogenin": "X",
            },
        ),
    ),
    "STR-2 matches parental line": (
        "STR-2",
        lambda d: (_subclone(d), set_path(d, ["donors", 0, "str_profile"], None)),
    ),
    "STR-4 male with X,Y": (
        "STR-4",
        lambda d: (
            set_path(d, ["donors", 0, "sex"], "male"),
            set_path(d, ["donors", 0, "str_profile", "Amelogenin"], "X,Y"),
            set_path(d, ["lines", 0, "qc", 0, "str_profile", "Amelogenin"], "X,Y"),
            set_path(d, ["lines", 0, "qc", 1, "karyotype"], "46,XY"),
        ),
    ),
}
