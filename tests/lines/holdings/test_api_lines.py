"""The holdings API answers researchers' questions: filters, search, ordering,
cursor pages, facets, exports, line and donor details, and clear 400s."""

import csv
import io
import json

import pytest

from lines.models import CellLine
from lines.search_text import refresh_search_text
from tests.api_catalog import PUBLIC, build_catalog
from tests.conftest import client_for
from tests.factories import CellLineFactory, ConsentFactory, DonorFactory, QCRecordFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog(owner_institution, other_institution):
    return build_catalog(owner_institution, other_institution)


def names(response):
    assert response.status_code == 200, response.content
    return {item["name"] for item in response.json()["results"]}


def get(client, url, **params):
    return client.get(url, params)


# -- filters ---------------------------------------------------------------------------
def test_disease_filter_includes_subtypes(catalog, api_client):
    # ALS (MONDO:0004976) finds ALS type 1 and sporadic ALS lines, not Parkinson's.
    found = names(get(api_client, "/api/v1/lines/", disease="MONDO:0004976"))
    assert found == {"UKBi001-A", "UKBi001-A-1", "UKBi001-A-2", "UKBi002-A"}
    familial = names(get(api_client, "/api/v1/lines/", disease="MONDO:0005144"))
    assert familial == {"UKBi001-A", "UKBi001-A-1", "UKBi001-A-2"}


def test_gene_filter_accepts_aliases_and_hides_controlled_variants(catalog, api_client, curator):
    assert names(get(api_client, "/api/v1/lines/", gene="SOD1")) == {
        "UKBi001-A",
        "UKBi001-A-1",
        "UKBi001-A-2",
    }
    assert names(get(api_client, "/api/v1/lines/", gene="sod1")) == {
        "UKBi001-A",
        "UKBi001-A-1",
        "UKBi001-A-2",
    }
    # C9orf72 sits in a controlled consent: only a curator can find it by gene.
    assert names(get(api_client, "/api/v1/lines/", gene="C9orf72")) == set()
    assert names(get(client_for(curator), "/api/v1/lines/", gene="C9orf72")) == {"UKBi002-A"}


def test_variant_filter_matches_protein_legacy_and_hgvs(catalog, api_client):
    for value in ("p.Ala5Val", "Ala5Val", "A4V", "SOD1 A4V", "c.14C>T", "NM_000454.5:c.14C>T"):
        assert "UKBi001-A" in names(get(api_client, "/api/v1/lines/", variant=value)), value
    # The engineered correction is on the subclone alone.
    assert names(get(api_client, "/api/v1/lines/", variant="p.Val5Ala")) == {"UKBi001-A-1"}


def test_gene_and_zygosity_must_hold_for_the_same_variant(catalog, api_client):
    assert names(get(api_client, "/api/v1/lines/", gene="SOD1", zygosity="homozygous")) == {"UKBi001-A-1"}
    assert names(get(api_client, "/api/v1/lines/", gene="LRRK2", zygosity="homozygous")) == set()


def test_donor_filters_combine(catalog, api_client):
    assert names(get(api_client, "/api/v1/lines/", sex="male", family_history="sporadic")) == {"UKBi002-A"}
    assert names(get(api_client, "/api/v1/lines/", onset_site="bulbar")) == {"UKBi002-A"}
    assert names(get(api_client, "/api/v1/lines/", ancestry="African")) == {"UCSFi004-A"}
    assert names(get(api_client, "/api/v1/lines/", age_min=55, age_max=65)) == {"UKBi002-A"}
    assert names(get(api_client, "/api/v1/lines/", age_min=60)) == {"UKBi002-A", "UCSFi004-A"}
    both = api_client.get("/api/v1/lines/?sex=female&sex=male&ancestry=South+Asian")
    assert names(both) == {"UCSFi005-A"}


def test_line_filters(catalog, api_client):
    assert names(get(api_client, "/api/v1/lines/", reprogramming_method="episomal")) == {
        "UKBi002-A",
        "UCSFi005-A",
    }
    assert names(get(api_client, "/api/v1/lines/", modification_type="gene_correction")) == {"UKBi001-A-1"}
    assert names(get(api_client, "/api/v1/lines/", availability="restricted")) == {"UKBi001-A-2"}
    assert names(get(api_client, "/api/v1/lines/", institution="UCSF")) == {
        "UCSFi004-A",
        "UCSFi005-A",
    }
    assert names(get(api_client, "/api/v1/lines/", source_cell_type="CL:0000057")) == PUBLIC
    assert names(get(api_client, "/api/v1/lines/", qc_passed="true")) == {"UKBi001-A"}
    assert "UKBi001-A" not in names(get(api_client, "/api/v1/lines/", qc_passed="false"))


def test_isogenic_control_filter(catalog, api_client):
    assert names(get(api_client, "/api/v1/lines/", has_isogenic_control="true")) == {
        "UKBi001-A",
        "UKBi001-A-1",
        "UKBi001-A-2",
    }
    assert names(get(api_client, "/api/v1/lines/", has_isogenic_control="false")) == {
        "UKBi002-A",
        "UCSFi004-A",
        "UCSFi005-A",
    }


def test_commercial_use_filter_follows_duo_modifiers(catalog, api_client):
    # UKBi002-A is NCU, UCSFi004-A is NPU: neither may go to a company.
    usable = names(get(api_client, "/api/v1/lines/", commercial_use="true"))
    assert usable == {"UKBi001-A", "UKBi001-A-1", "UKBi001-A-2", "UCSFi005-A"}
    assert names(get(api_client, "/api/v1/lines/", commercial_use="false")) == {
        "UKBi002-A",
        "UCSFi004-A",
    }


def test_withdrawn_consent_makes_a_line_unusable_commercially(catalog, api_client):
    consent = catalog.donors["PD-CTRL5"].consent
    consent.withdrawn_on = consent.obtained_on
    consent.save()
    assert "UCSFi005-A" not in names(get(api_client, "/api/v1/lines/", commercial_use="true"))


# -- search ------------------------------------------------------------------------------
def test_search_covers_names_synonyms_genes_variants_and_disease(catalog, api_client):
    assert names(get(api_client, "/api/v1/lines/", search="UKBi002")) == {"UKBi002-A"}
    assert names(get(api_client, "/api/v1/lines/", search="als-sod1-parent")) == {"UKBi001-A"}
    assert names(get(api_client, "/api/v1/lines/", search="G2019S")) == {"UCSFi004-A"}
    assert names(get(api_client, "/api/v1/lines/", search="parkinson")) == {"UCSFi004-A"}
    assert names(get(api_client, "/api/v1/lines/", search="lrrk2 parkinson")) == {"UCSFi004-A"}
    assert names(get(api_client, "/api/v1/lines/", search="PARK8")) == {"UCSFi004-A"}  # LRRK2 alias
    assert names(get(api_client, "/api/v1/lines/", search="sporadic amyotrophic")) == {"UKBi002-A"}


def test_search_does_not_reveal_controlled_variants(catalog, api_client, curator):
    assert names(get(api_client, "/api/v1/lines/", search="G4C2")) == set()
    assert names(get(client_for(curator), "/api/v1/lines/", search="G4C2")) == {"UKBi002-A"}


def test_search_text_follows_refresh_after_a_new_synonym(catalog, api_client):
    line = CellLine.objects.get(name="UKBi002-A")
    line.alternative_names = ["BONN-SALS-7"]
    line.save()
    assert names(get(api_client, "/api/v1/lines/", search="bonn-sals-7")) == set()
    refresh_search_text(CellLine.objects.filter(pk=line.pk))
    assert names(get(api_client, "/api/v1/lines/", search="bonn-sals-7")) == {"UKBi002-A"}


# -- ordering and cursor pages --------------------------------------------------------------
def test_cursor_pages_walk_every_line_once_in_both_directions(catalog, api_client):
    seen, url, pages = [], "/api/v1/lines/?page_size=2&ordering=-released_at,name", []
    while url:
        response = api_client.get(url)
        assert response.status_code == 200
        body = response.json()
        pages.append(body)
        seen += [item["name"] for item in body["results"]]
        url = body["next"]
    assert len(seen) == len(PUBLIC) and set(seen) == PUBLIC
    # Newest release first, lines never released last.
    assert seen[:2] == ["UKBi001-A-1", "UKBi001-A"]
    back = api_client.get(pages[-1]["previous"]).json()
    assert [item["name"] for item in back["results"]] == [item["name"] for item in pages[-2]["results"]]


def test_default_order_is_by_name(catalog, api_client):
    body = api_client.get("/api/v1/lines/").json()
    ordered = [item["name"] for item in body["results"]]
    assert ordered == sorted(ordered)
    assert body["next"] is None and body["previous"] is None


# -- facets --------------------------------------------------------------------------------
def test_facets_count_the_filtered_lines(catalog, api_client):
    body = api_client.get("/api/v1/lines/?disease=MONDO:0004976&facets=true&page_size=1").json()
    assert len(body["results"]) == 1
    facets = body["facets"]
    assert {f["value"]: f["count"] for f in facets["gene"]} == {"SOD1": 3}  # C9orf72 is controlled
    assert {f["value"]: f["count"] for f in facets["sex"]} == {"female": 3, "male": 1}
    assert {f["value"]: f["count"] for f in facets["institution"]} == {"UKB": 4}
    assert sum(f["count"] for f in facets["availability"]) == 4
    alone = api_client.get("/api/v1/lines/facets/?disease=MONDO:0004976").json()["facets"]
    assert alone == facets


# -- detail ----------------------------------------------------------------------------------
def test_line_detail_shows_relatives_qc_consent_and_links(catalog, api_client):
    line = api_client.get("/api/v1/lines/UKBi001-A-1/").json()
    assert line["isogenic"]["parent"]["name"] == "UKBi001-A"
    assert [s["name"] for s in line["isogenic"]["siblings"]] == ["UKBi001-A-2"]
    assert line["donor"]["code"] == "PD-ALS1" and line["donor"]["disease"]["id"] == "MONDO:0007103"
    assert {v["origin"] for v in line["variants"]} == {"germline", "engineered"}
    parent = api_client.get("/api/v1/lines/UKBi001-A/").json()
    assert parent["links"] == {
        "cellosaurus": "https://www.cellosaurus.org/CVCL_ZZ01",
        "rrid": "RRID:CVCL_ZZ01",
        # Its name follows hPSCreg's pattern, but no registration is recorded: no link.
        "hpscreg": None,
    }
    assert [s["name"] for s in parent["isogenic"]["subclones"]] == ["UKBi001-A-1", "UKBi001-A-2"]
    core = [t for t in parent["qc"]["tests"] if t["required"]]
    assert {t["test"] for t in core} >= {"identity", "mycoplasma", "sterility", "trilineage"}
    assert all(t["result"] == "pass" and t["method"] and t["tested_on"] for t in core)
    assert parent["str_profile"] == {"TH01": ["6", "9.3"]}


def test_consent_terms_name_duo_codes_and_conditions(catalog, api_client):
    terms = api_client.get("/api/v1/lines/UCSFi004-A/").json()["consent"]
    assert terms["commercial_use"] is False and terms["not_for_profit_only"] is True
    assert {c["curie"] for c in terms["codes"]} == {
        "DUO:0000042",
        "DUO:0000045",
        "DUO:0000021",
        "DUO:0000019",
    }
    assert {c["shorthand"] for c in terms["conditions"]} == {"IRB", "PUB"}


def test_controlled_genetic_data_is_for_curators_only(catalog, api_client, depositor, curator):
    line = catalog.lines["UKBi002-A"]
    QCRecordFactory(line=line, test="identity", method="str", details={"str_profile": {"TH01": "7,8"}})
    QCRecordFactory(line=line, test="mycoplasma", method="pcr", details={"assay": "qPCR panel"})
    for client in (api_client, client_for(depositor)):
        line = client.get("/api/v1/lines/UKBi002-A/").json()
        assert line["variants"] == [] and line["str_profile"] is None and line["genes"] == []
        assert line["donor"]["c9orf72_repeats"] is None
        donor = client.get("/api/v1/donors/PD-SALS2/").json()
        assert donor["variants"] == [] and donor["str_profile"] is None
        qc = client.get("/api/v1/qc/", {"line": "UKBi002-A"}).json()["results"]
        genetic = [r for r in qc if r["test"] in ("identity", "genomic_integrity")]
        assert genetic and all(record["details"] is None for record in genetic)
        # Non-genetic QC (mycoplasma, markers, germ layers) is never held back.
        assert all(r["details"] is not None for r in qc if r not in genetic)
    line = client_for(curator).get("/api/v1/lines/UKBi002-A/").json()
    assert line["variants"][0]["gene"] == "C9orf72" and line["str_profile"] == {"TH01": ["7", "8"]}
    assert line["donor"]["c9orf72_repeats"] == 850


def test_donor_detail_lists_only_visible_lines(catalog, api_client, other_depositor):
    donor = api_client.get("/api/v1/donors/PD-PARK4/").json()
    assert [line["name"] for line in donor["lines"]] == ["UCSFi004-A"]
    own = client_for(other_depositor).get("/api/v1/donors/PD-PARK4/").json()
    assert [line["name"] for line in own["lines"]] == ["UCSFi004-A", "UCSFi004-B"]


def test_qc_list_filters_by_line_test_and_result(catalog, api_client):
    body = api_client.get("/api/v1/qc/", {"result": "fail"}).json()
    assert [(r["line"], r["test"]) for r in body["results"]] == [("UCSFi005-A", "sterility")]
    body = api_client.get("/api/v1/qc/", {"line": "UKBi001-A", "test": "mycoplasma"}).json()
    assert [(r["line"], r["result"]) for r in body["results"]] == [("UKBi001-A", "pass")]


# -- exports -----------------------------------------------------------------------------------
def _content(response):
    return b"".join(response.streaming_content).decode()


def test_csv_export_streams_the_filtered_list(catalog, api_client):
    response = api_client.get("/api/v1/lines/export.csv", {"gene": "SOD1", "ordering": "-name"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(_content(response))))
    assert [r["name"] for r in rows] == ["UKBi001-A-2", "UKBi001-A-1", "UKBi001-A"]
    assert rows[-1]["cellosaurus"] == "https://www.cellosaurus.org/CVCL_ZZ01" and rows[-1]["genes"] == "SOD1"


def test_exports_answer_whatever_the_client_accepts(catalog, api_client):
    response = api_client.get("/api/v1/lines/export.csv", HTTP_ACCEPT="text/csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    response = api_client.get("/api/v1/lines/export.csv?sex=robot", HTTP_ACCEPT="text/csv")
    assert response.status_code == 400 and "sex" in response.json()


def test_json_export_streams_every_match_without_pages(catalog, api_client):
    response = api_client.get("/api/v1/lines/export.json", {"disease": "MONDO:0004976"})
    assert response.status_code == 200 and response.streaming
    data = json.loads(_content(response))
    assert {item["name"] for item in data} == {
        "UKBi001-A",
        "UKBi001-A-1",
        "UKBi001-A-2",
        "UKBi002-A",
    }


def test_csv_export_defuses_spreadsheet_formulas(owner_institution, api_client):
    donor = DonorFactory(institution=owner_institution, disease_label='=HYPERLINK("x")')
    CellLineFactory(donor=donor, name="UKBi777-A")
    rows = list(csv.DictReader(io.StringIO(_content(api_client.get("/api/v1/lines/export.csv")))))
    assert rows[0]["disease_label"].startswith("'=")


# -- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("sex=robot", "sex"),
        ("disease=ALS", "disease"),
        ("disease=MONDO:123", "disease"),
        ("gene=SOD1;DROP", "gene"),
        ("age_min=old", "age_min"),
        ("age_min=200", "age_min"),
        ("age_min=70&age_max=20", "age_min"),
        ("qc_passed=maybe", "qc_passed"),
        ("institution=ukb", "institution"),
        ("source_cell_type=fibroblast", "source_cell_type"),
        ("colour=blue", "colour"),
        ("page_size=501", "page_size"),
        ("page_size=0", "page_size"),
        ("page_size=ten", "page_size"),
        ("ordering=password", "ordering"),
        ("cursor=not-a-cursor", "cursor"),
        ("facets=perhaps", "facets"),
        ("search=" + "x" * 201, "search"),
    ],
)
def test_bad_query_parameters_get_a_400_naming_them(catalog, api_client, query, parameter):
    response = api_client.get(f"/api/v1/lines/?{query}")
    assert response.status_code == 400, response.content
    assert parameter in response.json()


def test_unknown_parameters_are_refused_on_every_list(catalog, api_client):
    for url in (
        "/api/v1/donors/",
        "/api/v1/qc/",
        "/api/v1/institutions/",
        "/api/v1/lines/facets/",
        "/api/v1/lines/export.csv",
        "/api/v1/lines/UKBi001-A/",
        "/api/v1/donors/PD-ALS1/",
    ):
        response = api_client.get(url, {"frobnicate": "1"})
        assert response.status_code == 400, url
        assert "frobnicate" in response.json()


def test_malformed_ids_are_400_and_unknown_ids_404(catalog, api_client):
    assert api_client.get("/api/v1/lines/" + "A" * 41 + "/").status_code == 400
    assert api_client.get("/api/v1/lines/NOPEi999-Z/").status_code == 404
    assert api_client.get("/api/v1/qc/abc/").json() == {"record_id": ["Must be a positive whole number."]}
    assert api_client.get("/api/v1/qc/999999/").status_code == 404
    assert api_client.get("/api/v1/institutions/toolong/").status_code == 400
    assert api_client.get("/api/v1/donors/" + "X" * 21 + "/").status_code == 400


def test_api_docs_are_served_without_a_cdn(api_client):
    for url in ("/api/docs/", "/api/redoc/"):
        page = api_client.get(url).content.decode()
        assert "cdn." not in page and "unpkg" not in page and "jsdelivr" not in page
        assert "/static/drf_spectacular_sidecar/" in page
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json").json()
    responses = schema["paths"]["/api/v1/lines/{name}/"]["get"]["responses"]
    assert {"200", "400", "401", "403", "404", "429"} <= set(responses)


def test_browsable_api_renders(catalog, api_client):
    response = api_client.get("/api/v1/lines/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200 and b"UKBi001-A" in response.content


# -- consent conditions: the workflow's list, in the eligibility answer's words ---------------
ENFORCED = {
    "DUO:0000016": "GSO",
    "DUO:0000015": "NMDS",
    "DUO:0000012": "RS",
    "DUO:0000021": "IRB",
    "DUO:0000022": "GS",
}


@pytest.fixture
def conditioned_line(owner_institution):
    donor = DonorFactory(institution=owner_institution, donor_number="090")
    ConsentFactory(donor=donor, codes=["DUO:0000042", *ENFORCED])
    return CellLineFactory(donor=donor, institution=owner_institution, name="UKBi090-A")


def test_consent_conditions_are_every_condition_the_eligibility_answer_names(conditioned_line, api_client):
    eligibility = api_client.post(
        "/api/v1/eligibility/",
        {"lines": [conditioned_line.name], "purpose": {"codes": ["DUO:0000006"]}},
        format="json",
    )
    assert eligibility.status_code == 200, eligibility.content
    enforced = {c["code"]: c for c in eligibility.json()["results"][0]["conditions"]}
    assert set(enforced) == set(ENFORCED)

    conditions = api_client.get(f"/api/v1/lines/{conditioned_line.name}/").json()["consent"]["conditions"]
    assert {c["curie"]: c["shorthand"] for c in conditions} == ENFORCED
    for condition in conditions:
        assert condition["text"] == enforced[condition["curie"]]["text"]
        assert condition["curator_checks"] == enforced[condition["curie"]]["curator_checks"]
    donor = api_client.get(f"/api/v1/donors/{conditioned_line.donor.code}/").json()
    assert donor["consent"]["conditions"] == conditions
