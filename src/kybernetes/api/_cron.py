"""CronJob schedules: parsed and stepped by the `croniter` library, framed as upstream frames them.

:func:`parse_schedule` returns a :class:`CronSchedule` or raises :class:`CronError`. What
upstream's parser (robfig/cron ``ParseStandard``) accepts beyond croniter's syntax is handled
here, and nothing else: exactly five fields (croniter also takes six or seven), the
``@every <duration>`` descriptor, and a ``TZ=``/``CRON_TZ=`` prefix (which upstream's
validation then rejects in favour of ``spec.timeZone``). Field syntax, ranges, names and
day-of-month/day-of-week semantics (either restricted day field matches, as in classic
cron) are croniter's.

:meth:`CronSchedule.next_after` gives the next activation strictly after a time, in that
time's zone (wall clock), so a controller can compute missed and upcoming runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

_DESCRIPTORS: Final = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}

_DURATION_PART: Final = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")
_UNIT_SECONDS: Final = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}


class CronError(ValueError):
    """A schedule that cannot be parsed."""


@dataclass(frozen=True, slots=True)
class CronSchedule:
    """A parsed schedule: a five-field cron expression, or a fixed ``@every`` interval."""

    expression: str = ""
    #: ``@every``: the interval in seconds (``expression`` is unused then).
    every: float | None = None
    timezone: str | None = None

    def next_after(self, t: datetime) -> datetime | None:
        """The first activation strictly after ``t`` (None if the schedule never fires)."""
        if self.every is not None:
            step = max(1, int(self.every))
            return t.replace(microsecond=0) + timedelta(seconds=step)
        try:
            nxt: datetime = croniter(self.expression, t).get_next(datetime)
        except CroniterBadDateError:  # e.g. "0 0 31 2 *": no such day
            return None
        return nxt


def _parse_duration(text: str) -> float:
    """Go's ``time.ParseDuration`` for the forms a schedule can use."""
    body = text.lstrip("+-")
    if body == "0":
        return 0.0
    pos, total = 0, 0.0
    while pos < len(body):
        m = _DURATION_PART.match(body, pos)
        if m is None or m.group(1) in ("", "."):
            detail = (
                "missing unit in duration" if re.fullmatch(r"[0-9.]+", body) else "invalid duration"
            )
            raise CronError(f'failed to parse duration {text}: time: {detail} "{text}"')
        total += float(m.group(1)) * _UNIT_SECONDS[m.group(2)]
        pos = m.end()
    if not body:
        raise CronError(f'failed to parse duration {text}: time: invalid duration "{text}"')
    return -total if text.startswith("-") else total


def valid_time_zone(name: str) -> bool:
    """Whether ``name`` is a known IANA time zone ("" and "UTC" are UTC)."""
    if name in ("", "UTC", "Local"):
        return True
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


def parse_schedule(spec: str) -> CronSchedule:
    if not spec:
        raise CronError("empty spec string")
    timezone = None
    if spec.startswith(("TZ=", "CRON_TZ=")):
        space = spec.find(" ")
        name = spec[spec.index("=") + 1 : space if space >= 0 else len(spec)]
        if not valid_time_zone(name):
            raise CronError(f"provided bad location {name}: unknown time zone {name}")
        timezone = name
        spec = spec[space:].strip() if space >= 0 else ""
    if spec.startswith("@"):
        if spec.startswith("@every "):
            return CronSchedule(every=_parse_duration(spec[len("@every ") :]), timezone=timezone)
        if spec not in _DESCRIPTORS:
            raise CronError(f"unrecognized descriptor: {spec}")
        spec = _DESCRIPTORS[spec]
    fields = spec.split()
    if len(fields) != 5:
        shown = "[" + " ".join(fields) + "]"
        raise CronError(f"expected exactly 5 fields, found {len(fields)}: {shown}")
    expression = " ".join(fields)
    try:
        croniter(expression)
    except (CroniterError, ValueError) as exc:
        raise CronError(str(exc)) from None
    return CronSchedule(expression=expression, timezone=timezone)
