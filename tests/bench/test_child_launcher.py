"""The launcher the api, pages and cohorts suites measure in: the bench database (its
own `_quick` one with --quick), the child's output streamed, a failed child a failed
suite (so that `make bench` exits 1 and CI sees it)."""

import pytest

from bench._child import bench_database_url, run_child


def test_quick_runs_use_their_own_database(monkeypatch):
    monkeypatch.setenv("PRISM_APIBENCH_DATABASE_URL", "postgres://bench@db:5432/catalog")
    assert bench_database_url({}) == "postgres://bench@db:5432/catalog"
    assert bench_database_url({"quick": True}) == "postgres://bench@db:5432/catalog_quick"


def test_the_childs_output_is_streamed_and_its_failure_fails_the_suite():
    written = []
    # `python -m this` prints the Zen of Python and exits 0.
    run_child("this", type("Out", (), {"write": written.append})(), {})
    assert written[0] == "The Zen of Python, by Tim Peters"
    with pytest.raises(RuntimeError, match="no_such_suite bench child failed"):
        run_child("bench.no_such_suite", type("Out", (), {"write": written.append})(), {})
