"""Double submits of the request workflow (core.double_submits): the basket posted
three times at once made two identical requests; four parallel decide-line calls
logged four approvals. Creating a request with an idempotency key already used
gives back the request it made (under the person's row lock); a step already done gives back its event
(distribution.actions.requests._apply asks `done(locked)` under the request's lock)."""

from collections.abc import Callable
from typing import Any

from core.double_submits import earlier, remember
from distribution.models import DistributionRequest, RequestEvent

Done = Callable[[DistributionRequest], RequestEvent | None]


KIND = "distribution.request"


def request_made_with(requester: Any, key: str) -> DistributionRequest | None:
    """The request this idempotency key made before, or None (core.double_submits).
    Call inside the transaction that creates the request: it takes the person's lock."""
    made = earlier(requester, KIND, key)
    return DistributionRequest.objects.filter(pk=made).first() if made is not None else None


def remember_request(requester: Any, key: str, request: DistributionRequest) -> None:
    remember(requester, KIND, key, request.pk)


def decided_already(name: str, decision: str, reason: str, event: str) -> Done:
    """`done` for decide-line: the line has this decision with this reason already."""

    def done(request: DistributionRequest) -> RequestEvent | None:
        if not request.items.filter(line__name=name, decision=decision, decision_reason=reason).exists():
            return None
        return request.events.filter(action=event, details__line=name).order_by("pk").last()

    return done
