"""What `manage.py seed_demo` promises: a realistic, deterministic ALS consortium catalog.

The demo is written once for the package (tests/demo/conftest.py) inside an outer transaction that is rolled
back at the end, so the other test modules never see it; each test runs in a
savepoint inside it.
"""

import re
from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db.models import CharField
from django.db.models.functions import Length

from core.accounts import create_user_with_role
from core.models import DiseaseTerm, Institution
from core.roles import CURATOR, DEPOSITOR, RESEARCHER, has_role
from demo import catalog as demo
from demo import facts
from distribution.models import DistributionRequest, RequestedLine, RequestEvent, Shipment
from donors.models import Consent, Donor, Variant
from lines.models import CellLine, QCRecord
from lines.naming import is_valid_name, subclone_parent
from lines.qc import CORE_TESTS, required_tests, summarise_qc_status
from lines.search_text import search_q
from lines.str.matching import KNOWN_MARKERS
from lines.str.search import search_profiles
from stock.models import Location, Lot, Vial
from tests.factories import CellLineFactory

pytestmark = pytest.mark.django_db

HPSCREG_NAME = re.compile(r"^[A-Z]{2,6}i[A-Za-z0-9]{3}-[A-Z]{1,2}(-[A-Za-z0-9]{1,2})?$")
SUBSTITUTION = re.compile(r"^c\.(\d+)[ACGT]>[ACGT]$")
PROTEIN = re.compile(r"^p\.([A-Z][a-z]{2})(\d+)([A-Z][a-z]{2}|Ter)$")
THREE_TO_ONE = {
    "Ala": "A",
    "Arg": "R",
    "Asn": "N",
    "Asp": "D",
    "Cys": "C",
    "Gln": "Q",
    "Glu": "E",
    "Gly": "G",
    "His": "H",
    "Ile": "I",
    "Leu": "L",
    "Lys": "K",
    "Met": "M",
    "Phe": "F",
    "Pro": "P",
    "Ser": "S",
    "Thr": "T",
    "Trp": "W",
    "Tyr": "Y",
    "Val": "V",
    "Ter": "X",
}


def test_it_builds_enough_institutions_donors_and_lines(seeded):
    institutions = Institution.objects.all()
    assert institutions.count() >= 6
    continent = {code: cont for code, _, _, _, cont in facts.INSTITUTIONS}
    assert len({continent[i.code] for i in institutions}) >= 3
    assert all(re.fullmatch(r"[A-Z]{2,6}", i.code) for i in institutions)
    assert Donor.objects.count() >= 150
    assert CellLine.objects.count() >= 300
    assert "Demo catalog:" in seeded["output"]


def test_every_line_name_follows_hpscreg_and_carries_its_donor_number(seeded):
    for name, code, number, parent in CellLine.objects.values_list(
        "name", "institution__code", "donor__donor_number", "parental_line__name"
    ):
        assert HPSCREG_NAME.match(name) and is_valid_name(name), name
        assert len(name) <= 15
        assert subclone_parent(name) == parent
        assert name.startswith(f"{code}i{number}-")
        if parent is None:
            assert name.count("-") == 1


def test_subclones_are_parent_n_of_an_unmodified_parent_with_flat_numbering(seeded):
    subclones = CellLine.objects.filter(parental_line__isnull=False).select_related("parental_line")
    assert subclones.count() >= 20
    kinds = Counter(subclones.values_list("modification_type", flat=True))
    assert kinds["gene_correction"] >= 5 and kinds["knock_in"] >= 5
    for line in subclones:
        parent = line.parental_line
        assert re.fullmatch(re.escape(parent.name) + r"-\d{1,2}", line.name)
        assert parent.modification_type == "none" and parent.parental_line_id is None
        assert line.modification_type != "none" and line.modification_description
        assert line.donor_id == parent.donor_id and line.str_profile == parent.str_profile
        assert parent.status == "released"
    for line in subclones.filter(modification_type="knock_in"):
        engineered = list(line.variants.all())
        assert engineered and all(v.origin == "engineered" for v in engineered)


def test_donor_diseases_are_mondo_terms_and_variants_sit_in_the_subtypes_gene(seeded):
    known = set(DiseaseTerm.objects.values_list("curie", flat=True))
    donors = Donor.objects.prefetch_related("variants")
    for donor in donors:
        if not donor.disease:
            continue
        assert donor.disease in known, donor.disease
        assert donor.disease_label == DiseaseTerm.objects.get(curie=donor.disease).label
        gene = facts.GENE_OF_SUBTYPE.get(donor.disease)
        variants = list(donor.variants.all())
        if gene:
            assert variants, f"{donor.code} has subtype {donor.disease} but no variant"
        for variant in variants:
            assert variant.gene == gene, (donor.code, donor.disease, variant.gene)
            assert variant.origin == "germline"
            assert variant.classification in ("pathogenic", "likely_pathogenic")
            assert (
                variant.hgnc_id
                == facts.SUBTYPES[next(k for k, v in facts.SUBTYPES.items() if v[0] == donor.disease)][2]
            )


def test_coding_variants_name_the_right_codon_and_transcript(seeded):
    variants = Variant.objects.exclude(gene="C9orf72")
    assert variants.exists()
    for variant in variants:
        transcript, c_dot = variant.hgvs.split(":")
        assert transcript == facts.TRANSCRIPTS[variant.gene]
        position = int(SUBSTITUTION.match(c_dot).group(1))
        ref, codon, alt = PROTEIN.match(variant.protein).groups()
        assert (position - 1) // 3 + 1 == int(codon), (variant.hgvs, variant.protein)
        assert ref != alt
        legacy = variant.legacy_name
        offset = 1 if variant.gene == "SOD1" else 0  # SOD1 legacy numbering skips Met1
        assert legacy == f"{THREE_TO_ONE[ref]}{int(codon) - offset}{THREE_TO_ONE[alt]}"


def test_the_well_known_sod1_variants_use_hgvs_numbering():
    by_legacy = {legacy: (c_dot, p_dot) for subtype, c_dot, p_dot, legacy, *_ in facts.VARIANTS if subtype == "ALS1"}
    assert by_legacy["A4V"] == ("c.14C>T", "p.Ala5Val")
    assert by_legacy["D90A"] == ("c.272A>C", "p.Asp91Ala")
    assert by_legacy["G93A"] == ("c.281G>C", "p.Gly94Ala")


def test_familial_sporadic_controls_and_c9orf72_expansions_are_all_present(seeded):
    history = Counter(Donor.objects.values_list("family_history", flat=True))
    assert history["familial"] >= 20 and history["sporadic"] >= 20
    controls = Donor.objects.filter(disease="")
    assert controls.count() >= 10
    assert not controls.exclude(family_history="").exists()
    assert not controls.filter(age_at_onset__isnull=False).exists()
    c9 = Variant.objects.filter(gene="C9orf72", origin="germline")
    assert c9.count() >= 10
    for variant in c9.select_related("donor"):
        assert variant.donor.disease == "MONDO:0007105"
        assert 100 <= variant.repeat_size <= 5000
        assert variant.donor.c9orf72_repeats == variant.repeat_size
        assert variant.hgvs.endswith(f"GGGGCC[{variant.repeat_size}]")
    genes = set(Variant.objects.filter(origin="germline").values_list("gene", flat=True))
    assert {"SOD1", "C9orf72", "TARDBP", "FUS"} <= genes and len(genes) >= 8


def test_clinical_facts_are_consistent(seeded):
    patients = Donor.objects.exclude(disease="")
    for donor in patients:
        assert donor.age_at_onset <= donor.age_at_sampling
        assert 0 <= donor.alsfrs_r <= 48 and donor.alsfrs_r_date is not None
        assert donor.progression_rate >= 0
        assert donor.onset_site
    assert patients.filter(atxn2_repeats__gte=27, atxn2_repeats__lte=33).count() >= 3
    assert Counter(patients.values_list("onset_site", flat=True))["bulbar"] >= 10


def test_donors_are_diverse_and_screened(seeded):
    assert set(Donor.objects.values_list("sex", flat=True)) >= {"female", "male"}
    assert len(set(Donor.objects.values_list("ancestry", flat=True))) >= 5
    ages = list(Donor.objects.values_list("age_at_sampling", flat=True))
    assert min(ages) < 35 and max(ages) > 70
    for screening in Donor.objects.values_list("viral_screening", flat=True):
        assert {"HIV-1/2", "HBV (HBsAg)", "HCV (anti-HCV)"} <= set(screening)


def test_each_donor_has_a_distinct_plausible_str_profile(seeded):
    profiles = list(Donor.objects.values_list("sex", "str_profile"))
    assert len({repr(sorted(p.items())) for _, p in profiles}) == len(profiles)
    for sex, profile in profiles:
        markers = [m for m in profile if m != "Amelogenin"]
        assert 8 <= len(markers) <= 16
        assert set(profile) <= set(KNOWN_MARKERS)
        assert profile["Amelogenin"] == (["X"] if sex == "female" else ["X", "Y"])


def test_consent_uses_duo_curies_with_a_mix_of_terms(seeded):
    codes = Counter()
    for consent in Consent.objects.prefetch_related("codes"):
        curies = [c.curie for c in consent.codes.all()]
        assert curies and all(re.fullmatch(r"DUO:\d{7}", c) for c in curies)
        if "DUO:0000007" in curies:
            assert consent.disease.startswith("MONDO:")
        codes.update(curies)
    for curie in (
        "DUO:0000042",
        "DUO:0000006",
        "DUO:0000007",
        "DUO:0000046",
        "DUO:0000021",
        "DUO:0000019",
    ):
        assert codes[curie] > 0, curie
    withdrawn = Consent.objects.filter(withdrawn_on__isnull=False)
    assert withdrawn.count() >= 2
    for consent in withdrawn:
        lines = CellLine.objects.filter(donor=consent.donor)
        assert not lines.exclude(availability="not_distributed").exists()
        assert all(ln.released_at.date() < consent.withdrawn_on for ln in lines)
        assert all(
            r.tested_on <= ln.released_at.date() for ln in lines for r in ln.qc_records.all() if r.test in CORE_TESTS
        )


def test_qc_panels_are_full_and_qc_status_agrees_with_the_records(seeded):
    lines = CellLine.objects.prefetch_related("qc_records").select_related("donor")
    statuses = Counter()
    for line in lines:
        records = list(line.qc_records.all())
        assert line.qc_status == summarise_qc_status(line, records), line.name
        statuses[line.qc_status] += 1
        assert all(line.derived_on < r.tested_on <= demo.ANCHOR for r in records), line.name
        if line.status == "released" and line.qc_status == "passed":
            assert {r.test for r in records} >= set(required_tests(line))
        if line.released_at is not None:
            # Released on a panel tested before release; a failure comes from a later re-test.
            assert all(r.tested_on < line.released_at.date() for r in records if r.result == "pass"), line.name
            assert all(r.tested_on > line.released_at.date() for r in records if r.result == "fail"), line.name
    assert statuses["passed"] > 250 and statuses["failed"] >= 3 and statuses["incomplete"] >= 3
    assert QCRecord.objects.filter(test="vector_clearance").exists()
    assert set(QCRecord.objects.values_list("test", flat=True)) >= set(CORE_TESTS)


def test_qc_details_are_realistic(seeded):
    passing = QCRecord.objects.filter(result="pass").select_related("line__donor")
    for record in passing.filter(test="genomic_integrity", method="G-banding"):
        expected = "46,XX" if record.line.donor.sex == "female" else "46,XY"
        assert record.details["karyotype"] == expected
        assert record.details["band_resolution"] >= 400
    for record in passing.filter(test="identity"):
        profile = {m: a.split(",") for m, a in record.details["profile"].items()}
        assert profile == record.line.donor.str_profile
    for record in passing.filter(test="trilineage"):
        assert set(record.details["germ_layers"]) == {"ectoderm", "mesoderm", "endoderm"}
    for record in passing.filter(test="pluripotency", method="flow cytometry"):
        assert all(70 <= pct <= 100 for pct in record.details["markers"].values())


def test_statuses_release_dates_and_withdrawal_reasons(seeded):
    status = Counter(CellLine.objects.values_list("status", flat=True))
    assert status["released"] > 0.8 * sum(status.values())
    assert status["submitted"] > 0 and status["draft"] > 0 and status["withdrawn"] >= 1
    assert not CellLine.objects.filter(status="withdrawn", status_reason="").exists()
    released = CellLine.objects.exclude(released_at=None)
    dates = sorted(d.date() for d in released.values_list("released_at", flat=True))
    assert dates[0] >= demo.ANCHOR - timedelta(days=830) and dates[-1] <= demo.ANCHOR
    assert (dates[-1] - dates[0]).days > 500
    assert not CellLine.objects.filter(status__in=["draft", "submitted"], released_at__isnull=False).exists()
    assert len(set(CellLine.objects.values_list("reprogramming_method", flat=True))) >= 4
    assert len(set(CellLine.objects.values_list("source_cell_type", flat=True))) >= 4


def test_requests_span_the_workflow_as_the_workflow_would_leave_them(seeded):
    states = set(DistributionRequest.objects.values_list("status", flat=True))
    assert len(states) >= 3 and {"submitted", "shipped", "rejected"} <= states
    for request in DistributionRequest.objects.prefetch_related("items__line", "events"):
        items = list(request.items.all())
        assert items
        actions = [e.action for e in request.events.all()]
        assert actions[0] == "created"
        if request.status == "draft":
            continue
        assert "submitted" in actions and request.submitted_at is not None
        # Submitting refuses lines the consent denies; every condition is accepted.
        assert all(i.eligibility in ("APPROVE", "ABSTAIN") for i in items)
        assert set(request.accepted_conditions) == {c["code"] for i in items for c in i.conditions}
        for item in items:
            if item.line.released_at is not None:
                assert item.line.released_at < request.submitted_at, (request.pk, item.line.name)
        if request.status in ("shipped", "completed"):
            shipped = set(request.shipments.values_list("line__name", flat=True))
            assert shipped == {i.line.name for i in items if i.decision == "approved"}
            assert request.agreement_executed_on <= min(request.shipments.values_list("shipped_on", flat=True))
    last = max(RequestEvent.objects.values_list("at", flat=True)).date()
    assert last <= demo.ANCHOR
    assert max(Shipment.objects.values_list("shipped_on", flat=True)) <= demo.ANCHOR
    assert DistributionRequest.objects.filter(on_hold=True).exclude(hold_reason="").exists()
    assert RequestedLine.objects.filter(decision="rejected").exclude(decision_reason="").exists()
    assert RequestedLine.objects.filter(eligibility="ABSTAIN", request__status="under_review").exists()
    researcher = demo.get_user_model().objects.get(username="researcher")
    mine = DistributionRequest.objects.visible_to(researcher)
    assert mine.count() >= 5 and not mine.exclude(requester=researcher).exists()


def test_one_demo_user_per_role_can_sign_in(seeded, client):
    for role, password in [
        (RESEARCHER, "demo-researcher"),
        (DEPOSITOR, "demo-depositor"),
        (CURATOR, "demo-curator"),
    ]:
        assert f"{role} / {password}" in seeded["output"]
        assert client.login(username=role, password=password), role
        user = demo.get_user_model().objects.get(username=role)
        assert has_role(user, role)
        client.logout()
    depositor = demo.get_user_model().objects.get(username="depositor")
    assert depositor.profile.institution.code == "RNB"
    assert demo.get_user_model().objects.get(username="curator").is_staff
    client.login(username="curator", password="demo-curator")
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/lines/cellline/").status_code == 200


def test_building_is_deterministic(seeded):
    first, second = demo.build_builder(), demo.build_builder()
    assert [ln.name for ln in first.lines] == [ln.name for ln in second.lines]
    assert [d.str_profile for d in first.donors] == [d.str_profile for d in second.donors]


def test_running_again_rebuilds_the_same_catalog_without_duplicates(seeded):
    counts = (
        Donor.objects.count(),
        CellLine.objects.count(),
        QCRecord.objects.count(),
        DistributionRequest.objects.count(),
    )
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "replaced" in out.getvalue()
    assert demo.demo_digest() == seeded["digest"]
    assert (
        Donor.objects.count(),
        CellLine.objects.count(),
        QCRecord.objects.count(),
        DistributionRequest.objects.count(),
    ) == counts


def test_if_empty_leaves_a_catalog_with_lines_alone(seeded):
    out = StringIO()
    call_command("seed_demo", "--if-empty", stdout=out)
    assert "already holds lines" in out.getvalue()
    assert demo.demo_digest() == seeded["digest"]
    # A second `make run` still says how to sign in.
    assert "researcher / demo-researcher" in out.getvalue()


def test_it_refuses_to_rebuild_when_other_data_asks_for_demo_lines(seeded):
    outsider = create_user_with_role("ext-lab", "researcher")[0]
    line = CellLine.objects.filter(status="released", availability="available").first()
    request = DistributionRequest.objects.create(
        requester=outsider,
        organisation="Elsewhere University",
        organisation_type="academic",
        purpose_codes=["DUO:0000042"],
        status="submitted",
    )
    RequestedLine.objects.create(request=request, line=line)
    with pytest.raises(CommandError, match="request"):
        call_command("seed_demo", stdout=StringIO())
    assert CellLine.objects.filter(pk=line.pk).exists()
    assert demo.demo_digest() == seeded["digest"]


def test_demo_lines_are_found_by_search_and_by_str_similarity(seeded):
    line = CellLine.objects.filter(status="released", parental_line__isnull=True).select_related("donor").first()
    assert line.name.lower() in line.search_text
    assert CellLine.objects.filter(search_q(line.name, None), pk=line.pk).exists()
    hits = search_profiles(line.donor.str_profile, min_markers=8)
    top = {h.name for h in hits if h.score == 100}
    assert line.name in top and line.donor.code in top


def test_every_text_value_fits_its_column(seeded):
    """SQLite does not enforce max_length; PostgreSQL does."""
    for label in ("prism", "donors", "lines", "distribution"):
        for model in apps.get_app_config(label).get_models():
            for field in model._meta.concrete_fields:
                if isinstance(field, CharField) and field.max_length:
                    too_long = model._default_manager.annotate(_n=Length(field.attname)).filter(_n__gt=field.max_length)
                    assert not too_long.exists(), f"{model.__name__}.{field.name} > {field.max_length}"


def test_it_refuses_to_mix_the_demo_into_a_catalog_with_other_lines_unless_forced(seeded):
    demo_lines = CellLine.objects.count()
    real = CellLineFactory(name="UKBi900-A")
    with pytest.raises(CommandError, match="not the demo's"):
        call_command("seed_demo", stdout=StringIO())
    out = StringIO()
    call_command("seed_demo", "--force", stdout=out)
    assert "replaced" in out.getvalue()
    assert CellLine.objects.filter(pk=real.pk).exists()
    assert CellLine.objects.count() == demo_lines + 1


def test_requests_and_withdrawals_are_made_through_the_workflow_actions(seeded):
    """Each request's events chain (every step starts where the last ended, in time
    order) as the actions record them; the withdrawal action held the open request."""
    for request in DistributionRequest.objects.prefetch_related("events"):
        events = list(request.events.all())
        assert [e.at for e in events] == sorted(e.at for e in events), request.pk
        for before, after in zip(events, events[1:], strict=False):
            assert after.from_status == before.to_status, (request.pk, before.action, after.action)
        assert events[-1].to_status == request.status
    held = DistributionRequest.objects.get(on_hold=True)
    hold = RequestEvent.objects.get(request=held, action="put_on_hold")
    assert hold.reason.startswith("Donor consent withdrawn on")
    assert held.items.filter(line__status="withdrawn").exists()
    assert CellLine.objects.filter(status="withdrawn", status_reason__contains="Trisomy 12").exists()


def test_seeding_queues_no_mail(seeded, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        call_command("seed_demo", stdout=StringIO())
    assert callbacks == []


def test_the_demo_bank_has_locations_lots_vials_and_a_recalled_lot(seeded):
    assert Location.objects.filter(kind="box", code__startswith="demo-").count() == 24  # 2 tanks x 2 racks x 6 boxes
    assert Lot.objects.filter(status="released").count() >= 40
    recalled = Lot.objects.get(status="recalled")
    assert "Mycoplasma" in recalled.status_reason
    assert set(recalled.vials.values_list("status", flat=True)) == {"quarantined"}
    assert Vial.objects.filter(status="in_stock", location__isnull=False).count() >= 200
    stocked = CellLine.objects.filter(vials_in_stock__gt=0)
    assert stocked.count() >= 39
    assert stocked.first().stock_summary["label"].startswith("Available (")
    assert "lots with" in seeded["output"]
