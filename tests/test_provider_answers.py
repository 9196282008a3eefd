"""Questions about the provider are answered from its profile, cited, and never guessed."""

from __future__ import annotations

from datetime import date

from assistant.booking.service import BookingService
from assistant.chain import Assistant
from assistant.settings import BUNDLED_CORPUS

DOCS = {
    "claims-guide": ("Submitting ARRS claims", "## Monthly claims\n- PCNs submit ARRS claims monthly.[^src]")
}


def test_provider_questions_cite_the_profile(small_corpus):
    assistant = Assistant.from_settings(small_corpus(DOCS))
    answer = assistant.ask("When are you open?")
    assert answer.grounded and answer.intent == "faq"
    assert "08:30" in answer.answer and "17:30" in answer.answer
    assert {c.doc_id for c in answer.citations} == {"provider-profile"}
    assert all(c.source_type == "provider" for c in answer.citations)
    free = assistant.ask("Is the consultation free?")
    assert "free" in free.answer.lower() and free.citations[0].doc_id == "provider-profile"


def test_unknown_provider_facts_are_not_guessed(small_corpus):
    assistant = Assistant.from_settings(small_corpus(DOCS))
    for question in (
        "How much do you charge for a managed pharmacist service?",
        "Who is your clinical lead?",
    ):
        answer = assistant.ask(question)
        assert not answer.grounded and not answer.citations
        assert "consultation" in answer.answer


def test_office_hours_in_the_profile_drive_answers_and_slots(small_corpus):
    profile = (BUNDLED_CORPUS / "provider" / "profile.yaml").read_text(encoding="utf-8")
    changed = profile.replace('"08:30"', '"09:15"').replace('"17:30"', '"16:00"')
    assert changed != profile
    settings = small_corpus(DOCS, profile_text=changed)
    assistant = Assistant.from_settings(settings)
    answer = assistant.ask("What are your opening hours?")
    assert "09:15" in answer.answer and "16:00" in answer.answer
    slots = BookingService(settings, assistant.engine).available_slots(date(2026, 11, 30), date(2026, 11, 30))
    assert slots[0].start.strftime("%H:%M") == "09:15"
    assert slots[-1].end.strftime("%H:%M") == "15:45"  # 30-minute slots from 09:15 must end by 16:00
