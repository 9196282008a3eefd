"""Financial years (1 April to 31 March), the unit every ARRS rule and rate is published in."""

from __future__ import annotations

import re
from datetime import date

_FY_PATTERNS = (
    # 2024/25, 2024-25, 2024–25, 2024 / 2025, 2024-2025
    re.compile(r"\b(20\d{2})\s*[/\-–]\s*(\d{2}|20\d{2})\b"),
    # 24/25, 24-25
    re.compile(r"(?<![\d£,.])(\d{2})\s*[/\-–]\s*(\d{2})(?![\d%])"),
    # FY25, FY2025 (= 2024/25, the year ending March 2025)
    re.compile(r"\bFY\s?(20\d{2}|\d{2})\b", re.IGNORECASE),
)


def label(start_year: int) -> str:
    """'2024/25' for the year starting 1 April 2024."""
    return f"{start_year}/{(start_year + 1) % 100:02d}"


def start_year_of(fy: str) -> int:
    match = re.fullmatch(r"(20\d{2})/(\d{2})", fy.strip())
    if not match:
        raise ValueError(f"not a financial year label: {fy!r} (expected like 2024/25)")
    start = int(match.group(1))
    if (start + 1) % 100 != int(match.group(2)):
        raise ValueError(f"not a financial year label: {fy!r} (years must be consecutive)")
    return start


def normalise(text: str) -> str:
    """Parse one financial year written any common way; raise ValueError when it is not one."""
    found = find_all(text)
    if not found:
        raise ValueError(f"not a financial year: {text!r} (expected like 2024/25)")
    return found[0]


def find_all(text: str) -> list[str]:
    """Every financial year named in free text, in order of appearance, without duplicates."""
    hits: list[tuple[int, str]] = []
    taken: list[tuple[int, int]] = []
    for pattern_index, pattern in enumerate(_FY_PATTERNS):
        for match in pattern.finditer(text):
            if any(a < match.end() and match.start() < b for a, b in taken):
                continue
            start = _start_from(match, pattern_index)
            if start is None:
                continue
            taken.append((match.start(), match.end()))
            hits.append((match.start(), label(start)))
    seen: list[str] = []
    for _, fy in sorted(hits):
        if fy not in seen:
            seen.append(fy)
    return seen


def _start_from(match: re.Match[str], pattern_index: int) -> int | None:
    if pattern_index == 2:
        year = int(match.group(1))
        end = year if year >= 2000 else 2000 + year
        return end - 1
    first, second = match.group(1), match.group(2)
    start = int(first) if len(first) == 4 else 2000 + int(first)
    end = int(second) if len(second) == 4 else (start // 100) * 100 + int(second)
    if end != start + 1 or not 2015 <= start <= 2040:
        return None
    return start


def of_date(day: date) -> str:
    """The financial year a date falls in."""
    return label(day.year if day.month >= 4 else day.year - 1)


def bounds(fy: str) -> tuple[date, date]:
    start = start_year_of(fy)
    return date(start, 4, 1), date(start + 1, 3, 31)


def expand_calendar_years(text: str) -> list[str]:
    """A bare calendar year ("in 2024") read as the financial year that starts in it."""
    return [label(int(y)) for y in re.findall(r"\b(20[1-3]\d)\b(?!\s*[/\-–]\s*\d)", text)]
