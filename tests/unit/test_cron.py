"""CronJob schedule parsing (croniter, framed as upstream) and next-run computation."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from kybernetes.api._cron import CronError, parse_schedule


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("", "empty spec string"),
        ("* * * *", "expected exactly 5 fields, found 4: [* * * *]"),
        ("* * * * * *", "expected exactly 5 fields, found 6: [* * * * * *]"),
        ("60 * * * *", "out of range"),
        ("* * 0 * *", "out of range"),
        ("*/0 * * * *", "step '0' in field 0 is not acceptable"),
        ("x * * * *", "is not acceptable"),
        ("@fortnightly", "unrecognized descriptor: @fortnightly"),
        ("@every 5", 'failed to parse duration 5: time: missing unit in duration "5"'),
        ("TZ=Mars/Base * * * * *", "provided bad location Mars/Base: unknown time zone"),
    ],
)
def test_rejected_schedules(spec: str, message: str) -> None:
    with pytest.raises(CronError) as info:
        parse_schedule(spec)
    assert message in str(info.value)


@pytest.mark.parametrize(
    "spec",
    [
        "* * * * *",
        "*/15 9-17 * * mon-fri",
        "0 0 1 jan,jul ?",
        "@daily",
        "@every 1h30m",
        "5 4 * * SUN",
    ],
)
def test_accepted_schedules(spec: str) -> None:
    parse_schedule(spec)


@pytest.mark.parametrize(
    ("spec", "after", "expected"),
    [
        (
            "*/15 * * * *",
            datetime(2025, 1, 1, 10, 7, tzinfo=UTC),
            datetime(2025, 1, 1, 10, 15, tzinfo=UTC),
        ),
        (
            "*/15 * * * *",
            datetime(2025, 1, 1, 10, 15, tzinfo=UTC),
            datetime(2025, 1, 1, 10, 30, tzinfo=UTC),
        ),
        ("0 0 1 * *", datetime(2025, 12, 15, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)),
        # Both day fields restricted: either matches (the 13th, or any Friday).
        ("0 12 13 * 5", datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 6, 12, 0, tzinfo=UTC)),
        # Day of week restricted, day of month "*": only Mondays.
        ("30 8 * * 1", datetime(2025, 6, 1, tzinfo=UTC), datetime(2025, 6, 2, 8, 30, tzinfo=UTC)),
        ("0 0 29 2 *", datetime(2025, 3, 1, tzinfo=UTC), datetime(2028, 2, 29, tzinfo=UTC)),
    ],
)
def test_next_after(spec: str, after: datetime, expected: datetime) -> None:
    assert parse_schedule(spec).next_after(after) == expected


def test_next_after_follows_the_wall_clock_of_the_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    after = datetime(2025, 7, 1, 8, 0, tzinfo=berlin)
    assert parse_schedule("0 9 * * *").next_after(after) == datetime(
        2025, 7, 1, 9, 0, tzinfo=berlin
    )


def test_every_and_impossible_schedules() -> None:
    start = datetime(2025, 1, 1, 0, 0, 30, tzinfo=UTC)
    assert parse_schedule("@every 90s").next_after(start) == datetime(2025, 1, 1, 0, 2, tzinfo=UTC)
    assert parse_schedule("0 0 31 2 *").next_after(start) is None
