"""What a web process loads before its first request (prism.wsgi calls
load_views as it starts; bench/pages.py does the same, so that a page's first-hit
figure is the page's and not the process's)."""

from pathlib import Path

from django.template import engines
from django.urls import get_resolver


def load_views():
    """Import the URLconf, and with it every view and what they import (SciPy for the
    results fits, ReportLab, openpyxl, drf-spectacular): 2-4 s that the first request
    of each web process paid before, whatever page it asked for. Then the two tables
    the first page builds: the URL reverse table (the first `reverse()`, 100-250 ms at
    this URLconf's size) and the project's templates, compiled into the cached loader
    with the tag libraries they load (100-200 ms for the home page's)."""
    resolver = get_resolver()
    resolver.url_patterns  # noqa: B018 - the property imports the URLconf
    resolver.reverse_dict  # noqa: B018 - the property fills the reverse table
    for engine in engines.all():
        for directory in getattr(getattr(engine, "engine", None), "dirs", ()):
            root = Path(directory)
            for path in sorted(root.rglob("*.html")):
                engine.get_template(path.relative_to(root).as_posix())
