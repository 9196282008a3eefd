"""Checks for what a visitor types into the booking form, each with a message fit to show them.

Every ``validate_*`` returns the cleaned value or raises ``ValidationProblem``; the same checks run
in the chat flow and behind ``POST /api/bookings``, so both reject the same input the same way.

ODS codes accepted (format only; the code is not looked up):
- GP practice: one letter and five digits, e.g. ``A81001`` (``Y`` codes such as ``Y02345`` included).
- Primary Care Network: ``U`` and five digits, e.g. ``U12345``.
Lower case and surrounding spaces are tolerated and normalised to upper case.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Literal

from email_validator import EmailNotValidError
from email_validator import validate_email as _validate_email
from pydantic import BaseModel, Field

from assistant.models import AssistantError

FieldName = Literal["name", "organisation", "ods_code", "interest", "email", "phone", "slot", "notes"]


class ValidationProblem(AssistantError):
    """A value the visitor should correct; ``str(problem)`` is the message to show them."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def _clean_text(value: str) -> str:
    """Drop control characters and collapse whitespace (pasted text often carries both)."""
    value = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C" or ch in "\t\n")
    return " ".join(value.split())


# Email ------------------------------------------------------------------------------------------


def validate_email(value: str) -> str:
    """A syntactically valid address (no DNS look-up: the form must work offline and fast)."""
    value = _clean_text(value or "")
    if not value:
        raise ValidationProblem("email", "Please give an email address, for example name@practice.nhs.net.")
    try:
        return _validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise ValidationProblem(
            "email",
            f"That email address doesn't look right ({exc}). Please type it again, for example "
            "name@practice.nhs.net.",
        ) from None


# Phone ------------------------------------------------------------------------------------------

# A UK national significant number (after +44 or the leading 0): 9 or 10 digits, not starting with
# 0 or 4 or 6 (those ranges are not used for ordinary UK numbers).
_UK_NSN = re.compile(r"[1235789]\d{8,9}")
_PHONE_JUNK = re.compile(r"[\s\-().]")


def validate_uk_phone(value: str | None) -> str | None:
    """A UK number normalised to +44 form (``+442079460000``); ``None`` or blank means no phone.

    Accepts ``020 7946 0000``, ``07700 900123``, ``+44 (0)20 7946 0000``, ``0044 20 7946 0000``.
    """
    if value is None:
        return None
    raw = _clean_text(value)
    if not raw:
        return None
    digits = _PHONE_JUNK.sub("", raw)
    digits = digits.replace("+44(0)", "+44").replace("+440", "+44")
    if digits.startswith("0044"):
        digits = "+44" + digits[4:]
    if digits.startswith("+44"):
        nsn = digits[3:]
    elif digits.startswith("0"):
        nsn = digits[1:]
    else:
        nsn = ""
    if not _UK_NSN.fullmatch(nsn):
        raise ValidationProblem(
            "phone",
            "That doesn't look like a UK phone number. Please give one like 020 7946 0000 or "
            '+44 7700 900123, or type "skip" to leave it out.',
        )
    return "+44" + nsn


def format_uk_phone(e164: str) -> str:
    """``+447700900123`` -> ``07700 900123`` for people to read (grouping is approximate by range)."""
    nsn = e164.removeprefix("+44")
    national = "0" + nsn
    if nsn.startswith("2"):
        return f"{national[:3]} {national[3:7]} {national[7:]}"
    return f"{national[:5]} {national[5:]}"


# ODS codes -------------------------------------------------------------------------------------

_ODS_CODE = re.compile(r"[A-Z]\d{5}")
ODS_CODE_IN_TEXT = re.compile(r"\b([A-Za-z]\d{5})\b")


def validate_ods_code(value: str) -> str:
    """A GP practice (``A81001``) or PCN (``U12345``) code, upper-cased; format only."""
    code = _clean_text(value or "").replace(" ", "").upper()
    if not _ODS_CODE.fullmatch(code):
        raise ValidationProblem(
            "ods_code",
            "That isn't an ODS code format I recognise: a GP practice code is a letter and five digits "
            '(like A81001) and a PCN code is U and five digits (like U12345). Type "skip" if you don\'t know it.',
        )
    return code


def ods_code_kind(code: str) -> Literal["pcn", "gp_practice"]:
    return "pcn" if code.upper().startswith("U") else "gp_practice"


# Names and free text ---------------------------------------------------------------------------

_NAME_CHARS = re.compile(r"[^\W\d_]+(?:[ '’.\-][^\W\d_]*)*\.?", re.UNICODE)
_ORG_CHARS = re.compile(r"[\w&'’.,()/+\- ]+", re.UNICODE)


def validate_name(value: str) -> str:
    """A person's name: 2 to 80 characters of letters, spaces, hyphens, apostrophes and full stops."""
    name = _clean_text(value or "")
    if len(name) < 2:
        raise ValidationProblem("name", "Please tell me your name (at least two letters).")
    if len(name) > 80:
        raise ValidationProblem("name", "That name is longer than 80 characters; please shorten it.")
    if not _NAME_CHARS.fullmatch(name):
        raise ValidationProblem(
            "name",
            "A name can only hold letters, spaces, hyphens, apostrophes and full stops. What is your name?",
        )
    return name


def validate_organisation(value: str) -> str:
    """A practice or PCN name: 2 to 120 characters, at least one letter, no email addresses."""
    org = _clean_text(value or "")
    if len(org) < 2 or not any(ch.isalpha() for ch in org):
        raise ValidationProblem(
            "organisation", "Please give the name of your practice or Primary Care Network (PCN)."
        )
    if len(org) > 120:
        raise ValidationProblem("organisation", "That organisation name is longer than 120 characters.")
    if "@" in org or not _ORG_CHARS.fullmatch(org):
        raise ValidationProblem(
            "organisation",
            "An organisation name can hold letters, digits, spaces and & ' . , ( ) / - only. "
            "Which practice or PCN are you from?",
        )
    return org


def validate_interest(value: str) -> str:
    """The roles or services of interest: free text, 2 to 500 characters."""
    text = _clean_text(value or "")
    if len(text) < 2:
        raise ValidationProblem(
            "interest", "Which roles or services are you interested in (for example clinical pharmacists)?"
        )
    if len(text) > 500:
        raise ValidationProblem(
            "interest", "Please keep the roles or services of interest under 500 characters."
        )
    return text


def validate_notes(value: str | None) -> str | None:
    text = _clean_text(value or "")
    if len(text) > 2000:
        raise ValidationProblem("notes", "Please keep notes under 2,000 characters.")
    return text or None


# Masking ---------------------------------------------------------------------------------------

_EMAIL_IN_TEXT = re.compile(r"[\w.+'\-]+@[\w\-]+(?:\.[\w\-]+)+", re.UNICODE)
PHONE_IN_TEXT = re.compile(r"(?<![\w])(?:\+44\s?(?:\(0\)\s?)?|0044\s?|0)(?:[\s\-]?\d){9,10}(?!\d)")


def mask_contacts(text: str) -> str:
    """Replace email addresses and UK phone numbers with placeholders (for logs, summaries, Slack)."""
    return PHONE_IN_TEXT.sub("[phone]", _EMAIL_IN_TEXT.sub("[email]", text))


def mask_email(email: str) -> str:
    """``jane.doe@nhs.net`` -> ``j***@nhs.net``: enough for a person to recognise, not to reuse."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str) -> str:
    return "*" * max(len(phone) - 3, 0) + phone[-3:]


# Requests --------------------------------------------------------------------------------------


class BookingRequest(BaseModel):
    """What a booking needs, from the chat flow or ``POST /api/bookings`` (raw; see ``clean_booking``)."""

    name: str
    email: str
    organisation: str
    interest: str
    slot_start: datetime = Field(description="Timezone-aware start of a free slot.")
    phone: str | None = None
    ods_code: str | None = None
    notes: str | None = None
    session_id: str | None = Field(default=None, max_length=128)


class CallbackRequest(BaseModel):
    """A person to call back about something the assistant could not handle; email or phone needed."""

    name: str
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    question: str = Field(default="", max_length=2000)
    reason: str = Field(default="", max_length=200, description="Why a person is needed, e.g. 'ungrounded'.")
    session_id: str | None = Field(default=None, max_length=128)


def clean_booking(request: BookingRequest) -> BookingRequest:
    """Every field validated and normalised; the first problem is raised (one message at a time)."""
    if request.slot_start.tzinfo is None or request.slot_start.utcoffset() is None:
        raise ValidationProblem(
            "slot", "The slot time must include a UTC offset, e.g. 2026-11-24T10:30:00+00:00."
        )
    ods = request.ods_code.strip() if request.ods_code else ""
    return request.model_copy(
        update={
            "name": validate_name(request.name),
            "organisation": validate_organisation(request.organisation),
            "ods_code": validate_ods_code(ods) if ods else None,
            "interest": validate_interest(request.interest),
            "email": validate_email(request.email),
            "phone": validate_uk_phone(request.phone),
            "notes": validate_notes(request.notes),
        }
    )


def clean_callback(request: CallbackRequest) -> CallbackRequest:
    email = validate_email(request.email) if request.email and request.email.strip() else None
    phone = validate_uk_phone(request.phone)
    if not email and not phone:
        raise ValidationProblem(
            "email", "Please leave an email address or a UK phone number so we can reach you."
        )
    org = request.organisation.strip() if request.organisation else ""
    return request.model_copy(
        update={
            "name": validate_name(request.name),
            "email": email,
            "phone": phone,
            "organisation": validate_organisation(org) if org else None,
            "question": _clean_text(request.question),
            "reason": _clean_text(request.reason),
        }
    )
