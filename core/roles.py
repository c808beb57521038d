"""The three roles of the catalog, kept as Django groups.

researcher: browses, compares and requests lines.
depositor:  submits donors, consent, lines and QC for their institution.
curator:    checks submissions, approves or rejects them, decides requests.
Superusers count as curators.
"""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.models import Institution

RESEARCHER = "researcher"
DEPOSITOR = "depositor"
CURATOR = "curator"
ROLES = (RESEARCHER, DEPOSITOR, CURATOR)


def has_role(user: Any, role: str) -> bool:
    if not user or not user.is_authenticated:
        return False
    if user.is_superuser and role == CURATOR:
        return True
    # Group names are cached on the user object for the request: views and
    # templates ask several times per page.
    cached = getattr(user, "_prism_roles", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._prism_roles = cached
    return role in cached


def is_curator(user: Any) -> bool:
    return has_role(user, CURATOR)


def is_depositor(user: Any) -> bool:
    return has_role(user, DEPOSITOR)


def is_researcher(user: Any) -> bool:
    return has_role(user, RESEARCHER)


def institution_of(user: Any) -> "Institution | None":
    """The user's institution, or None (anonymous users, users without a profile)."""
    if not user or not user.is_authenticated:
        return None
    profile = getattr(user, "profile", None)
    return profile.institution if profile else None


def may_request(user: Any) -> bool:
    """Researchers and depositors request lines; curators decide them."""
    return is_researcher(user) or is_depositor(user)


def depositing_institution(user: Any) -> "Institution | None":
    """The institution whose unreleased lines the user sees: a depositor's own. None for
    everyone else, researchers attached to an institution included (the role decides,
    not the profile's institution); curators see every line anyway."""
    if not is_depositor(user):
        return None
    return institution_of(user)
