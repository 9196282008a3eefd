"""Reading the facts a question states: roles, years, area, WTE, dates, money, population.

Deterministic and phrasing-tolerant; the result merges with earlier turns so that follow-ups
like "And in inner London?" or "What about 0.5 WTE?" carry the rest of the context forward.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal

from pydantic import BaseModel, Field

from assistant import years

Operation = Literal["max_amount", "claim", "pcn_sum", "afford", "headroom", "employment_cost"]

MONTHS = {
    name: index
    for index, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_RE = "|".join(sorted(MONTHS, key=len, reverse=True))
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "half": 0.5,
}


class PlannedPostSlot(BaseModel):
    role_id: str
    count: int = 1
    wte: Decimal = Decimal("1")


class QuerySlots(BaseModel):
    """What a message states; ``None`` means "not said" (so earlier turns may fill it)."""

    role_ids: list[str] = Field(default_factory=list)
    financial_year: str | None = None
    financial_years: list[str] = Field(default_factory=list)
    area: Literal["national", "outer_london", "inner_london", "london"] | None = None
    band: str | None = None
    wte: Decimal | None = None
    hours_per_week: Decimal | None = None
    sessions_per_week: Decimal | None = None
    start: date | None = None
    end: date | None = None
    salary: Decimal | None = None
    actual_annual_cost: Decimal | None = None
    actual_monthly_cost: Decimal | None = None
    budget: Decimal | None = None
    population: int | None = None
    posts: list[PlannedPostSlot] = Field(default_factory=list)
    include_levy: bool = False

    def merged_over(self, earlier: QuerySlots) -> QuerySlots:
        """This turn's values win; anything unsaid is inherited from the earlier turn."""
        data = earlier.model_dump()
        for key, value in self.model_dump().items():
            if value not in (None, [], False):
                data[key] = value
        # A new role or period replaces the whole period context of the earlier turn.
        if self.financial_year and not (self.start or self.end):
            data["start"], data["end"] = None, None
        if (self.start or self.end) and not self.financial_year:
            data["financial_year"] = None
        if self.wte is not None:
            data["hours_per_week"], data["sessions_per_week"] = None, None
        if self.hours_per_week is not None or self.sessions_per_week is not None:
            data["wte"] = None
        return QuerySlots.model_validate(data)

    def stated(self) -> set[str]:
        return {key for key, value in self.model_dump().items() if value not in (None, [], False)}


def _money(text: str) -> Decimal | None:
    """An amount of money, or None; a bare year-like number ("2025" of "2025/26") is not money."""
    if re.fullmatch(r"\s*(?:19|20)\d{2}\s*", text):
        return None
    cleaned = text.replace(",", "").replace("£", "").strip().lower()
    multiplier = Decimal(1)
    if cleaned.endswith("k"):
        multiplier, cleaned = Decimal(1000), cleaned[:-1]
    elif cleaned.endswith("m"):
        multiplier, cleaned = Decimal(1_000_000), cleaned[:-1]
    try:
        return Decimal(cleaned) * multiplier
    except InvalidOperation:
        return None


_AMOUNT = r"£\s?\d[\d,]*(?:\.\d+)?\s?[km]?\b|\b\d[\d,]*(?:\.\d+)?\s?k\b|\b\d{1,3}(?:,\d{3})+(?:\.\d+)?\b|\b\d{4,7}(?:\.\d+)?\b"
_SALARY = re.compile(rf"(?:salary|paid|pay(?:ing)?|earn(?:s|ing)?|wage)\D{{0,25}}?({_AMOUNT})", re.I)
_SALARY_AFTER = re.compile(
    rf"({_AMOUNT})\s*(?:a year\s*|per year\s*|per annum\s*|pa\s*)?(?:salary|basic pay)", re.I
)
_BUDGET = re.compile(rf"(?:budget|left|remaining|spare|underspend|pot|have|got)\D{{0,25}}?({_AMOUNT})", re.I)
_BUDGET_AFTER = re.compile(rf"({_AMOUNT})\s*(?:budget|left|remaining|spare|underspend|to spend)", re.I)
_COST = re.compile(rf"(?:costs?(?: us)?|employment cost|actual cost|total cost)\D{{0,20}}?({_AMOUNT})", re.I)
_POPULATION = re.compile(
    r"(?<!per )(?:weighted (?:list |patient )?(?:population|pop)|population|list size|weighted list|patients|\bpop)"
    r"\D{0,20}?"
    r"(\d[\d,]*(?:\.\d+)?\s?k?)\b(?!\s*[/\-–]\s*\d)|"
    r"(?<![/\d,.])(\d[\d,]*(?:\.\d+)?\s?k?)\s*(?:weighted )?(?:patients|population|pop\b)",
    re.I,
)
_WTE = re.compile(r"(\d*\.?\d+)\s*(?:wte|fte|whole[- ]time(?: equivalent)?|full[- ]time equivalent)\b", re.I)
_HOURS = re.compile(r"(\d+(?:\.\d+)?)\s*(?:hours|hrs|hr|h)\b(?:\s*(?:a|per|/)\s*week|\s*pw|\s*weekly)?", re.I)
_SESSIONS = re.compile(r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine)\s*sessions?", re.I)
_DAYS = re.compile(r"\b(\d(?:\.5)?|one|two|three|four|five|half)\s+days?\s+(?:a|per|/)\s*week\b", re.I)
_SALARY_ON = re.compile(rf"\b(?:on|at|earning|costing)\s+({_AMOUNT})(?!\s*(?:budget|left|remaining))", re.I)
_BAND = re.compile(r"\bband\s*(\d(?:\s*[abcd])?(?:\s*[-–/]\s*\d[abcd]?)?)", re.I)
_MONTH_SHORT_YEAR = re.compile(
    rf"\b({_MONTH_RE})\.?\s*'?((?:19|2\d|3[0-5]))\b(?!\s*(?:st|nd|rd|th|[/\-–]\s*\d|,?\s*\d{{4}}))", re.I
)
_DAY_MONTH_YEAR = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+({_MONTH_RE})\.?\s*(\d{{4}}(?!\s*[/\-–]\s*\d))?\b", re.I
)
_MONTH_DAY_YEAR = re.compile(
    rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s*(\d{{4}}(?!\s*[/\-–]\s*\d))?\b", re.I
)
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?\s*(\d{{4}}(?!\s*[/\-–]\s*\d))?\b", re.I)
_ISO = re.compile(r"\b(20\d{2})-(\d{2})-(\d{2})\b")
_DMY = re.compile(r"\b(\d{1,2})/(\d{1,2})/(20\d{2}|\d{2})\b")
_DURATION = re.compile(
    r"\bfor\s+(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\s+months?\b", re.I
)


def _as_int_word(token: str) -> float | None:
    token = token.lower()
    if token in _NUMBER_WORDS:
        return _NUMBER_WORDS[token]
    try:
        return float(token)
    except ValueError:
        return None


def parse(text: str, today: date, role_finder=None, context_year: str | None = None) -> QuerySlots:
    """Extract every slot a message states. ``role_finder(text) -> list[role ids]``; months named
    without a year are read in ``context_year`` (an earlier turn's year) or else today's year."""
    slots = QuerySlots()
    lowered = text.lower()
    if role_finder is not None:
        slots.role_ids = list(role_finder(text))
    found_years = years.find_all(text)
    relative = _relative_year(lowered, today)
    if relative and relative not in found_years:
        found_years.insert(0, relative)
    slots.financial_years = found_years
    slots.financial_year = found_years[0] if found_years else None

    if re.search(r"\binner[- ]london\b", lowered):
        slots.area = "inner_london"
    elif re.search(r"\bouter[- ]london\b", lowered):
        slots.area = "outer_london"
    elif re.search(r"\blondon\b", lowered) and not re.search(
        r"\b(?:outside|not in|non)[- ]london\b", lowered
    ):
        slots.area = "london"
    elif re.search(r"\b(national(?:ly)?|outside london|rest of england|non[- ]london)\b", lowered):
        slots.area = "national"

    if band := _BAND.search(text):
        slots.band = re.sub(r"\s+", "", band.group(1).lower()).replace("–", "-").replace("/", "-")

    _read_workload(text, lowered, slots)
    _read_money(text, slots)
    _read_period(text, lowered, today, slots, context_year)
    slots.include_levy = bool(re.search(r"\b(apprenticeship )?levy\b", lowered))
    return slots


def _read_workload(text: str, lowered: str, slots: QuerySlots) -> None:
    if match := _WTE.search(text):
        slots.wte = Decimal(match.group(1))
    elif re.search(r"\bfull[- ]?time\b", lowered):
        slots.wte = Decimal("1.0")
    elif re.search(r"\bhalf[- ]?time\b", lowered):
        slots.wte = Decimal("0.5")
    if slots.wte is None and (days := _DAYS.search(text)):
        value = _as_int_word(days.group(1))
        if value and 0 < value <= 5:
            slots.wte = (Decimal(str(value)) / 5).quantize(Decimal("0.01"))
    if match := _HOURS.search(text):
        hours = Decimal(match.group(1))
        if 0 < hours <= 60:
            slots.hours_per_week = hours
    if match := _SESSIONS.search(text):
        value = _as_int_word(match.group(1))
        if value is not None:
            slots.sessions_per_week = Decimal(str(value))


def _read_money(text: str, slots: QuerySlots) -> None:
    for pattern, attribute in (
        (_SALARY, "salary"),
        (_SALARY_AFTER, "salary"),
        (_BUDGET, "budget"),
        (_BUDGET_AFTER, "budget"),
        (_COST, "actual_annual_cost"),
    ):
        if getattr(slots, attribute) is not None:
            continue
        if match := pattern.search(text):
            amount = _money(match.group(1))
            if amount is not None and amount >= 100:
                setattr(slots, attribute, amount)
    salary_context = re.search(r"\b(employer|employment|on-?costs?|salary|paid|band \d)", text, re.I)
    if slots.salary is None and salary_context and (match := _SALARY_ON.search(text)):
        amount = _money(match.group(1))
        if amount is not None and amount >= 5000:
            slots.salary = amount
    if slots.budget is None and re.search(r"\b(afford|budget|funds?|funding|pay for|cover)\b", text, re.I):
        amounts = [_money(m.group(0)) for m in re.finditer(_AMOUNT, text)]
        amounts = [a for a in amounts if a is not None and a >= 1000 and a not in (slots.salary,)]
        if amounts:
            slots.budget = amounts[0]
    if slots.actual_annual_cost is not None and re.search(r"\b(a|per) month\b|monthly", text, re.I):
        slots.actual_monthly_cost, slots.actual_annual_cost = slots.actual_annual_cost, None
    for match in _POPULATION.finditer(text):
        raw = (match.group(1) or match.group(2) or "").replace(",", "").strip().lower()
        multiplier = 1000 if raw.endswith("k") else 1
        try:
            value = int(Decimal(raw.rstrip("k").strip()) * multiplier)
        except InvalidOperation:
            continue
        if value >= 1000:
            slots.population = value
            if slots.budget == Decimal(value):
                slots.budget = None
            break


def _relative_year(lowered: str, today: date) -> str | None:
    current = years.start_year_of(years.of_date(today))
    if re.search(r"\b(this|current) (financial )?year\b|\bthis fy\b", lowered):
        return years.label(current)
    if re.search(r"\b(last|previous) (financial )?year\b", lowered):
        return years.label(current - 1)
    if re.search(r"(?<!into )(?<!to )(?<!over )(?<!until )\bnext (financial )?year\b", lowered):
        return years.label(current + 1)
    return None


def _dates_in(text: str, fy_start: int | None, today: date) -> list[tuple[int, date, bool, bool]]:
    """(position, date, is_month_only, year_was_written) for each date, years resolved from context."""
    found: list[tuple[int, date, bool, bool]] = []
    taken: list[tuple[int, int]] = []

    def claim(match: re.Match[str]) -> bool:
        if any(a < match.end() and match.start() < b for a, b in taken):
            return False
        taken.append((match.start(), match.end()))
        return True

    def resolve_year(month: int, explicit: str | None) -> int:
        if explicit:
            return int(explicit)
        if fy_start is not None:
            return fy_start if month >= 4 else fy_start + 1
        year = today.year
        return year

    for match in _ISO.finditer(text):
        if claim(match):
            try:
                found.append((match.start(), date(int(match[1]), int(match[2]), int(match[3])), False, True))
            except ValueError:
                pass
    for match in _DMY.finditer(text):
        if claim(match):
            year = int(match[3]) if len(match[3]) == 4 else 2000 + int(match[3])
            try:
                found.append((match.start(), date(year, int(match[2]), int(match[1])), False, True))
            except ValueError:
                pass
    for match in _MONTH_SHORT_YEAR.finditer(text):
        if claim(match):
            month = MONTHS[match[1].lower()]
            found.append((match.start(), date(2000 + int(match[2]), month, 1), True, True))
    for pattern, order in ((_DAY_MONTH_YEAR, "dmy"), (_MONTH_DAY_YEAR, "mdy")):
        for match in pattern.finditer(text):
            if not claim(match):
                continue
            day_text, month_text = (match[1], match[2]) if order == "dmy" else (match[2], match[1])
            month = MONTHS[month_text.lower()]
            try:
                found.append(
                    (
                        match.start(),
                        date(resolve_year(month, match[3]), month, int(day_text)),
                        False,
                        bool(match[3]),
                    )
                )
            except ValueError:
                pass
    for match in _MONTH_YEAR.finditer(text):
        word = match[1].lower()
        if (
            word == "may"
            and not match[2]
            and not re.search(r"\b(from|in|to|until|till|of)\s+may\b", text, re.I)
        ):
            continue  # "may" the verb
        if word == "mar" and not match[2]:
            continue
        if claim(match):
            month = MONTHS[word]
            found.append((match.start(), date(resolve_year(month, match[2]), month, 1), True, bool(match[2])))
    return sorted(found)


def _month_end(day: date) -> date:
    first_next = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def _read_period(
    text: str, lowered: str, today: date, slots: QuerySlots, context_year: str | None = None
) -> None:
    named = slots.financial_year or context_year
    fy_start = years.start_year_of(named) if named else None
    found = _dates_in(text, fy_start, today)
    if fy_start is None and found:
        # Without a named year, months are read in the financial year of the first explicit date.
        written = [day for _, day, _, has_year in found if has_year]
        if written:
            fy_start = years.start_year_of(years.of_date(written[0]))
        else:
            fy_start = years.start_year_of(years.of_date(today))
        found = _dates_in(text, fy_start, today)
    if not found:
        return
    start = found[0][1]
    if len(found) >= 2:
        end_day, month_only = found[1][1], found[1][2]
        end = _month_end(end_day) if month_only else end_day
        if end < start and month_only and not re.search(r"\d{4}", text[found[1][0] : found[1][0] + 12]):
            end = _month_end(date(end.year + 1, end.month, 1))
        slots.start, slots.end = start, end
    else:
        slots.start = start
        if duration := _DURATION.search(text):
            months = int(_as_int_word(duration.group(1)) or 0)
            if months:
                month_index = start.month - 1 + months
                slots.end = date(start.year + month_index // 12, month_index % 12 + 1, 1) - timedelta(days=1)
                if start.day != 1:
                    slots.end = start + timedelta(days=round(months * 30.44)) - timedelta(days=1)
        elif re.search(rf"\b(?:in|during|for)\s+(?:{_MONTH_RE})\b", lowered) and found[0][2]:
            slots.end = _month_end(start)
    if slots.financial_year is None and slots.start is not None:
        slots.financial_year = years.of_date(slots.start)
