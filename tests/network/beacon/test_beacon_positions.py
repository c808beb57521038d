"""g_variants by chromosome and position (Beacon sequence, range and bracket queries),
on the variants whose HGVS is genomic. Beacon's coordinates are 0-based: the
substitution at g.31667281 starts at 31667280."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from donors.models import Variant
from tests.factories import VariantFactory
from tests.network.beacon.schemas import RESPONSES, assert_valid

pytestmark = pytest.mark.django_db

CHR21 = "refseq:NC_000021.9"
SNV = 31667280  # NC_000021.9:g.31667281C>T, 0-based


@pytest.fixture
def located(bank):
    """Genomic variants on the bank's donors and lines: an SNV and a three-base deletion
    on chromosome 21 (GRCh38), the same SNV on a donor whose consent keeps genetic data
    to curators, the SNV given on GRCh37 in an engineered line, and one on chromosome 1."""
    donors = {code: line.donor for code, line in bank.items() if code.startswith("NETD")}
    VariantFactory(donor=donors["NETD001"], gene="TARDBP", hgnc_id="HGNC:11571", hgvs="NC_000001.11:g.11022209A>G")
    VariantFactory(donor=donors["NETD002"], gene="SOD1", hgnc_id="HGNC:11179", hgvs="NC_000021.9:g.31667281C>T")
    VariantFactory(
        donor=donors["NETD003"], gene="SOD1", hgnc_id="HGNC:11179", hgvs="NC_000021.9:g.31667300_31667302del"
    )
    VariantFactory(donor=donors["NETD005"], gene="SOD1", hgnc_id="HGNC:11179", hgvs="NC_000021.9:g.31667281C>T")
    VariantFactory(
        donor=None,
        line=bank["control"],
        origin="engineered",
        gene="SOD1",
        hgnc_id="HGNC:11179",
        hgvs="NC_000021.8:g.31667281C>T",
    )
    return bank


def ask(user, granularity="count", **params):
    headers = {"HTTP_AUTHORIZATION": f"Token {Token.objects.get_or_create(user=user)[0].key}"} if user else {}
    body = {"query": {"requestedGranularity": granularity, "requestParameters": params, "pagination": {"limit": 50}}}
    return Client().post("/api/beacon/v2/g_variants", body, content_type="application/json", **headers)


def count(user, **params):
    response = ask(user, **params)
    assert response.status_code == 200, response.content
    document = response.json()
    assert_valid(document, RESPONSES + "beaconCountResponse.json")
    return document["responseSummary"]["numTotalResults"]


def test_a_sequence_query_finds_the_variant_starting_exactly_there(located, researcher, curator):
    assert count(researcher, referenceName=CHR21, start=[SNV], alternateBases="T") == 1
    # The donor whose consent keeps genetic data to curators counts for curators only.
    assert count(curator, referenceName=CHR21, start=[SNV], alternateBases="T") == 2
    # A 1-based position (one further on) is another position.
    assert count(researcher, referenceName=CHR21, start=[SNV + 1], alternateBases="T") == 0


def test_a_chromosome_without_a_version_spans_both_assemblies_and_assembly_id_picks_one(located, researcher):
    assert count(researcher, referenceName="chr21", start=[SNV]) == 2
    assert count(researcher, referenceName="21", start=[SNV], assemblyId="GRCh37") == 1
    assert count(researcher, referenceName="chr21", start=[SNV], assemblyId="hg38") == 1
    assert count(researcher, referenceName="NC_000021.8", start=[SNV]) == 1


def test_the_wrong_chromosome_finds_nothing(located, researcher):
    assert count(researcher, referenceName="chr1", start=[SNV]) == 0
    assert count(researcher, referenceName="chr1", start=[11022208], alternateBases="G") == 1


def test_reference_and_alternate_bases_must_agree(located, researcher):
    assert count(researcher, referenceName=CHR21, start=[SNV], referenceBases="C", alternateBases="T") == 1
    assert count(researcher, referenceName=CHR21, start=[SNV], referenceBases="A") == 0
    assert count(researcher, referenceName=CHR21, start=[SNV], alternateBases="G") == 0
    # N stands for any base.
    assert count(researcher, referenceName=CHR21, start=[SNV], alternateBases="N") == 1


def test_a_range_query_finds_variants_overlapping_it(located, researcher):
    assert count(researcher, referenceName="chr21", start=[31667000], end=[31667400]) == 3
    # The deletion covers 31667299..31667301 (0-based): a range ending where it starts misses it,
    # one starting on its last base catches it.
    assert count(researcher, referenceName="chr21", start=[31667290], end=[31667299]) == 0
    assert count(researcher, referenceName="chr21", start=[31667301], end=[31667400]) == 1
    assert count(researcher, referenceName="chr21", start=[31667000], end=[31667400], variantType="DEL") == 1
    assert count(researcher, referenceName="chr21", start=[31667000], end=[31667400], alternateBases="T") == 2


def test_a_bracket_query_bounds_both_ends(located, researcher):
    assert count(researcher, referenceName="chr21", start=[31667290, 31667310], end=[31667300, 31667310]) == 1
    assert count(researcher, referenceName="chr21", start=[31667270, 31667290], end=[31667281, 31667281]) == 2
    assert count(researcher, referenceName="chr21", start=[31667290, 31667310], end=[31667303, 31667310]) == 0


def test_position_and_gene_combine(located, researcher):
    assert count(researcher, referenceName="chr21", start=[31667000], end=[31667400], geneId="SOD1") == 3
    assert count(researcher, referenceName="chr21", start=[31667000], end=[31667400], geneId="FUS") == 0


def test_get_and_the_grouped_request_parameters_answer_alike(located, researcher):
    token = Token.objects.get_or_create(user=researcher)[0].key
    response = Client().get(
        "/api/beacon/v2/g_variants",
        {"referenceName": "chr21", "start": "31667000", "end": "31667400"},
        HTTP_AUTHORIZATION=f"Token {token}",
    )
    assert response.json()["responseSummary"]["numTotalResults"] == 3
    body = {"query": {"requestParameters": {"g_variant": {"referenceName": "chr21", "start": [SNV]}}}}
    response = Client().post(
        "/api/beacon/v2/g_variants", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
    )
    document = response.json()
    assert document["responseSummary"]["numTotalResults"] == 2
    assert document["meta"]["receivedRequestSummary"]["requestParameters"] == {
        "g_variant": {"referenceName": "chr21", "start": [SNV]}
    }


def test_records_place_the_variant_in_beacon_coordinates(located, researcher):
    response = ask(researcher, "record", referenceName="chr21", start=[31667290], end=[31667400])
    document = response.json()
    assert_valid(document, RESPONSES + "beaconResultsetsResponse.json")
    (record,) = document["response"]["resultSets"][0]["results"]
    assert_valid(record, "deref_schemas/genomicVariations/defaultSchema.json")
    interval = record["variation"]["location"]["interval"]
    assert (interval["start"]["value"], interval["end"]["value"]) == (31667299, 31667302)
    assert record["variation"]["variantType"] == "DEL"


def test_a_coding_description_has_no_position_and_bulk_writes_fill_positions(located, researcher, bank):
    donor = bank["NETD004"].donor
    Variant.objects.bulk_create(
        [
            Variant(donor=donor, gene="FUS", hgvs="NM_004960.4:c.1561C>T"),
            Variant(donor=donor, gene="FUS", hgvs="NC_000016.10:g.31191431C>T"),
        ]
    )
    genomic, coding = Variant.objects.filter(donor=donor, gene="FUS").order_by("hgvs")
    assert (genomic.chromosome, genomic.position_start) == ("16", 31191431)
    assert (coding.chromosome, coding.position_start) == ("", None)
    assert count(researcher, referenceName="chr16", start=[31191430], alternateBases="T") == 1


@pytest.mark.parametrize(
    ("params", "named"),
    [
        ({"referenceName": "chr21", "start": ["abc"]}, "requestParameters.start"),
        ({"referenceName": "chr21", "start": [-1]}, "requestParameters.start"),
        ({"referenceName": "chr21", "start": [1, 2, 3]}, "requestParameters.start"),
        ({"referenceName": "chr21", "start": [20, 10], "end": [30, 40]}, "requestParameters.start"),
        ({"referenceName": "chr21", "end": [100]}, "requestParameters.start"),
        ({"start": [100]}, "requestParameters.referenceName"),
        ({"referenceName": "chr99", "start": [100]}, "requestParameters.referenceName"),
        ({"referenceName": "NC_000021.3", "start": [100]}, "requestParameters.referenceName"),
        ({"referenceName": "chr21", "start": [100, 200], "end": [300]}, "requestParameters.end"),
        ({"referenceName": "chr21", "start": [100], "end": [100]}, "requestParameters.end"),
        ({"referenceName": "chr21", "start": [100], "referenceBases": "XYZ"}, "requestParameters.referenceBases"),
        ({"referenceName": "chr21", "start": [100], "alternateBases": "T-"}, "requestParameters.alternateBases"),
        ({"referenceName": "chr21", "start": [100], "assemblyId": "GRCh99"}, "requestParameters.assemblyId"),
        ({"referenceName": "NC_000021.9", "start": [100], "assemblyId": "GRCh37"}, "requestParameters.assemblyId"),
        (
            {"referenceName": "chr21", "start": [100], "end": [200], "variantType": "FOO"},
            "requestParameters.variantType",
        ),
        ({"referenceName": "chr21", "start": [100], "mateName": "chr5"}, "mateName"),
    ],
)
def test_a_malformed_position_query_answers_a_beacon_error_naming_the_parameter(located, params, named):
    response = ask(None, **params)
    assert response.status_code == 400
    document = response.json()
    assert_valid(document, RESPONSES + "beaconErrorResponse.json")
    assert named in document["error"]["errorMessage"]


def test_a_malformed_get_position_answers_a_beacon_error(located):
    response = Client().get("/api/beacon/v2/g_variants", {"referenceName": "chr21", "start": "12x"})
    assert response.status_code == 400
    assert_valid(response.json(), RESPONSES + "beaconErrorResponse.json")
    assert "requestParameters.start" in response.json()["error"]["errorMessage"]
