"""The results browser's filters, one FilterSet for the page and the API.

A gene matches a dataset through a line's engineered variants, or through its
donor's germline variants only where the caller may see that donor's genetic data
(donors.disclosure): a filter must not reveal a controlled genotype."""

import django_filters as filters
from django.db.models import Exists, OuterRef, Q

from donors.disclosure import genetic_data_visible_q
from donors.models import Variant
from results.models import Assay, Dataset, DatasetLine, DatasetStatus, Measurement


class DatasetFilter(filters.FilterSet):
    assay = filters.MultipleChoiceFilter(
        choices=Assay.choices, distinct=False, help_text="Only these assays (repeatable)."
    )
    status = filters.MultipleChoiceFilter(choices=DatasetStatus.choices, distinct=False, help_text="Only these states.")
    cell_type = filters.CharFilter(method="filter_cell_type", help_text="Cell Ontology id or label, e.g. CL:0000100")
    compound = filters.CharFilter(method="filter_compound", help_text="A compound measured in the dataset")
    gene = filters.CharFilter(method="filter_gene", help_text="HGNC symbol carried by one of its lines, e.g. SOD1")
    disease = filters.CharFilter(
        method="filter_disease", help_text="MONDO id or disease label (subtype) of one of its lines' donors"
    )
    line = filters.CharFilter(method="filter_line", help_text="Catalog line name")

    class Meta:
        model = Dataset
        fields = []

    def filter_cell_type(self, queryset, name, value):
        value = value.strip()
        return queryset.filter(Q(cell_type__iexact=value) | Q(cell_type_label__icontains=value)) if value else queryset

    def filter_compound(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Exists(Measurement.objects.filter(dataset=OuterRef("pk"), compound__iexact=value)))

    def filter_gene(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        user = getattr(self.request, "user", None)
        germline = Variant.objects.filter(donor=OuterRef("line__donor"), gene__iexact=value)
        engineered = Variant.objects.filter(line=OuterRef("line"), gene__iexact=value)
        items = DatasetLine.objects.filter(dataset=OuterRef("pk")).filter(
            Q(Exists(engineered)) | (Q(Exists(germline)) & genetic_data_visible_q(user, "line__donor__"))
        )
        return queryset.filter(Exists(items))

    def filter_disease(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        items = DatasetLine.objects.filter(dataset=OuterRef("pk")).filter(
            Q(line__donor__disease__iexact=value) | Q(line__donor__disease_label__icontains=value)
        )
        return queryset.filter(Exists(items))

    def filter_line(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Exists(DatasetLine.objects.filter(dataset=OuterRef("pk"), line__name=value)))
