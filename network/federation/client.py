"""Send one Beacon count query to every peer at once (httpx, asyncio) and keep each
bank's answer briefly (Django's cache, shared by the web processes where CACHE_URL
points at Redis). A peer that answers garbage is an error row; a peer that times
out or cannot be reached is remembered as down, per peer and whatever the query,
for the cache period: it costs its timeout once per period, not once per query.
Neither blocks the others."""

import asyncio
import functools
import hashlib
import json
import ssl
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from django.conf import settings
from django.core.cache import cache

from network.models import Peer, PeerKind


@dataclass
class BankAnswer:
    bank: str
    base_url: str
    exists: bool | None = None
    count: int | None = None
    count_range: dict | None = None
    catalog_url: str | None = None
    # Where a researcher starts a request for the matching lines: the bank's own
    # basket, filled from the same search (PRISM banks only; a plain Beacon has none).
    basket_url: str | None = None
    milliseconds: int | None = None
    error: str | None = None
    local: bool = False

    def as_dict(self) -> dict:
        return asdict(self)


def beacon_body(filters: list[dict]) -> dict:
    return {"meta": {"apiVersion": "v2.0.0"}, "query": {"filters": filters, "requestedGranularity": "count"}}


def read_answer(bank: BankAnswer, document: Any, fallback_url: str) -> BankAnswer:
    """A Beacon count/boolean response into the row; anything else is an error."""
    if not isinstance(document, dict) or not isinstance(document.get("responseSummary"), dict):
        if isinstance(document, dict) and isinstance(document.get("error"), dict):
            bank.error = f"refused the query: {document['error'].get('errorMessage', 'no message')}"
        else:
            bank.error = "answered something that is not a Beacon response"
        return bank
    summary = document["responseSummary"]
    if not isinstance(summary.get("exists"), bool):
        bank.error = "answered something that is not a Beacon response"
        return bank
    bank.exists = summary["exists"]
    count = summary.get("numTotalResults")
    bank.count = count if isinstance(count, int) and not isinstance(count, bool) else None
    info = document.get("info")
    if isinstance(info, dict) and isinstance(info.get("countRange"), dict):
        bank.count_range = info["countRange"]
    handovers = document.get("beaconHandovers") or []
    url = next((h.get("url") for h in handovers if isinstance(h, dict) and isinstance(h.get("url"), str)), None)
    bank.catalog_url = url if url and url.startswith(("http://", "https://")) else fallback_url
    return bank


def _cache_key(peer: Peer, filters: list[dict]) -> str:
    digest = hashlib.sha256(json.dumps([peer.root, peer.token, filters], sort_keys=True).encode()).hexdigest()
    return f"prism:federation:{digest}"


def _down_key(peer: Peer) -> str:
    digest = hashlib.sha256(json.dumps([peer.root, peer.token]).encode()).hexdigest()
    return f"prism:federation:down:{digest}"


@functools.cache
def tls_context() -> ssl.SSLContext:
    """The TLS context every query's client shares: loading the CA bundle costs tens of
    milliseconds, once per process rather than once per query."""
    return ssl.create_default_context()


async def _ask(client: httpx.AsyncClient, peer: Peer, filters: list[dict], params: dict) -> BankAnswer:
    bank = BankAnswer(bank=peer.name, base_url=peer.root)
    query = f"?{urlencode(params, doseq=True)}" if params else ""
    fallback = f"{peer.root}/lines/{query}"
    if peer.kind == PeerKind.PRISM:
        bank.basket_url = f"{peer.root}/distribution/basket/from-search/{query}"
    headers = {"Accept": "application/json"}
    if peer.token:
        headers["Authorization"] = f"Token {peer.token}"
    started = time.monotonic()
    timeout = settings.FEDERATION_TIMEOUT_SECONDS
    try:
        response = await client.post(
            f"{peer.beacon_url}/biosamples", json=beacon_body(filters), headers=headers, timeout=timeout
        )
    except httpx.TimeoutException:
        bank.error = f"timed out after {timeout:g} s"
        cache.set(_down_key(peer), bank.error, settings.FEDERATION_CACHE_SECONDS)
    except httpx.HTTPError as error:
        bank.error = f"could not be reached ({type(error).__name__})"
        cache.set(_down_key(peer), bank.error, settings.FEDERATION_CACHE_SECONDS)
    else:
        bank.milliseconds = round((time.monotonic() - started) * 1000)
        if response.status_code >= 500:
            bank.error = f"answered {response.status_code}"
        else:
            try:
                document = response.json()
            except ValueError:
                bank.error = f"answered {response.status_code} with something that is not JSON"
            else:
                read_answer(bank, document, fallback)
    if bank.milliseconds is None:
        bank.milliseconds = round((time.monotonic() - started) * 1000)
    if bank.error or not bank.exists:
        bank.basket_url = None
    return bank


async def _ask_all(peers: list[Peer], filters: list[dict], params: dict) -> list[BankAnswer]:
    async with httpx.AsyncClient(follow_redirects=False, verify=tls_context()) as client:
        return list(await asyncio.gather(*(_ask(client, peer, filters, params) for peer in peers)))


def _remembered_down(peer: Peer) -> BankAnswer | None:
    error = cache.get(_down_key(peer))
    if error is None:
        return None
    return BankAnswer(bank=peer.name, base_url=peer.root, error=error, milliseconds=0)


def ask_peers(peers: list[Peer], filters: list[dict], params: dict) -> list[BankAnswer]:
    """Every peer's answer, from the cache where a recent one is kept; a peer known to
    be down (within the cache period) is not asked."""
    answers: dict[int, BankAnswer] = {}
    missing = []
    for peer in peers:
        kept = cache.get(_cache_key(peer, filters))
        if kept is not None:
            answers[peer.pk] = BankAnswer(**kept)
        elif (down := _remembered_down(peer)) is not None:
            answers[peer.pk] = down
        else:
            missing.append(peer)
    if missing:
        for peer, answer in zip(missing, asyncio.run(_ask_all(missing, filters, params)), strict=True):
            cache.set(_cache_key(peer, filters), answer.as_dict(), settings.FEDERATION_CACHE_SECONDS)
            answers[peer.pk] = answer
    return [answers[peer.pk] for peer in peers]
