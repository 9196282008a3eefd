"""Consultation booking: free office-hours slots, a chat form, lead qualification, storage, invites.

No HTTP and no Slack here: the API routes, the widget and the Slack lead alert sit on top of
``BookingService``, ``flow`` and the ``LeadNotifier`` protocol. Names are imported lazily so that
``assistant.provider`` can use the validators without importing the whole package.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "Slot": "slots",
    "SlotUnavailable": "slots",
    "free_slots": "slots",
    "next_free_slots": "slots",
    "is_bookable": "slots",
    "unbookable_reason": "slots",
    "ValidationProblem": "validation",
    "BookingRequest": "validation",
    "CallbackRequest": "validation",
    "mask_contacts": "validation",
    "Booking": "store",
    "Callback": "store",
    "BookingStore": "store",
    "SlotTaken": "store",
    "BookingState": "flow",
    "FlowContext": "flow",
    "FlowReply": "flow",
    "LeadQualification": "leads",
    "qualify": "leads",
    "summarise": "leads",
    "make_invite": "invite",
    "BookingService": "service",
    "LeadNotifier": "service",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)
