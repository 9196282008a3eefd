"""Booking a consultation inside the conversation: fields one at a time, digressions, the hand-off."""

from __future__ import annotations

from assistant.booking_dialogue import service


class RecordingNotifier:
    def __init__(self) -> None:
        self.bookings: list = []
        self.callbacks: list = []

    def notify_booking(self, booking) -> None:
        self.bookings.append(booking)

    def notify_callback(self, callback) -> None:
        self.callbacks.append(callback)


def test_booking_flow_with_a_digression_a_correction_and_the_hand_off(assistant):
    notifier = RecordingNotifier()
    assistant.lead_notifier = notifier
    first = assistant.ask("Hi, can you help us with our ARRS roles? I'd like to book a free consultation")
    session = first.session_id
    assert first.intent == "booking" and first.booking["pending_field"] == "name"

    def say(text: str):
        return assistant.ask(text, session_id=session)

    assert say("Jane Smith").booking["pending_field"] == "organisation"
    assert say("Riverside PCN").booking["pending_field"] == "ods_code"
    digression = say("What band is a pharmacy technician?")
    assert digression.grounded and "band 5" in digression.answer  # answered from the guidance ...
    assert digression.booking["pending_field"] == "ods_code"  # ... and the flow resumes where it was
    assert say("U12345").booking["pending_field"] == "interest"
    assert say("Two clinical pharmacists and a paramedic before March").booking["pending_field"] == "email"
    assert say("jane.smith@example.nhs.uk").booking["pending_field"] == "phone"
    corrected = say("actually my email is jane.brown@example.nhs.uk")
    assert corrected.booking["pending_field"] == "phone"
    slots = say("skip")
    assert slots.booking["pending_field"] == "slot" and slots.booking["offered_slots"]
    done = say("1")
    assert done.booking["invite_path"].endswith(".ics")
    stored = service(assistant).get(done.booking["booking_id"])
    assert stored.email == "jane.brown@example.nhs.uk" and stored.name == "Jane Smith"
    assert stored.slot_start.isoformat().startswith(slots.booking["offered_slots"][0][:10])
    assert [b.id for b in notifier.bookings] == [stored.id]
    assert stored.priority == "high"  # roles, WTE-like counts and a deadline were mentioned
    assert "jane.brown@example.nhs.uk" not in stored.summary


def test_cancel_leaves_the_flow(assistant):
    first = assistant.ask("book a call please")
    cancelled = assistant.ask("cancel", session_id=first.session_id)
    assert cancelled.booking is None or not cancelled.booking.get("active")
    after = assistant.ask("What is ARRS?", session_id=first.session_id)
    assert after.intent == "faq" and after.grounded
