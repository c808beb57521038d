"""A federated search: this bank (asked in-process, as the caller) and every active
peer (asked over HTTP, concurrently), one row per bank."""

import threading
import time
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import QueryDict
from django.urls import reverse

from network.beacon import counts
from network.beacon.entry_types import biosamples
from network.beacon.filters import FEDERATED_PARAMS, from_catalog_params
from network.beacon.granularity import summary
from network.beacon.request import BeaconQuery
from network.federation.client import BankAnswer, ask_peers
from network.models import Peer


def query_params(data: QueryDict) -> dict[str, list[str]]:
    """The catalog parameters of a federated query (the others are ignored)."""
    return {name: [v for v in data.getlist(name) if v] for name in FEDERATED_PARAMS if any(data.getlist(name))}


def local_answer(user: Any, filters: list[dict], params: dict, base_url: str) -> BankAnswer:
    started = time.monotonic()
    bank = BankAnswer(bank=settings.PRISM_BANK_NAME, base_url=base_url, local=True)
    count = counts.count(biosamples.ENTRY_TYPE, user, BeaconQuery(filters=filters))
    shown, _, hidden = summary(count, "count", user)
    bank.exists, bank.count, bank.count_range = shown["exists"], shown.get("numTotalResults"), hidden
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    bank.catalog_url = reverse("catalog") + query
    bank.basket_url = reverse("distribution:basket-from-search") + query
    bank.milliseconds = round((time.monotonic() - started) * 1000)
    return bank


def federated_search(user: Any, data: QueryDict, base_url: str) -> tuple[dict, list[BankAnswer]]:
    """(the query's parameters, one answer per bank: this one first, then the peers)."""
    params = query_params(data)
    filters = from_catalog_params(params)
    peers = list(Peer.objects.filter(active=True))
    # The peers are asked from a thread of their own (they need no database) while this
    # bank counts its own lines: the answer takes the slower of the two, not their sum.
    remote: list[BankAnswer] = []
    failure: list[BaseException] = []

    def ask() -> None:
        try:
            remote.extend(ask_peers(peers, filters, params))
        except BaseException as error:  # noqa: BLE001 (raised again below, in the caller's thread)
            failure.append(error)

    thread = threading.Thread(target=ask, name="federation-peers", daemon=True)
    thread.start()
    try:
        local = local_answer(user, filters, params, base_url)
    finally:
        thread.join()
    if failure:
        raise failure[0]
    return params, [local, *remote]
