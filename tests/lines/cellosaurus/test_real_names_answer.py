"""Every name the release-29 Cellosaurus file gives a line answers on every page and
API record, and the URLs the API advertises resolve: names such as
066MD-CUMC/INSERM (a "/") or "090727 LQT3/BrS g1" (spaces) broke the home page, the
catalog (500) and those lines' own pages and records (404)."""

import pytest
from django.core.cache import cache
from django.urls import reverse

from core.accounts import create_user_with_role
from lines.cellosaurus.importer import import_cellosaurus
from lines.models import CellLine
from tests.conftest import client_for
from tests.lines.cellosaurus.test_import_cellosaurus import HEAD_1000, _data_dir

pytestmark = pytest.mark.django_db


def test_every_page_and_record_of_every_real_name_answers(client):
    import_cellosaurus(_data_dir() / HEAD_1000)
    names = list(CellLine.objects.values_list("name", flat=True))
    assert any("/" in name for name in names), "the release-29 head file has names with a '/'"
    curator = create_user_with_role("cora", "curator")[0]

    for caller in (client, client_for(curator)):
        cache.clear()
        assert caller.get("/").status_code == 200
        assert caller.get("/lines/", {"page_size": 200}).status_code == 200
    api = client_for(None)
    listed = api.get("/api/v1/lines/", {"page_size": 500}).json()["results"]
    assert {line["name"] for line in listed} == set(names)
    for line in listed:
        page = reverse("line-detail", args=[line["name"]])
        assert client.get(page).status_code == 200, page
        record = api.get(line["url"])
        assert record.status_code == 200, line["url"]
        assert record.json()["name"] == line["name"]
        for link in record.json()["links"].values():
            if link and link.startswith("http://testserver/"):
                assert api.get(link).status_code == 200, link


def test_a_parent_outside_the_catalog_is_kept_and_shown_with_its_accession(client):
    """201B1 (CVCL_A062) was reprogrammed from the fibroblast line HDF1388 (CVCL_DP59),
    which is not an iPSC and so not a catalog line: it is kept as a reference."""
    import_cellosaurus(_data_dir() / HEAD_1000)
    line = CellLine.objects.get(cellosaurus_accession="CVCL_A062")
    assert line.parental_line is None
    record = client_for(None).get(reverse("api-line-detail", args=[line.name])).json()
    assert record["registry_parents"] == [
        {
            "accession": "CVCL_DP59",
            "name": "HDF1388",
            "rrid": "RRID:CVCL_DP59",
            "url": "https://www.cellosaurus.org/CVCL_DP59",
            "in_catalog": False,
        }
    ]
    page = client.get(reverse("line-detail", args=[line.name])).content.decode()
    assert "Derived from HDF1388" in page and 'href="https://www.cellosaurus.org/CVCL_DP59"' in page


def test_the_line_page_names_who_typed_the_str_profile(client):
    import_cellosaurus(_data_dir() / HEAD_1000)
    line = CellLine.objects.exclude(str_sources=[]).first()
    assert line is not None, "the release-29 head file has iPSC lines with an STR profile and its sources"
    client.force_login(create_user_with_role("cora", "curator")[0])  # imported donors have no consent on record
    page = client.get(reverse("line-detail", args=[line.name])).content.decode()
    assert "Typed by " + "; ".join(line.str_sources) in page
