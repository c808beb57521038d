"""The catalog's web pages: /lines/ (catalog), /lines/<name>/ (line) and
/lines/compare/ (compare), one module each."""

from django.urls import path

from lines.holdings.views.catalog import catalog
from lines.holdings.views.compare import compare
from lines.holdings.views.line import line_detail

urlpatterns = [
    path("", catalog, name="catalog"),
    path("compare/", compare, name="line-compare"),
    # path: Cellosaurus names may hold a "/" (066MD-CUMC/INSERM).
    path("<path:name>/", line_detail, name="line-detail"),
]
