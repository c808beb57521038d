"""Who may open a page: the one home of the curator-only check of the HTML views.

`curator_required` decorates a view: an anonymous caller is sent to the login page
(as `login_required` does), any other caller who is not a curator gets 403, with a
sentence saying whom the page is for. `require_curator(user)` is the same check for
a view that decides inside (a page open to depositors whose one action is not).
Who is a curator is core.roles.is_curator's; the API's permission classes are DRF's.
"""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied

from core.roles import is_curator

FOR_CURATORS = "This page is for curators."


def require_curator(user: Any, message: str = FOR_CURATORS) -> None:
    """Refuse (403, PermissionDenied with `message`) anyone but a curator."""
    if not is_curator(user):
        raise PermissionDenied(message)


def curator_required(view: Callable | None = None, *, message: str = FOR_CURATORS) -> Callable:
    """`@curator_required` or `@curator_required(message="…")` on a view function."""

    def decorate(function: Callable) -> Callable:
        @wraps(function)
        def checked(request, *args, **kwargs):
            require_curator(request.user, message)
            return function(request, *args, **kwargs)

        return login_required(checked)

    return decorate(view) if view is not None else decorate
