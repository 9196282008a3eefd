"""The booking use cases, for the API routes, the chat pipeline and the CLI to share.

Office hours come from the provider profile (re-read when the file changes), so editing the
profile changes the slots offered without a restart. Logs carry booking ids and priorities only:
never an email address or phone number.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Protocol, runtime_checkable

from sqlalchemy import Engine

from assistant.booking.flow import FlowContext
from assistant.booking.invite import make_invite
from assistant.booking.leads import qualify, summarise
from assistant.booking.slots import Slot, SlotUnavailable, free_slots, next_free_slots, unbookable_reason
from assistant.booking.store import Booking, BookingStore, Callback
from assistant.booking.validation import (
    BookingRequest,
    CallbackRequest,
    ValidationProblem,
    clean_booking,
    clean_callback,
)
from assistant.db import create_schema
from assistant.provider import ProviderProfile, load_profile
from assistant.settings import Settings

log = logging.getLogger(__name__)


@runtime_checkable
class LeadNotifier(Protocol):
    """Hands a new lead to staff (the Slack app implements it). May raise: the booking is kept."""

    def notify_booking(self, booking: Booking) -> None: ...

    def notify_callback(self, callback: Callback) -> None: ...


class BookingService:
    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        profile: ProviderProfile | Path | str | None = None,
        notifier: LeadNotifier | None = None,
        clock: Callable[[], datetime] | None = None,
        create_tables: bool = True,
    ) -> None:
        self.settings = settings
        self.store = BookingStore(engine)
        self.notifier = notifier
        self._profile = profile if isinstance(profile, ProviderProfile) else None
        self._profile_path = (
            Path(profile) if isinstance(profile, str | Path) else settings.resolved_provider_profile
        )
        self._clock = clock or self._default_clock
        if create_tables:
            create_schema(engine)

    # Context -----------------------------------------------------------------------------------

    @property
    def profile(self) -> ProviderProfile:
        """The fixed profile given, else the profile file as it is now (cached per mtime)."""
        return self._profile or load_profile(self._profile_path)

    def _default_clock(self) -> datetime:
        # A pinned "today" (tests, evals) pins the clock to its start, so slot lists are reproducible.
        if self.settings.today is not None:
            return datetime.combine(self.settings.today, time(0, 0), tzinfo=self.profile.office_hours.tz)
        return datetime.now(UTC)

    def now(self) -> datetime:
        return self._clock()

    @property
    def lead_time(self) -> timedelta:
        return timedelta(hours=self.settings.booking_lead_time_hours)

    @property
    def horizon(self) -> timedelta:
        return timedelta(days=self.settings.booking_horizon_days)

    @property
    def duration(self) -> timedelta:
        return self.profile.consultation.duration

    # Slots ------------------------------------------------------------------------------------

    def _booked_around(self, start: datetime, end: datetime) -> set[datetime]:
        return self.store.booked_slots(start - timedelta(days=1), end + timedelta(days=1))

    def available_slots(self, start: date, end: date) -> list[Slot]:
        """Free slots between two local dates inclusive, clipped to today .. today + horizon."""
        if end < start:
            raise ValidationProblem("slot", "The end date must not be before the start date.")
        now = self.now()
        hours = self.profile.office_hours
        first = max(start, now.astimezone(hours.tz).date())
        last = min(end, (now + self.horizon).astimezone(hours.tz).date())
        if last < first:
            return []
        window_start = datetime.combine(first, time(0), tzinfo=hours.tz)
        window_end = datetime.combine(last, time(0), tzinfo=hours.tz) + timedelta(days=1)
        booked = self._booked_around(window_start, window_end)
        return free_slots(hours, first, last, now, self.lead_time, booked, self.duration)

    def next_slots(self, after: datetime | None = None, limit: int = 6) -> list[Slot]:
        now = self.now()
        booked = self._booked_around(now, now + self.horizon)
        hours = self.profile.office_hours
        return next_free_slots(hours, now, self.lead_time, booked, limit, self.horizon, after, self.duration)

    def why_not_bookable(self, start: datetime) -> str | None:
        if start.tzinfo is None:
            return unbookable_reason(self.profile.office_hours, start, self.now(), self.lead_time, set())
        booked = self._booked_around(start, start)
        return unbookable_reason(
            self.profile.office_hours, start, self.now(), self.lead_time, booked, self.duration, self.horizon
        )

    def flow_context(self) -> FlowContext:
        """What ``flow.advance`` needs: now, the next free slots and a bookability check."""
        return FlowContext(
            now=self.now(),
            next_slots=lambda after, limit: self.next_slots(after, limit),
            check_slot=self.why_not_bookable,
            tz=self.profile.office_hours.tz,
            duration_minutes=self.profile.consultation.duration_minutes,
            horizon_days=self.settings.booking_horizon_days,
        )

    # Bookings ---------------------------------------------------------------------------------

    def book(self, request: BookingRequest, transcript: list[str] | None = None) -> Booking:
        """Validate, check the slot, store (the UNIQUE slot decides races), then notify staff.

        Raises ``ValidationProblem`` (bad field), ``SlotUnavailable`` (not a free office-hours
        slot) or ``SlotTaken`` (someone else got it first). A notifier failure is logged and the
        booking is returned all the same.
        """
        clean = clean_booking(request)
        # Office hours, lead time and horizon here; whether it is taken is the database's call.
        hours = self.profile.office_hours
        reason = unbookable_reason(
            hours, clean.slot_start, self.now(), self.lead_time, set(), self.duration, self.horizon
        )
        if reason:
            raise SlotUnavailable(reason)
        said = [*(transcript or []), clean.interest, clean.notes or ""]
        lead = qualify(said, clean, str(self.settings.roles_file))
        start = clean.slot_start.astimezone(UTC)
        booking = self.store.create_booking(
            slot_start=start,
            slot_end=start + self.duration,
            name=clean.name,
            email=clean.email,
            phone=clean.phone,
            organisation=clean.organisation,
            ods_code=clean.ods_code,
            interest=clean.interest,
            notes=clean.notes,
            session_id=clean.session_id,
            priority=lead.priority,
            priority_reasons=lead.reasons,
            summary=summarise(transcript or [clean.interest]),
            created_at=self.now().astimezone(UTC),
        )
        log.info("booking %s stored (priority %s)", booking.id, booking.priority)
        if self.notifier is not None:
            try:
                self.notifier.notify_booking(booking)
            except Exception:
                log.exception("lead notification failed for booking %s; the booking is kept", booking.id)
        return booking

    def request_callback(self, request: CallbackRequest, transcript: list[str] | None = None) -> Callback:
        clean = clean_callback(request)
        said = [*(transcript or []), clean.question]
        lead = qualify(said, None, str(self.settings.roles_file))
        callback = self.store.create_callback(
            name=clean.name,
            email=clean.email,
            phone=clean.phone,
            organisation=clean.organisation,
            question=clean.question,
            reason=clean.reason,
            session_id=clean.session_id,
            priority=lead.priority,
            priority_reasons=lead.reasons,
            summary=summarise(said),
            created_at=self.now().astimezone(UTC),
        )
        log.info("callback request %s stored (priority %s)", callback.id, callback.priority)
        if self.notifier is not None:
            try:
                self.notifier.notify_callback(callback)
            except Exception:
                log.exception("lead notification failed for callback %s; the request is kept", callback.id)
        return callback

    def get(self, booking_id: str) -> Booking | None:
        return self.store.get(booking_id)

    def list_bookings(self, since: datetime | None = None) -> list[Booking]:
        return self.store.list_bookings(since)

    def list_callbacks(self, since: datetime | None = None) -> list[Callback]:
        return self.store.list_callbacks(since)

    def delete(self, booking_id: str) -> bool:
        deleted = self.store.delete(booking_id)
        log.info("booking %s deleted: %s", booking_id, deleted)
        return deleted

    def invite(self, booking_id: str) -> bytes | None:
        booking = self.store.get(booking_id)
        return make_invite(booking, self.profile, self.now()) if booking else None

    # Privacy ----------------------------------------------------------------------------------

    def erase_person(self, email: str) -> dict[str, int]:
        """Delete everything keyed on one email address; counts per table (the email is not logged)."""
        from assistant.memory import erase_sessions

        sessions = erase_sessions(self.store.engine, self.store.session_ids_for(email))
        counts = self.store.erase_person(email)
        for table, count in sessions.items():
            counts[table] = counts.get(table, 0) + count
        log.info("erasure request: %s rows deleted", sum(counts.values()))
        return counts

    def purge_stale(self) -> dict[str, int]:
        """Delete enquiries older than ``ARRS_ENQUIRY_RETENTION_DAYS`` (future bookings are kept)."""
        counts = self.store.purge_older_than(self.settings.enquiry_retention_days, self.now())
        log.info("retention purge: %s", counts)
        return counts
