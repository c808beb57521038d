"""Small template helpers for the site's look: marking the current page in the nav."""

from django import template
from django.utils.safestring import mark_safe

register = template.Library()


@register.simple_tag(takes_context=True)
def current(context, *names):
    """` aria-current="page"` when the page being shown is one of `names`: URL names
    ("catalog"), namespaces ending in a colon ("distribution:") or path prefixes ("/str/")."""
    request = context.get("request")
    if request is None:  # rendered outside a request (an e-mail, a test of a fragment)
        return ""
    match = getattr(request, "resolver_match", None)
    view_name = match.view_name if match else ""
    namespace = f"{match.namespace}:" if match and match.namespace else ""
    for name in names:
        if (name.startswith("/") and request.path.startswith(name)) or name in (
            view_name,
            namespace,
        ):
            return mark_safe(' aria-current="page"')  # noqa: S308 - a fixed string
    return ""
