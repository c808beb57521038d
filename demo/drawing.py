"""What every part of the demo draws with: the seed, the fixed day all dates are
relative to, and small helpers over one random.Random."""

from datetime import UTC, date, datetime, time

SEED = 20240611
# Every date is relative to this day, not today, so that two runs on different
# days write the same catalog.
ANCHOR = date(2026, 9, 30)
CHANGE_REASON = "demo catalog (manage.py seed_demo)"


def weighted(rng, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights, k=1)[0]


def aware(day, rng):
    return datetime.combine(day, time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=UTC)


def clamp(value, low, high):
    return max(low, min(high, value))
