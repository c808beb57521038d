"""Donors API: pseudonymous public facts of donors and the lines you may see of them.

A donor is visible when at least one of its lines is (curators see all;
lines.selectors.donors_visible_to). Variants, STR and repeat sizes follow the
consent's genetic-data level (donors.disclosure, applied by lines/holdings/representation.py).
Read-only: donors enter the catalog through submissions.
"""

from django.db.models import Prefetch
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers

from core.api import KeysetPagination, StrictDjangoFilterBackend, reject_unknown_params
from lines.holdings import representation as rep
from lines.holdings.api import HoldingsView
from lines.holdings.filters import DonorFilter
from lines.holdings.serializers import (
    ConsentTermsSerializer,
    DonorFactsSerializer,
    DonorSummarySerializer,
    FastSerializer,
    LineRefSerializer,
    VariantSerializer,
    check_lookup,
    lookup_parameter,
)
from lines.models import CellLine
from lines.selectors import donors_visible_to

DONOR_CODE_MAX = 20


def donor_list_item(donor, viewer):
    data = rep.donor_summary(donor, viewer)
    data["institution"] = donor.institution.code if donor.institution_id else None
    data["lines"] = [rep.line_ref(line, viewer) for line in donor.visible_lines]
    return data


def donor_detail(donor, viewer):
    data = rep.donor_public_facts(donor, viewer)
    genetic = data["genetic_data_shown"]
    data["lines"] = [rep.line_ref(line, viewer) for line in donor.visible_lines]
    data["variants"] = [rep.variant_facts(v) for v in donor.variants.all()] if genetic else []
    data["str_profile"] = (donor.str_profile or None) if genetic else None
    data["consent"] = rep.consent_terms(getattr(donor, "consent", None))
    return data


class DonorListSerializer(FastSerializer, DonorSummarySerializer):
    institution = serializers.CharField(allow_null=True)
    lines = LineRefSerializer(many=True, help_text="The donor's lines you may see.")

    @staticmethod
    def represent(donor, viewer):
        return donor_list_item(donor, viewer)


class DonorDetailSerializer(FastSerializer, DonorFactsSerializer):
    lines = LineRefSerializer(many=True, help_text="The donor's lines you may see.")
    variants = VariantSerializer(many=True, help_text="Germline variants; empty unless genetic data is shown.")
    str_profile = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        allow_null=True,
        help_text="Null unless genetic data is shown to you.",
    )
    consent = ConsentTermsSerializer(allow_null=True)

    @staticmethod
    def represent(donor, viewer):
        return donor_detail(donor, viewer)


class DonorView(HoldingsView):
    def get_queryset(self):
        user = self.request.user
        lines = CellLine.objects.visible_to(user).only("id", "name", "donor_id").order_by("name")
        return (
            donors_visible_to(user)
            .select_related("consent", "institution")
            .prefetch_related(Prefetch("lines", queryset=lines, to_attr="visible_lines"))
        )


@extend_schema(tags=["donors"])
class DonorList(DonorView, generics.ListAPIView):
    """Donors with at least one line you may see: pseudonymous public facts only."""

    serializer_class = DonorListSerializer
    filter_backends = [StrictDjangoFilterBackend]
    filterset_class = DonorFilter
    pagination_class = KeysetPagination
    ordering_fields = {"code": "code", "age": "age_at_sampling"}
    default_ordering = ("code",)
    ordering_unique = ("code",)

    def get_queryset(self):
        return super().get_queryset().defer("str_profile", "clinical_data", "viral_screening")


@extend_schema(tags=["donors"], parameters=[lookup_parameter("code", DONOR_CODE_MAX, "The donor's code")])
class DonorDetail(DonorView, generics.RetrieveAPIView):
    """One donor by code: clinical facts, consent terms, lines; genetic data at the consent's level."""

    serializer_class = DonorDetailSerializer

    def get_queryset(self):
        return super().get_queryset().prefetch_related("variants", "consent__codes")

    def get_object(self):
        code = self.kwargs["code"]
        check_lookup("code", code, DONOR_CODE_MAX)
        reject_unknown_params(self.request, ())
        return generics.get_object_or_404(self.get_queryset(), code=code)


urlpatterns = [
    path("donors/", DonorList.as_view(), name="api-donor-list"),
    path("donors/<str:code>/", DonorDetail.as_view(), name="api-donor-detail"),
]
