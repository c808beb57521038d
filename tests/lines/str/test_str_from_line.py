"""An STR search started from a line page: the page's "search with this profile" link
fills the form in (the profile never goes into the URL), the profile copied from the
line page's table is read as it is, and each hit opens marker by marker."""

import re
from html import unescape

import pytest

from lines.str.matching import normalise_profile
from lines.str.store import LINE, reindex
from tests.factories import CellLineFactory, ConsentFactory
from tests.lines.str.test_str_page import references  # noqa: F401  (a fixture)
from tests.lines.str.test_str_search import HB2  # 1-7HB2's profile in Cellosaurus release 29

pytestmark = pytest.mark.django_db


def _line(genetic_data="open"):
    consent = ConsentFactory(genetic_data=genetic_data)
    line = CellLineFactory(donor=consent.donor, str_profile=normalise_profile(HB2))
    reindex(LINE, line)
    return line


def _copied_table(html):
    """What a user gets copying the line page's STR table: tab-separated rows."""
    table = re.search(r'<table class="table str-table">(.*?)</table>', html, re.S).group(1)
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        cells = [
            unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        rows.append("\t".join(cells))
    return "\n".join(rows)


def test_the_line_page_link_fills_in_the_profile_and_searches(client, references):  # noqa: F811
    line = _line()
    page = client.get(f"/lines/{line.name}/").content.decode()
    link = unescape(re.search(r'href="(/str/\?line=[^"]+)"', page).group(1))
    assert "D5S818" not in link  # the profile itself is not in the URL
    response = client.get(link)
    html = response.content.decode()
    assert response.status_code == 200
    assert "The profile of" in html and line.name in html
    assert "TH01: 7,9" in html  # the form holds the profile
    hits = re.search(r'<table class="table" id="str-hits">(.*)</table>', html, re.S).group(1)
    assert "1-7HB2" in hits and "100.00 %" in hits


def test_a_hit_opens_marker_by_marker(client, references):  # noqa: F811
    line = _line()
    html = client.get(f"/str/?line={line.name}").content.decode()
    near = re.search(r'<details data-markers="Near">(.*?)</details>', html, re.S).group(1)
    rows = {
        m: state
        for m, state in re.findall(
            r'<tr class="marker-[^"]*"><th scope="row">([^<]+)</th>.*?<td class="state">([^<:]+)', near, re.S
        )
    }
    assert rows["D13S317"] == "Shared"
    assert rows["TH01"].startswith("Partly shared")
    assert rows["Amelogenin"] == "Only in the query"
    assert "Only in the query" in near and "Partly shared: 14" in near  # vWA 14,17 against 14,18


def test_the_profile_copied_from_the_line_page_table_is_read_as_it_is(client, references):  # noqa: F811
    line = _line()
    copied = _copied_table(client.get(f"/lines/{line.name}/").content.decode())
    assert copied.startswith("Marker\tAmelogenin") and "\nAlleles\tX\t12, 13" in copied
    response = client.post(
        "/str/",
        {
            "profile": copied,
            "algorithm": "tanabe",
            "mode": "non_empty",
            "min_markers": 8,
            "score_filter": 60,
            "max_results": 200,
        },
    )
    assert response.status_code == 200
    assert "1-7HB2" in response.content.decode()


def test_a_controlled_profile_is_not_filled_in_for_a_researcher(client, researcher, references):  # noqa: F811
    line = _line(genetic_data="controlled")
    client.force_login(researcher)
    html = client.get(f"/str/?line={line.name}").content.decode()
    assert "no STR profile you may see" in html
    assert "TH01: 7,9" not in html and 'id="str-hits"' not in html
