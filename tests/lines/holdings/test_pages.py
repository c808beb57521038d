"""The web pages researchers, depositors and curators use: home, catalog, line page,
compare, account (token, password reset) and the curator dashboard. Each page shows a
user exactly the lines the API would, and no page's query count grows with its size."""

import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import escape
from rest_framework.authtoken.models import Token

from distribution.eligibility import evaluate_lines
from donors.duo import Purpose
from lines.holdings.facets import FACETS
from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.factories import (
    CellLineFactory,
    ConsentFactory,
    DonorFactory,
    QCRecordFactory,
    VariantFactory,
)

pytestmark = pytest.mark.django_db

CORE = (
    "identity",
    "genomic_integrity",
    "mycoplasma",
    "sterility",
    "pluripotency",
    "trilineage",
    "vector_clearance",
)
ROLES = ("anonymous", "researcher", "depositor", "other_depositor", "curator")


def browser_for(user):
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def as_role(request):
    def get(role):
        return browser_for(None if role == "anonymous" else request.getfixturevalue(role))

    return get


def line_names(html):
    """Line names in the catalog table (the row headers link to the line pages)."""
    return set(re.findall(r'<th scope="row" data-label="Line"><a href="/lines/([^/"]+)/"', html))


@pytest.fixture
def catalog(owner_institution, other_institution):
    """UKB: a SOD1 A4V line with a full passing QC panel (open consent, commercial use
    allowed) and its subclone, plus a withdrawn line. UCSF: a FUS line under a
    non-commercial consent that keeps genetic data to curators, a healthy control
    with a failed QC test, and an unreleased draft."""
    now = timezone.now()
    sod1 = DonorFactory(
        institution=owner_institution,
        code="UKBD001",
        donor_number="001",
        sex="female",
        age_at_sampling=61,
        ancestry="European",
        age_at_onset=58,
    )
    ConsentFactory(donor=sod1, genetic_data="open", codes=["DUO:0000042"])
    VariantFactory(donor=sod1)
    fus = DonorFactory(
        institution=other_institution,
        code="UCSFD001",
        donor_number="001",
        sex="male",
        age_at_sampling=34,
        ancestry="East Asian",
        age_at_onset=30,
        str_profile={},
    )
    ConsentFactory(donor=fus, genetic_data="controlled", codes=["DUO:0000042", "DUO:0000046"])
    VariantFactory(
        donor=fus,
        gene="FUS",
        hgnc_id="HGNC:4010",
        hgvs="NM_004960.4:c.1561C>T",
        protein="p.Arg521Cys",
        legacy_name="R521C",
    )
    control = DonorFactory(
        institution=other_institution,
        code="UCSFD002",
        donor_number="002",
        disease="",
        disease_label="",
        family_history="",
        onset_site="",
        age_at_onset=None,
        sex="male",
        age_at_sampling=70,
    )
    ConsentFactory(donor=control, genetic_data="open", codes=["DUO:0000042"])
    hidden = DonorFactory(institution=owner_institution, code="UKBD003", donor_number="003")
    ConsentFactory(donor=hidden)

    profile = {"D5S818": ["11", "12"], "TH01": ["6", "9.3"], "Amelogenin": ["X"]}
    parent = CellLineFactory(donor=sod1, name="UKBi001-A", released_at=now, qc_status="passed", str_profile=profile)
    for test in CORE:
        QCRecordFactory(
            line=parent,
            test=test,
            result="pass",
            details={"markers": {"OCT4": 97.5, "NANOG": 95}} if test == "pluripotency" else {},
        )
    subclone = CellLineFactory(
        donor=sod1,
        name="UKBi001-A-1",
        parental_line=parent,
        released_at=now,
        modification_type="gene_correction",
    )
    fus_line = CellLineFactory(donor=fus, name="UCSFi001-A", released_at=now, str_profile={"TH01": ["7", "8"]})
    control_line = CellLineFactory(donor=control, name="UCSFi002-A", released_at=now, qc_status="failed")
    QCRecordFactory(line=control_line, test="mycoplasma", result="fail")
    withdrawn = CellLineFactory(donor=hidden, name="UKBi003-A", status="withdrawn", status_reason="consent withdrawn")
    draft = CellLineFactory(donor=fus, name="UCSFi001-B", status="draft")
    refresh_search_text(CellLine.objects.all())
    return {
        "parent": parent,
        "subclone": subclone,
        "fus": fus_line,
        "control": control_line,
        "withdrawn": withdrawn,
        "draft": draft,
    }


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
    assert "These filters could not be read" in html and "sex:" in html and "age_min:" in html
    response = client.get("/lines/?age_min=70&age_max=20")
    assert response.status_code == 400
    assert "Must not exceed age_max" in response.content.decode()


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
    assert html.lstrip().startswith('<div id="catalog"')
    assert "<html" not in html
    assert 'id="catalog-status" hx-swap-oob="innerHTML">2 lines match.' in html
    assert "HX-Request" in response["Vary"]


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
    assert large <= 8
    filtered_small = queries("/lines/?page_size=25&gene=SOD1&sex=female")
    filtered_large = queries("/lines/?page_size=50&gene=SOD1&sex=female")
    assert filtered_small == filtered_large <= 12  # a selected facet costs one more query each
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


# --- line page -----------------------------------------------------------------------


def test_the_line_page_lays_out_what_the_api_shows(client, catalog):
    html = client.get("/lines/UKBi001-A/").content.decode()

    assert "<h1>UKBi001-A</h1>" in html
    assert "UKBD001" in html and "amyotrophic lateral sclerosis" in html and "61 years" in html
    assert "A4V" in html and "NM_000454.5:c.14C&gt;T" in html and "Heterozygous" in html
    # QC panel with pass badges and values (markers with % positive).
    assert html.count('<span class="badge pass">Pass</span>') == len(CORE)
    assert "OCT4 97.5 %" in html and "NANOG 95 %" in html
    # Consent in plain words.
    assert "companies may use it" in html and "general research use" in html
    # The isogenic family: the line itself highlighted, its subclone linked.
    assert '<strong class="here" aria-current="page">UKBi001-A</strong>' in html
    assert 'href="/lines/UKBi001-A-1/"' in html
    # STR profile shown (open consent), and the hPSCreg link.
    assert "D5S818" in html and "9.3" in html
    assert 'href="https://hpscreg.eu/cell-line/UKBi001-A"' in html


def test_the_subclone_page_shows_its_parent_above_it(client, catalog):
    html = client.get("/lines/UKBi001-A-1/").content.decode()

    tree = html[html.index('<ul class="tree"') : html.index("</ul>", html.index('<ul class="tree"'))]
    assert tree.index('href="/lines/UKBi001-A/"') < tree.index('aria-current="page">UKBi001-A-1<')


def test_genetic_data_a_consent_keeps_to_curators_is_not_on_the_page(as_role, catalog):
    html = as_role("researcher").get("/lines/UCSFi001-A/").content.decode()

    assert "R521C" not in html and ">FUS<" not in html and "p.Arg521Cys" not in html
    assert "Not shown: the donor's consent keeps genetic data" in html
    assert "non-commercial use only" in html
    curator_html = as_role("curator").get("/lines/UCSFi001-A/").content.decode()
    assert "R521C" in curator_html and "TH01" in curator_html


@pytest.mark.parametrize(
    ("role", "line", "status"),
    [
        ("anonymous", "UKBi003-A", 404),
        ("researcher", "UKBi003-A", 404),
        ("other_depositor", "UKBi003-A", 404),
        ("depositor", "UKBi003-A", 200),
        ("depositor", "UCSFi001-B", 404),
        ("researcher", "UCSFi001-B", 404),
        ("other_depositor", "UCSFi001-B", 200),
        ("curator", "UCSFi001-B", 200),
        ("researcher", "NOSUCHi999-Z", 404),
        ("researcher", "x" * 300, 404),
    ],
)
def test_the_line_page_is_404_for_lines_the_user_may_not_see(as_role, catalog, role, line, status):
    assert as_role(role).get(f"/lines/{line}/").status_code == status


def test_the_request_button_adds_the_line_to_the_basket(as_role, catalog):
    client = as_role("researcher")
    html = client.get("/lines/UKBi001-A/").content.decode()
    assert 'action="/distribution/basket/add/"' in html and "Request this line" in html

    response = client.post("/distribution/basket/add/", {"line": "UKBi001-A", "next": "/lines/UKBi001-A/"})
    assert response.status_code == 302
    assert "UKBi001-A" in client.get("/distribution/basket/").content.decode()
    assert "Sign in to request" in Client().get("/lines/UKBi001-A/").content.decode()


# --- compare -------------------------------------------------------------------------


def test_compare_puts_two_to_four_lines_side_by_side(client, catalog):
    response = client.get("/lines/compare/?names=UKBi001-A&names=UCSFi001-A&names=UCSFi002-A")

    assert response.status_code == 200
    html = response.content.decode()
    header = re.search(r"<thead>(.*?)</thead>", html, re.S).group(1)
    assert re.findall(r'href="/lines/([^/]+)/"', header) == [
        "UKBi001-A",
        "UCSFi001-A",
        "UCSFi002-A",
    ]
    assert "SOD1 A4V" in html and "Healthy control" in html
    assert '<span class="badge fail">Fail</span>' in html  # the control's mycoplasma
    assert "R521C" not in html  # still follows the consent


@pytest.mark.parametrize(
    "names", [["UKBi001-A"], ["UKBi001-A", "UKBi001-A-1", "UCSFi001-A", "UCSFi002-A", "UKBi002-A"]]
)
def test_compare_with_one_or_five_lines_says_what_to_do(client, catalog, names):
    response = client.get("/lines/compare/", {"names": names})

    assert response.status_code == 400
    assert f"Choose between 2 and 4 lines to compare (you chose {len(names)})" in response.content.decode()


def test_compare_does_not_reveal_hidden_lines(as_role, catalog):
    html = as_role("researcher").get("/lines/compare/?names=UKBi001-A&names=UKBi003-A").content.decode()

    assert "No line visible to you is called UKBi003-A" in html
    assert "consent withdrawn" not in html


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


def test_the_line_page_lists_every_condition_in_the_eligibility_answers_words(client, owner_institution):
    # GSO, NMDS and RS are enforced by the request workflow like IRB and GS: the page lists them all.
    codes = ["DUO:0000016", "DUO:0000015", "DUO:0000012", "DUO:0000021", "DUO:0000022"]
    donor = DonorFactory(institution=owner_institution, donor_number="091")
    ConsentFactory(donor=donor, codes=["DUO:0000042", *codes])
    line = CellLineFactory(donor=donor, institution=owner_institution, name="UKBi091-A")
    answer = evaluate_lines([line], Purpose(frozenset({"DUO:0000006"})))[0]

    html = client.get(f"/lines/{line.name}/").content.decode()
    section = html[html.index("Conditions you must accept") :]
    assert {c.code for c in answer.conditions} == set(codes)
    for condition in answer.conditions:
        assert escape(condition.text) in section, condition.code


def sidebar_counts(html):
    """{facet: {value: count}} as the catalog sidebar shows them (selected values with no
    matching line are offered at 0 so they can be cleared: left out here)."""
    counts = {}
    for name, value, count in re.findall(
        r'name="(\w+)" value="([^"]*)"(?: checked)?>\s*<span>[^<]*</span> '
        r'<span class="count" aria-label="(\d+) lines">',
        html,
    ):
        if name in FACETS and int(count):
            counts.setdefault(name, {})[value] = int(count)
    return counts


def facets_sex(facets):
    return {v["value"]: v["count"] for v in facets["sex"]}


def api_counts(facets):
    return {
        name: {v["value"]: v["count"] for v in values if v["value"] is not None}
        for name, values in facets.items()
        if any(v["value"] is not None for v in values)
    }


@pytest.mark.parametrize(
    "query",
    [
        "gene=SOD1",
        "sex=male",  # a selected facet: its other values count over the other filters
        "sex=male&institution=UCSF",
        "sex=female&sex=male&qc_status=passed&search=ukb",
        "gene=SOD1&disease=MONDO:0004976&availability=available",
    ],
)
@pytest.mark.parametrize("role", ("anonymous", "curator"))
def test_the_catalog_page_and_the_facets_api_give_the_same_counts(as_role, catalog, query, role):
    client = as_role(role)
    page = sidebar_counts(client.get(f"/lines/?{query}").content.decode())
    facets = client.get(f"/api/v1/lines/facets/?{query}").json()["facets"]
    listed = client.get(f"/api/v1/lines/?{query}&facets=true").json()["facets"]

    assert page == api_counts(facets)
    assert listed == facets
    if query == "sex=male" and role == "anonymous":
        assert page["sex"] == facets_sex(facets) == {"female": 2, "male": 2}
