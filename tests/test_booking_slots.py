"""Free slots: office hours from the profile, clock changes, bank holidays, lead time, past, booked."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import holidays
import pytest

from assistant.booking.slots import (
    day_slots,
    free_slots,
    is_bookable,
    next_free_slots,
    unbookable_reason,
)
from assistant.provider import OfficeHours, OpeningTimes, Weekday, load_profile
from assistant.settings import BUNDLED_CORPUS

LONDON = ZoneInfo("Europe/London")
NO_LEAD = timedelta(0)
LONG_AGO = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def hours() -> OfficeHours:
    return load_profile(BUNDLED_CORPUS / "provider" / "profile.yaml").office_hours


def _slots_per_day(hours: OfficeHours, day: date) -> int:
    times = hours.on(day)
    assert times is not None
    minutes = (datetime.combine(day, times.close) - datetime.combine(day, times.open)).seconds // 60
    return minutes // 30


def test_a_day_is_back_to_back_half_hours_ending_by_closing(hours: OfficeHours) -> None:
    day = date(2026, 11, 24)  # a Tuesday
    times = hours.on(day)
    assert times is not None
    slots = day_slots(hours, day)
    assert len(slots) == _slots_per_day(hours, day)
    assert slots[0].start.timetz().replace(tzinfo=None) == times.open
    assert slots[-1].end.time() == times.close
    for a, b in itertools.pairwise(slots):
        assert b.start == a.end and a.end - a.start == timedelta(minutes=30)


@pytest.mark.parametrize(
    ("before", "after", "offset_before", "offset_after"),
    [
        # Last Sunday of March 2026 (29th): GMT -> BST.
        (date(2026, 3, 27), date(2026, 3, 30), "+00:00", "+01:00"),
        # Last Sunday of October 2026 (25th): BST -> GMT.
        (date(2026, 10, 23), date(2026, 10, 26), "+01:00", "+00:00"),
    ],
)
def test_clock_changes_keep_local_office_hours(
    hours: OfficeHours, before: date, after: date, offset_before: str, offset_after: str
) -> None:
    slots = free_slots(hours, before, after, LONG_AGO, NO_LEAD, set())
    by_day: dict[date, list] = {}
    for slot in slots:
        by_day.setdefault(slot.start.date(), []).append(slot)
    assert sorted(by_day) == [before, after]  # the weekend between is closed
    opening = hours.days[Weekday.MONDAY].open
    for day, offset in ((before, offset_before), (after, offset_after)):
        first = by_day[day][0]
        assert first.start.isoformat() == f"{day.isoformat()}T{opening:%H:%M}:00{offset}"
        assert first.as_json()["start"].endswith(offset)
        assert len(by_day[day]) == _slots_per_day(hours, day)
    # The same local 08:30 is a different UTC instant on each side of the change.
    utc_before = by_day[before][0].start.astimezone(UTC).time()
    utc_after = by_day[after][0].start.astimezone(UTC).time()
    assert utc_before != utc_after


def test_night_office_across_the_changes_skips_the_gap_and_keeps_instants_distinct() -> None:
    night = OfficeHours(days={Weekday.SUNDAY: OpeningTimes(open=time(0, 0), close=time(4, 0))})
    spring = day_slots(night, date(2026, 3, 29))
    # 01:00-02:00 does not exist that night: 8 half-hours minus the two that start in the gap.
    assert [s.start.strftime("%H:%M") for s in spring] == [
        "00:00",
        "00:30",
        "02:00",
        "02:30",
        "03:00",
        "03:30",
    ]
    for slots in (spring, day_slots(night, date(2026, 10, 25))):
        instants = [s.start.astimezone(UTC) for s in slots]
        assert instants == sorted(set(instants))
        assert all(s.end.astimezone(UTC) - s.start.astimezone(UTC) == timedelta(minutes=30) for s in slots)


def test_christmas_2026_bank_holidays(hours: OfficeHours) -> None:
    slots = free_slots(hours, date(2026, 12, 21), date(2027, 1, 4), LONG_AGO, NO_LEAD, set())
    days = {s.start.date() for s in slots}
    assert date(2026, 12, 24) in days and date(2026, 12, 29) in days
    assert date(2026, 12, 25) not in days and date(2026, 12, 28) not in days  # 28th: Boxing Day substitute
    assert date(2026, 12, 26) not in days and date(2026, 12, 27) not in days  # the weekend
    bank = holidays.country_holidays("GB", subdiv="ENG", years=[2026, 2027])
    expected = {
        date(2026, 12, 21) + timedelta(days=n)
        for n in range(15)
        if (date(2026, 12, 21) + timedelta(days=n)).weekday() < 5
        and (date(2026, 12, 21) + timedelta(days=n)) not in bank
    }
    assert days == expected
    assert date(2027, 1, 1) not in days


def test_bank_holidays_open_when_the_profile_says_so(hours: OfficeHours) -> None:
    open_all_year = hours.model_copy(update={"closed_on_bank_holidays": False})
    assert day_slots(open_all_year, date(2026, 12, 25))
    assert not day_slots(hours, date(2026, 12, 25))


def test_never_in_the_past(hours: OfficeHours) -> None:
    now = datetime(2026, 11, 24, 10, 5, tzinfo=LONDON)
    slots = free_slots(hours, date(2026, 11, 24), date(2026, 11, 24), now, NO_LEAD, set())
    assert slots[0].start == datetime(2026, 11, 24, 10, 30, tzinfo=LONDON)
    assert all(s.start >= now for s in slots)
    assert free_slots(hours, date(2026, 11, 23), date(2026, 11, 23), now, NO_LEAD, set()) == []


def test_lead_time(hours: OfficeHours) -> None:
    now = datetime(2026, 11, 24, 10, 5, tzinfo=LONDON)
    lead = timedelta(hours=24)
    slots = next_free_slots(hours, now, lead, set(), limit=3)
    assert slots[0].start == datetime(2026, 11, 25, 10, 30, tzinfo=LONDON)
    assert all(s.start >= now + lead for s in slots)
    # Friday afternoon + 24 hours lands on Saturday: the first slot is Monday's opening.
    friday = datetime(2026, 11, 27, 15, 0, tzinfo=LONDON)
    assert next_free_slots(hours, friday, lead, set(), limit=1)[0].start == datetime(
        2026, 11, 30, 8, 30, tzinfo=LONDON
    )


def test_booked_slots_are_not_offered(hours: OfficeHours) -> None:
    now = datetime(2026, 11, 23, 7, 0, tzinfo=LONDON)
    first_two = next_free_slots(hours, now, NO_LEAD, set(), limit=2)
    # Booked times come back from the database as UTC (naive from SQLite, aware from PostgreSQL).
    taken = {first_two[0].start.astimezone(UTC).replace(tzinfo=None), first_two[1].start.astimezone(UTC)}
    after = next_free_slots(hours, now, NO_LEAD, taken, limit=1)
    assert after[0].start == first_two[1].end


def test_next_free_slots_limit_and_after(hours: OfficeHours) -> None:
    now = datetime(2026, 11, 23, 7, 0, tzinfo=LONDON)
    six = next_free_slots(hours, now, NO_LEAD, set())
    assert len(six) == 6
    later = next_free_slots(hours, now, NO_LEAD, set(), limit=6, after=six[-1].start)
    assert later[0].start == six[-1].end
    assert next_free_slots(hours, now, NO_LEAD, set(), horizon=timedelta(hours=1)) == []


def test_naive_now_is_refused(hours: OfficeHours) -> None:
    with pytest.raises(ValueError, match="aware"):
        free_slots(hours, date(2026, 11, 24), date(2026, 11, 24), datetime(2026, 11, 24), NO_LEAD, set())


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        (datetime(2026, 11, 24, 10, 30, tzinfo=LONDON), None),
        (datetime(2026, 11, 24, 10, 30, tzinfo=UTC), None),  # same instant, other zone
        (datetime(2026, 11, 24, 10, 15, tzinfo=LONDON), "not the start of a 30-minute slot"),
        (datetime(2026, 11, 24, 17, 30, tzinfo=LONDON), "not the start of a 30-minute slot"),
        (datetime(2026, 11, 28, 10, 30, tzinfo=LONDON), "closed on Saturdays"),
        (datetime(2026, 12, 28, 10, 30, tzinfo=LONDON), "bank holiday"),
        (datetime(2026, 11, 20, 10, 30, tzinfo=LONDON), "in the past"),
        (datetime(2026, 11, 23, 10, 30, tzinfo=LONDON), "at least 24 hours ahead"),
        (datetime(2026, 11, 24, 11, 0, tzinfo=LONDON), "already been booked"),
        (datetime(2027, 3, 1, 10, 30, tzinfo=LONDON), "up to 60 days ahead"),
        (datetime(2026, 11, 24, 10, 30), "UTC offset"),
    ],
)
def test_unbookable_reasons(hours: OfficeHours, start: datetime, expected: str | None) -> None:
    now = datetime(2026, 11, 23, 9, 0, tzinfo=LONDON)
    booked = {datetime(2026, 11, 24, 11, 0, tzinfo=UTC)}
    reason = unbookable_reason(hours, start, now, timedelta(hours=24), booked, horizon=timedelta(days=60))
    if expected is None:
        assert reason is None
        assert is_bookable(hours, start, now, timedelta(hours=24), booked)
    else:
        assert reason is not None and expected in reason


def test_changed_hours_change_the_slots(hours: OfficeHours) -> None:
    short = hours.model_copy(
        update={"days": {Weekday.WEDNESDAY: OpeningTimes(open=time(13, 0), close=time(15, 0))}}
    )
    slots = free_slots(short, date(2026, 11, 23), date(2026, 11, 27), LONG_AGO, NO_LEAD, set())
    assert [s.start.strftime("%a %H:%M") for s in slots] == [
        "Wed 13:00",
        "Wed 13:30",
        "Wed 14:00",
        "Wed 14:30",
    ]
