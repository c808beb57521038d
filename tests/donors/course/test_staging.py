"""King's (Balendra et al. 2014) and MiToS (Chiò et al. 2015) stages from ALSFRS-R,
against worked examples from the papers' definitions (DOMAIN.md "Clinical course")."""

import pytest

from donors.course import kings_stage, mitos_stage

NORMAL = {k: 4 for k in ("1", "2", "3", "4", "5a", "6", "7", "8", "9", "10", "11", "12")}


def items(**changes):
    out = dict(NORMAL)
    for key, value in changes.items():
        key = key.lstrip("i")
        if key == "5b":
            out.pop("5a")
        out[key] = value
    return out


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (items(), "0"),  # no region involved
        (items(i2=3), "1"),  # bulbar only (salivation)
        (items(i5a=3), "1"),  # upper limb only (cutting food)
        (items(i8=3), "1"),  # lower limb only (walking)
        (items(i1=3, i4=2), "2"),  # bulbar + upper limb
        (items(i3=2, i4=3, i8=1), "3"),  # all three regions
        (items(i6=0, i7=1, i9=0), "0"),  # items outside the region definitions do not count
        (items(i5b=2), "4A"),  # gastrostomy: nutritional failure, whatever the regions
        (items(i1=2, i4=1, i8=0, i5b=1), "4A"),
        (items(i10=0), "4B"),  # dyspnoea at rest
        (items(i12=3), "4B"),  # intermittent BiPAP
        (items(i5b=1, i12=2), "4B"),  # respiratory failure outranks nutritional failure
        (items(i12=4, i10=1), "0"),  # dyspnoea short of 0 is not respiratory failure
    ],
)
def test_kings_stage(case, expected):
    assert kings_stage(case) == expected


def test_kings_stage_5_is_death():
    assert kings_stage(items(i8=2), dead=True) == "5"


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (items(), 0),
        (items(i8=1), 1),  # movement lost by walking
        (items(i6=1), 1),  # movement lost by dressing
        (items(i8=2, i6=2), 0),  # 2 is not lost
        (items(i3=1), 1),  # swallowing
        (items(i1=1), 0),  # communicating needs both speech and handwriting lost
        (items(i1=1, i4=0), 1),
        (items(i10=1), 1),  # breathing by dyspnoea
        (items(i12=2), 1),  # breathing by respiratory insufficiency (≤ 2)
        (items(i12=3), 0),  # 3 is King's 4B but not a MiToS domain lost
        (items(i8=0, i3=1, i1=0, i4=1, i10=0), 4),
    ],
)
def test_mitos_stage(case, expected):
    assert mitos_stage(case) == expected


def test_mitos_stage_5_is_death():
    assert mitos_stage(items(), dead=True) == 5
