"""/api/v1/ endpoints of distribution: eligibility, requests and their steps, withdrawals.

serializers.py  input and output shapes;
common.py       errors, parsing, the request body, refusals mapped to HTTP;
requests.py     eligibility, create, list, read;
transitions.py  one endpoint per step of the workflow;
withdrawals.py  consent and line withdrawal, who holds material;
urls.py         the routes (re-exported here for prism/api_urls.py).
"""

from distribution.api.urls import urlpatterns

__all__ = ["urlpatterns"]
