"""factory_boy factories for the domain: realistic defaults, one place to change them."""

import datetime
import json

import factory
from factory.django import DjangoModelFactory

from cohorts.models import Cohort
from core.accounts import create_user_with_role
from core.models import Institution
from distribution.actions import requests as request_actions
from distribution.models import DistributionRequest
from donors.actions import write_course
from donors.models import Consent, Donor, Variant
from lines.models import CellLine, ProtocolVersion, QCRecord, Submission
from lines.submissions.protocol.example import valid_document
from stock.models import Location, Lot, Vial


class InstitutionFactory(DjangoModelFactory):
    class Meta:
        model = Institution
        django_get_or_create = ["code"]

    code = factory.Sequence(
        lambda n: "INST" + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[n % 26] + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[(n // 26) % 26]
    )
    name = factory.LazyAttribute(lambda o: f"Institute {o.code}")
    country = "Germany"


class DonorFactory(DjangoModelFactory):
    class Meta:
        model = Donor

    code = factory.Sequence(lambda n: f"PD{n:05d}")
    institution = factory.SubFactory(InstitutionFactory)
    donor_number = factory.Sequence(lambda n: f"{n % 1000:03d}")
    sex = "female"
    age_at_sampling = 54
    ancestry = "European"
    disease = "MONDO:0004976"
    disease_label = "amyotrophic lateral sclerosis"
    # donors.affection derives it; writers refresh it, factories set what it would be.
    affection_status = factory.LazyAttribute(lambda o: "affected" if o.disease or o.disease_label else "unaffected")
    family_history = "sporadic"
    onset_site = "spinal"
    age_at_onset = 52


class ConsentFactory(DjangoModelFactory):
    class Meta:
        model = Consent
        skip_postgeneration_save = True

    donor = factory.SubFactory(DonorFactory)
    genetic_data = "open"
    recontact = True
    obtained_on = datetime.date(2024, 1, 10)

    @factory.post_generation
    def codes(self, create, extracted, **kwargs):
        if create:
            self.codes.set(extracted if extracted is not None else ["DUO:0000042"])


class CellLineFactory(DjangoModelFactory):
    class Meta:
        model = CellLine

    donor = factory.SubFactory(DonorFactory)
    institution = factory.LazyAttribute(lambda o: o.donor.institution)
    name = factory.LazyAttributeSequence(
        lambda o, n: f"{o.institution.code}i{o.donor.donor_number}-{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[n % 26]}"
    )
    source_cell_type = "CL:0000057"
    source_cell_type_label = "fibroblast"
    reprogramming_method = "sendai"
    derived_on = datetime.date(2024, 6, 1)
    passage_at_banking = 15
    status = "released"
    availability = "available"


class QCRecordFactory(DjangoModelFactory):
    class Meta:
        model = QCRecord

    line = factory.SubFactory(CellLineFactory)
    test = "mycoplasma"
    method = "pcr"
    result = "pass"
    tested_on = datetime.date(2024, 9, 1)


class VariantFactory(DjangoModelFactory):
    class Meta:
        model = Variant

    donor = factory.SubFactory(DonorFactory)
    gene = "SOD1"
    hgnc_id = "HGNC:11179"
    hgvs = "NM_000454.5:c.14C>T"
    protein = "p.Ala5Val"
    legacy_name = "A4V"
    zygosity = "heterozygous"
    classification = "pathogenic"


class SubmissionFactory(DjangoModelFactory):
    """A stored submission of protocol version 1: by default `received`, one valid line,
    deposited by a new depositor of a new institution (pass depositor= and
    institution= to choose them; document__data= for other bytes)."""

    class Meta:
        model = Submission

    institution = factory.SubFactory(InstitutionFactory)
    depositor = factory.LazyAttributeSequence(
        lambda o, n: create_user_with_role(f"depositor{n}", "depositor", institution=o.institution)[0]
    )
    protocol_version = factory.LazyFunction(lambda: ProtocolVersion.objects.get(number=1))
    format = "json"
    document = factory.django.FileField(filename="submission.json", data=json.dumps(valid_document(1)).encode("utf-8"))
    status = "received"


# The steps that take a draft to each state, as a requester and a curator would.
REQUEST_STEPS = [
    (
        "submitted",
        lambda r, requester, curator: request_actions.submit(r, requester, accepted_conditions=r.required_conditions()),
    ),
    ("under_review", lambda r, requester, curator: request_actions.start_review(r, curator)),
    ("approved", lambda r, requester, curator: request_actions.approve(r, curator)),
    (
        "agreement_executed",
        lambda r, requester, curator: request_actions.record_agreement(
            r, curator, f"MTA-F{r.pk}", datetime.date.today()
        ),
    ),
    (
        "shipped",
        lambda r, requester, curator: request_actions.ship(
            r,
            curator,
            [
                {"line": item.line, "shipped_on": datetime.date.today(), "vials": item.vials}
                for item in r.items.select_related("line")
                if item.decision == "approved"
            ],
        ),
    ),
    ("completed", lambda r, requester, curator: request_actions.complete(r, requester)),
]


class DistributionRequestFactory(factory.Factory):
    """A request made and moved through the workflow's actions, never written by hand.

    `lines` (default: one released line whose consent allows general research use)
    are requested for `purpose_codes` (default HMB); `status` (default draft) is
    reached step by step, decided by `curator` (made when needed). Other keywords
    go to create_request (vials, accepted_conditions, organisation_type …)."""

    class Meta:
        model = DistributionRequest

    requester = factory.LazyFunction(
        lambda: create_user_with_role(f"requester{next(_requesters)}", "researcher", email="requester@example.org")[0]
    )
    lines = None
    purpose_codes = ("DUO:0000006",)
    status = "draft"
    curator = None

    @classmethod
    def _create(cls, model_class, requester, lines, purpose_codes, status, curator, **kwargs):
        if lines is None:
            lines = [CellLineFactory(donor=ConsentFactory().donor)]
        request = request_actions.create_request(requester, lines, purpose_codes=list(purpose_codes), **kwargs)
        for state, step in REQUEST_STEPS:
            if request.status == status:
                break
            curator = curator or create_user_with_role(f"curator{next(_requesters)}", "curator")[0]
            step(request, requester, curator)
            assert request.status == state, (request.status, state)
        return request


_requesters = iter(range(1, 10**9))


# --- stock (issue 13) ---------------------------------------------------------------

CORE_PANEL = ("identity", "genomic_integrity", "mycoplasma", "sterility", "pluripotency", "trilineage")


class LotFactory(DjangoModelFactory):
    """A lot of a line; `status="released"` for one in distribution. Use
    tests.stock.helpers.released_lot for a lot whose QC panel really passes."""

    class Meta:
        model = Lot

    line = factory.SubFactory(CellLineFactory)
    code = factory.Sequence(lambda n: f"P{n + 1:03d}")
    lot_type = "bank"
    passage = 20
    frozen_on = datetime.date(2025, 3, 1)
    medium = "mTeSR1"
    matrix = "Matrigel"
    cryo_medium = "CryoStor CS10"
    vials_made = 50
    freezing_method = "controlled-rate freezer"


class LocationFactory(DjangoModelFactory):
    """A box (with its site, freezer and rack) unless kind= and parent= say otherwise."""

    class Meta:
        model = Location

    kind = "box"
    name = factory.Sequence(lambda n: f"Box {n + 1}")
    code = factory.Sequence(lambda n: f"box-{n + 1}")
    rows = 9
    columns = 9
    parent = factory.LazyAttribute(lambda o: _rack() if o.kind == "box" else None)


def _rack():
    n = next(_racks)
    site = Location.objects.create(kind="site", name=f"Site {n}", code=f"site-{n}")
    freezer = Location.objects.create(kind="freezer", name="LN2 tank 1", code=f"site-{n}-f1", parent=site)
    return Location.objects.create(kind="rack", name="Rack 1", code=f"site-{n}-f1-r1", parent=freezer)


_racks = iter(range(1, 10**9))


class VialFactory(DjangoModelFactory):
    class Meta:
        model = Vial

    lot = factory.SubFactory(LotFactory)
    identifier = factory.Sequence(lambda n: f"SAMEA9{n:07d}")
    status = "in_stock"


NORMAL_ALSFRS_R = {k: 4 for k in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}


def course_block(*visits, events=(), sampling=None, **facts):
    """A protocol v3 `course` block: visits as (months from onset, {item: score changes})."""
    return {
        "sampling_months_from_onset": sampling,
        "visits": [{"months_from_onset": m, "alsfrs_r": {**NORMAL_ALSFRS_R, **changes}} for m, changes in visits],
        "events": [{"kind": kind, "months_from_onset": m} for kind, m in events],
        **facts,
    }


class DonorWithCourseFactory(DonorFactory):
    """A donor with visits and milestones, written by donors.actions.write_course (so
    every derived value is the writer's)."""

    class Meta:
        skip_postgeneration_save = True

    @factory.post_generation
    def course(self, create, extracted, **kwargs):
        if create:
            write_course(self, extracted or course_block((6, {"2": 3}), (18, {"2": 2, "8": 2}), sampling=6))


class CohortFactory(DjangoModelFactory):
    class Meta:
        model = Cohort

    public_id = factory.Sequence(lambda n: f"COH-{n:08x}")
    name = "C9orf72 fast vs sporadic vs control"
    owner = factory.Sequence(lambda n: create_user_with_role(f"cohort-owner-{n}", "researcher")[0])
    definition = factory.LazyFunction(lambda: {"arms": []})
    seed = 42
