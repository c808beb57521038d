import os

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prism.settings")
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402

from core.startup import load_views  # noqa: E402
from lines.holdings.facet_index import build_in_background  # noqa: E402
from prism.startup import require_secret_key  # noqa: E402

require_secret_key()
application = get_wsgi_application()
load_views()
# The facet index is built in the background as the process starts; requests answer
# from SQL until it is ready (lines/holdings/facet_index.py).
if settings.FACET_INDEX_IN_BACKGROUND:
    build_in_background()
