"""Shapes of the cohort API, for its OpenAPI documentation and its answers. A
definition is read by cohorts.definition.parse_definition (which names every
problem by where it is); these serializers describe it."""

from rest_framework import serializers

from cohorts.models import Cohort, MemberRole


class ArmSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=60)
    filters = serializers.JSONField(
        help_text="Catalog filters of /api/v1/lines/ (gene, family_history, affection_status, progression_class, "
        "kings_stage, delta_fs_min, onset_site, cognitive_status, ...) as a query string "
        '(\'gene=C9orf72&progression_class=fast\') or an object ({"gene": ["C9orf72"]}).'
    )
    size = serializers.IntegerField(min_value=1, help_text="Lines wanted (at most COHORT_MAX_ARM_SIZE).")
    matched_to = serializers.CharField(
        required=False, allow_null=True, help_text="Name of the case arm this arm's controls are matched to."
    )


class CohortPurposeSerializer(serializers.Serializer):
    codes = serializers.ListField(child=serializers.CharField(), help_text="DUO codes of the screen's purpose.")
    disease = serializers.CharField(required=False, allow_null=True, help_text="MONDO id, with DUO:0000007.")
    commercial = serializers.BooleanField(required=False, default=False)


class MatchingSerializer(serializers.Serializer):
    on = serializers.ListField(child=serializers.ChoiceField(["sex", "age", "ancestry"]), required=False)
    age_tolerance = serializers.IntegerField(
        required=False, min_value=0, max_value=50, help_text="± years (default COHORT_DEFAULT_AGE_TOLERANCE)."
    )


class DefinitionSerializer(serializers.Serializer):
    seed = serializers.IntegerField(min_value=0, help_text="Same definition, seed and catalog: same cohort.")
    purpose = CohortPurposeSerializer()
    arms = ArmSerializer(many=True)
    matching = MatchingSerializer(required=False)
    one_line_per_donor = serializers.BooleanField(required=False, default=True)
    isogenic_partners = serializers.BooleanField(required=False, default=True)


class MemberSerializer(serializers.Serializer):
    line = serializers.CharField()
    line_id = serializers.IntegerField()
    donor = serializers.CharField(help_text="The donor's pseudonymous code.")
    arm = serializers.CharField()
    role = serializers.ChoiceField(MemberRole.choices)
    matched_to = serializers.CharField(help_text="The case a control was matched to, the line of an isogenic partner.")
    sex = serializers.CharField()
    age = serializers.IntegerField(allow_null=True)
    ancestry = serializers.CharField()


class ArmProposalSerializer(serializers.Serializer):
    name = serializers.CharField()
    matched_to = serializers.CharField(allow_blank=True)
    size = serializers.IntegerField()
    found = serializers.IntegerField(help_text="Lines you may see that the arm's filters find.")
    spare = serializers.IntegerField(help_text="Usable lines not needed to fill the arm.")
    exclusion_counts = serializers.DictField(child=serializers.IntegerField(), help_text="Constraint → lines left out.")
    members = MemberSerializer(many=True)


class BalanceRowSerializer(serializers.Serializer):
    covariate = serializers.CharField()
    summary = serializers.DictField(child=serializers.CharField(), help_text="Arm → mean ± SD or share.")
    smd = serializers.DictField(
        child=serializers.FloatField(allow_null=True), help_text="Arm → standardised mean difference vs the first arm."
    )
    balanced = serializers.BooleanField(help_text="Every |SMD| below 0.1.")


class ExclusionReasonSerializer(serializers.Serializer):
    constraint = serializers.ChoiceField(["consent", "qc", "stock", "donor", "matching"])
    text = serializers.CharField()


class ExclusionSerializer(serializers.Serializer):
    line = serializers.CharField()
    arm = serializers.CharField()
    reasons = ExclusionReasonSerializer(many=True)


class ProposalSerializer(serializers.Serializer):
    seed = serializers.IntegerField()
    definition = serializers.JSONField()
    arms = ArmProposalSerializer(many=True)
    balance = BalanceRowSerializer(many=True)
    exclusions = ExclusionSerializer(many=True)


class SaveCohortSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    shared = serializers.BooleanField(required=False, default=False)
    public_id = serializers.CharField(
        required=False, allow_null=True, help_text="Save as the next version of your cohort with this id."
    )
    definition = DefinitionSerializer()


class SavedMemberSerializer(serializers.Serializer):
    line = serializers.CharField(source="line.name")
    arm = serializers.CharField()
    role = serializers.CharField()
    matched_to = serializers.CharField()
    position = serializers.IntegerField()


class CohortSerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")
    request = serializers.IntegerField(source="request_id", allow_null=True)
    members = SavedMemberSerializer(many=True)

    class Meta:
        model = Cohort
        fields = [
            "public_id",
            "version",
            "name",
            "description",
            "owner",
            "shared",
            "seed",
            "definition",
            "balance",
            "exclusions",
            "request",
            "created_at",
            "members",
        ]


class CohortSummarySerializer(serializers.ModelSerializer):
    owner = serializers.CharField(source="owner.username")

    class Meta:
        model = Cohort
        fields = ["public_id", "version", "name", "owner", "shared", "seed", "created_at"]


class CohortRequestSerializer(serializers.Serializer):
    shipping_address = serializers.CharField(required=False, allow_blank=True, default="")
    organisation = serializers.CharField(required=False, allow_blank=True, default="")
    purpose_summary = serializers.CharField(required=False, allow_blank=True, default="")
    accepted_conditions = serializers.ListField(child=serializers.CharField(), required=False, default=list)
