"""Forms of the distribution pages: the purpose of a request, and the curator's steps."""

from django import forms
from django.utils import timezone

from core.models import DiseaseTerm, OrganisationType
from donors.duo import PURPOSE_CODES, SHORTHAND, Purpose, PurposeError, check_purpose

PURPOSE_LABELS = {
    "DUO:0000042": "General research use",
    "DUO:0000006": "Health, medical or biomedical research",
    "DUO:0000007": "Research on a specific disease",
    "DUO:0000011": "Population origins or ancestry research",
}


class PurposeForm(forms.Form):
    codes = forms.MultipleChoiceField(
        label="Research purpose",
        choices=[(c, f"{PURPOSE_LABELS[c]} ({SHORTHAND[c]}, {c})") for c in PURPOSE_CODES],
        # .form inputs are full width in prism.css; a checkbox should not be.
        widget=forms.CheckboxSelectMultiple(attrs={"style": "width:auto"}),
        help_text="The GA4GH Data Use Ontology terms that describe your project.",
    )
    disease = forms.ChoiceField(
        label="Disease studied",
        required=False,
        help_text="Needed for research on a specific disease (MONDO).",
    )
    commercial = forms.BooleanField(
        label="The use is commercial",
        required=False,
        widget=forms.CheckboxInput(attrs={"style": "width:auto"}),
    )
    organisation_type = forms.ChoiceField(label="Your organisation", choices=OrganisationType.choices)
    purpose_summary = forms.CharField(
        label="Project summary",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="A few sentences for the curator: what you will do with the lines.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        diseases = DiseaseTerm.objects.filter(obsolete=False).order_by("label").values_list("curie", "label")
        self.fields["disease"].choices = [("", "—")] + [(c, f"{label} ({c})") for c, label in diseases]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            check_purpose(self.purpose())
        except PurposeError as error:
            for key, message in error.problems.items():
                field = key.split(".")[-1]
                self.add_error(field if field in self.fields else None, message)
        return data

    def purpose(self):
        data = self.cleaned_data
        return Purpose(
            frozenset(data.get("codes") or ()),
            data.get("disease") or None,
            bool(data.get("commercial")),
            data.get("organisation_type") or "academic",
        )


class ReasonForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=5000)


class AgreementForm(forms.Form):
    reference = forms.CharField(label="MTA reference", max_length=100)
    executed_on = forms.DateField(label="Executed on", widget=forms.DateInput(attrs={"type": "date"}))
    sent_on = forms.DateField(label="Sent on", required=False, widget=forms.DateInput(attrs={"type": "date"}))


class WithdrawConsentForm(forms.Form):
    donor = forms.CharField(label="Donor code", max_length=20)
    withdrawn_on = forms.DateField(
        label="Withdrawn on",
        widget=forms.DateInput(attrs={"type": "date"}),
        initial=timezone.localdate,
    )
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class WithdrawLineForm(forms.Form):
    line = forms.CharField(label="Line name", max_length=40)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
