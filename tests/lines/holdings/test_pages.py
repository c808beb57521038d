"""The catalog pages researchers, depositors and curators use: every page for every role, home,
the catalog (filters, facets, sorting, htmx, export, paging, caching), accounts and the curator
dashboard. Each shows a user exactly the lines the API would; no query count grows with size."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token

from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    VariantFactory,
)
from tests.lines.holdings.pages_catalog import ROLES, browser_for, line_names

pytestmark = pytest.mark.django_db


# --- every page renders for every role ---------------------------------------------

PUBLIC_PAGES = (
    "/",
    "/lines/",
    "/lines/?gene=SOD1&qc_passed=true",
    "/lines/UKBi001-A/",
    "/lines/UKBi001-A-1/",
    "/lines/compare/",
    "/lines/compare/?names=UKBi001-A&names=UCSFi001-A",
    "/str/",
    "/accounts/login/",
    "/accounts/password_reset/",
)


@pytest.mark.parametrize("role", ROLES)
def test_public_pages_render_for_every_role(as_role, catalog, role):
    client = as_role(role)
    for url in PUBLIC_PAGES:
        response = client.get(url)

        assert response.status_code == 200, url
        assert b'<main id="main"' in response.content, url


@pytest.mark.parametrize("role", ROLES)
def test_the_nav_marks_the_current_page_and_shows_links_by_role(as_role, catalog, role):
    html = as_role(role).get("/lines/").content.decode()

    assert '<a href="/lines/" aria-current="page">Catalog</a>' in html
    assert 'href="/lines/compare/"' in html and 'href="/str/"' in html and 'href="/api/docs/"' in html
    assert ('href="/curator/"' in html) == (role == "curator")
    assert ('href="/submissions/new/"' in html) == (role in ("depositor", "other_depositor"))
    assert ('href="/distribution/basket/"' in html) == (role in ("researcher", "depositor", "other_depositor"))


def test_the_page_has_a_skip_link_and_labelled_filters(client, catalog):
    html = client.get("/lines/").content.decode()

    assert 'class="skip-link" href="#main"' in html
    assert '<label for="f-search">Search</label>' in html
    for checkbox_id in re.findall(r'<input type="checkbox" id="(f-[^"]+)"', html):
        assert f'<label class="check" for="{checkbox_id}">' in html
    assert 'aria-sort="ascending"' in html  # the table says how it is sorted
    assert 'aria-live="polite"' in html


# --- home ------------------------------------------------------------------------------


def test_home_shows_holdings_at_a_glance_with_charts_as_tables(client, catalog):
    html = client.get("/").content.decode()

    assert re.search(r'data-stat="lines">4<', html)
    assert re.search(r'data-stat="donors">3<', html)
    assert re.search(r'data-stat="institutions">2<', html)
    assert re.search(r'data-stat="genes">1<', html)  # FUS is the controlled consent's: not counted
    for title in (
        "Lines by gene",
        "Lines by disease",
        "Lines by donor sex",
        "Lines by ancestry",
        "Lines by age at onset",
    ):
        assert title in html
    # Each bar has its figure beside it, and the label links to the catalog filtered on it.
    assert re.search(
        r'<a href="/lines/\?gene=SOD1">SOD1</a></th>\s*<td class="num"><span class="bar"[^>]*>'
        r'</span><span class="figure">2</span>',
        html,
    )
    assert '<a href="/lines/?ancestry=East+Asian">East Asian</a>' in html
    assert "Recently released" in html and 'href="/lines/UKBi001-A/"' in html
    assert "UKBi003-A" not in html and "UCSFi001-B" not in html


# --- catalog -------------------------------------------------------------------------


def test_the_catalog_lists_what_a_researcher_may_see(as_role, catalog):
    html = as_role("researcher").get("/lines/").content.decode()

    assert line_names(html) == {"UKBi001-A", "UKBi001-A-1", "UCSFi001-A", "UCSFi002-A"}
    assert "4 lines" in html


@pytest.mark.parametrize(
    ("role", "extra"),
    [
        ("anonymous", set()),
        ("researcher", set()),
        ("depositor", {"UKBi003-A"}),  # their institution's withdrawn line
        ("other_depositor", {"UCSFi001-B"}),  # their institution's draft
        ("curator", {"UKBi003-A", "UCSFi001-B"}),
    ],
)
def test_hidden_lines_are_never_listed(as_role, catalog, role, extra):
    client = as_role(role)
    released = {"UKBi001-A", "UKBi001-A-1", "UCSFi001-A", "UCSFi002-A"}

    assert line_names(client.get("/lines/").content.decode()) == released | extra
    searched = client.get("/lines/", {"search": "UKBi003"}).content.decode()
    assert line_names(searched) == ({"UKBi003-A"} & extra)
    assert ("UCSFi001-B" in client.get("/lines/?search=UCSFi001").content.decode()) == ("UCSFi001-B" in extra)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("gene=SOD1", {"UKBi001-A", "UKBi001-A-1"}),
        ("gene=SOD1&qc_passed=true", {"UKBi001-A"}),
        ("sex=male", {"UCSFi001-A", "UCSFi002-A"}),
        ("sex=male&sex=female", {"UKBi001-A", "UKBi001-A-1", "UCSFi001-A", "UCSFi002-A"}),
        ("commercial_use=true", {"UKBi001-A", "UKBi001-A-1", "UCSFi002-A"}),
        ("qc_status=failed", {"UCSFi002-A"}),
        ("institution=UCSF", {"UCSFi001-A", "UCSFi002-A"}),
        ("age_min=60&age_max=65", {"UKBi001-A", "UKBi001-A-1"}),
        ("has_isogenic_control=true", {"UKBi001-A", "UKBi001-A-1"}),
        ("search=A4V", {"UKBi001-A", "UKBi001-A-1"}),
        ("search=R521C", set()),  # the consent keeps FUS R521C to curators
        (
            "gene=SOD1&search=&age_min=&page=",
            {"UKBi001-A", "UKBi001-A-1"},
        ),  # empty form fields ignored
    ],
)
def test_filters_in_the_url_narrow_the_results(client, catalog, query, expected):
    response = client.get(f"/lines/?{query}")

    assert response.status_code == 200
    assert line_names(response.content.decode()) == expected


def test_facet_counts_follow_the_filters_and_keep_a_selected_facets_other_values(client, catalog):
    html = client.get("/lines/?sex=male").content.decode()

    # Institution counts are over the two male lines (both UCSF) ...
    assert re.search(r'name="institution" value="UCSF">\s*<span>[^<]*</span> <span class="count"[^>]*>2<', html)
    assert 'name="institution" value="UKB"' not in html
    # ... while the sex facet still offers female (2 lines) to add.
    assert re.search(r'name="sex" value="female">\s*<span>Female</span> <span class="count"[^>]*>2<', html)
    assert re.search(r'name="sex" value="male" checked>', html)
    # The quick filters count within the current result.
    assert re.search(
        r'id="f-commercial_use" name="commercial_use" value="true">\s*<span>Commercial use allowed'
        r'</span> <span class="count"[^>]*>1<',
        html,
    )


def test_curators_and_depositors_filter_on_curation_status(as_role, catalog):
    html = as_role("curator").get("/lines/?status=withdrawn").content.decode()

    assert line_names(html) == {"UKBi003-A"}
    assert re.search(r'name="status" value="withdrawn" checked>', html)
    assert re.search(r'name="status" value="released">\s*<span>Released</span> <span class="count"[^>]*>4<', html)
    depositor_html = as_role("other_depositor").get("/lines/").content.decode()
    assert re.search(
        r'name="status" value="draft">\s*<span>Draft</span> <span class="count"[^>]*>1<',
        depositor_html,
    )
    assert 'name="status"' not in as_role("researcher").get("/lines/").content.decode()


def test_bad_filter_values_get_a_clear_message_not_an_error(client, catalog):
    response = client.get("/lines/?sex=robot&age_min=abc")

    assert response.status_code == 400
    html = response.content.decode()
    assert "These filters could not be read" in html and "Sex:" in html and "Donor age from:" in html
    response = client.get("/lines/?age_min=70&age_max=20")
    assert response.status_code == 400
    assert "Must not exceed “Donor age to”" in response.content.decode()


def test_the_table_sorts_by_its_column_links(client, catalog):
    html = client.get("/lines/?ordering=-age").content.decode()
    order = re.findall(r'data-label="Line"><a href="/lines/([^/"]+)/"', html)

    assert order[0] == "UCSFi002-A"  # 70 years
    assert order[-1] == "UCSFi001-A"  # 34 years
    assert 'aria-sort="descending"' in html
    assert 'href="?ordering=age"' in html  # clicking again reverses


def test_htmx_requests_get_the_results_region_and_a_clean_shareable_url(client, catalog):
    response = client.get("/lines/?gene=SOD1&search=&age_min=", HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert response["HX-Push-Url"] == "/lines/?gene=SOD1"
    # The results are swapped; the form (and what the user is typing in it) is not.
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html and 'id="f-search"' not in html and 'id="f-age_min"' not in html
    assert '<div id="facet-groups" hx-swap-oob="true">' in html
    assert 'id="catalog-status" hx-swap-oob="innerHTML">2 lines match.' in html
    assert "HX-Request" in response["Vary"]


def test_an_htmx_swap_shows_a_filter_error_in_place_of_a_stale_count(client, catalog):
    response = client.get("/lines/?age_min=70&age_max=40", HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200  # htmx swaps no 4xx: the old count would stay
    assert 'role="alert"' in html and "Donor age from" in html and "age_min:" not in html
    assert 'hx-swap-oob="innerHTML">These filters could not be read' in html
    full = client.get("/lines/?age_min=70&age_max=40")
    assert full.status_code == 400 and "These filters could not be read" in full.content.decode()


def test_the_csv_link_exports_the_same_result(client, catalog):
    html = client.get("/lines/?gene=SOD1&qc_passed=true&ordering=-age&page_size=25").content.decode()
    link = re.search(r'href="(/api/v1/lines/export\.csv[^"]*)"', html).group(1).replace("&amp;", "&")

    assert link == "/api/v1/lines/export.csv?gene=SOD1&qc_passed=true&ordering=-age"
    csv_text = b"".join(client.get(link).streaming_content).decode()
    assert [row.split(",")[0] for row in csv_text.splitlines()[1:]] == ["UKBi001-A"]


def test_the_catalog_paginates_and_keeps_the_filters_in_page_links(client, owner_institution):
    donor = DonorFactory(institution=owner_institution, donor_number="010")
    for index in range(30):
        CellLineFactory(donor=donor, name=f"UKBi010-{index:02d}")

    html = client.get("/lines/?institution=UKB&page_size=25").content.decode()
    assert len(line_names(html)) == 25
    assert "Page 1 of 2" in html
    assert 'href="?institution=UKB&amp;page_size=25&amp;page=2"' in html
    html = client.get("/lines/?institution=UKB&page_size=25&page=2").content.decode()
    assert len(line_names(html)) == 5


def test_catalog_query_count_does_not_grow_with_the_page_size(client, owner_institution):
    """Two pages of different sizes, with variants, consent codes and parents on every row."""
    for index in range(60):
        donor = DonorFactory(institution=owner_institution, donor_number=f"{100 + index}")
        ConsentFactory(donor=donor, codes=["DUO:0000042", "DUO:0000046"])
        VariantFactory(donor=donor)
        CellLineFactory(donor=donor, name=f"UKBi{100 + index}-A")

    def queries(url, *, cached=False):
        if not cached:
            cache.clear()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    small, large = queries("/lines/?page_size=25"), queries("/lines/?page_size=50")
    assert small == large
    assert large <= 9
    filtered_small = queries("/lines/?page_size=25&gene=SOD1&sex=female")
    filtered_large = queries("/lines/?page_size=50&gene=SOD1&sex=female")
    assert filtered_small == filtered_large <= 13  # a selected facet costs one more query each
    # Paging or sorting the same search reuses its counts: only the version check and the page.
    assert queries("/lines/?page_size=50&gene=SOD1&sex=female&ordering=-age&page=2", cached=True) <= 6


def test_cached_counts_change_as_soon_as_a_line_is_added(client, catalog, other_institution):
    html = client.get("/lines/?sex=male").content.decode()
    assert re.search(r'<span data-total="2">', html)

    CellLineFactory(
        donor=DonorFactory(institution=other_institution, sex="male", donor_number="077"),
        name="UCSFi077-A",
    )

    html = client.get("/lines/?sex=male&ordering=name").content.decode()
    assert re.search(r'<span data-total="3">', html)
    assert re.search(r'name="institution" value="UCSF">\s*<span>[^<]*</span> <span class="count"[^>]*>3<', html)


def test_the_catalog_works_without_javascript(client, catalog):
    """The filter form is a plain GET form with a submit button; compare is a GET form too."""
    html = client.get("/lines/").content.decode()

    assert re.search(r'<form id="filters" class="filters" method="get" action="/lines/"', html)
    assert '<button type="submit" class="button primary">Apply filters</button>' in html
    assert re.search(r'<form id="compare-form" method="get" action="/lines/compare/"', html)
    assert 'name="names" value="UKBi001-A"' in html


# --- accounts ------------------------------------------------------------------------


def test_the_token_page_shows_and_replaces_the_users_token(as_role, researcher):
    client = browser_for(researcher)
    old = Token.objects.get(user=researcher).key

    assert old in client.get("/accounts/token/").content.decode()
    response = client.post("/accounts/token/")
    assert response.status_code == 302
    new = Token.objects.get(user=researcher).key
    assert new != old
    html = client.get("/accounts/token/").content.decode()
    assert new in html and old not in html
    api = Client(HTTP_AUTHORIZATION=f"Token {old}")
    assert api.get("/api/v1/lines/").status_code == 401
    assert Client(HTTP_AUTHORIZATION=f"Token {new}").get("/api/v1/lines/").status_code == 200


def test_the_token_page_needs_a_signed_in_user(client, db):
    response = client.get("/accounts/token/")

    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post("/accounts/token/").status_code == 302
    assert not Token.objects.exists()


def test_password_reset_sends_a_link_that_sets_a_new_password(client, researcher):
    researcher.email = "rita@example.org"
    researcher.save()

    response = client.post("/accounts/password_reset/", {"email": "rita@example.org"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://[^/]+(/accounts/reset/\S+)", mail.outbox[0].body).group(1)
    form_url = client.get(link).url  # Django swaps the token for a session and redirects
    response = client.post(
        form_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    assert "Password changed" in client.get(response.url).content.decode()
    assert client.login(username="rita", password="a-new-long-passphrase")


def test_sign_out_is_a_post_and_returns_home(as_role, catalog):
    client = as_role("researcher")
    response = client.post("/accounts/logout/")

    assert response.status_code == 302 and response["Location"] == "/"
    assert "Sign in" in client.get("/").content.decode()


# --- curator dashboard -------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("researcher", 403),
        ("depositor", 403),
        ("other_depositor", 403),
        ("curator", 200),
    ],
)
def test_the_curator_dashboard_is_for_curators_only(as_role, catalog, role, status):
    assert as_role(role).get("/curator/").status_code == status


def test_the_dashboard_shows_queues_and_qc_completeness(as_role, catalog):
    html = as_role("curator").get("/curator/").content.decode()

    # 1 of 4 released lines has every core test passed.
    assert re.search(r'data-stat="qc-share">25\.0 %<', html)
    # Every released line but the parent lacks identity; the control's mycoplasma failed.
    assert re.search(r'data-missing="identity">.*?>3<', html)
    assert re.search(r'data-failing="mycoplasma">.*?>1<', html)
    assert 'href="/submissions/review/"' in html and 'href="/distribution/queue/"' in html
