"""BookingService: slots from the live profile, booking, notifier hand-off, privacy in logs."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar
from sqlalchemy import Engine

from assistant.booking import flow
from assistant.booking.service import BookingService, LeadNotifier
from assistant.booking.slots import SlotUnavailable, day_slots
from assistant.booking.store import Booking, Callback, SlotTaken
from assistant.booking.validation import BookingRequest, CallbackRequest, ValidationProblem
from assistant.db import make_engine
from assistant.provider import Weekday, load_profile
from assistant.settings import Settings

LONDON = ZoneInfo("Europe/London")
EMAIL = "jane.doe@practice.nhs.net"
PHONE = "07700 900123"


class RecordingNotifier:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.bookings: list[Booking] = []
        self.callbacks: list[Callback] = []

    def notify_booking(self, booking: Booking) -> None:
        self.bookings.append(booking)
        if self.fail:
            raise ConnectionError("Slack is down")

    def notify_callback(self, callback: Callback) -> None:
        self.callbacks.append(callback)
        if self.fail:
            raise ConnectionError("Slack is down")


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = make_engine(settings.resolved_database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def service(settings: Settings, engine: Engine, notifier: RecordingNotifier) -> BookingService:
    return BookingService(settings, engine, notifier=notifier)


def _first_weekday_after(day: date) -> date:
    day += timedelta(days=1)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


def _request(start: datetime, **changes: object) -> BookingRequest:
    data: dict[str, object] = {
        "name": "Jane Doe",
        "email": EMAIL,
        "phone": PHONE,
        "organisation": "Riverside PCN",
        "interest": "2 WTE clinical pharmacists before the year end",
        "slot_start": start,
        "session_id": "session-1",
    }
    return BookingRequest.model_validate({**data, **changes})


def test_notifier_protocol(notifier: RecordingNotifier) -> None:
    assert isinstance(notifier, LeadNotifier)


def test_pinned_today_pins_the_clock(service: BookingService, settings: Settings) -> None:
    assert settings.today is not None
    assert service.now() == datetime.combine(settings.today, time(0), tzinfo=LONDON)


def test_available_slots_follow_profile_lead_time_and_horizon(
    service: BookingService, settings: Settings
) -> None:
    assert settings.today is not None
    hours = service.profile.office_hours
    monday = _first_weekday_after(settings.today + timedelta(days=1))
    slots = service.available_slots(monday, monday)
    assert slots == day_slots(hours, monday)
    # Before today, and beyond the horizon, nothing is offered.
    assert (
        service.available_slots(settings.today - timedelta(days=7), settings.today - timedelta(days=1)) == []
    )
    far = settings.today + timedelta(days=settings.booking_horizon_days + 7)
    assert service.available_slots(far, far) == []
    with pytest.raises(ValidationProblem):
        service.available_slots(monday, monday - timedelta(days=1))


def test_book_stores_qualifies_and_notifies(service: BookingService, notifier: RecordingNotifier) -> None:
    slot = service.next_slots(limit=1)[0]
    booking = service.book(_request(slot.start), transcript=["We are a PCN of 6 practices", "Need help fast"])
    assert booking.slot_start == slot.start.astimezone(UTC)
    assert booking.slot_end - booking.slot_start == service.duration
    assert booking.phone == "+447700900123" and booking.email == EMAIL
    assert booking.priority == "high"
    assert any("WTE" in r for r in booking.priority_reasons)
    assert service.get(booking.id) == booking
    assert [b.id for b in notifier.bookings] == [booking.id]
    assert slot not in service.available_slots(slot.start.date(), slot.start.date())
    with pytest.raises(SlotTaken):
        service.book(_request(slot.start, email="other@nhs.net"))


def test_notifier_failure_never_loses_the_booking(
    settings: Settings, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    failing = RecordingNotifier(fail=True)
    service = BookingService(settings, engine, notifier=failing)
    slot = service.next_slots(limit=1)[0]
    with caplog.at_level(logging.INFO):
        booking = service.book(_request(slot.start))
        callback = service.request_callback(CallbackRequest(name="Sam Lee", email="sam@nhs.net", phone=PHONE))
    assert failing.bookings and failing.callbacks
    assert service.get(booking.id) == booking
    assert [c.id for c in service.list_callbacks()] == [callback.id]
    failures = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(booking.id in r.getMessage() for r in failures)
    assert any(callback.id in r.getMessage() for r in failures)


def test_logs_never_hold_emails_or_phone_numbers(
    service: BookingService, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        slot = service.next_slots(limit=1)[0]
        booking = service.book(_request(slot.start))
        service.request_callback(
            CallbackRequest(name="Sam Lee", email="sam@nhs.net", phone=PHONE, question="Hi")
        )
        service.erase_person(EMAIL)
        service.delete(booking.id)
        service.purge_stale()
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert logged  # something was logged
    for secret in (EMAIL, "sam@nhs.net", PHONE, "+447700900123", "900123"):
        assert secret not in logged


@pytest.mark.parametrize(
    ("when", "reason"),
    [
        (
            lambda s: datetime.combine(
                s.today + timedelta(days=7 - s.today.weekday() + 5), time(10, 30), LONDON
            ),
            "closed",
        ),
        (lambda s: datetime.combine(s.today, time(10, 30), LONDON), "ahead"),
        (lambda s: datetime(2026, 12, 28, 10, 30, tzinfo=LONDON), "up to 28 days"),
    ],
)
def test_unbookable_slot_is_refused(service: BookingService, settings: Settings, when, reason: str) -> None:
    with pytest.raises(SlotUnavailable, match=reason):
        service.book(_request(when(settings)))
    assert service.list_bookings() == []


def test_invalid_request_is_refused_before_storage(
    service: BookingService, notifier: RecordingNotifier
) -> None:
    slot = service.next_slots(limit=1)[0]
    with pytest.raises(ValidationProblem) as info:
        service.book(_request(slot.start, email="not-an-email"))
    assert info.value.field == "email"
    assert service.list_bookings() == [] and notifier.bookings == []


def test_changed_office_hours_in_the_profile_change_the_slots(
    settings: Settings, engine: Engine, tmp_path: Path
) -> None:
    copy = tmp_path / "profile.yaml"
    copy.write_text(settings.resolved_provider_profile.read_text(encoding="utf-8"), encoding="utf-8")
    service = BookingService(settings, engine, profile=copy)
    bundled_open = load_profile(settings.resolved_provider_profile).office_hours.days[Weekday.MONDAY].open
    assert service.next_slots(limit=1)[0].start.time() == bundled_open

    text = copy.read_text(encoding="utf-8").replace(
        'open: "08:30", close: "17:30"', 'open: "10:00", close: "12:00"'
    )
    copy.write_text(text, encoding="utf-8")
    stat = copy.stat()
    os.utime(copy, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))

    slots = service.next_slots(limit=10)
    assert {s.start.astimezone(LONDON).strftime("%H:%M") for s in slots} == {
        "10:00",
        "10:30",
        "11:00",
        "11:30",
    }
    first_day = slots[0].start.date()
    assert service.available_slots(first_day, first_day) == slots[:4]


def test_callback_request(service: BookingService, notifier: RecordingNotifier) -> None:
    callback = service.request_callback(
        CallbackRequest(
            name="Sam Lee", email="sam@nhs.net", question="Can a PCN claim for a GP?", reason="ungrounded"
        ),
        transcript=["Can a PCN claim for a GP before 31 March?"],
    )
    assert notifier.callbacks == [callback]
    assert callback.priority == "high"  # a role and a deadline
    assert "31 March" in callback.summary


def test_erasure_and_retention(service: BookingService, settings: Settings) -> None:
    first, second = service.next_slots(limit=2)
    service.book(_request(first.start))
    kept = service.book(_request(second.start, email="sam@nhs.net"))
    service.request_callback(CallbackRequest(name="Jane Doe", email=EMAIL))
    counts = service.erase_person(EMAIL.upper())
    assert (counts["bookings"], counts["callback_requests"]) == (1, 1)
    assert [b.id for b in service.list_bookings()] == [kept.id]
    # Nothing is stale yet: the retention period has not passed.
    assert service.purge_stale() == {"bookings": 0, "callback_requests": 0}
    later = BookingService(
        settings,
        service.store.engine,
        clock=lambda: kept.slot_end + timedelta(days=settings.enquiry_retention_days + 1),
    )
    assert later.purge_stale() == {"bookings": 1, "callback_requests": 0}


def test_invite_for_a_booking(service: BookingService) -> None:
    slot = service.next_slots(limit=1)[0]
    booking = service.book(_request(slot.start))
    raw = service.invite(booking.id)
    assert raw is not None
    (event,) = Calendar.from_ical(raw).walk("VEVENT")
    assert event.decoded("DTSTART") == slot.start
    assert service.invite("no-such-id") is None


def test_chat_flow_books_through_the_service(service: BookingService, notifier: RecordingNotifier) -> None:
    ctx = service.flow_context()
    reply = flow.start(flow.BookingState(), ctx)
    said = ["Jane Doe", "Riverside PCN", "skip", "paramedics, 1 WTE", EMAIL, "skip", "2"]
    for message in said:
        reply = flow.advance(reply.state, message, ctx)
    assert reply.ready_to_book and reply.request is not None
    booking = service.book(reply.request, transcript=said)
    assert (
        booking.slot_start.isoformat()
        == datetime.fromisoformat(reply.offered_slots[1]).astimezone(UTC).isoformat()
    )
    assert booking.summary.endswith("No questions or comments beyond the form answers.")
    done = flow.complete(reply.state, booking.slot_start, booking.id, ctx)
    assert done.done and notifier.bookings[0].id == booking.id
    # The booked slot is gone from the next offer.
    again = flow.start(flow.BookingState(), ctx)
    for message in said[:-1]:
        again = flow.advance(again.state, message, ctx)
    assert reply.offered_slots[1] not in again.offered_slots
