"""Plate maps: wells per layout, edge wells, several plates, the seed's order."""

import pytest

from cohorts.plates import PlateError, plate_map, wells

MEMBERS = [{"line": f"L{i:03d}", "arm": "a", "role": "case"} for i in range(70)]


def test_edge_wells_are_left_empty_unless_used():
    assert len(wells(96, "use")) == 96 and len(wells(96, "avoid")) == 60
    assert len(wells(384, "use")) == 384 and len(wells(384, "avoid")) == 308
    assert "A1" not in wells(96, "avoid") and "B2" in wells(96, "avoid") and "H12" not in wells(96, "avoid")


def test_lines_beyond_one_plate_go_on_the_next_and_each_line_once():
    layout = plate_map(MEMBERS, size=96, edges="avoid", seed=1)
    assert [p["plate"] for p in layout].count(1) == 60 and [p["plate"] for p in layout].count(2) == 10
    assert sorted(p["line"] for p in layout) == sorted(m["line"] for m in MEMBERS)


def test_the_seed_fixes_the_order():
    first = plate_map(MEMBERS, size=384, edges="use", seed=5)
    assert first == plate_map(MEMBERS, size=384, edges="use", seed=5)
    assert first != plate_map(MEMBERS, size=384, edges="use", seed=6)


def test_an_unknown_layout_says_which_parameter():
    with pytest.raises(PlateError) as caught:
        plate_map(MEMBERS, size=100, edges="sometimes", seed=1)
    assert set(caught.value.problems) == {"wells", "edges"}
