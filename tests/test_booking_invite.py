"""The calendar invitation: parsed back with icalendar, local times with TZID, both sides of BST."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from assistant.booking.invite import make_invite
from assistant.booking.store import Booking
from assistant.provider import ProviderProfile, load_profile
from assistant.settings import BUNDLED_CORPUS

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def profile() -> ProviderProfile:
    return load_profile(BUNDLED_CORPUS / "provider" / "profile.yaml")


def _booking(start: datetime) -> Booking:
    return Booking(
        id="0f8fad5b-d9cb-469f-a165-70867728950e",
        slot_start=start.astimezone(UTC),
        slot_end=(start + timedelta(minutes=30)).astimezone(UTC),
        name="Jane Doe",
        email="jane@nhs.net",
        organisation="Riverside PCN",
        ods_code="U12345",
        interest="clinical pharmacists",
        created_at=datetime(2026, 11, 21, 9, 0, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("local_start", "offset_hours"),
    [(datetime(2026, 11, 24, 10, 30, tzinfo=LONDON), 0), (datetime(2026, 6, 10, 10, 30, tzinfo=LONDON), 1)],
)
def test_invite_content(profile: ProviderProfile, local_start: datetime, offset_hours: int) -> None:
    booking = _booking(local_start)
    raw = make_invite(booking, profile, now=datetime(2026, 11, 21, 9, 5, tzinfo=UTC))
    assert raw.startswith(b"BEGIN:VCALENDAR")
    cal = Calendar.from_ical(raw)
    assert cal["VERSION"] == "2.0" and "PRODID" in cal
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["Europe/London"]
    (event,) = cal.walk("VEVENT")
    assert booking.id in str(event["UID"]) and str(event["UID"]).endswith("@example.org")
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert event["DTEND"].params["TZID"] == "Europe/London"
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert start == local_start and start.utcoffset() == timedelta(hours=offset_hours)
    assert (start.hour, start.minute) == (local_start.hour, local_start.minute)
    assert end - start == timedelta(minutes=profile.consultation.duration_minutes)
    assert profile.name in str(event["SUMMARY"])
    assert str(event["ORGANIZER"]) == f"mailto:{profile.contact.email}"
    assert event["ORGANIZER"].params["CN"] == profile.name
    attendee = event["ATTENDEE"]
    assert str(attendee) == f"mailto:{booking.email}" and attendee.params["CN"] == booking.name
    assert "U12345" in str(event["DESCRIPTION"]) and booking.id[:8] in str(event["DESCRIPTION"])
    assert str(event["STATUS"]) == "CONFIRMED"
