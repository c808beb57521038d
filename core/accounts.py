"""Creating people with a role: used by `manage.py add_user`, the demo catalog and tests."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db import transaction
from rest_framework.authtoken.models import Token

from core.models import Institution, OrganisationType, Profile
from core.roles import CURATOR, ROLES


@transaction.atomic
def create_user_with_role(
    username: str,
    role: str,
    *,
    institution: Institution | None = None,
    password: str | None = None,
    email: str = "",
    organisation_type: str = OrganisationType.ACADEMIC,
) -> tuple[AbstractBaseUser, str]:
    """Create (or update) a user in one role, with a profile and an API token.

    `institution` is an Institution or None. Returns (user, token_key).
    """
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}: choose one of {', '.join(ROLES)}")
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": email})
    if password:
        user.set_password(password)
    elif created:
        user.set_unusable_password()
    if email:
        user.email = email
    # Curators work in the admin (their rights there come from core.auth).
    user.is_staff = role == CURATOR or user.is_superuser
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    Profile.objects.update_or_create(
        user=user, defaults={"institution": institution, "organisation_type": organisation_type}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return user, token.key


def institution_for_code(code: str, *, name: str | None = None, country: str = "") -> Institution:
    """The institution with this hPSCreg code, created when not yet known."""
    institution, _ = Institution.objects.get_or_create(
        code=code, defaults={"name": name or code, "country": country or "unknown"}
    )
    return institution


@transaction.atomic
def rotate_api_token(user: Any) -> bool:
    """Replace the user's API token by a new one; the old one stops working at once.
    Called when the password changes or is reset: whoever learnt the old password may
    have taken the token too. False when the user had no token (none is made)."""
    deleted, _ = Token.objects.filter(user=user).delete()
    if deleted:
        Token.objects.create(user=user)
    return bool(deleted)
