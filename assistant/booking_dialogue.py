"""The consultation booking conversation inside the chat: the form-like flow of
``assistant.booking.flow`` driven turn by turn, with questions answered mid-flow."""

from __future__ import annotations

import logging

from assistant import messages
from assistant.booking import flow
from assistant.booking.flow import BookingState
from assistant.booking.service import BookingService
from assistant.booking.store import SlotTaken
from assistant.models import Intent

log = logging.getLogger(__name__)


def service(assistant) -> BookingService:
    """One booking service per Assistant; the lead notifier (Slack) is attached by the adapters."""
    if assistant._booking is None:
        assistant._booking = BookingService(
            assistant.settings, assistant.engine, notifier=getattr(assistant, "lead_notifier", None)
        )
    return assistant._booking


def _draft(text: str, booking: dict | None):
    from assistant.chain import Draft

    return Draft(text, Intent.BOOKING, grounded=False, booking=booking or None)


def start_booking(assistant, text: str, state, session_id: str):
    svc = service(assistant)
    reply = flow.start(None, svc.flow_context())
    if reply.kind == "no_slots":
        state.booking = None
        return _draft(f"{reply.message} {messages.CALLBACK_OFFER}", reply.booking)
    state.booking = reply.state.model_dump(mode="json")
    state.last_intent = Intent.BOOKING.value
    return _draft(f'{reply.message} (Say "cancel" at any point to stop.)', reply.booking)


def continue_booking(assistant, text: str, state, session_id: str):
    """Advance an active booking flow; None when no flow is active."""
    if not state.booking or not state.booking.get("active"):
        return None
    svc = service(assistant)
    context = svc.flow_context()
    reply = flow.advance(BookingState.model_validate(state.booking), text, context)
    if reply.is_question:
        state.booking = None
        answer = assistant._respond(text, state, session_id)
        resumed = flow.resume(reply.state, context)
        state.booking = resumed.state.model_dump(mode="json")
        answer.text = f"{answer.text}\n\n{resumed.message}"
        answer.booking = resumed.booking
        return answer
    if reply.ready_to_book and reply.request is not None:
        request = reply.request.model_copy(update={"session_id": session_id})
        try:
            booking = svc.book(request, transcript=state.transcript)
        except SlotTaken:
            reply = flow.slot_taken(reply.state, context)
        else:
            reply = flow.complete(reply.state, booking.slot_start, booking.id, context)
            reply.booking["invite_path"] = f"/api/bookings/{booking.id}.ics"
            reply.booking["booking_id"] = booking.id
            reply.message = f"{reply.message} A calendar invite is available to download."
    state.booking = None if (reply.done or reply.cancelled) else reply.state.model_dump(mode="json")
    state.last_intent = Intent.BOOKING.value
    return _draft(reply.message, reply.booking)
