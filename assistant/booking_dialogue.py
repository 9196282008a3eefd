"""The consultation booking conversation (filled in below)."""

from __future__ import annotations


def continue_booking(assistant, text, state):
    return None


def start_booking(assistant, text, state):
    from assistant.chain import Draft
    from assistant.messages import CONSULTATION_OFFER
    from assistant.models import Intent

    return Draft(CONSULTATION_OFFER, Intent.BOOKING, grounded=False)
