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
