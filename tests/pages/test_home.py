"""The home page says what the bank holds, to each caller what they may see;
curators work in the admin."""

import re

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import CellLineFactory, DonorFactory, VariantFactory

pytestmark = pytest.mark.django_db


def stat(html, name):
    match = re.search(rf'data-stat="{name}">([\d,]+)<', html)
    assert match, f"no {name} figure on the page"
    return int(match.group(1).replace(",", ""))


@pytest.fixture
def holdings(owner_institution, other_institution):
    """Two released lines of two donors at two institutions, plus a draft and a
    withdrawn line of a third donor at the owner institution."""
    als = DonorFactory(institution=owner_institution, disease_label="amyotrophic lateral sclerosis")
    control = DonorFactory(institution=other_institution, disease="", disease_label="")
    hidden = DonorFactory(institution=owner_institution, disease_label="frontotemporal dementia")
    return {
        "released": [
            CellLineFactory(donor=als, name="UKBi001-A", released_at=timezone.now()),
            CellLineFactory(donor=control, name="UCSFi001-A", released_at=timezone.now()),
        ],
        "draft": CellLineFactory(donor=hidden, name="UKBi002-A", status="draft"),
        "withdrawn": CellLineFactory(
            donor=hidden, name="UKBi002-B", status="withdrawn", status_reason="consent withdrawn"
        ),
    }


def test_anonymous_visitors_see_counts_of_released_lines_only(client, holdings):
    html = client.get(reverse("home")).content.decode()

    assert stat(html, "lines") == 2
    assert stat(html, "donors") == 2
    assert stat(html, "institutions") == 2
    assert "UKBi001-A" in html and "UCSFi001-A" in html
    assert "UKBi002-A" not in html and "UKBi002-B" not in html
    assert "frontotemporal dementia" not in html


def test_the_home_page_lists_lines_by_disease(client, holdings):
    html = client.get(reverse("home")).content.decode()

    assert "amyotrophic lateral sclerosis" in html


def test_an_empty_catalog_says_so(client, db):
    response = client.get(reverse("home"))

    assert response.status_code == 200
    html = response.content.decode()
    assert stat(html, "lines") == 0
    assert "Nothing released yet" in html


def test_a_curator_sees_every_line_in_the_counts(curator, holdings):
    client = Client()
    client.force_login(curator)

    html = client.get(reverse("home")).content.decode()

    assert stat(html, "lines") == 4


def test_a_depositor_also_counts_their_own_institutions_unreleased_lines(depositor, other_depositor, holdings):
    own, other = Client(), Client()
    own.force_login(depositor)
    other.force_login(other_depositor)

    assert stat(own.get(reverse("home")).content.decode(), "lines") == 4
    assert stat(other.get(reverse("home")).content.decode(), "lines") == 2


def test_the_admin_loads_for_a_curator_and_searches_lines(curator, holdings):
    client = Client()
    client.force_login(curator)

    assert client.get(reverse("admin:index")).status_code == 200
    response = client.get(reverse("admin:lines_cellline_changelist"), {"q": "UKBi002"})

    assert response.status_code == 200
    html = response.content.decode()
    assert "UKBi002-A" in html and "UKBi002-B" in html
    assert "UCSFi001-A" not in html


def test_curators_find_lines_in_the_admin_by_the_donors_gene(curator, holdings):
    VariantFactory(donor=holdings["released"][0].donor, gene="SOD1")
    client = Client()
    client.force_login(curator)

    html = client.get(reverse("admin:lines_cellline_changelist"), {"q": "SOD1"}).content.decode()

    assert "UKBi001-A" in html
    assert "UCSFi001-A" not in html


def test_a_curator_can_open_a_lines_admin_page_with_its_history(curator, holdings):
    client = Client()
    client.force_login(curator)
    line = holdings["draft"]

    assert client.get(reverse("admin:lines_cellline_change", args=[line.pk])).status_code == 200
    assert client.get(reverse("admin:lines_cellline_history", args=[line.pk])).status_code == 200


@pytest.mark.parametrize("who", ["researcher", "depositor"])
def test_researchers_and_depositors_are_kept_out_of_the_admin(request, who, holdings):
    client = Client()
    client.force_login(request.getfixturevalue(who))

    response = client.get(reverse("admin:lines_cellline_changelist"))

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_curators_withdraw_lines_rather_than_delete_them(curator):
    assert curator.has_perm("lines.change_cellline")
    assert curator.has_perm("donors.change_consent")
    assert not curator.has_perm("lines.delete_cellline")
    assert not curator.has_perm("auth.change_user")


def test_the_sign_in_page_and_admin_login_render(client, db):
    assert client.get(reverse("login")).status_code == 200
    assert client.get("/admin/login/").status_code == 200
