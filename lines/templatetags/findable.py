"""{% line_json_ld line %}: the line page's schema.org/Bioschemas record, as a JSON-LD
data block (not script: the CSP does not apply to it and it never runs)."""

import json

from django import template
from django.utils.safestring import mark_safe

from lines.findable import json_ld
from lines.holdings.representation import Viewer, line_summary

register = template.Library()

_ESCAPES = {ord("<"): "\\u003c", ord(">"): "\\u003e", ord("&"): "\\u0026"}


@register.simple_tag(takes_context=True)
def line_json_ld(context, line):
    request = context["request"]
    summary = line_summary(line, Viewer(request))
    record = json_ld(line, summary, request.build_absolute_uri(request.path))
    text = json.dumps(record, ensure_ascii=False).translate(_ESCAPES)
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308 (escaped above)
