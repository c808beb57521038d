"""{% load availability %}: the availability vocabulary (lines.availability) in templates."""

from django import template

from lines.availability import TERMS, term

register = template.Library()


@register.inclusion_tag("lines/_availability.html")
def availability_badge(availability, status="released", commercial=False, explain=False):
    """The badge; `explain` adds the one-sentence explanation beside it."""
    return {"term": term(availability, status), "commercial": commercial, "explain": explain}


@register.simple_tag
def availability_terms():
    """Every term, for a legend."""
    return list(TERMS.values())
