"""A web process loads its views, URL table and templates before its first request
(prism.wsgi calls core.startup.load_views), so a broken template stops it starting."""

import pytest
from django.template import TemplateSyntaxError

from core.startup import load_views


def test_loading_compiles_every_project_template(settings, tmp_path):
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "fine.html").write_text("{% if x %}{{ x }}{% endif %}")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path]}]
    load_views()
    (tmp_path / "pages" / "broken.html").write_text("{% if x %}never closed")
    with pytest.raises(TemplateSyntaxError):
        load_views()


def test_the_projects_own_templates_all_compile():
    load_views()
