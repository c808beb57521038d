"""Double submits: a form posted twice (a double click, a retry of a slow request)
must not do the work twice. Three parallel posts of the basket made two identical
requests; a double-posted upload made two submissions; four parallel decide-line
calls logged four approvals.

Creating something (a request, a submission) may carry a key: the form's hidden
`idempotency_key` field, or the API's `Idempotency-Key` header. The creation takes
the person's row lock, so their creations run one at a time; a key already used
by the same person gives back what it made (`earlier`), and `remember` records the
new one. Steps on an existing row are conditional under that row's lock instead
(distribution.actions.requests._apply: a step already done is not done again)."""

import uuid
from typing import Any

from django.contrib.auth import get_user_model

from core.models import IdempotencyKey

HEADER = "HTTP_IDEMPOTENCY_KEY"
FIELD = "idempotency_key"
MAX_LENGTH = 100


def new_key() -> str:
    """A fresh key for a form to carry in its hidden `idempotency_key` field."""
    return uuid.uuid4().hex


def key_of(request: Any) -> str:
    """The key of a Django or DRF request: the header, else the form field ("" if none)."""
    raw = request.META.get(HEADER) or (request.POST.get(FIELD) if request.method == "POST" else "") or ""
    return str(raw).strip()[:MAX_LENGTH]


def lock_person(user: Any) -> None:
    """Take the user's row lock until the transaction ends (PostgreSQL; SQLite's
    IMMEDIATE transactions already run one writer at a time)."""
    # Evaluated as a list: exists() would drop the FOR UPDATE.
    list(get_user_model().objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))


def earlier(user: Any, kind: str, key: str) -> int | None:
    """The id of what this key made before, or None. Call inside the creating
    transaction: it takes the person's lock first."""
    if not key:
        return None
    lock_person(user)
    return IdempotencyKey.objects.filter(user=user, kind=kind, key=key).values_list("object_id", flat=True).first()


def remember(user: Any, kind: str, key: str, object_id: int) -> None:
    if key:
        IdempotencyKey.objects.create(user=user, kind=kind, key=key, object_id=object_id)
