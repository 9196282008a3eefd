"""Lead qualification for staff: a priority from explicit signals, with reasons, and a short summary.

Only what the visitor said counts (roles or WTE named, a deadline, the PCN's size): no guessing
from tone. Summaries mask email addresses and phone numbers because they go to Slack and storage.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, Field

from assistant.booking.store import Priority
from assistant.booking.validation import mask_contacts
from assistant.settings import BUNDLED_CORPUS

LARGE_PCN_POPULATION = 50_000
LARGE_PCN_PRACTICES = 5

_NUMBER_WORDS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
    "ten": 10, "eleven": 11, "twelve": 12,
}  # fmt: skip
_NUM = r"(\d+(?:\.\d+)?|" + "|".join(_NUMBER_WORDS) + r")"

_WTE = re.compile(
    _NUM + r"\s*(?:x\s*)?(?:wte|fte|whole[- ]time(?: equivalents?)?|full[- ]time(?: equivalents?)?)\b", re.I
)
_PRACTICES = re.compile(_NUM + r"\s+(?:gp\s+|member\s+)?(?:practices|surgeries)\b", re.I)
_POPULATION = (
    re.compile(
        r"(\d{1,3}(?:,\d{3})+|\d{4,7}|\d+(?:\.\d+)?\s*k)\s*(?:weighted\s+)?(?:patients|population|list size|registered)",
        re.I,
    ),
    re.compile(
        r"(?:weighted population|population|list size|patients)\s*(?:of|is|:|around|about|approx\.?|~)?\s*"
        r"(?:about|around|roughly|approximately)?\s*(\d{1,3}(?:,\d{3})+|\d{4,7}|\d+(?:\.\d+)?\s*k)\b",
        re.I,
    ),
)
_DEADLINES = (
    (re.compile(r"\byear[- ]end\b|\bend of (?:the )?(?:financial )?year\b", re.I), "the year end"),
    (re.compile(r"\b31(?:st)? march\b|\bmarch 31(?:st)?\b|\b(?:by|before) (?:the end of )?march\b", re.I), "31 March"),
    (re.compile(r"\b(?:this|end of (?:the|this)) month\b", re.I), "this month"),
    (re.compile(r"\b(?:this|next) week\b", re.I), "within days"),
    (re.compile(r"\burgent(?:ly)?\b|\basap\b|\bas soon as possible\b", re.I), "urgent"),
    (re.compile(r"\bdeadline\b", re.I), "a deadline"),
    (re.compile(r"\bunderspend\b|\bunclaimed\b|\blose (?:the |our )?(?:funding|money|allocation)\b", re.I),
     "unclaimed funding at risk"),
)  # fmt: skip


class LeadQualification(BaseModel):
    priority: Priority
    reasons: list[str] = Field(default_factory=list)
    roles: list[str] = Field(default_factory=list, description="Role names mentioned.")
    wte: Decimal | None = Field(default=None, description="Total WTE mentioned.")
    deadline: str | None = None
    population: int | None = None
    practices: int | None = None


def _number(text: str) -> Decimal:
    text = text.strip().lower()
    if text in _NUMBER_WORDS:
        return Decimal(_NUMBER_WORDS[text])
    if text.endswith("k"):
        return Decimal(text[:-1].strip()) * 1000
    return Decimal(text.replace(",", ""))


def mentioned_roles(text: str, roles_file: str | None = None) -> list[str]:
    """Names of ARRS roles in ``text``, from the shared role catalogue (corpus/roles.yaml)."""
    from assistant.roles import RoleCatalogue  # lazy: the catalogue module pulls in the calculator's errors

    catalogue = RoleCatalogue.load(roles_file or BUNDLED_CORPUS / "roles.yaml")
    return [role.name for role in catalogue.find_in_text(text)]


def _field_text(fields: Mapping[str, Any] | BaseModel | None) -> str:
    if fields is None:
        return ""
    data = fields.model_dump() if isinstance(fields, BaseModel) else dict(fields)
    return "\n".join(str(data.get(key) or "") for key in ("interest", "notes", "organisation"))


def qualify(
    transcript: list[str], fields: Mapping[str, Any] | BaseModel | None = None, roles_file: str | None = None
) -> LeadQualification:
    """Priority from explicit signals: high with two or more, medium with one, low with none.

    Signals: a specific need (roles or WTE named), a deadline (year end, 31 March, this month,
    urgent), a large PCN (weighted population of 50,000 or more, or five or more practices).
    """
    # The same words may arrive twice (in the transcript and as a form field): count them once.
    parts = [*transcript, *_field_text(fields).split("\n")]
    segments = [" ".join(part.split()) for part in parts]
    text = "\n".join(dict.fromkeys(part for part in segments if part))
    reasons: list[str] = []
    points = 0

    roles = mentioned_roles(text, roles_file)
    wte_values = [_number(m.group(1)) for m in _WTE.finditer(text)]
    wte = sum(wte_values, Decimal(0)) if wte_values else None
    if roles or wte:
        points += 1
        if roles:
            reasons.append(f"Roles mentioned: {', '.join(roles)}")
        if wte:
            reasons.append(f"WTE mentioned: {wte.normalize():f}")

    deadline = next((label for pattern, label in _DEADLINES if pattern.search(text)), None)
    if deadline:
        points += 1
        reasons.append(f"Deadline mentioned: {deadline}")

    population = max((int(_number(m.group(1))) for p in _POPULATION for m in p.finditer(text)), default=None)
    practices = max((int(_number(m.group(1))) for m in _PRACTICES.finditer(text)), default=None)
    large = (population or 0) >= LARGE_PCN_POPULATION or (practices or 0) >= LARGE_PCN_PRACTICES
    size_bits = [
        f"population {population:,}" if population else "",
        f"{practices} practices" if practices else "",
    ]
    size = ", ".join(bit for bit in size_bits if bit)
    if large:
        points += 1
        reasons.append(f"Large PCN: {size}")
    elif size:
        reasons.append(f"PCN size given: {size}")

    if not points:
        reasons.append("No roles, WTE, deadline or PCN size mentioned")
    priority: Priority = "high" if points >= 2 else "medium" if points == 1 else "low"
    return LeadQualification(
        priority=priority,
        reasons=reasons,
        roles=roles,
        wte=wte,
        deadline=deadline,
        population=population,
        practices=practices,
    )


def _clip(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summarise(transcript: list[str], limit: int = 600) -> str:
    """A few lines for staff: the visitor's substantive messages, quoted and masked, most telling first.

    ``transcript`` is the visitor's own messages in order; short form answers (a name, "skip") are
    left out in favour of questions and longer messages.
    """
    messages = [mask_contacts(" ".join(m.split())) for m in transcript if m and m.strip()]
    if not messages:
        return "No conversation recorded."
    telling = [m for m in messages if "?" in m or len(m.split()) >= 6]
    head = f"{len(messages)} message{'s' if len(messages) != 1 else ''} from the visitor. "
    if not telling:
        if len(messages) == 1:
            return _clip(f'{head}"{messages[0]}"', limit)
        return head + "No questions or comments beyond the form answers."
    quotes: list[str] = []
    used = len(head)
    for message in telling:
        quote = f'"{_clip(message, 160)}"'
        if used + len(quote) + 2 > limit:
            break
        quotes.append(quote)
        used += len(quote) + 2
    return _clip(head + "; ".join(quotes), limit)
