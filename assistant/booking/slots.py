"""Free consultation slots inside the provider's office hours.

Slots are built on the local wall clock (``zoneinfo``), so 08:30 stays 08:30 across the clock
changes, and compared as absolute instants, so a booking stored in UTC blocks the right slot.
Bank holidays come from the ``holidays`` package (UK, subdivision ENG by default: England and
Wales share one list), which also knows the substitute days such as 28 December 2026.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays
from pydantic import BaseModel, ConfigDict, field_serializer, model_validator

from assistant.models import AssistantError
from assistant.provider import OfficeHours

DEFAULT_DURATION = timedelta(minutes=30)


class SlotUnavailable(AssistantError):
    """The requested start is not a free, bookable slot; the message says why."""


class Slot(BaseModel):
    """One consultation slot; ``start`` and ``end`` are aware datetimes in the office timezone."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    @model_validator(mode="after")
    def _aware(self) -> Slot:
        if self.start.tzinfo is None or self.end.tzinfo is None:
            raise ValueError("slot times must be timezone-aware")
        return self

    @field_serializer("start", "end")
    def _iso(self, value: datetime) -> str:
        return value.isoformat()

    def as_json(self) -> dict[str, str]:
        """``{"start": "2026-11-24T10:30:00+00:00", "end": ...}``: ISO 8601 with the local offset."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    def label(self, tz: ZoneInfo | None = None) -> str:
        """``Tuesday 24 November, 10:30`` in the office timezone, for people."""
        local = self.start.astimezone(tz) if tz else self.start
        return f"{local:%A} {local.day} {local:%B}, {local:%H:%M}"


def to_utc(moment: datetime) -> datetime:
    """Aware instant in UTC; a naive value is taken as UTC (how SQLite hands stored times back)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@lru_cache(maxsize=64)
def _bank_holidays(region: str, year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv=region, years=year).keys())


def is_bank_holiday(hours: OfficeHours, day: date) -> bool:
    return day in _bank_holidays(hours.bank_holiday_region, day.year)


def is_closed(hours: OfficeHours, day: date) -> bool:
    return hours.on(day) is None or (hours.closed_on_bank_holidays and is_bank_holiday(hours, day))


def day_slots(hours: OfficeHours, day: date, duration: timedelta = DEFAULT_DURATION) -> list[Slot]:
    """Every slot of one day (booked or not): back to back from opening, the last ending by closing."""
    if is_closed(hours, day):
        return []
    times = hours.on(day)
    assert times is not None
    tz = hours.tz
    cursor = datetime.combine(day, times.open)
    close = datetime.combine(day, times.close)
    slots: list[Slot] = []
    while cursor + duration <= close:
        start = cursor.replace(tzinfo=tz)
        # A wall-clock time that does not exist (the spring-forward gap) does not survive a round trip.
        if start.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == cursor:
            end = (start.astimezone(UTC) + duration).astimezone(tz)
            slots.append(Slot(start=start, end=end))
        cursor += duration
    return slots


def _days(start: date, end: date) -> Iterator[date]:
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware")


def free_slots(
    hours: OfficeHours,
    start: date,
    end: date,
    now: datetime,
    lead_time: timedelta,
    booked: Iterable[datetime],
    duration: timedelta = DEFAULT_DURATION,
) -> list[Slot]:
    """Free slots from ``start`` to ``end`` inclusive (local dates), none before ``now + lead_time``."""
    _require_aware(now, "now")
    earliest = now + lead_time
    taken = {to_utc(b) for b in booked}
    return [
        slot
        for day in _days(start, end)
        for slot in day_slots(hours, day, duration)
        if slot.start >= earliest and to_utc(slot.start) not in taken
    ]


def next_free_slots(
    hours: OfficeHours,
    now: datetime,
    lead_time: timedelta,
    booked: Iterable[datetime],
    limit: int = 6,
    horizon: timedelta = timedelta(days=28),
    after: datetime | None = None,
    duration: timedelta = DEFAULT_DURATION,
) -> list[Slot]:
    """The first ``limit`` free slots within ``horizon`` of now, optionally only those after ``after``."""
    _require_aware(now, "now")
    taken = {to_utc(b) for b in booked}
    first_day = max(now, after or now).astimezone(hours.tz).date()
    last_day = (now + horizon).astimezone(hours.tz).date()
    found: list[Slot] = []
    for day in _days(first_day, last_day):
        for slot in free_slots(hours, day, day, now, lead_time, taken, duration):
            if slot.start > now + horizon:
                return found
            if after is None or slot.start > after:
                found.append(slot)
                if len(found) >= limit:
                    return found
    return found


def _describe(delta: timedelta) -> str:
    hours = int(delta.total_seconds() // 3600)
    if hours >= 48 and hours % 24 == 0:
        days = hours // 24
        return f"{days} day{'s' if days != 1 else ''}"
    if hours:
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{int(delta.total_seconds() // 60)} minutes"


def unbookable_reason(
    hours: OfficeHours,
    start: datetime,
    now: datetime,
    lead_time: timedelta,
    booked: Iterable[datetime],
    duration: timedelta = DEFAULT_DURATION,
    horizon: timedelta | None = None,
) -> str | None:
    """``None`` when ``start`` begins a free slot; otherwise why not, in words for the visitor."""
    if start.tzinfo is None or start.utcoffset() is None:
        return "The slot time must include a UTC offset, e.g. 2026-11-24T10:30:00+00:00."
    _require_aware(now, "now")
    if start < now:
        return "That time is in the past."
    if start < now + lead_time:
        return f"Consultations need to be booked at least {_describe(lead_time)} ahead."
    if horizon is not None and start > now + horizon:
        return f"Consultations can be booked up to {_describe(horizon)} ahead."
    day = start.astimezone(hours.tz).date()
    times = hours.on(day)
    if times is None:
        return f"The office is closed on {day:%A}s."
    if hours.closed_on_bank_holidays and is_bank_holiday(hours, day):
        return f"{day:%A} {day.day} {day:%B %Y} is a bank holiday, when the office is closed."
    if not any(to_utc(slot.start) == to_utc(start) for slot in day_slots(hours, day, duration)):
        minutes = int(duration.total_seconds() // 60)
        return (
            f"That time is not the start of a {minutes}-minute slot within office hours "
            f"({times.open:%H:%M} to {times.close:%H:%M} on {day:%A}s)."
        )
    if to_utc(start) in {to_utc(b) for b in booked}:
        return "That slot has already been booked."
    return None


def is_bookable(
    hours: OfficeHours,
    start: datetime,
    now: datetime,
    lead_time: timedelta,
    booked: Iterable[datetime],
    duration: timedelta = DEFAULT_DURATION,
    horizon: timedelta | None = None,
) -> bool:
    return unbookable_reason(hours, start, now, lead_time, booked, duration, horizon) is None
