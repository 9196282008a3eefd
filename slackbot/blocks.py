"""Pure Block Kit builders: what the app posts, as data, testable without Slack.

Blocks are built with ``slack_sdk.models.blocks`` so Slack's limits are checked here (a block
too long raises at build time) rather than discovered as ``invalid_blocks`` in production.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from assistant.booking.store import Booking, Callback
from assistant.models import Answer, Citation, Intent
from slackbot.refs import AnswerRef
from slackbot.text import (
    BLOCKS_LIMIT,
    SECTION_LIMIT,
    TEXT_LIMIT,
    escape,
    link,
    split_text,
    to_mrkdwn,
    truncate,
)

ACTION_FEEDBACK_UP = "arrs_feedback_up"
ACTION_FEEDBACK_DOWN = "arrs_feedback_down"
ACTION_SHARE = "arrs_share"
FEEDBACK_BLOCK_ID = "arrs_feedback"
FEEDBACK_NOTE_BLOCK_ID = "arrs_feedback_note"
CONTEXT_LIMIT = 2000  # characters in one context element (kept well inside Slack's limit)
QUOTE_LIMIT = 280
FIELD_LIMIT = 2000

COMMAND = "/arrs"
NOT_GROUNDED = (
    ":warning: *No cited source.* This reply is not drawn from the ARRS guidance held, so it gives "
    "no figures or rules to rely on."
)
APOLOGY = (
    "Sorry, something went wrong while answering that. Please try again in a moment; if it keeps "
    "happening, tell the team that looks after the ARRS Assistant."
)
NOT_READY = "The ARRS Assistant is starting up. Please ask again in a minute."
SHARE_EXPIRED = f"That answer is no longer available to share. Ask again with `{COMMAND}`."
_NO_WARNING = {Intent.GREETING.value, Intent.BOOKING.value}
_PRIORITY = {
    "high": ":red_circle: High",
    "medium": ":large_orange_circle: Medium",
    "low": ":white_circle: Low",
}


class SlackMessage(BaseModel):
    """One message to post: ``text`` is the notification and fallback, ``blocks`` what is shown."""

    text: str
    blocks: list[dict[str, Any]] = Field(default_factory=list)

    def kwargs(self) -> dict[str, Any]:
        return {"text": self.text, "blocks": self.blocks}


def _section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text), block_id=block_id)


def _context(*texts: str, block_id: str | None = None) -> ContextBlock:
    return ContextBlock(
        elements=[MarkdownTextObject(text=truncate(t, CONTEXT_LIMIT)) for t in texts], block_id=block_id
    )


def _sections(text: str) -> list[Block]:
    return [_section(piece) for piece in split_text(text, SECTION_LIMIT)]


def _dicts(blocks: Iterable[Block]) -> list[dict[str, Any]]:
    return [block.to_dict() for block in blocks]


def _messages(blocks: list[Block], text: str) -> list[SlackMessage]:
    """One message per ``BLOCKS_LIMIT`` blocks; the first carries the notification text."""
    chunks = [blocks[i : i + BLOCKS_LIMIT] for i in range(0, len(blocks), BLOCKS_LIMIT)] or [[]]
    return [
        SlackMessage(
            text=truncate(text, TEXT_LIMIT) if n == 0 else "ARRS Assistant (continued)", blocks=_dicts(chunk)
        )
        for n, chunk in enumerate(chunks)
    ]


# Answers --------------------------------------------------------------------------------------


def answer_messages(
    answer: Answer,
    *,
    question: str | None = None,
    asked_by: str | None = None,
    ephemeral: bool = False,
    shared_by: str | None = None,
) -> list[SlackMessage]:
    """The answer with numbered sources as links, its calculation, a warning when it is not
    grounded, and feedback buttons (plus "Share in channel" on an ephemeral answer).

    Long answers are split into sections of at most 3,000 characters and messages of at most
    50 blocks; the buttons go on the last message.
    """
    links = {c.n: c.url for c in answer.citations if c.url}
    body = to_mrkdwn(answer.answer, links)
    blocks: list[Block] = []
    if question:
        who = f"<@{asked_by}> asked" if asked_by else "Question"
        blocks.append(_context(f"{who}: _{escape(truncate(question, 300))}_"))
    if not answer.grounded and str(answer.intent) not in _NO_WARNING:
        blocks.append(_context(NOT_GROUNDED))
    blocks += _sections(body)
    if answer.calculation:
        blocks += calculation_blocks(answer.calculation)
    if answer.citations:
        blocks.append(DividerBlock())
        blocks += _sections(sources_text(answer.citations))
    if shared_by:
        blocks.append(_context(f"Shared by <@{shared_by}> from `{COMMAND}`."))
    if answer.turn >= 1:  # an answer the store knows: it can be rated (and shared)
        blocks.append(answer_actions(AnswerRef(session_id=answer.session_id, turn=answer.turn), ephemeral))
    return _messages(blocks, body)


def sources_text(citations: Sequence[Citation]) -> str:
    lines = ["*Sources*"]
    for citation in citations:
        where = " › ".join(part for part in (citation.title, citation.section) if part)
        page = f", page {citation.page}" if citation.page else ""
        lines.append(f"*[{citation.n}]* {link(citation.url, where)}{escape(page)}")
        if citation.quote:
            lines.append(f">_{escape(truncate(citation.quote, QUOTE_LIMIT))}_")
    return "\n".join(lines)


def answer_actions(ref: AnswerRef, ephemeral: bool) -> ActionsBlock:
    value = ref.encode()
    elements = [
        ButtonElement(text=":thumbsup: Helpful", action_id=ACTION_FEEDBACK_UP, value=value),
        ButtonElement(text=":thumbsdown: Not helpful", action_id=ACTION_FEEDBACK_DOWN, value=value),
    ]
    if ephemeral:
        elements.append(
            ButtonElement(text="Share in channel", action_id=ACTION_SHARE, value=value, style="primary")
        )
    return ActionsBlock(elements=elements, block_id=FEEDBACK_BLOCK_ID)


def with_feedback(blocks: Sequence[Mapping[str, Any]], rating: str, user_id: str) -> list[dict[str, Any]]:
    """The same message with the chosen button highlighted and a note of the rating under it."""
    chosen = ACTION_FEEDBACK_UP if rating == "up" else ACTION_FEEDBACK_DOWN
    note = (
        f":thumbsup: <@{user_id}> rated this answer helpful. Thank you."
        if rating == "up"
        else f":thumbsdown: <@{user_id}> rated this answer not helpful. Thank you: the team reviews these."
    )
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == FEEDBACK_NOTE_BLOCK_ID:
            continue
        block = dict(block)
        if block.get("block_id") == FEEDBACK_BLOCK_ID:
            elements = []
            for element in block.get("elements", []):
                element = {k: v for k, v in element.items() if not (k == "style" and v == "primary")}
                if element.get("action_id") == chosen or element.get("action_id") == ACTION_SHARE:
                    element["style"] = "primary"
                elements.append(element)
            block["elements"] = elements
            out.append(block)
            out.append(_context(note, block_id=FEEDBACK_NOTE_BLOCK_ID).to_dict())
            continue
        out.append(block)
    return out


# Calculations ---------------------------------------------------------------------------------

_SKIP_KEYS = {"role_id", "source_url", "kind"}
_LABELS = {"wte": "WTE", "ni": "NI", "gp": "GP", "london": "London"}
# Amounts the calculator gives as strings with two decimals (its ``Money`` fields).
_MONEY_KEYS = {
    "actual", "actual_annual_cost", "actual_monthly_cost", "amount", "annual", "annual_rate", "annual_salary",
    "base", "cap", "claim", "employer_ni", "gp", "inner_london", "levy", "main", "monthly", "monthly_cap",
    "national", "on_costs", "outer_london", "pension", "salary", "threshold", "total",
}  # fmt: skip
_MONEY = re.compile(r"^-?\d+\.\d{2}$")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _label(key: str) -> str:
    words = [_LABELS.get(word, word) for word in key.split("_")]
    return " ".join([words[0][:1].upper() + words[0][1:], *words[1:]])


def _value(value: Any, key: str = "") -> str:
    """Values as the calculator gave them, only laid out: amounts with £ and thousands
    separators, ISO dates written out. Nothing is rounded or re-derived here."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value)
    if isinstance(value, Mapping):
        return "; ".join(f"{_label(k)}: {_value(v, k)}" for k, v in value.items() if v is not None)
    text = str(value)
    if key in _MONEY_KEYS and _MONEY.match(text):
        return f"£{Decimal(text):,.2f}"
    if _ISO_DATE.match(text):
        return f"{date.fromisoformat(text):%-d %B %Y}"
    return escape(text.replace("_", " ") if key == "status" else text)


def calculation_blocks(calculation: Mapping[str, Any]) -> list[Block]:
    """The calculator's inputs, result and breakdown rows (each with its source link); the
    formula and assumptions are in the answer text already."""
    blocks: list[Block] = [DividerBlock(), _section("*Calculation*")]
    inputs = calculation.get("inputs")
    if isinstance(inputs, Mapping):
        fields = [
            MarkdownTextObject(text=truncate(f"*{_label(k)}*\n{_value(v, k)}", FIELD_LIMIT))
            for k, v in inputs.items()
            if v is not None and k not in _SKIP_KEYS
        ]
        for i in range(0, len(fields), 10):
            blocks.append(SectionBlock(fields=fields[i : i + 10]))
    result = calculation.get("result")
    if isinstance(result, Mapping):
        lines = [f"*{_label(k)}:* {_value(v, k)}" for k, v in result.items() if v is not None]
        blocks += _sections("*Result*\n" + "\n".join(lines))
    elif isinstance(result, list) and result:
        blocks += _sections("\n".join(["*Result*", *(_row(row) for row in result)]))
    elif result is not None:
        blocks += _sections(f"*Result:* {_value(result)}")
    rows = calculation.get("breakdown")
    if isinstance(rows, list) and rows:
        blocks += _sections("\n".join(["*Breakdown*", *(_row(row) for row in rows)]))
    return blocks


def _row(row: Any) -> str:
    """One result or breakdown row on one line, ending with a link to its source."""
    if not isinstance(row, Mapping):
        return f"• {_value(row)}"
    cells = [f"{_label(k)} {_value(v, k)}" for k, v in row.items() if v is not None and k not in _SKIP_KEYS]
    source = row.get("source_url")
    return "• " + " · ".join(cells) + (f" ({link(str(source), 'source')})" if source else "")


# Fixed replies --------------------------------------------------------------------------------


def notice(text: str) -> SlackMessage:
    """A short reply in place of an answer (an apology, a user-facing error)."""
    return SlackMessage(text=text, blocks=_dicts([_section(escape(truncate(text, SECTION_LIMIT)))]))


def is_help(text: str) -> bool:
    """An empty question, "help" or "?": show how to use the app rather than ask the assistant."""
    return text.lower().strip(" !.?") in ("", "help")


def help_message() -> SlackMessage:
    text = (
        "*ARRS Assistant* answers questions about the NHS England Additional Roles Reimbursement "
        "Scheme from the guidance it holds, with numbered sources, and works out claims with a "
        "deterministic calculator.\n"
        f"• `{COMMAND} QUESTION`: an answer only you can see, with a *Share in channel* button.\n"
        "• Mention the app in a channel: it answers in the thread. Mention it again in the same "
        'thread for a follow-up ("And in inner London?"): the thread is one conversation.\n'
        "• Send it a direct message: it answers there.\n"
        ":thumbsup: / :thumbsdown: under an answer tell the team whether it helped."
    )
    return SlackMessage(text="How to use the ARRS Assistant", blocks=_dicts([_section(text)]))


# Lead alerts ----------------------------------------------------------------------------------


def _slack_date(moment: datetime, timezone: str) -> str:
    """Shown in each reader's own time zone; the fallback is the provider's local time."""
    local = moment.astimezone(ZoneInfo(timezone))
    fallback = local.strftime("%a %d %b %Y %H:%M %Z")
    return f"<!date^{int(moment.timestamp())}^{{date_short_pretty}} at {{time}}|{fallback}>"


def lead_message(lead: Booking | Callback, timezone: str = "Europe/London") -> SlackMessage:
    """A new consultation booking or call-back request, for the leads channel."""
    booking = isinstance(lead, Booking)
    title = ":calendar: New consultation booking" if booking else ":telephone_receiver: Call-back request"
    priority = _PRIORITY.get(lead.priority, lead.priority)
    fields = [f"*Priority*\n{priority}", f"*Name*\n{escape(lead.name)}"]
    if lead.organisation:
        fields.append(f"*Organisation*\n{escape(lead.organisation)}")
    if booking and lead.ods_code:
        fields.append(f"*ODS code*\n{escape(lead.ods_code)}")
    if lead.email:
        fields.append(f"*Email*\n{link('mailto:' + lead.email, lead.email)}")
    if lead.phone:
        fields.append(f"*Phone*\n{escape(lead.phone)}")
    if booking:
        fields.append(f"*When*\n{_slack_date(lead.slot_start, timezone)}")
    blocks: list[Block] = [
        HeaderBlock(text=title),
        SectionBlock(fields=[MarkdownTextObject(text=truncate(f, FIELD_LIMIT)) for f in fields[:10]]),
    ]
    if booking:
        blocks += _sections(f"*Interest*\n{escape(lead.interest)}")
        if lead.notes:
            blocks += _sections(f"*Notes*\n{escape(lead.notes)}")
    else:
        if lead.question:
            blocks += _sections(f"*Question*\n{escape(lead.question)}")
        if lead.reason:
            blocks += _sections(f"*Why a call back*\n{escape(lead.reason)}")
    if lead.priority_reasons:
        blocks += _sections(
            "*Why this priority*\n" + "\n".join(f"• {escape(r)}" for r in lead.priority_reasons)
        )
    if lead.summary:
        blocks += _sections(f"*Conversation summary*\n{escape(lead.summary)}")
    kind = "Booking" if booking else "Request"
    blocks.append(_context(f"{kind} `{lead.id}` · received {_slack_date(lead.created_at, timezone)}"))
    who = f"{lead.name}" + (f" ({lead.organisation})" if lead.organisation else "")
    text = f"{title.split(' ', 1)[1]}: {who}, priority {lead.priority}"
    return _messages(blocks, escape(text))[0]
