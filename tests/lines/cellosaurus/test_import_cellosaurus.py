"""The Cellosaurus importer, on the real files in ../shared/data/cellosaurus.

The 1000-entry release-29 file is imported once for TestRelease29 (inside a
transaction rolled back after it); tests that need their own data build small files from real
entries in tmp_path."""

import gzip
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction

from donors.models import Donor, Variant
from lines.cellosaurus.importer import import_cellosaurus
from lines.cellosaurus.parser import (
    MalformedEntry,
    conforms_to_hpscreg,
    iter_entries,
    parse_age_years,
    read_entries,
)
from lines.cellosaurus.variations import parse_sequence_variation
from lines.models import CellLine, ReferenceProfile
from tests.conftest import reference_data_dir
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db

HEAD_1000 = "cellosaurus/cellosaurus_r29_head1000.txt.gz"
MIN_FILE = "cellosaurus/cellosaurus_r29_min.txt"
NEWER_FORMAT = "cellosaurus/biopython_examples/cell_lines_2.txt"


def _data_dir():
    path = reference_data_dir()
    if not (path / HEAD_1000).is_file():
        pytest.skip(f"Cellosaurus reference data not found under {path} (set PRISM_REFERENCE_DATA)")
    return path


@pytest.fixture(scope="class")
def release29(django_db_setup, django_db_blocker):
    """The release-29 head file imported once with --all-categories for the tests of
    TestRelease29; rolled back after them so that no other test sees it."""
    path = _data_dir() / HEAD_1000
    with django_db_blocker.unblock(), transaction.atomic():
        report = import_cellosaurus(path, all_categories=True)
        yield path, report
        transaction.set_rollback(True)


def real_entries(path, *accessions):
    """The verbatim text of some entries of a real file, keyed by accession."""
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as handle:
        text = handle.read()
    blocks = {}
    for block in text.split("\n//\n"):
        start = block.find("\nID   ") + 1 if not block.startswith("ID   ") else 0
        block = block[start:]
        for line in block.splitlines():
            if line.startswith("AC   ") and line[5:] in accessions:
                blocks[line[5:]] = block + "\n//\n"
    missing = set(accessions) - set(blocks)
    assert not missing, f"entries not found in {path}: {missing}"
    return blocks


# --- the release-29 file --------------------------------------------------------------


class TestRelease29:
    def test_it_imports_the_95_human_ipsc_lines_as_released_not_distributed(self, release29):
        _, report = release29
        assert report.entries_read == 1000
        assert report.human_ipsc == 95
        assert report.skipped == []
        lines = CellLine.objects.filter(cellosaurus_accession__isnull=False)
        assert lines.count() == 95
        assert set(lines.values_list("status", "availability")) == {("released", "not_distributed")}
        assert not lines.filter(institution__isnull=False).exists()
        # A mouse iPSC of the file is not a catalog line.
        assert not CellLine.objects.filter(cellosaurus_accession__in=["CVCL_KA96", "CVCL_IW91"]).exists()

    def test_all_categories_keeps_the_88_str_profiles_as_references(self, release29):
        assert ReferenceProfile.objects.count() == 88
        reference = ReferenceProfile.objects.get(accession="CVCL_2261")
        assert reference.name == "1-7HB2"
        assert reference.synonyms == ["1-7 HB2", "HB2"]
        assert reference.category == "Transformed cell line"
        assert reference.species == "Homo sapiens"
        assert reference.str_sources == ["ECACC"]
        assert reference.str_profile == {
            "Amelogenin": ["X"],
            "CSF1PO": ["12", "13"],
            "D13S317": ["12"],
            "D16S539": ["8", "13"],
            "D5S818": ["10", "13"],
            "D7S820": ["8", "10"],
            "TH01": ["7", "9"],
            "TPOX": ["11"],
            "vWA": ["14", "17"],
        }
        # Non-human profiles are references too, under their own marker names.
        dog = ReferenceProfile.objects.filter(species__contains="Canis").first()
        assert dog is not None and any(marker.startswith("Dog ") for marker in dog.str_profile)

    def test_disagreeing_str_sources_are_kept_as_conflicts(self, release29):
        reference = ReferenceProfile.objects.get(accession="CVCL_M605")
        assert reference.str_conflicts["D13S317"] == [
            {"alleles": ["8", "11"], "sources": ["PubMed=25877200"]},
            {"alleles": ["8"], "sources": ["Microsynth"]},
        ]
        assert reference.str_profile["D13S317"] in (["8", "11"], ["8"])
        assert set(reference.str_sources) == {"Microsynth", "PubMed=25877200"}

    def test_als_lines_27b_and_27e_share_one_pseudonymous_donor_with_sod1_g86s(self, release29):
        line_b = CellLine.objects.get(cellosaurus_accession="CVCL_8997")
        line_e = CellLine.objects.get(cellosaurus_accession="CVCL_8998")
        assert (line_b.name, line_e.name) == ("27b", "27e")
        assert line_b.alternative_names == ["iPS-27b", "hiPS-27b", "27b-ALS"]
        assert line_b.donor_id == line_e.donor_id
        donor = line_b.donor
        assert donor.code == "CVCL-8997"
        assert (donor.sex, donor.age_at_sampling) == ("female", 29)
        # NCIt C34373 maps to MONDO by its name through the vocabulary table, not by a guess.
        assert donor.disease == "MONDO:0004976"
        assert line_b.disease_note == "Amyotrophic lateral sclerosis (NCIt:C34373)"
        variant = Variant.objects.get(donor=donor)
        assert (variant.gene, variant.hgnc_id, variant.protein, variant.hgvs, variant.origin) == (
            "SOD1",
            "HGNC:11179",
            "p.Gly86Ser",
            "c.256G>A",
            "germline",
        )
        assert not Variant.objects.filter(line__in=[line_b, line_e]).exists()

    def test_lines_derived_from_one_fibroblast_line_share_its_donor(self, release29):
        # 201B1 … 201B7 and 253G1/253G4 were all reprogrammed from HDF1388 (HI CVCL_DP59).
        donors = set(CellLine.objects.filter(name__in=["201B1", "201B7", "253G1"]).values_list("donor", flat=True))
        assert len(donors) == 1
        donor = Donor.objects.get(pk=donors.pop())
        assert donor.code.startswith("CVCL-") and (donor.sex, donor.age_at_sampling) == (
            "female",
            36,
        )

    def test_names_are_flagged_against_the_hpscreg_pattern_and_cross_references_kept(self, release29):
        line = CellLine.objects.get(name="201B1")
        assert line.hpscreg_name == "KUIFMSi004-A"
        assert line.name_conforms is False
        assert CellLine.objects.filter(name_conforms=True).count() == 0  # no release-29 ID conforms
        assert conforms_to_hpscreg("KUIFMSi004-A") and conforms_to_hpscreg("BIONi010-C-2")
        assert not conforms_to_hpscreg("LZUSHI001-A") and not conforms_to_hpscreg("FDCHDPe012-a")

    def test_ages_are_whole_years_or_unknown(self, release29):
        assert CellLine.objects.get(name="246G1").donor.age_at_sampling == 0  # "<1M"
        assert CellLine.objects.get(name="23C27").donor.age_at_sampling is None  # "30-39Y"
        assert CellLine.objects.get(name="18T-iPSC").donor.age_at_sampling is None  # "Fetus"

    def test_rerunning_updates_in_place_and_never_duplicates(self, release29):
        path, _ = release29
        counts = (
            CellLine.objects.count(),
            Donor.objects.count(),
            Variant.objects.count(),
            ReferenceProfile.objects.count(),
            CellLine.history.count(),
        )
        report = import_cellosaurus(path, all_categories=True)
        assert (report.lines_created, report.lines_updated, report.lines_unchanged) == (0, 0, 95)
        assert (report.references_created, report.references_updated) == (0, 0)
        assert (report.donors_created, report.variants_created) == (0, 0)
        assert (
            CellLine.objects.count(),
            Donor.objects.count(),
            Variant.objects.count(),
            ReferenceProfile.objects.count(),
            CellLine.history.count(),
        ) == counts


# --- small files built from real entries ------------------------------------------------


def test_default_import_makes_lines_but_no_reference_profiles_from_the_plain_file():
    path = _data_dir() / MIN_FILE
    report = import_cellosaurus(path)
    assert report.entries_read == 6 and report.skipped == []
    assert list(CellLine.objects.values_list("name", flat=True)) == ["PSMi002-A"]
    line = CellLine.objects.get()
    assert line.name_conforms and line.donor.code == "CVCL-VE81"
    assert ReferenceProfile.objects.count() == 0
    assert {v.protein for v in Variant.objects.filter(donor=line.donor)} == {
        "p.Arg190Trp",
        "p.Arg594Gln",
    }


def test_gzip_and_plain_text_read_the_same(tmp_path):
    plain = _data_dir() / MIN_FILE
    zipped = tmp_path / "min.txt.gz"
    zipped.write_bytes(gzip.compress(plain.read_bytes()))
    assert list(read_entries(zipped)) == list(read_entries(plain))


def test_the_newer_format_with_dt_lines_parses_and_imports(tmp_path):
    path = _data_dir() / NEWER_FORMAT
    entries = list(read_entries(path))
    assert [e.accession for e in entries] == ["CVCL_3245", "CVCL_2260"]
    xp3os, chang = entries
    assert xp3os.dates.startswith("Created: 04-04-12")
    assert xp3os.species == [(9606, "Homo sapiens (Human)")]
    assert xp3os.age_years == 5
    [variation] = xp3os.sequence_variations()[0]
    assert (
        variation.gene,
        variation.hgnc_id,
        variation.hgvs,
        variation.legacy_name,
        variation.zygosity,
    ) == ("XPA", "HGNC:12814", "c.390-1G>C", "IVS3-1G>C", "homozygous")
    assert chang.problematic.startswith("Contaminated. Shown to be a HeLa derivative")
    assert chang.parents == [("CVCL_0030", "HeLa")]

    report = import_cellosaurus(path, all_categories=True)
    assert report.entries_read == 2 and report.skipped == []
    reference = ReferenceProfile.objects.get(accession="CVCL_2260")
    assert reference.problematic.startswith("Contaminated.")
    assert reference.str_sources == ["ATCC", "KCLB"]
    assert reference.str_profile["D13S317"] == ["12", "13.3"]
    assert [d["id"] for d in reference.diseases] == ["C27677"]


@pytest.mark.parametrize("name", ["cell_lines_1.txt", "cell_lines_2.txt", "cell_lines_3.txt"])
def test_every_newer_format_example_parses_without_problems(name):
    items = list(read_entries(_data_dir() / "cellosaurus/biopython_examples" / name))
    assert items and not [i.describe() for i in items if isinstance(i, MalformedEntry)]
    assert all(entry.dates.startswith("Created:") and entry.category for entry in items)


def test_a_malformed_entry_is_reported_with_its_line_number_and_skipped(tmp_path):
    blocks = real_entries(_data_dir() / HEAD_1000, "CVCL_8997", "CVCL_8998", "CVCL_2261")
    no_accession = "\n".join(line for line in blocks["CVCL_2261"].splitlines() if not line.startswith("AC   ")) + "\n"
    broken_line = blocks["CVCL_8998"].replace("SX   Female\n", "SX   Female\nthis line is broken\n")
    text = blocks["CVCL_8997"] + no_accession + broken_line
    path = tmp_path / "broken.txt"
    path.write_text(text)
    lines = text.splitlines()
    entry_2_start = lines.index("ID   1-7HB2") + 1
    broken_number = lines.index("this line is broken") + 1

    stdout, stderr = io.StringIO(), io.StringIO()
    call_command("import_cellosaurus", str(path), stdout=stdout, stderr=stderr)

    assert f"line {entry_2_start}: '1-7HB2': entry has no AC (accession) line" in stderr.getvalue()
    assert f"line {broken_number} (entry starting at line" in stderr.getvalue()
    assert "unreadable line 'this line is broken'" in stderr.getvalue()
    assert "Skipped: 2" in stdout.getvalue()
    # The good entry still loaded.
    assert list(CellLine.objects.values_list("name", flat=True)) == ["27b"]


def test_a_truncated_file_reports_the_unterminated_entry(tmp_path):
    blocks = real_entries(_data_dir() / HEAD_1000, "CVCL_8997", "CVCL_8998")
    text = blocks["CVCL_8997"] + blocks["CVCL_8998"].replace("//\n", "")
    items = list(iter_entries(io.StringIO(text)))
    assert [type(i).__name__ for i in items] == ["CellosaurusEntry", "MalformedEntry"]
    problem = items[1]
    assert isinstance(problem, MalformedEntry)
    assert problem.accession == "CVCL_8998"
    assert problem.line_number == text.splitlines().index("ID   27e") + 1
    assert "no '//' terminator" in problem.reason


def test_an_entry_with_a_broken_id_line_is_one_problem_not_one_per_line(tmp_path):
    blocks = real_entries(_data_dir() / HEAD_1000, "CVCL_8997", "CVCL_8998")
    text = blocks["CVCL_8997"].replace("ID   27b\n", "ID27b\n") + blocks["CVCL_8998"]
    items = list(iter_entries(io.StringIO(text)))
    assert [type(i).__name__ for i in items] == ["MalformedEntry", "CellosaurusEntry"]
    assert items[0].line_number == 1 and "no ID line" in items[0].reason


def test_a_truncated_gzip_keeps_what_was_read_and_says_where_it_stopped(tmp_path):
    blocks = real_entries(_data_dir() / HEAD_1000, "CVCL_8997", "CVCL_8998")
    padding = "".join(real_entries(_data_dir() / HEAD_1000, "CVCL_2261").values()) * 400
    data = gzip.compress((blocks["CVCL_8997"] + blocks["CVCL_8998"] + padding).encode())
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(data[: len(data) - 40])
    with pytest.raises(CommandError, match="could not be read past the entry at line"):
        call_command("import_cellosaurus", str(path), stdout=io.StringIO(), stderr=io.StringIO())
    assert sorted(CellLine.objects.values_list("name", flat=True)) == ["27b", "27e"]
    assert CellLine.objects.get(name="27b").donor == CellLine.objects.get(name="27e").donor


def test_a_file_without_entries_is_an_error(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_text("not a Cellosaurus file\n")
    with pytest.raises(CommandError, match="no Cellosaurus entries found"):
        call_command("import_cellosaurus", str(path), stdout=io.StringIO(), stderr=io.StringIO())


def test_parents_are_linked_whatever_the_order_of_entries(tmp_path):
    blocks = real_entries(_data_dir() / HEAD_1000, "CVCL_8997", "CVCL_8998")
    # 27e made a child of 27b, and listed before it.
    child = blocks["CVCL_8998"].replace("OI   CVCL_8997 ! 27b\n", "HI   CVCL_8997 ! 27b\n")
    path = tmp_path / "children_first.txt"
    path.write_text(child + blocks["CVCL_8997"])
    report = import_cellosaurus(path)
    assert report.parents_linked == 1
    child_line = CellLine.objects.get(name="27e")
    assert child_line.parental_line.name == "27b"
    assert child_line.donor_id == child_line.parental_line.donor_id


def test_a_deposited_line_is_not_taken_over(tmp_path, owner_institution):
    deposited = CellLineFactory(
        name="UKBi027-B",
        cellosaurus_accession="CVCL_8997",
        institution=owner_institution,
        availability="available",
        donor__institution=owner_institution,
    )
    blocks = real_entries(_data_dir() / HEAD_1000, "CVCL_8997")
    path = tmp_path / "one.txt"
    path.write_text(blocks["CVCL_8997"])
    report = import_cellosaurus(path)
    deposited.refresh_from_db()
    assert report.deposited_lines_matched == 1 and report.lines_created == 0
    assert (deposited.name, deposited.institution, deposited.availability) == (
        "UKBi027-B",
        owner_institution,
        "available",
    )
    assert "27b" in deposited.alternative_names
    assert not Variant.objects.filter(donor=deposited.donor).exists()


def test_a_line_whose_accession_became_secondary_is_updated_not_duplicated(tmp_path):
    block = real_entries(_data_dir() / HEAD_1000, "CVCL_8997")["CVCL_8997"]
    path = tmp_path / "one.txt"
    path.write_text(block)
    import_cellosaurus(path)
    # As if an older release had listed 27b under an accession since merged into CVCL_8997.
    CellLine.objects.filter(name="27b").update(cellosaurus_accession="CVCL_ZZ01")
    path.write_text(block.replace("AC   CVCL_8997\n", "AC   CVCL_8997\nAS   CVCL_ZZ01\n"))
    report = import_cellosaurus(path)
    assert (report.lines_created, report.lines_updated) == (0, 1)
    assert list(CellLine.objects.values_list("name", "cellosaurus_accession")) == [("27b", "CVCL_8997")]


# --- parsing, without the database --------------------------------------------------


def test_conflicting_sources_on_one_str_line_become_a_profile_and_conflicts():
    text = (
        "ID   Test line\nAC   CVCL_TST1\nST   Source(s): ATCC; Cosmic-CLP; DSMZ\n"
        "ST   D21S11: 29,30 (ATCC; DSMZ); 29 (Cosmic-CLP)\nST   Amelogenin: X,Y\n"
        "ST   THO1: 6,9.3\nOX   NCBI_TaxID=9606; ! Homo sapiens\nCA   Cancer cell line\n//\n"
    )
    [entry] = iter_entries(io.StringIO(text))
    assert entry.str_profile == {
        "D21S11": ["29", "30"],
        "Amelogenin": ["X", "Y"],
        "TH01": ["6", "9.3"],
    }
    assert entry.str_conflicts == {
        "D21S11": [
            {"alleles": ["29", "30"], "sources": ["ATCC", "DSMZ"]},
            {"alleles": ["29"], "sources": ["Cosmic-CLP"]},
        ]
    }
    assert entry.str_sources == ["ATCC", "Cosmic-CLP", "DSMZ"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Mutation; HGNC; 11179; SOD1; Simple; p.Gly86Ser (c.256G>A); ZygosityUnknown.",
            ("SOD1", "HGNC:11179", "c.256G>A", "p.Gly86Ser", "", False),
        ),
        (
            "Heterozygous for KCNQ1 p.Arg190Trp (c.568C>T) and p.Arg594Gln (1781A>G) (PubMed=29677589).",
            ("KCNQ1", "", "c.568C>T", "p.Arg190Trp", "heterozygous", False),
        ),
        (
            "Mutation; HGNC; 4010; FUS; Simple_edited; p.Pro525Leu (c.1574C>T); Zygosity=Heterozygous; "
            "Note=Engineered by CRISPR/Cas9 (PubMed=1).",
            ("FUS", "HGNC:4010", "c.1574C>T", "p.Pro525Leu", "heterozygous", True),
        ),
        (
            "TERT c.228C>T (-124C>T); in promoter (from parent cell line).",
            ("TERT", "", "c.228C>T", "", "", False),
        ),
    ],
)
def test_sequence_variations_of_both_formats_parse(text, expected):
    first = parse_sequence_variation(text)[0]
    assert (
        first.gene,
        first.hgnc_id,
        first.hgvs,
        first.protein,
        first.zygosity,
        first.engineered,
    ) == expected


def test_statements_without_a_change_are_not_variants():
    assert parse_sequence_variation("Has no TP53 mutation (PubMed=16888811).") is None
    assert parse_sequence_variation("Has a SS18-SSX2 translocation (PubMed=12097301).") is None


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("45Y", 45),
        ("30Y6M", 30),
        ("18M", 1),
        ("<1M", 0),
        ("Age unspecified", None),
        ("45Y-50Y", None),
        ("Fetus", None),
        ("", None),
        ("200Y", None),
    ],
)
def test_age_is_parsed_only_when_given_in_years(text, years):
    assert parse_age_years(text) == years
