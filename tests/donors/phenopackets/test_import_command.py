"""manage.py phenopacket_to_donor: a phenopacket file becomes a donor entry, or is merged
into a submission document; a bad one stops with the located problem."""

import json

import pytest
from django.core.management import CommandError, call_command

from lines.submissions.protocol.example import valid_document
from tests.donors.phenopackets.test_import import exported  # noqa: F401

pytestmark = pytest.mark.django_db


def test_the_command_prints_the_donor_entry(exported, tmp_path, capsys):  # noqa: F811
    donor, packet = exported
    source = tmp_path / "packet.json"
    source.write_text(json.dumps(packet))
    call_command("phenopacket_to_donor", str(source))
    entry = json.loads(capsys.readouterr().out)
    assert entry["local_id"] == donor.code and len(entry["course"]["visits"]) == 3


def test_the_command_merges_into_a_document(exported, tmp_path):  # noqa: F811
    _, packet = exported
    document = valid_document(1, protocol="prism-line-submission/3")
    packet["subject"]["id"] = document["donors"][0]["local_id"]
    (tmp_path / "packet.json").write_text(json.dumps(packet))
    (tmp_path / "doc.json").write_text(json.dumps(document))
    out = tmp_path / "merged.json"
    call_command(
        "phenopacket_to_donor", str(tmp_path / "packet.json"), into=str(tmp_path / "doc.json"), output=str(out)
    )
    merged = json.loads(out.read_text())
    assert merged["donors"][0]["consent"] == document["donors"][0]["consent"]
    assert merged["donors"][0]["course"]["phenotypic_features"] == ["HP:0001260", "HP:0002015"]


def test_a_bad_phenopacket_stops_the_command_with_the_field(tmp_path):
    source = tmp_path / "packet.json"
    source.write_text(json.dumps({"subject": {"id": "D1"}, "diseases": [{"term": {"id": "OMIM:105400"}}]}))
    with pytest.raises(CommandError, match=r"diseases\[0\]\.term\.id"):
        call_command("phenopacket_to_donor", str(source))
