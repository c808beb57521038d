"""The lots section of the line page: `{% load stock_tags %}{% line_lots line %}`.

The line page belongs to lines/, which may not import stock; a template tag library
lets the page show the lots without that import. Counts and lot QC only: positions
are the curators' (the curator stock page shows them)."""

from django import template
from django.db.models import Count

from stock.availability import in_stock_vials_q
from stock.models import Lot

register = template.Library()


@register.inclusion_tag("stock/_line_lots.html")
def line_lots(line):
    lots = list(
        Lot.objects.filter(line=line)
        .annotate(in_stock=Count("vials", filter=in_stock_vials_q("vials__", lot_prefix="")))
        .order_by("frozen_on", "id")
    )
    return {"line": line, "lots": lots, "stock": line.stock_summary}
