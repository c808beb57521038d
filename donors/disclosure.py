"""Who may see a donor's genetic data: the one rule, in its Python and SQL forms.

A donor's genetic data is their germline variants, repeat sizes (C9orf72, ATXN2),
STR profiles (the donor's and those of every line derived from them) and the
details of the QC tests that genotype a line (identity, genomic integrity).

The rule follows the consent's genetic-data level (GeneticDataSharing):
- open, and the consent not withdrawn → everyone;
- controlled, none, withdrawn consent, or no consent row at all → curators only.
Nobody else is an exception: not a depositor of the donor's institution, not a
researcher with an approved request. A line without a donor has nobody's consent
to open its genotype, so it is shown to curators only.

Every reader of genetic data asks here: the Python form for an object in hand
(`genetic_data_is_public`, `may_see_genetic_data`), the queryset form for a filter
or a join (`genetic_data_public_q`, `genetic_data_visible_q`) and the raw SQL
form for hand-written queries (`genetic_data_public_sql`). tests/donors/
test_disclosure.py asserts that they agree on every case.

Experimental results (results/) inherit the consent of every donor in them, by the
same rule: a dataset on a line whose donor's genetic data is not open to everyone
(controlled, none, withdrawn, no consent) is shown to curators and the depositing
institution only (`may_see_results` and its queryset twin `results_visible_q`,
parity-tested in tests/results/test_disclosure_of_results.py).
"""

import datetime
from collections.abc import Iterable
from typing import Any

from django.db.models import Exists, Q, QuerySet

from core.roles import institution_of, is_curator
from donors.models import Consent, Donor, GeneticDataSharing

# The only consent level that opens a donor's genetic data to everyone.
PUBLIC_LEVEL: str = GeneticDataSharing.OPEN.value


def consent_is_public(genetic_data: str | None, withdrawn_on: datetime.date | None) -> bool:
    """The rule on a consent's two columns (as read with .values(): None when the donor
    has no consent row)."""
    return genetic_data == PUBLIC_LEVEL and withdrawn_on is None


def genetic_data_is_public(donor: Donor | None) -> bool:
    """True when the donor's consent lets everyone see their genetic data."""
    if donor is None:
        return False
    try:
        consent = donor.consent
    except Consent.DoesNotExist:
        return False
    return consent_is_public(consent.genetic_data, consent.withdrawn_on)


def sees_all_genetic_data(user: Any) -> bool:
    """Whether `user` sees every donor's genetic data whatever the consent: curators."""
    return is_curator(user)


def may_see_genetic_data(user: Any, donor: Donor | None) -> bool:
    """Whether `user` may see the genetic data of `donor` (None: a line without a donor)."""
    return sees_all_genetic_data(user) or genetic_data_is_public(donor)


def genetic_data_public_q(donor_path: str = "") -> Q:
    """The SQL twin of genetic_data_is_public, as a Q over a model that reaches the donor
    by `donor_path`: "" on Donor, "donor__" on CellLine, "line__donor__" on QCRecord.
    A missing donor or consent row matches nothing (the joins are outer joins)."""
    return Q(
        **{
            f"{donor_path}consent__genetic_data": PUBLIC_LEVEL,
            f"{donor_path}consent__withdrawn_on__isnull": True,
        }
    )


def genetic_data_visible_q(user: Any, donor_path: str = "") -> Q:
    """The SQL twin of may_see_genetic_data: every row for a curator, else the public ones."""
    return Q() if sees_all_genetic_data(user) else genetic_data_public_q(donor_path)


def genetic_data_public_sql(consent_alias: str) -> str:
    """The rule as a SQL condition on a joined consent table (for hand-written queries).
    `consent_alias` is an identifier the caller chose, never user input."""
    return f"{consent_alias}.genetic_data = '{PUBLIC_LEVEL}' AND {consent_alias}.withdrawn_on IS NULL"


# --- experimental results: the same rule over every donor of a dataset ---------------


def shares_results_of(user: Any, institution_id: int | None) -> bool:
    """Curators, and members of the depositing institution, see a dataset's results
    whatever its donors' consent (they hold the data already)."""
    if sees_all_genetic_data(user):
        return True
    institution = institution_of(user)
    return institution is not None and institution_id is not None and institution.pk == institution_id


def results_are_public(donors: Iterable[Donor | None]) -> bool:
    """True when every donor's consent opens their data to everyone (an empty dataset is public)."""
    return all(genetic_data_is_public(donor) for donor in donors)


def may_see_results(user: Any, donors: Iterable[Donor | None], institution_id: int | None) -> bool:
    """Whether `user` may see results on these donors' lines deposited by institution_id."""
    return shares_results_of(user, institution_id) or results_are_public(donors)


def results_public_q(rows: QuerySet, donor_path: str) -> Q:
    """The SQL twin of results_are_public over a parent model: `rows` are the parent's
    rows reaching a donor by `donor_path` (already correlated with OuterRef). True when
    none of them reaches a donor whose data is not public (a missing donor or consent
    row counts as not public)."""
    return Q(~Exists(rows.exclude(genetic_data_public_q(donor_path))))


def results_shared_q(user: Any, institution_path: str = "institution") -> Q:
    """The SQL twin of shares_results_of: every row for a curator, the depositing
    institution's rows for its members, nothing for anyone else."""
    if sees_all_genetic_data(user):
        return Q()
    institution = institution_of(user)
    if institution is None:
        return Q(pk__in=[])
    return Q(**{institution_path: institution})


def results_visible_q(user: Any, rows: QuerySet, donor_path: str, institution_path: str = "institution") -> Q:
    """The SQL twin of may_see_results."""
    if sees_all_genetic_data(user):
        return Q()
    return results_shared_q(user, institution_path) | results_public_q(rows, donor_path)


# --- the clinical course: the same rule as genetic data -----------------------------
# A donor's clinical course (visits, ALSFRS-R items and totals, King's and MiToS
# stages, ΔFS and progression class, milestones, medication, diagnostic certainty,
# cognitive status, HPO features) follows the donor's consent like genetic data:
# everyone on open, standing consent; curators only otherwise. Exact dates never
# leave the bank at all (only months from onset): no form below opens them.


def clinical_course_is_public(donor: Donor | None) -> bool:
    """True when the donor's consent lets everyone see their clinical course."""
    return genetic_data_is_public(donor)


def may_see_clinical_course(user: Any, donor: Donor | None) -> bool:
    """Whether `user` may see the clinical course of `donor`."""
    return sees_all_genetic_data(user) or clinical_course_is_public(donor)


def clinical_course_visible_q(user: Any, donor_path: str = "") -> Q:
    """The SQL twin of may_see_clinical_course (donor_path as in genetic_data_public_q):
    a catalog filter or cohort arm on a clinical field is ANDed with it, so that a
    filter never reveals a course the consent keeps to curators."""
    return Q() if sees_all_genetic_data(user) else genetic_data_public_q(donor_path)
