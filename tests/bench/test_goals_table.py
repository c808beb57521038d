"""The bench's goals table: each goal with its figure, met / NOT MET, the previous
release's figure and the ratio to its floor; a goal not measured says so."""

import json

import numpy as np

from bench import _goals
from bench._facet_bound import FACET_COLUMNS, Columns


def test_every_goal_has_a_previous_entry():
    previous = _goals.previous()
    assert set(_goals.GOALS) <= set(previous)
    assert previous["facets"] == 405


def test_a_goal_line_says_met_or_not_with_previous_figure_and_ratio(tmp_path, monkeypatch):
    monkeypatch.setenv(_goals.GOALS_FILE_VARIABLE, str(tmp_path / "goals.jsonl"))
    lines = []
    _goals.report(lines.append, "facets", 30.0, floor=5.0)
    _goals.report(lines.append, "filtered_lists", 95.0, floor=90.0)
    assert "met" in lines[0] and "NOT MET" not in lines[0]
    assert "405" in lines[0] and "6.0x NumPy bound" in lines[0]
    assert "NOT MET" in lines[1] and "110" in lines[1]
    # A figure within its limit but too far from the lower bound is not met.
    _goals.report(lines.append, "facets", 30.0, floor=1.0)
    assert "NOT MET" in lines[2]
    table = []
    _goals.summary(table.append, str(tmp_path / "goals.jsonl"))
    assert len(table) == 1 + len(_goals.GOALS)
    assert any("STR search, median" in row and "not measured" in row for row in table)
    rows = [json.loads(row) for row in (tmp_path / "goals.jsonl").read_text().splitlines()]
    assert [row[0] for row in rows] == ["facets", "filtered_lists", "facets"]


def test_a_throughput_goal_is_met_from_above():
    lines = []
    _goals.report(lines.append, "load_rps", 160.0)
    _goals.report(lines.append, "load_rps", 13.0)
    assert "NOT MET" not in lines[0] and "NOT MET" in lines[1]


def test_the_numpy_bound_counts_like_a_plain_count():
    columns = object.__new__(Columns)
    columns.n = 4
    columns.values = {name: ["a", "b"] for name in FACET_COLUMNS} | {"gene": ["SOD1", "TARDBP"]}
    columns.codes = {name: np.array([0, 1, 1, 0], dtype=np.int32) for name in FACET_COLUMNS}
    columns.pair_line = np.array([0, 1, 2], dtype=np.int64)
    columns.pair_gene = np.array([0, 0, 1], dtype=np.int32)
    columns.als = []
    counts = columns.counts({"sex": ["b"]})
    # sex is selected: counted over the other filters (none), so every line.
    assert list(counts["sex"]) == [2, 2]
    assert list(counts["ancestry"]) == [0, 2]
    assert list(counts["gene"]) == [1, 1]


def test_the_goals_heading_names_every_issue_that_set_a_goal():
    words = _goals.issues_text()
    for goal in _goals.GOALS.values():
        assert str(goal.issue) in words
    assert words.endswith(f"and {max(goal.issue for goal in _goals.GOALS.values())}")
