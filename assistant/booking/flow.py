"""The booking form as a chat: one field at a time, corrections, digressions, cancel, a slot picker.

Pure and persisted: every function takes a ``BookingState`` (JSON-serialisable, kept in the
session) and returns a ``FlowReply`` holding the next state. No I/O: free slots and "now" come in
through ``FlowContext``. The caller (the chat pipeline) does the rest:

- ``reply.is_question``: the message was a question, not an answer; answer it, then show
  ``resume(reply.state, context)`` which re-asks the first missing field.
- ``reply.ready_to_book``: ``reply.request`` is a complete ``BookingRequest``; book it, then show
  ``complete(state, booking)`` (or ``slot_taken(state, context)`` on ``SlotTaken``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field

from assistant.booking.leads import mentioned_roles
from assistant.booking.slots import Slot
from assistant.booking.validation import (
    ODS_CODE_IN_TEXT,
    PHONE_IN_TEXT,
    BookingRequest,
    ValidationProblem,
    mask_email,
    mask_phone,
    validate_email,
    validate_interest,
    validate_name,
    validate_ods_code,
    validate_organisation,
    validate_uk_phone,
)

FieldName = Literal["name", "organisation", "ods_code", "interest", "email", "phone", "slot"]
FIELD_ORDER: tuple[FieldName, ...] = (
    "name",
    "organisation",
    "ods_code",
    "interest",
    "email",
    "phone",
    "slot",
)
OPTIONAL_FIELDS: frozenset[str] = frozenset({"ods_code", "phone"})
FIELD_LABELS = {
    "name": "name",
    "organisation": "practice or PCN",
    "ods_code": "ODS code",
    "interest": "roles or services of interest",
    "email": "email address",
    "phone": "phone number",
    "slot": "consultation time",
}
SLOTS_OFFERED = 6
LONDON = ZoneInfo("Europe/London")

ReplyKind = Literal["ask", "invalid", "question", "cancelled", "ready_to_book", "booked", "no_slots"]


class BookingFields(BaseModel):
    name: str | None = None
    organisation: str | None = None
    ods_code: str | None = None
    interest: str | None = None
    email: str | None = None
    phone: str | None = Field(default=None, description="+44 form.")
    slot: Slot | None = None


class BookingState(BaseModel):
    """Everything the flow needs between turns; store ``model_dump(mode="json")`` in the session."""

    active: bool = False
    fields: BookingFields = Field(default_factory=BookingFields)
    skipped: list[str] = Field(default_factory=list, description="Optional fields the visitor declined.")
    pending: FieldName | None = None
    offered: list[Slot] = Field(default_factory=list)

    def missing(self) -> list[FieldName]:
        return [f for f in FIELD_ORDER if getattr(self.fields, f) is None and f not in self.skipped]

    def first_missing(self) -> FieldName | None:
        missing = self.missing()
        return missing[0] if missing else None


@dataclass(frozen=True)
class FlowContext:
    """What the flow may ask of the outside world.

    ``next_slots(after, limit)``: the next free slots (after ``after`` when given).
    ``check_slot(start)``: ``None`` when ``start`` is bookable, else the reason why not.
    """

    now: datetime
    next_slots: Callable[[datetime | None, int], list[Slot]]
    check_slot: Callable[[datetime], str | None] | None = None
    tz: ZoneInfo = field(default=LONDON)
    duration_minutes: int = 30
    horizon_days: int = 28


class FlowReply(BaseModel):
    kind: ReplyKind
    message: str = Field(description="Plain text, no HTML; slot options one per line.")
    state: BookingState
    pending_field: FieldName | None = None
    offered_slots: list[str] = Field(default_factory=list, description="ISO 8601 starts, in offer order.")
    done: bool = False
    cancelled: bool = False
    ready_to_book: bool = False
    is_question: bool = False
    request: BookingRequest | None = None
    booking: dict[str, Any] = Field(default_factory=dict, description="For Answer.booking.")


# Recognising what the visitor typed -----------------------------------------------------------

_WH_WORDS = {"what", "when", "where", "who", "whom", "whose", "why", "which", "how"}
_AUX_WORDS = {
    "can", "could", "do", "does", "did", "is", "are", "am", "was", "were", "will", "would", "should",
    "shall", "may", "might", "must", "have", "has",
}  # fmt: skip
_ASKING_VERBS = {"tell", "explain", "describe", "show", "list", "define"}
_NOT_IN_NAMES = {
    "i", "me", "my", "you", "your", "we", "us", "our", "the", "a", "an", "is", "are", "do", "does", "for",
    "of", "to", "about", "this", "that", "it", "much", "many", "can", "could", "would", "should", "how",
    "what", "when", "why", "where", "which", "who", "please", "help", "book", "booking", "consultation",
}  # fmt: skip
_ARRS_TERMS = re.compile(
    r"\barrs\b|additional roles|reimburs|\bwte\b|\bfte\b|whole[- ]time|funding|\bclaim|\bbands?\s*\d|"
    r"agenda for change|\bafc\b|on-?costs|\bdes\b|network contract|salar(?:y|ies)|\bpay\b|\bcosts?\b|"
    r"\bprices?\b|\bfees?\b|office hours|opening hours|\bopen\b|\bcaps?\b|allocation",
    re.I,
)
_SKIP = re.compile(
    r"^(?:skip(?: it| this| that)?|no|nope|none|n/?a|no thanks?|no thank you|pass|-|"
    r"(?:i'?d )?rather not(?: say)?|prefer not(?: to say)?|(?:i )?don'?t know|dunno|not sure|unknown|"
    r"don'?t have one|i don'?t have one|not applicable)$",
    re.I,
)
_CANCEL = re.compile(
    r"^(?:(?:oh|ok|okay|actually|sorry|please|no|thanks|thank you|um+|hmm+)[,\s!.]+)*"
    r"(?:cancel|stop|quit|abort|exit|never\s?mind|forget (?:it|that|about it)|"
    r"(?:i )?(?:don'?t|do not) want to book|no longer interested)\b",
    re.I,
)
_LEAD_IN = r"(?:(?:actually|sorry|oops|oh|no|wait|correction|hang on|my mistake|apologies|i meant|ah|ok|okay)[,:;!.\s-]*)"
_FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "email": ("email address", "e-mail address", "email", "e-mail", "mail"),
    "phone": (
        "phone number",
        "mobile number",
        "telephone number",
        "phone",
        "mobile",
        "telephone",
        "number",
        "tel",
    ),
    "ods_code": ("ods code", "ods", "practice code", "pcn code"),
    "organisation": ("organisation", "organization", "practice", "pcn", "surgery", "network"),
    "name": ("full name", "name"),
    "interest": ("interest", "interests", "roles", "role", "services", "service"),
}
_ALIAS_TO_FIELD = {alias: name for name, aliases in _FIELD_ALIASES.items() for alias in aliases}
_ALIASES = "|".join(re.escape(a) for a in sorted(_ALIAS_TO_FIELD, key=len, reverse=True))
_CORRECTION = (
    re.compile(
        rf"^(?P<lead>{_LEAD_IN}*)(?P<det>(?:my|our|the)\s+)?(?P<field>{_ALIASES})\s*"
        r"(?:is actually|should be|should have been|is|are|was|were|:|=|-)\s*(?P<value>.+)$",
        re.I,
    ),
    re.compile(
        rf"^(?:please\s+)?(?:change|update|correct|make)\s+(?:my|our|the)\s+(?P<field>{_ALIASES})\s+to\s+(?P<value>.+)$",
        re.I,
    ),
)
_BARE_EMAIL = re.compile(rf"^{_LEAD_IN}+(?:it'?s|it is|use|try)?\s*(?P<value>\S+@\S+)$", re.I)
_NOT_SUFFIX = re.compile(r",?\s+(?:not|instead of|rather than)\s+.*$", re.I)


def _words(message: str) -> list[str]:
    return re.findall(r"[a-z0-9'@.+\-]+", message.lower())


def _plausible(pending: str, message: str) -> bool:
    """Could ``message`` be an answer to the pending field (even a wrong one)?"""
    text = message.strip()
    words = _words(text)
    if not words:
        return False
    if pending in OPTIONAL_FIELDS and _SKIP.match(text.rstrip(".!")):
        return True
    if pending == "email":
        return "@" in text and "?" not in text
    if pending == "phone":
        return sum(ch.isdigit() for ch in text) >= 6 and "?" not in text
    if pending == "ods_code":
        return bool(ODS_CODE_IN_TEXT.search(text)) and "?" not in text
    if pending == "slot":
        return _looks_like_slot_choice(text)
    if "?" in text or words[0] in _WH_WORDS | _ASKING_VERBS:
        return False
    if pending == "interest":
        return words[0] not in _AUX_WORDS
    if words[0] in _AUX_WORDS - {"will", "may"}:
        return False
    if pending == "name":
        try:
            validate_name(text)
        except ValidationProblem:
            return False
        return len(words) <= 5 and not set(words) & _NOT_IN_NAMES and not _mentions_arrs(text)
    if pending == "organisation":
        try:
            validate_organisation(text)
        except ValidationProblem:
            return False
        return len(words) <= 12 and not {"you", "your", "i", "me"} & set(words)
    return True


def _mentions_arrs(message: str) -> bool:
    return bool(_ARRS_TERMS.search(message)) or bool(mentioned_roles(message))


def looks_like_question(message: str, pending: str | None = None) -> bool:
    """A question to answer rather than a form answer: a question mark, a wh-word or auxiliary
    opening, or an ARRS term, unless the message is a plausible value for the pending field."""
    text = message.strip()
    if not text:
        return False
    if pending and _plausible(pending, text):
        return False
    words = _words(text)
    if "?" in text:
        return True
    if words and words[0] in _WH_WORDS | _AUX_WORDS | _ASKING_VERBS:
        return True
    return _mentions_arrs(text)


def is_cancel(message: str) -> bool:
    text = message.strip()
    return bool(_CANCEL.match(text)) and len(text.split()) <= 8


def _clean_value(value: str) -> str:
    value = _NOT_SUFFIX.sub("", value.strip())
    return value.strip().strip("\"'“”‘’").rstrip(".!,; ").strip()


def parse_correction(message: str, pending: str | None = None) -> tuple[str, str] | None:
    """``("email", "x@y.nhs.uk")`` for "actually my email is x@y.nhs.uk"; None when not a correction.

    Without a lead-in ("actually", "sorry", ...) only "my/our <field> is ..." counts, and for the
    free-text fields (organisation, interest) only when that field is the one being asked, so that
    "the practice is keen on pharmacists" is never taken as a new organisation name.
    """
    text = message.strip()
    if "?" in text:
        return None
    for pattern in _CORRECTION:
        match = pattern.match(text)
        if not match:
            continue
        field_name = _ALIAS_TO_FIELD[match.group("field").lower()]
        groups = match.groupdict()
        if "lead" in groups and not groups["lead"] and field_name != pending:
            det = (groups.get("det") or "").strip().lower()
            if det not in {"my", "our"} or field_name in {"organisation", "interest"}:
                return None
        return field_name, _clean_value(match.group("value"))
    match = _BARE_EMAIL.match(_NOT_SUFFIX.sub("", text))
    if match:
        return "email", _clean_value(match.group("value"))
    return None


# Slot choices ---------------------------------------------------------------------------------

_WEEKDAYS = {
    "mon": 0, "monday": 0, "tue": 1, "tues": 1, "tuesday": 1, "wed": 2, "weds": 2, "wednesday": 2,
    "thu": 3, "thur": 3, "thurs": 3, "thursday": 3, "fri": 4, "friday": 4, "sat": 5, "saturday": 5,
    "sun": 6, "sunday": 6,
}  # fmt: skip
_MONTHS = {m: i for i, m in enumerate(
    ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)}  # fmt: skip
_ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4, "4th": 4,
    "fifth": 5, "5th": 5, "sixth": 6, "6th": 6, "seventh": 7, "7th": 7, "eighth": 8, "8th": 8,
}  # fmt: skip
_WEEKDAY_RE = re.compile(r"\b(" + "|".join(sorted(_WEEKDAYS, key=len, reverse=True)) + r")\b", re.I)
_TIME_RE = re.compile(
    r"\b(?P<h>\d{1,2})[:.](?P<m>\d{2})\s*(?P<ap>am|pm|a\.m\.|p\.m\.)?(?!\d)|\b(?P<h2>\d{1,2})\s*(?P<ap2>am|pm)\b|"
    r"\bat\s+(?P<h3>\d{1,2})\b(?![:./])|\b(?P<noon>noon|midday)\b",
    re.I,
)
_DATE_RE = re.compile(
    r"\b(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\b"
    r"|\b(?P<d2>\d{1,2})/(?P<m2>\d{1,2})(?:/(?P<y2>\d{2,4}))?\b",
    re.I,
)
_ISO_RE = re.compile(r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2})?(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")
_NUMBER_CHOICE = re.compile(
    r"^(?:(?:option|number|no\.?|slot|#)\s*)?(?P<n>\d{1,2})[.)]?(?:\s+please)?$", re.I
)
_ORDINAL_CHOICE = re.compile(
    r"\b(?:the\s+)?(?P<o>" + "|".join(_ORDINALS) + r"|last)(?:\s+(?:one|option|slot|time))?\b", re.I
)
_MORE = re.compile(
    r"^(?:show\s+)?(?:more|later|other|different|next)(?:\s+(?:slots?|times?|dates?|ones?|options?))?"
    r"(?:\s+please)?$|none of (?:these|those|them)|^(?:any(?:thing)?|something) later",
    re.I,
)


def _looks_like_slot_choice(text: str) -> bool:
    t = text.strip()
    return bool(
        _NUMBER_CHOICE.match(t)
        or _ISO_RE.search(t)
        or _MORE.search(t)
        or _WEEKDAY_RE.search(t)
        or _TIME_RE.search(t)
        or _DATE_RE.search(t)
        or (_ORDINAL_CHOICE.search(t) and len(t.split()) <= 8)
    )


def _parse_time(text: str) -> time | None:
    match = _TIME_RE.search(text)
    if not match:
        return None
    if match.group("noon"):
        return time(12, 0)
    hour = int(match.group("h") or match.group("h2") or match.group("h3"))
    minute = int(match.group("m") or 0)
    ampm = (match.group("ap") or match.group("ap2") or "").replace(".", "").lower()
    if ampm == "pm" and hour < 12:
        hour += 12
    elif ampm == "am" and hour == 12:
        hour = 0
    elif not ampm and 1 <= hour <= 7:
        hour += 12  # "2:30" in office hours means the afternoon
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _parse_date(text: str, today: date) -> date | None:
    match = _DATE_RE.search(text)
    if not match:
        return None
    try:
        if match.group("d"):
            day, month, year = int(match.group("d")), _MONTHS[match.group("mon")[:3].lower()], today.year
        else:
            day, month = int(match.group("d2")), int(match.group("m2"))
            year = int(match.group("y2")) if match.group("y2") else today.year
            year = year + 2000 if year < 100 else year
        found = date(year, month, day)
    except ValueError:
        return None
    if not match.group("y2") and found < today:  # "4 January" said in December means next year
        found = found.replace(year=found.year + 1)
    return found


_MoreSlots = Literal["more"]


def choose_slot(message: str, state: BookingState, context: FlowContext) -> Slot | _MoreSlots | str | None:
    """The slot the visitor picked; "more" for later options; a reason string when the time they
    named is not free; None when the message names no slot at all."""
    text = message.strip()
    offered = state.offered
    if _MORE.search(text):
        return "more"
    number = _NUMBER_CHOICE.match(text)
    if number:
        n = int(number.group("n"))
        return offered[n - 1] if 1 <= n <= len(offered) else f"Please pick a number from 1 to {len(offered)}."
    iso = _ISO_RE.search(text)
    if iso:
        try:
            wanted = datetime.fromisoformat(iso.group(0).replace(" ", "T"))
        except ValueError:
            return "That date and time could not be read; please use a number from the list."
        return _exact_slot(wanted if wanted.tzinfo else wanted.replace(tzinfo=context.tz), state, context)
    weekday_match = _WEEKDAY_RE.search(text)
    weekday = _WEEKDAYS[weekday_match.group(1).lower()] if weekday_match else None
    local_now = context.now.astimezone(context.tz)
    on_date = _parse_date(text, local_now.date())
    at_time = _parse_time(text)
    if weekday is None and on_date is None and at_time is None:
        ordinal = _ORDINAL_CHOICE.search(text)
        if ordinal and len(text.split()) <= 8 and offered:
            word = ordinal.group("o").lower()
            n = len(offered) if word == "last" else _ORDINALS[word]
            return offered[n - 1] if n <= len(offered) else f"Please pick a number from 1 to {len(offered)}."
        return None

    def matches(slot: Slot) -> bool:
        local = slot.start.astimezone(context.tz)
        return (
            (weekday is None or local.weekday() == weekday)
            and (on_date is None or local.date() == on_date)
            and (at_time is None or local.time() == at_time)
        )

    for slot in offered:
        if matches(slot):
            return slot
    if at_time is not None and (weekday is not None or on_date is not None):
        for slot in context.next_slots(None, 24 * context.horizon_days):
            if matches(slot):
                return slot
        day = on_date or _next_weekday(local_now.date(), weekday or 0)
        wanted = datetime.combine(day, at_time, tzinfo=context.tz)
        reason = context.check_slot(wanted) if context.check_slot else None
        label = f"{wanted:%A} {wanted.day} {wanted:%B} at {wanted:%H:%M}"
        return f"Sorry, {label} is not free{': ' + reason if reason else ''}"
    return "Sorry, none of the offered slots matches that. Please reply with a number from the list."


def _next_weekday(today: date, weekday: int) -> date:
    return today + timedelta(days=(weekday - today.weekday()) % 7)


def _exact_slot(wanted: datetime, state: BookingState, context: FlowContext) -> Slot | str:
    for slot in state.offered:
        if slot.start == wanted:
            return slot
    reason = context.check_slot(wanted) if context.check_slot else None
    if reason:
        return f"Sorry, that time is not free: {reason}"
    end = (wanted.astimezone(UTC) + timedelta(minutes=context.duration_minutes)).astimezone(context.tz)
    return Slot(start=wanted.astimezone(context.tz), end=end)


# Replies --------------------------------------------------------------------------------------


def _first_name(state: BookingState) -> str:
    return (state.fields.name or "").split(" ")[0]


def _question_for(field_name: FieldName, state: BookingState) -> str:
    name = _first_name(state)
    org = state.fields.organisation or "your practice or PCN"
    return {
        "name": "What is your name?",
        "organisation": f"Thanks{', ' + name if name else ''}. Which GP practice or Primary Care Network (PCN) "
        "are you from?",
        "ods_code": f"Do you know the ODS code of {org}? It is a letter and five digits, like A81001 for a "
        'practice or U12345 for a PCN. Type "skip" if you don\'t know it.',
        "interest": "Which ARRS roles or services are you interested in? For example clinical pharmacists, "
        "remote prescribing, or training for ARRS staff.",
        "email": "What email address should the calendar invitation go to?",
        "phone": 'What phone number can the team reach you on? This is optional: type "skip" to leave it out.',
        "slot": "",
    }[field_name]


def _slot_menu(state: BookingState, context: FlowContext | None) -> str:
    tz = context.tz if context else LONDON
    minutes = context.duration_minutes if context else 30
    lines = [f"Here are the next free {minutes}-minute consultation slots (UK time):"]
    lines += [f"{i}. {slot.label(tz)}" for i, slot in enumerate(state.offered, start=1)]
    lines.append('Reply with a number, or a day and time like "Tuesday 10:30". Type "more" for later times.')
    return "\n".join(lines)


def _booking_dict(state: BookingState, kind: ReplyKind, tz: ZoneInfo) -> dict[str, Any]:
    f = state.fields
    collected = {
        "name": f.name,
        "organisation": f.organisation,
        "ods_code": f.ods_code,
        "interest": f.interest,
        "email": mask_email(f.email) if f.email else None,
        "phone": mask_phone(f.phone) if f.phone else None,
        "slot": f.slot.start.isoformat() if f.slot else None,
    }
    return {
        "active": state.active,
        "status": kind,
        "pending_field": state.pending,
        "fields": list(FIELD_ORDER),
        "optional": sorted(OPTIONAL_FIELDS),
        "missing": state.missing(),
        "skipped": list(state.skipped),
        "collected": {k: v for k, v in collected.items() if v is not None},
        "offered_slots": [s.start.isoformat() for s in state.offered],
        "slot_options": [
            {"n": i, **s.as_json(), "label": s.label(tz)} for i, s in enumerate(state.offered, start=1)
        ],
    }


def _reply(
    kind: ReplyKind, message: str, state: BookingState, context: FlowContext | None = None, **flags: Any
) -> FlowReply:
    tz = context.tz if context else LONDON
    return FlowReply(
        kind=kind,
        message=message.strip(),
        state=state,
        pending_field=state.pending,
        offered_slots=[s.start.isoformat() for s in state.offered],
        booking=_booking_dict(state, kind, tz),
        **flags,
    )


def _ask_next(
    state: BookingState, context: FlowContext | None, prefix: str = "", refresh: bool = True
) -> FlowReply:
    """Ask the first missing field, or hand back a complete request."""
    nxt = state.first_missing()
    state.pending = nxt
    if nxt is None:
        return _ready(state, context, prefix)
    if nxt != "slot":
        return _reply("ask", f"{prefix} {_question_for(nxt, state)}", state, context)
    if context is not None and (refresh or not state.offered):
        state.offered = context.next_slots(None, SLOTS_OFFERED)
    if not state.offered:
        days = context.horizon_days if context else 28
        message = (
            f"{prefix} There are no free consultation slots in the next {days} days. "
            "I can ask the team to call you back instead."
        )
        return _reply("no_slots", message, state, context)
    return _reply("ask", f"{prefix}\n{_slot_menu(state, context)}", state, context)


def _ready(state: BookingState, context: FlowContext | None, prefix: str) -> FlowReply:
    f = state.fields
    assert f.slot is not None and f.name and f.email and f.organisation and f.interest
    request = BookingRequest(
        name=f.name,
        email=f.email,
        organisation=f.organisation,
        interest=f.interest,
        slot_start=f.slot.start,
        phone=f.phone,
        ods_code=f.ods_code,
    )
    tz = context.tz if context else LONDON
    message = f"{prefix} Thanks, {_first_name(state)}. Booking your consultation for {f.slot.label(tz)}."
    return _reply("ready_to_book", message, state, context, ready_to_book=True, request=request)


# Public API -----------------------------------------------------------------------------------


def start(state: BookingState | None = None, context: FlowContext | None = None) -> FlowReply:
    """Enter the flow (or carry on where it was) and ask the first missing field."""
    state = (state or BookingState()).model_copy(deep=True)
    intro = "" if state.active else "I can book you a free 30-minute consultation with the team."
    if context is not None and not state.active:
        intro = f"I can book you a free {context.duration_minutes}-minute consultation with the team."
    state.active = True
    return _ask_next(state, context, intro)


def resume(state: BookingState, context: FlowContext | None = None) -> FlowReply:
    """After a digression: re-ask the first missing field (the slot list is refreshed when possible)."""
    state = state.model_copy(deep=True)
    return _ask_next(state, context, "Back to your booking.")


def _set_field(state: BookingState, name: str, raw: str) -> None:
    """Validate and store one field; raises ValidationProblem with a message for the visitor."""
    value = raw.strip()
    if name in OPTIONAL_FIELDS and _SKIP.match(value.rstrip(".!")):
        setattr(state.fields, name, None)
        if name not in state.skipped:
            state.skipped.append(name)
        return
    cleaned: str | None
    if name == "name":
        cleaned = validate_name(_strip_intro(value, r"(?:my name is|my name's|i am|i'm|it's|it is|this is)"))
    elif name == "organisation":
        code = ODS_CODE_IN_TEXT.search(value)
        cleaned = validate_organisation(
            _strip_intro(
                value,
                r"(?:(?:i'?m|i am|we'?re|we are|it'?s|it is|this is)\s+)?(?:from|at|with)|"
                r"(?:i'?m|i am|we'?re|we are|it'?s|it is|this is)",
            )
        )
        if code and state.fields.ods_code is None:
            state.fields.ods_code = code.group(1).upper()
    elif name == "ods_code":
        code = ODS_CODE_IN_TEXT.search(value)
        cleaned = validate_ods_code(code.group(1) if code else value)
    elif name == "interest":
        cleaned = validate_interest(value)
    elif name == "email":
        match = re.search(r"\S+@\S+", value)
        cleaned = validate_email((match.group(0) if match else value).strip(".,;:()<>"))
    elif name == "phone":
        found = PHONE_IN_TEXT.search(value)
        cleaned = validate_uk_phone(found.group(0) if found else value)
    else:  # pragma: no cover - slot is handled by choose_slot
        raise ValueError(name)
    setattr(state.fields, name, cleaned)
    if name in state.skipped:
        state.skipped.remove(name)


def _strip_intro(value: str, intro: str) -> str:
    return re.sub(rf"^(?:{intro})\s+", "", value.strip(), flags=re.I).rstrip(".!")


def advance(state: BookingState, message: str, context: FlowContext) -> FlowReply:
    """Take one visitor message: a cancel, a correction, a question, or the pending field's value."""
    state = state.model_copy(deep=True)
    if not state.active:
        return start(state, context)
    text = " ".join(message.split())
    pending = state.pending or state.first_missing()
    state.pending = pending

    if is_cancel(text):
        return _reply(
            "cancelled",
            "No problem, I've cancelled the booking and not kept your details. Ask me anything else.",
            BookingState(),
            context,
            cancelled=True,
        )

    correction = parse_correction(text, pending)
    if correction and correction[0] != pending:
        field_name, value = correction
        try:
            _set_field(state, field_name, value)
        except ValidationProblem as problem:
            return _reply("invalid", f"{problem.message}", state, context)
        return _ask_next(
            state, context, f"Thanks, I've updated your {FIELD_LABELS[field_name]}.", refresh=False
        )
    if correction and correction[0] == pending:
        text = correction[1]  # "my email is x" while the email is asked: the value is x

    if pending == "slot":
        return _advance_slot(state, text, context)
    if pending is None:
        return _ask_next(state, context)
    if looks_like_question(text, pending):
        return _reply("question", "", state, context, is_question=True)
    try:
        _set_field(state, pending, text)
    except ValidationProblem as problem:
        return _reply("invalid", problem.message, state, context)
    return _ask_next(state, context)


def _advance_slot(state: BookingState, text: str, context: FlowContext) -> FlowReply:
    if not state.offered:
        return _ask_next(state, context)
    choice = choose_slot(text, state, context)
    if choice is None:
        if looks_like_question(text):
            return _reply("question", "", state, context, is_question=True)
        return _reply(
            "invalid",
            f"Sorry, I didn't catch which time you'd like.\n{_slot_menu(state, context)}",
            state,
            context,
        )
    if choice == "more":
        later = context.next_slots(state.offered[-1].start, SLOTS_OFFERED)
        if not later:
            return _reply(
                "ask",
                f"There are no later free slots in the next {context.horizon_days} days.\n{_slot_menu(state, context)}",
                state,
                context,
            )
        state.offered = later
        return _reply("ask", _slot_menu(state, context), state, context)
    if isinstance(choice, str):
        return _reply("invalid", f"{choice}\n{_slot_menu(state, context)}", state, context)
    if context.check_slot is not None:
        reason = context.check_slot(choice.start)
        if reason:
            state.offered = context.next_slots(None, SLOTS_OFFERED)
            return _reply(
                "invalid",
                f"Sorry, that slot is no longer free: {reason}\n{_slot_menu(state, context)}",
                state,
                context,
            )
    state.fields.slot = choice
    return _ask_next(state, context)


def slot_taken(state: BookingState, context: FlowContext) -> FlowReply:
    """The chosen slot went to someone else between choosing and booking: offer fresh slots."""
    state = state.model_copy(deep=True)
    state.fields.slot = None
    return _ask_next(state, context, "Sorry, that slot has just been booked by someone else.")


def complete(
    state: BookingState, slot_start: datetime, reference: str, context: FlowContext | None = None
) -> FlowReply:
    """The booking is stored: confirm it and leave the flow (the state keeps no personal data)."""
    tz = context.tz if context else LONDON
    local = slot_start.astimezone(tz)
    message = (
        f"Your consultation is booked for {local:%A} {local.day} {local:%B %Y} at {local:%H:%M} (UK time). "
        f"Your booking reference is {reference[:8]}."
    )
    reply = _reply("booked", message, BookingState(), context, done=True)
    reply.booking.update({"slot": local.isoformat(), "reference": reference})
    return reply
