"""Plate maps of a cohort: its lines laid out on 96- or 384-well plates, in an order
randomised with the seed (stated in the file), so arm and plate position are not
confounded. Edge wells (row A and the last row, column 1 and the last column) dry
out and warm faster; `edges="avoid"` leaves them empty, `edges="use"` fills them."""

from __future__ import annotations

import random
import string
from collections.abc import Sequence

LAYOUTS = {96: (8, 12), 384: (16, 24)}
EDGES = ("avoid", "use")


class PlateError(ValueError):
    """A plate layout that does not exist; `problems` maps the parameter → what."""

    def __init__(self, problems: dict[str, str]):
        super().__init__("; ".join(problems.values()))
        self.problems = problems


def wells(size: int, edges: str) -> list[str]:
    """The wells a line may take on one plate, row by row (A1, A2, ...)."""
    rows, columns = LAYOUTS[size]
    return [
        f"{string.ascii_uppercase[r]}{c + 1}"
        for r in range(rows)
        for c in range(columns)
        if edges == "use" or not (r in (0, rows - 1) or c in (0, columns - 1))
    ]


def plate_map(members: Sequence[dict], *, size: int, edges: str, seed: int) -> list[dict]:
    """One row per member: plate (1, 2, ...), well, line, arm, role, in plate order.
    The order is a shuffle of the members seeded with `seed`: the same cohort and
    seed always give the same map."""
    problems = {}
    if size not in LAYOUTS:
        problems["wells"] = "A plate has 96 or 384 wells."
    if edges not in EDGES:
        problems["edges"] = "Say whether edge wells are used: avoid or use."
    if problems:
        raise PlateError(problems)
    usable = wells(size, edges)
    order = list(members)
    random.Random(f"plate:{seed}").shuffle(order)
    return [
        {
            "plate": i // len(usable) + 1,
            "well": usable[i % len(usable)],
            "line": member["line"],
            "arm": member["arm"],
            "role": member["role"],
        }
        for i, member in enumerate(order)
    ]
