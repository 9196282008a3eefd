"""A calendar invitation (iCalendar, RFC 5545) for a booked consultation.

Times carry ``TZID=Europe/London`` (the office timezone) with a VTIMEZONE, so calendars show the
right local time on both sides of a clock change.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlparse

from icalendar import Calendar, Event, vCalAddress, vText

from assistant.booking.store import Booking
from assistant.provider import ProviderProfile


def invite_uid(booking: Booking, profile: ProviderProfile) -> str:
    host = urlparse(profile.website).hostname or "arrs-assistant.invalid"
    return f"booking-{booking.id}@{host}"


def make_invite(booking: Booking, profile: ProviderProfile, now: datetime | None = None) -> bytes:
    tz = profile.office_hours.tz
    formats = " or ".join(f.replace("_", " ") for f in profile.consultation.formats)
    offer = "Free consultation" if profile.consultation.free else "Consultation"

    cal = Calendar()
    cal.add("prodid", "-//ARRS Assistant//Consultation booking//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")

    event = Event()
    event.add("uid", invite_uid(booking, profile))
    event.add("dtstamp", (now or datetime.now(UTC)).astimezone(UTC))
    event.add("created", booking.created_at.astimezone(UTC))
    event.add("dtstart", booking.slot_start.astimezone(tz))
    event.add("dtend", booking.slot_end.astimezone(tz))
    event.add("summary", f"{offer} with {profile.name}")
    lines = [
        f"{offer} about ARRS roles and services with {profile.name}, by {formats}.",
        f"Organisation: {booking.organisation}" + (f" ({booking.ods_code})" if booking.ods_code else ""),
        f"Interest: {booking.interest}",
        f"Booking reference: {booking.id[:8]}",
    ]
    if profile.contact.phone:
        lines.append(f"To change or cancel: {profile.contact.email} or {profile.contact.phone}")
    else:
        lines.append(f"To change or cancel: {profile.contact.email}")
    event.add("description", "\n".join(lines))
    event.add("location", vText(f"{formats.capitalize()} call"))
    event.add("status", "CONFIRMED")
    event.add("sequence", 0)
    if profile.booking_link:
        event.add("url", profile.booking_link)

    organizer = vCalAddress(f"mailto:{profile.contact.email}")
    organizer.params["cn"] = vText(profile.name)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{booking.email}")
    attendee.params["cn"] = vText(booking.name)
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["partstat"] = vText("ACCEPTED")
    event.add("attendee", attendee, encode=0)

    cal.add_component(event)
    cal.add_missing_timezones()
    return cal.to_ical()
