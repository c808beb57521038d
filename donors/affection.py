"""A donor's affection status, derived from what was deposited, never typed: the one
home of the rule.

- affected: a disease is recorded (a MONDO term, or the words of an unmapped one);
- unaffected carrier: no disease, but a germline variant classified pathogenic or
  likely pathogenic (a presymptomatic C9orf72 expansion carrier, say);
- unaffected control: neither.

"Carrier" says the donor carries a pathogenic variant: genetic data. It is shown only
to those donors.disclosure lets see the donor's genetic data; everyone else sees such
a donor as an unaffected control (`shown_status`, `shown_status_expression`,
`status_q`), so no filter, facet or search singles out a carrier whose consent keeps
variants to curators.

Writers call `refresh_affection_status(donor_ids)` after they write donors and their
variants (the submission writer, the Cellosaurus importer, the demo, the admin), before
`lines.search_text.refresh_search_text`, which indexes the status's words.
"""

from collections.abc import Iterable
from typing import Any

from django.db.models import Case, Exists, F, OuterRef, Q, Value, When
from django.db.models.expressions import Combinable

from donors.disclosure import genetic_data_visible_q, may_see_genetic_data, sees_all_genetic_data
from donors.models import AffectionStatus, Classification, Donor, Variant

CARRIER_CLASSIFICATIONS = (Classification.PATHOGENIC, Classification.LIKELY_PATHOGENIC)

# The words a free-text search finds each status by (lines.search_text).
SEARCH_WORDS: dict[str, tuple[str, ...]] = {
    AffectionStatus.AFFECTED: ("affected", "patient"),
    AffectionStatus.UNAFFECTED: ("unaffected", "healthy", "control", "healthy control"),
    AffectionStatus.CARRIER: ("unaffected", "carrier", "presymptomatic"),
}


def affection_status_expression() -> Combinable:
    """The status of each donor row, as an SQL expression over the donor and its variants."""
    carrier = Variant.objects.filter(
        donor_id=OuterRef("pk"), line__isnull=True, classification__in=CARRIER_CLASSIFICATIONS
    )
    return Case(
        When(~Q(disease="") | ~Q(disease_label=""), then=Value(AffectionStatus.AFFECTED)),
        When(Exists(carrier), then=Value(AffectionStatus.CARRIER)),
        default=Value(AffectionStatus.UNAFFECTED),
    )


def refresh_affection_status(donor_ids: Iterable[int] | None = None) -> int:
    """Recompute the status of the given donors (every donor when None), in one UPDATE."""
    donors = Donor.objects.all() if donor_ids is None else Donor.objects.filter(pk__in=list(donor_ids))
    return donors.update(affection_status=affection_status_expression())


def search_words(status: str, *, genetic_data_public: bool = True) -> tuple[str, ...]:
    """The words a status is found by; a carrier whose genetic data is not public is
    found as an unaffected control (its carrier words go to the restricted text)."""
    if status == AffectionStatus.CARRIER and not genetic_data_public:
        return SEARCH_WORDS[AffectionStatus.UNAFFECTED]
    return SEARCH_WORDS.get(status, ())


def shown(status: str, genetic_data_shown: bool) -> str:
    """The status shown to someone who does or does not see the donor's genetic data."""
    if status == AffectionStatus.CARRIER and not genetic_data_shown:
        return AffectionStatus.UNAFFECTED
    return status


def shown_status(donor: Donor | None, user: Any) -> str | None:
    """The status `user` is shown for `donor` (None without a donor)."""
    if donor is None:
        return None
    return shown(donor.affection_status, may_see_genetic_data(user, donor))


def shown_status_expression(user: Any, donor_path: str = "donor__") -> Combinable:
    """shown_status as SQL, over rows reaching the donor through `donor_path`."""
    column = F(f"{donor_path}affection_status")
    if sees_all_genetic_data(user):
        return column
    visible = genetic_data_visible_q(user, donor_path)
    return Case(
        When(Q(**{f"{donor_path}affection_status": AffectionStatus.CARRIER}) & ~visible, then=Value("unaffected")),
        default=column,
    )


def status_q(statuses: Iterable[str], user: Any, donor_path: str = "donor__") -> Q:
    """Rows whose donor `user` is shown with one of `statuses`."""
    field = f"{donor_path}affection_status"
    wanted = set(statuses)
    q = Q(**{f"{field}__in": sorted(wanted - {AffectionStatus.CARRIER})})
    visible = genetic_data_visible_q(user, donor_path)
    if AffectionStatus.CARRIER in wanted:
        q |= Q(**{field: AffectionStatus.CARRIER}) & visible
    if AffectionStatus.UNAFFECTED in wanted and not sees_all_genetic_data(user):
        q |= Q(**{field: AffectionStatus.CARRIER}) & ~visible
    return q
