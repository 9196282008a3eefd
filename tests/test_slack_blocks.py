"""The Block Kit builders, checked as data (no Slack, no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from slack_sdk.models.blocks import Block

from assistant.booking.store import Booking, Callback
from assistant.calc_models import ClaimRequest
from assistant.calculator import claim
from assistant.models import Answer, Citation, Intent
from assistant.rates import RateTables
from assistant.settings import Settings
from slackbot.blocks import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    FEEDBACK_BLOCK_ID,
    FEEDBACK_NOTE_BLOCK_ID,
    NOT_GROUNDED,
    answer_messages,
    help_message,
    lead_message,
    with_feedback,
)
from slackbot.refs import AnswerRef, command_session, dm_session, thread_session
from slackbot.text import BLOCKS_LIMIT, SECTION_LIMIT, TEXT_LIMIT


def _answer(text: str, citations: list[Citation] | None = None, **fields) -> Answer:
    values = {"intent": Intent.FAQ, "grounded": True, "session_id": "slack:T1:C1:1.2", "turn": 2} | fields
    return Answer(answer=text, citations=citations or [], **values)


CITATIONS = [
    Citation(
        n=1,
        doc_id="roles",
        title="Roles",
        section="Care co-ordinator",
        url="https://a.example/roles",
        quote="Care co-ordinators are band 4.",
    ),
    Citation(
        n=2,
        doc_id="years",
        title="Changes 2020/21",
        url="https://b.example/2020",
        quote="Added in 2020/21.",
        page=3,
    ),
]


def _all_text(blocks: list[dict]) -> str:
    out = []
    for block in blocks:
        for key in ("text",):
            if isinstance(block.get(key), dict):
                out.append(block[key]["text"])
        for field in block.get("fields", []) or []:
            out.append(field["text"])
        for element in block.get("elements", []) or []:
            if isinstance(element.get("text"), str):
                out.append(element["text"])
    return "\n".join(out)


def _buttons(blocks: list[dict]) -> dict[str, dict]:
    return {
        e["action_id"]: e for b in blocks if b.get("block_id") == FEEDBACK_BLOCK_ID for e in b["elements"]
    }


def test_answer_has_numbered_sources_as_links_and_feedback_buttons() -> None:
    answer = _answer("Care co-ordinators are band 4 [1]. They were added in 2020/21 [2].", CITATIONS)
    [message] = answer_messages(answer)
    text = _all_text(message.blocks)
    for citation in CITATIONS:
        assert f"<{citation.url}|[{citation.n}]>" in text  # the marker in the answer links to it
        assert f"*[{citation.n}]* <{citation.url}|" in text  # and the numbered source list does too
        assert citation.quote in text
    assert "Roles › Care co-ordinator" in text and "page 3" in text
    buttons = _buttons(message.blocks)
    assert set(buttons) == {ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN}
    assert AnswerRef.decode(buttons[ACTION_FEEDBACK_UP]["value"]) == AnswerRef(
        session_id=answer.session_id, turn=2
    )
    assert NOT_GROUNDED not in text
    assert message.text.startswith("Care co-ordinators are band 4")


def test_ephemeral_answer_has_a_share_button_and_shows_the_question() -> None:
    [message] = answer_messages(
        _answer("Yes [1].", CITATIONS[:1]), question="Is it band 4?", asked_by="U1", ephemeral=True
    )
    assert ACTION_SHARE in _buttons(message.blocks)
    assert "<@U1> asked: _Is it band 4?_" in _all_text(message.blocks)


def test_answer_that_is_not_grounded_carries_a_warning() -> None:
    [message] = answer_messages(_answer("The guidance I hold does not cover that.", grounded=False))
    assert NOT_GROUNDED in _all_text(message.blocks)
    [greeting] = answer_messages(_answer("Hello.", grounded=False, intent=Intent.GREETING))
    assert NOT_GROUNDED not in _all_text(greeting.blocks)


def test_long_answer_is_split_to_slack_limits_and_loses_nothing() -> None:
    sentences = [
        f"Sentence {n} about the Additional Roles Reimbursement Scheme and its roles [1]."
        for n in range(2500)
    ]
    answer = _answer("\n\n".join(" ".join(sentences[i : i + 10]) for i in range(0, 2500, 10)), CITATIONS)
    messages = answer_messages(answer)
    assert len(messages) > 1
    for message in messages:
        assert len(message.blocks) <= BLOCKS_LIMIT
        assert len(message.text) <= TEXT_LIMIT
        for block in message.blocks:
            if block["type"] == "section" and "text" in block:
                assert len(block["text"]["text"]) <= SECTION_LIMIT
    shown = "\n".join(_all_text(m.blocks) for m in messages)
    assert all(f"Sentence {n} about" in shown for n in range(2500))
    # The buttons once, on the last message; the sources after the answer.
    assert [bool(_buttons(m.blocks)) for m in messages] == [False] * (len(messages) - 1) + [True]
    assert "*Sources*" in _all_text(messages[-1].blocks)


def test_calculation_breakdown_shows_the_calculators_figures() -> None:
    settings = Settings(_env_file=None)
    tables = RateTables.load(settings.rates_dir)
    request = ClaimRequest(
        role="pharmacy technician", start=date(2024, 10, 1), end=date(2025, 3, 31), wte=Decimal("0.6")
    )
    result = claim(tables, request)
    answer = _answer(
        "The claim is worked out below.", calculation=result.to_dict(), intent=Intent.CALCULATION
    )
    text = _all_text(answer_messages(answer)[0].blocks)
    assert "*Calculation*" in text
    assert f"*Claim:* £{result.result.claim:,.2f}" in text
    assert f"*Role name*\n{result.inputs.role_name}" in text
    for segment in result.breakdown:
        assert f"Claim £{segment.claim:,.2f}" in text
        assert f"<{segment.source_url}|source>" in text
    assert "1 October 2024" in text


def test_feedback_marks_the_choice_and_notes_it_once() -> None:
    [message] = answer_messages(_answer("Yes [1].", CITATIONS[:1]))
    once = with_feedback(message.blocks, "down", "U7")
    twice = with_feedback(once, "up", "U8")
    notes = [b for b in twice if b.get("block_id") == FEEDBACK_NOTE_BLOCK_ID]
    assert len(notes) == 1 and "<@U8> rated this answer helpful" in _all_text(notes)
    buttons = _buttons(twice)
    assert buttons[ACTION_FEEDBACK_UP].get("style") == "primary"
    assert "style" not in buttons[ACTION_FEEDBACK_DOWN]
    assert [Block.parse(b).to_dict() for b in twice] == twice  # still valid Block Kit


def test_help_explains_the_command_mentions_and_dms() -> None:
    text = _all_text(help_message().blocks)
    assert "`/arrs QUESTION`" in text and "Mention" in text and "direct message" in text


def test_session_ids_are_valid_and_distinct() -> None:
    ids = {
        thread_session("T1", "C1", "1700000000.000100"),
        dm_session("T1", "D1"),
        command_session("T1", "C1", "U1"),
    }
    assert len(ids) == 3
    assert all(AnswerRef(session_id=i, turn=1).session_id == i for i in ids)
    assert AnswerRef.decode("nonsense") is None
    assert AnswerRef.decode("slack:T1:C1:1.2|x") is None


def test_lead_alerts_carry_the_lead() -> None:
    created = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
    booking = Booking(
        id="b-1", slot_start=datetime(2026, 11, 24, 10, 30, tzinfo=UTC), slot_end=datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
        name="Dr Ada Lovelace", email="ada@example.org", phone="07700 900123", organisation="Riverside PCN",
        ods_code="U12345", interest="Recruiting two pharmacy technicians", priority="high",
        priority_reasons=["Roles named: pharmacy technician", "Deadline: 31 March"], summary="Wants help before year end.",
        created_at=created,
    )  # fmt: skip
    message = lead_message(booking)
    text = _all_text(message.blocks)
    for value in (
        booking.name,
        booking.organisation,
        booking.ods_code,
        booking.phone,
        booking.interest,
        booking.summary,
        booking.id,
    ):
        assert value in text
    assert f"<mailto:{booking.email}|{booking.email}>" in text
    assert f"<!date^{int(booking.slot_start.timestamp())}^" in text  # shown in each reader's time zone
    assert "Tue 24 Nov 2026 10:30 GMT" in text  # fallback: the provider's local time
    assert all(reason in text for reason in booking.priority_reasons)
    assert ":red_circle: High" in text and message.text.startswith("New consultation booking")

    callback = Callback(
        id="c-1",
        name="Sam",
        phone="07700 900456",
        question="Can we claim for a paramedic?",
        reason="ungrounded",
        created_at=created,
    )
    text = _all_text(lead_message(callback).blocks)
    assert "Call-back request" in lead_message(callback).text
    assert callback.question in text and callback.phone in text and ":white_circle: Low" in text
