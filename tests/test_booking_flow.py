"""The chat booking flow: one field at a time, digressions, corrections, cancel, slot choices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from assistant.booking import flow
from assistant.booking.flow import FIELD_ORDER, BookingState, FlowContext, FlowReply, looks_like_question
from assistant.booking.slots import next_free_slots, unbookable_reason
from assistant.provider import OfficeHours, load_profile
from assistant.settings import BUNDLED_CORPUS

LONDON = ZoneInfo("Europe/London")
NOW = datetime(2026, 11, 21, 9, 0, tzinfo=LONDON)  # a Saturday
LEAD = timedelta(hours=24)


@pytest.fixture
def hours() -> OfficeHours:
    return load_profile(BUNDLED_CORPUS / "provider" / "profile.yaml").office_hours


@pytest.fixture
def booked() -> set[datetime]:
    return set()


@pytest.fixture
def ctx(hours: OfficeHours, booked: set[datetime]) -> FlowContext:
    return FlowContext(
        now=NOW,
        next_slots=lambda after, limit: next_free_slots(hours, NOW, LEAD, booked, limit, after=after),
        check_slot=lambda start: unbookable_reason(
            hours, start, NOW, LEAD, booked, horizon=timedelta(days=28)
        ),
    )


def _run(ctx: FlowContext, *messages: str) -> FlowReply:
    reply = flow.start(BookingState(), ctx)
    for message in messages:
        reply = flow.advance(reply.state, message, ctx)
    return reply


def test_fields_are_asked_one_at_a_time_in_order(ctx: FlowContext) -> None:
    reply = flow.start(BookingState(), ctx)
    asked = [reply.pending_field]
    for answer in [
        "Jane Doe",
        "Riverside PCN",
        "U12345",
        "clinical pharmacists",
        "jane@nhs.net",
        "07700 900123",
    ]:
        reply = flow.advance(reply.state, answer, ctx)
        assert reply.kind == "ask", reply.message
        asked.append(reply.pending_field)
    assert asked == list(FIELD_ORDER)
    # The slot step offers the next free slots, numbered, as ISO strings with the offset.
    expected = ctx.next_slots(None, flow.SLOTS_OFFERED)
    assert reply.offered_slots == [s.start.isoformat() for s in expected]
    assert "1. " + expected[0].label(LONDON) in reply.message
    reply = flow.advance(reply.state, "1", ctx)
    assert reply.ready_to_book and reply.kind == "ready_to_book"
    request = reply.request
    assert request is not None
    assert (request.name, request.organisation, request.ods_code) == ("Jane Doe", "Riverside PCN", "U12345")
    assert (request.email, request.phone) == ("jane@nhs.net", "+447700900123")
    assert request.slot_start == expected[0].start


def test_optional_fields_can_be_skipped(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "paramedics", "jane@nhs.net", "no")
    assert reply.pending_field == "slot"
    assert reply.state.skipped == ["ods_code", "phone"]
    reply = flow.advance(reply.state, "the second one", ctx)
    assert reply.request is not None and reply.request.phone is None and reply.request.ods_code is None


def test_ods_code_given_with_the_organisation_is_not_asked_again(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN (U12345)")
    assert reply.state.fields.ods_code == "U12345"
    assert reply.pending_field == "interest"


def test_invalid_value_is_re_asked_with_a_reason(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane at nhs")
    assert reply.kind == "invalid"
    assert reply.pending_field == "email"
    assert "email address" in reply.message
    assert reply.state.fields.email is None
    reply = flow.advance(reply.state, "jane@nhs.net", ctx)
    assert reply.pending_field == "phone"


def test_question_mid_flow_then_resume(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe")
    before = reply.state
    reply = flow.advance(before, "How much can a PCN claim for a clinical pharmacist?", ctx)
    assert reply.is_question and reply.kind == "question"
    assert reply.state == before  # nothing consumed
    resumed = flow.resume(reply.state, ctx)
    assert resumed.pending_field == "organisation"
    assert "Which GP practice or Primary Care Network" in resumed.message


def test_resume_asks_the_first_missing_field_not_the_last_asked(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists")
    # The email is given out of turn while the email question is pending... then the org is corrected
    # to something invalid, leaving the org intact; resume must go on from the first missing field.
    reply = flow.advance(reply.state, "my phone number is 07700 900123", ctx)
    assert reply.state.fields.phone == "+447700900123"
    assert reply.pending_field == "email"
    reply = flow.advance(reply.state, "What roles does ARRS cover?", ctx)
    assert reply.is_question
    resumed = flow.resume(reply.state, ctx)
    assert resumed.pending_field == "email"
    reply = flow.advance(resumed.state, "jane@nhs.net", ctx)
    assert reply.pending_field == "slot"  # the phone is not asked again


def test_question_at_the_slot_step(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", "skip")
    question = flow.advance(reply.state, "Is the consultation really free?", ctx)
    assert question.is_question
    resumed = flow.resume(question.state, ctx)
    assert resumed.pending_field == "slot" and resumed.offered_slots == reply.offered_slots


@pytest.mark.parametrize(
    "message", ["cancel", "Stop", "never mind", "Actually, forget it", "no thanks, cancel"]
)
def test_cancel_leaves_the_flow_without_keeping_details(ctx: FlowContext, message: str) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", message)
    assert reply.cancelled and reply.kind == "cancelled"
    assert not reply.state.active
    assert reply.state.fields.name is None and reply.state.fields.email is None
    assert reply.booking["active"] is False


@pytest.mark.parametrize(
    ("message", "field", "value"),
    [
        ("actually my email is jane.doe@practice.nhs.uk", "email", "jane.doe@practice.nhs.uk"),
        ("sorry, the organisation is Hillside PCN", "organisation", "Hillside PCN"),
        ("Oops, my name is Janet Doe", "name", "Janet Doe"),
        ("change my phone number to 020 7946 0000", "phone", "+442079460000"),
        ("sorry, it's jane.d@nhs.net not jane@nhs.net", "email", "jane.d@nhs.net"),
    ],
)
def test_corrections_update_a_field_at_any_time(
    ctx: FlowContext, message: str, field: str, value: str
) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", "07700 900123")
    assert reply.pending_field == "slot"
    reply = flow.advance(reply.state, message, ctx)
    assert getattr(reply.state.fields, field) == value
    assert "updated your" in reply.message
    assert reply.pending_field == "slot"


def test_correction_before_the_field_is_asked(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "actually my email is jane@nhs.net")
    assert reply.state.fields.email == "jane@nhs.net"
    assert reply.pending_field == "organisation"


def test_invalid_correction_keeps_the_old_value(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net")
    reply = flow.advance(reply.state, "actually my email is jane-at-nhs", ctx)
    assert reply.kind == "invalid"
    assert reply.state.fields.email == "jane@nhs.net"
    assert reply.pending_field == "phone"


def _at_slot_step(ctx: FlowContext) -> FlowReply:
    return _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", "skip")


@pytest.mark.parametrize(
    ("message", "index"), [("3", 2), ("option 2", 1), ("the first one", 0), ("last one", 5)]
)
def test_slot_by_number_or_ordinal(ctx: FlowContext, message: str, index: int) -> None:
    reply = _at_slot_step(ctx)
    chosen = flow.advance(reply.state, message, ctx)
    assert chosen.request is not None
    assert chosen.request.slot_start.isoformat() == reply.offered_slots[index]


def test_slot_by_weekday_and_time(ctx: FlowContext) -> None:
    reply = _at_slot_step(ctx)
    offered = reply.state.offered[1].start.astimezone(LONDON)
    chosen = flow.advance(reply.state, f"{offered:%A} {offered:%H:%M} please", ctx)
    assert chosen.request is not None and chosen.request.slot_start == offered
    # A free weekday and time beyond the offered list is found too.
    later = flow.advance(reply.state, "Thursday at 2:30pm", ctx)
    assert later.request is not None
    start = later.request.slot_start.astimezone(LONDON)
    assert (start.strftime("%A %H:%M"), start.date()) == ("Thursday 14:30", datetime(2026, 11, 26).date())


def test_slot_by_iso_datetime(ctx: FlowContext) -> None:
    reply = _at_slot_step(ctx)
    chosen = flow.advance(reply.state, "2026-11-25T15:00:00+00:00", ctx)
    assert chosen.request is not None
    assert chosen.request.slot_start.astimezone(UTC) == datetime(2026, 11, 25, 15, 0, tzinfo=UTC)


def test_unfree_or_unknown_slot_is_explained(ctx: FlowContext) -> None:
    reply = _at_slot_step(ctx)
    weekend = flow.advance(reply.state, "Sunday 10:30", ctx)
    assert weekend.kind == "invalid" and "closed on Sundays" in weekend.message
    assert weekend.pending_field == "slot" and weekend.offered_slots == reply.offered_slots
    vague = flow.advance(reply.state, "hmm, whenever", ctx)
    assert vague.kind == "invalid" and "1. " in vague.message
    out_of_range = flow.advance(reply.state, "9", ctx)
    assert out_of_range.kind == "invalid" and "from 1 to 6" in out_of_range.message


def test_more_slots(ctx: FlowContext) -> None:
    reply = _at_slot_step(ctx)
    more = flow.advance(reply.state, "more", ctx)
    assert more.kind == "ask"
    assert datetime.fromisoformat(more.offered_slots[0]) > datetime.fromisoformat(reply.offered_slots[-1])
    chosen = flow.advance(more.state, "1", ctx)
    assert chosen.request is not None and chosen.request.slot_start.isoformat() == more.offered_slots[0]


def test_slot_taken_meanwhile_reoffers(ctx: FlowContext, booked: set[datetime]) -> None:
    reply = _at_slot_step(ctx)
    booked.add(reply.state.offered[0].start)  # someone else books slot 1 while the visitor reads
    again = flow.advance(reply.state, "1", ctx)
    assert again.kind == "invalid" and "no longer free" in again.message
    assert again.offered_slots[0] != reply.offered_slots[0]
    ready = flow.advance(reply.state, "2", ctx)
    taken = flow.slot_taken(ready.state, ctx)
    assert taken.pending_field == "slot" and taken.state.fields.slot is None


def test_state_survives_json_between_turns(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", "skip")
    stored = reply.state.model_dump_json()
    restored = BookingState.model_validate_json(stored)
    assert restored == reply.state
    chosen = flow.advance(restored, "1", ctx)
    assert chosen.request is not None and chosen.request.slot_start.isoformat() == reply.offered_slots[0]


def test_booking_dict_for_the_answer(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", "07700 900123")
    booking = reply.booking
    assert booking["pending_field"] == "slot" and booking["active"] is True
    assert booking["offered_slots"] == reply.offered_slots
    assert [o["start"] for o in booking["slot_options"]] == reply.offered_slots
    assert booking["collected"]["email"] == "j***@nhs.net"
    assert "900123" not in str(booking) and "jane@nhs.net" not in str(booking)
    assert booking["missing"] == ["slot"]


def test_complete_confirms_and_forgets(ctx: FlowContext) -> None:
    reply = flow.advance(_at_slot_step(ctx).state, "1", ctx)
    assert reply.request is not None
    done = flow.complete(reply.state, reply.request.slot_start, "abcdef12-3456", ctx)
    assert done.done and not done.state.active and done.state.fields.name is None
    assert "abcdef12" in done.message and reply.request.slot_start.strftime("%H:%M") in done.message


@pytest.mark.parametrize(
    ("message", "pending", "expected"),
    [
        ("What is ARRS?", None, True),
        ("how much can we claim", "name", True),
        ("Tell me about pharmacists", "name", True),
        ("pharmacists", "name", True),
        ("Will Smith", "name", False),
        ("Jane Doe", "name", False),
        ("Riverside PCN", "organisation", False),
        ("is the consultation free", "organisation", True),
        ("clinical pharmacists and paramedics", "interest", False),
        ("what do you offer?", "interest", True),
        ("jane@nhs.net", "email", False),
        ("07700 900123", "phone", False),
        ("skip", "phone", False),
        ("Tuesday 10:30", "slot", False),
        ("Can we do Tuesday 10:30?", "slot", False),
        ("What are your office hours?", "slot", True),
    ],
)
def test_looks_like_question(message: str, pending: str | None, expected: bool) -> None:
    assert looks_like_question(message, pending) is expected


def test_no_free_slots_offers_a_callback(hours: OfficeHours) -> None:
    empty = FlowContext(now=NOW, next_slots=lambda after, limit: [])
    reply = _run(empty, "Jane Doe", "Riverside PCN", "skip", "pharmacists", "jane@nhs.net", "skip")
    assert reply.kind == "no_slots" and "call you back" in reply.message


@pytest.mark.parametrize(
    ("message", "pending", "expected"),
    [
        ("the practice is keen on pharmacists", "interest", None),
        ("our practice is very busy", "email", None),
        ("sorry, the practice is Hillside Surgery", "email", ("organisation", "Hillside Surgery")),
        ("my email is jane@nhs.net", "name", ("email", "jane@nhs.net")),
        ("our practice is Hillside Surgery", "organisation", ("organisation", "Hillside Surgery")),
        ("is my email ok?", "phone", None),
    ],
)
def test_parse_correction_is_conservative(
    message: str, pending: str, expected: tuple[str, str] | None
) -> None:
    assert flow.parse_correction(message, pending) == expected


def test_free_text_answer_is_not_mistaken_for_a_correction(ctx: FlowContext) -> None:
    reply = _run(ctx, "Jane Doe", "Riverside PCN", "skip", "the practice is keen on pharmacists")
    assert reply.state.fields.organisation == "Riverside PCN"
    assert reply.state.fields.interest == "the practice is keen on pharmacists"


def test_answers_wrapped_in_a_sentence(ctx: FlowContext) -> None:
    reply = _run(
        ctx,
        "I'm Jane Doe",
        "We're from Riverside Health PCN",
        "I don't know",
        "Remote prescribing",
        "it is jane@nhs.net",
        "call me on 07700 900123",
    )
    fields = reply.state.fields
    assert (fields.name, fields.organisation, fields.email) == (
        "Jane Doe",
        "Riverside Health PCN",
        "jane@nhs.net",
    )
    assert fields.phone == "+447700900123" and reply.state.skipped == ["ods_code"]
    assert reply.pending_field == "slot"
