"""Brute-force protection: what a locked-out sign-in sees, and the throttle on bad
API tokens. 30 wrong passwords each on the site, API and admin sign-ins once all
answered 200 and the right one then signed in; 130 bad tokens never met a 429.

Sign-ins (the site's /accounts/login/, the API's /api-auth/login/ and the admin's)
go through django-axes: settings.AXES_FAILURE_LIMIT failures for one account, or
from one address, lock that account or address out for settings.AXES_COOLOFF_TIME.
Token clients have no password to lock: failed token authentications are counted
per address in the cache and past settings.TOKEN_FAILURE_LIMIT in
settings.TOKEN_FAILURE_WINDOW seconds every token request from it is a 429."""

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_client_ip_address, get_cool_off
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.core.cache import cache
from django.http import JsonResponse
from django.shortcuts import render
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication


class LockoutBackend(AxesStandaloneBackend):
    """django-axes' check, for sign-ins over HTTP. An authenticate() call with no
    request (a management command, the test client's login()) has no address to
    count and no sign-in page to lock; axes would raise, this lets the next backend decide."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def _minutes(request):
    cool_off = get_cool_off(request)
    return max(1, round(cool_off.total_seconds() / 60)) if cool_off else None


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' answer to a locked-out sign-in (AXES_LOCKOUT_CALLABLE): the sign-in
    page saying so, with status 429; JSON under /api/."""
    minutes = _minutes(request)
    wait = f"in {minutes} minute{'s' if minutes != 1 else ''}" if minutes else "later"
    message = (
        f"Too many failed sign-ins for this account or from your address: sign-in is locked. "
        f"Try again {wait}, or reset your password."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message}, status=429)
    context = {"locked_out": message, "form": AuthenticationForm(request)}
    return render(request, "registration/login.html", context, status=429)


def _failures_key(request):
    return f"prism:token-failures:{get_client_ip_address(request) or 'unknown'}"


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, with failures counted per address: past the limit
    the address gets 429 (Retry-After) for the rest of the window, whatever token it sends."""

    def authenticate(self, request):
        key = _failures_key(request)
        if cache.get(key, 0) >= settings.TOKEN_FAILURE_LIMIT:
            raise exceptions.Throttled(
                wait=settings.TOKEN_FAILURE_WINDOW,
                detail="Too many bad tokens from your address; wait before trying again.",
            )
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            # add() starts the window on the first failure; incr() never extends it.
            if not cache.add(key, 1, timeout=settings.TOKEN_FAILURE_WINDOW):
                try:
                    cache.incr(key)
                except ValueError:  # expired between add() and incr()
                    cache.add(key, 1, timeout=settings.TOKEN_FAILURE_WINDOW)
            raise
