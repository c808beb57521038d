import os

import django
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "prism.settings")
django.setup(set_prefix=False)

from prism.startup import load_views, require_secret_key, start_facet_index  # noqa: E402

require_secret_key()
application = get_wsgi_application()
load_views()
start_facet_index()
