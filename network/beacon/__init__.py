"""Each PRISM is a GA4GH Beacon v2 (https://docs.genomebeacons.org): the framework
responses (framework.py), the request and its filters (request.py, filters.py), what
an anonymous caller may learn (granularity.py) and one module per entry type
(entry_types/)."""
