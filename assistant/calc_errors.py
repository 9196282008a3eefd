"""Typed, user-facing errors of the role catalogue, the rate tables and the calculator.

Each message says what was asked, what is held and what the user can do, because the CLI,
the HTTP API and the chat show it as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from assistant.models import AssistantError

ADD_FIGURE_HINT = (
    "If you hold the published figure (for example from the Network Contract DES for that year), "
    "add a row to corpus/rates/max_reimbursement.csv."
)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


class CalculatorError(AssistantError):
    """Base class: anything the calculator refuses to compute, with the reason."""


class RateTableError(CalculatorError):
    """A rate or role file is malformed; the message names the file and the row."""


class UnknownRole(CalculatorError):
    def __init__(self, name: str, suggestions: Sequence[str] = ()) -> None:
        self.name = name
        self.suggestions = list(suggestions)[:3]
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(
            f"Unknown role {name!r}.{hint} The roles held are listed by `arrs rates` and in corpus/roles.yaml."
        )


class AmbiguousRole(UnknownRole):
    """A term shared by several roles (e.g. GPN): the user must say which."""

    def __init__(self, name: str, candidates: Sequence[str]) -> None:
        self.name = name
        self.suggestions = list(candidates)
        CalculatorError.__init__(
            self, f"{name!r} can mean more than one role: {', '.join(candidates)}. Say which."
        )


class RateNotHeld(CalculatorError):
    def __init__(
        self,
        role_name: str,
        band: str | None,
        start: date,
        end: date,
        area_label: str,
        detail: str = "",
    ) -> None:
        self.role_name = role_name
        self.band = band
        self.start = start
        self.end = end
        self.area_label = area_label
        band_text = f" (band {band})" if band else ""
        span = _day(start) if start == end else f"{_day(start)} to {_day(end)}"
        extra = f" {detail}" if detail else ""
        super().__init__(
            f"No maximum reimbursable amount is held for {role_name}{band_text}, {area_label}, "
            f"for {span}.{extra} {ADD_FIGURE_HINT}"
        )


class YearNotHeld(CalculatorError):
    def __init__(self, year: str, held: Sequence[str], what: str = "maximum reimbursable amounts") -> None:
        self.year = year
        self.held = list(held)
        held_text = ", ".join(self.held) if self.held else "none"
        super().__init__(
            f"No {what} are held for {year}. Years held: {held_text}. "
            "Figures that are not held are never estimated; add the published figures to corpus/rates/ "
            "if you hold them."
        )


class AmbiguousBand(CalculatorError):
    def __init__(self, role_name: str, bands: Sequence[str], on: date) -> None:
        self.role_name = role_name
        self.bands = list(bands)
        super().__init__(
            f"More than one band is held for {role_name} on {_day(on)}: {', '.join(self.bands)}. "
            "Say which band (for example --band " + self.bands[0] + ")."
        )


class InvalidWTE(CalculatorError):
    pass


class InvalidYear(CalculatorError):
    """Text that is not a financial year (e.g. "2024/26")."""


class InvalidPeriod(CalculatorError):
    pass


class NegativeAmount(CalculatorError):
    pass
