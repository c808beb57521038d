"""`manage.py load_vocabularies`: the official files into the vocabulary tables, idempotently."""

import io

import pytest
from django.core.management import CommandError, call_command

from core.management.commands.load_vocabularies import download_official_files
from core.models import CellType, DiseaseTerm, DuoTerm, Gene

pytestmark = pytest.mark.django_db


def test_the_official_files_load_and_a_second_run_changes_nothing(reference_data):
    out = io.StringIO()
    call_command("load_vocabularies", str(reference_data), stdout=out)
    counts = (
        DuoTerm.objects.count(),
        Gene.objects.count(),
        DiseaseTerm.objects.count(),
        CellType.objects.count(),
    )
    assert Gene.objects.count() > 40000 and CellType.objects.count() > 3000
    assert DuoTerm.objects.get(curie="DUO:0000044").shorthand == "NPOA"  # 8-digit IRI upstream
    assert DuoTerm.objects.get(curie="DUO:0000007").branch == "permission"
    h2b = Gene.objects.get(symbol="H2BC11")
    assert "HIST1H2BJ" in h2b.previous_symbols
    # Ancestors are computed, so a filter on ALS finds a subtype loaded from the file.
    assert "MONDO:0004976" in DiseaseTerm.objects.get(curie="MONDO:0007103").ancestors
    assert "HGNC genes:" in out.getvalue()

    call_command("load_vocabularies", str(reference_data), stdout=io.StringIO())
    assert (
        DuoTerm.objects.count(),
        Gene.objects.count(),
        DiseaseTerm.objects.count(),
        CellType.objects.count(),
    ) == counts


def test_a_folder_without_vocabulary_files_is_a_clear_error(tmp_path):
    with pytest.raises(CommandError, match="no vocabulary file"):
        call_command("load_vocabularies", str(tmp_path), stdout=io.StringIO())


def test_a_failed_download_says_what_and_how_to_do_without(tmp_path):
    # Port 9 (discard) on the loopback refuses at once: no network is involved.
    with pytest.raises(CommandError, match="could not download http://127.0.0.1:9/duo.json"):
        download_official_files(tmp_path, sources={"duo/duo.json": "http://127.0.0.1:9/duo.json"}, timeout=2)
    assert not (tmp_path / "duo" / "duo.json").exists()
    assert not (tmp_path / "duo" / "duo.json.part").exists()
