"""The provider profile: what the deploying organisation says about itself, in one YAML file.

One source of truth: the same file gives the corpus document the assistant cites for questions
about the provider (``render_profile_markdown``) and the office hours the booking slots use.
"""

from __future__ import annotations

from datetime import date, time, timedelta
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.booking.validation import ValidationProblem, validate_email, validate_uk_phone


class ProfileError(ValueError):
    """The profile file is missing or invalid; the message says which file and what to fix."""


class Weekday(StrEnum):
    MONDAY = "monday"
    TUESDAY = "tuesday"
    WEDNESDAY = "wednesday"
    THURSDAY = "thursday"
    FRIDAY = "friday"
    SATURDAY = "saturday"
    SUNDAY = "sunday"

    @classmethod
    def of(cls, day: date) -> Weekday:
        return list(cls)[day.weekday()]


_FROZEN = ConfigDict(frozen=True, extra="forbid")
_REGION_NAMES = {
    "ENG": "England and Wales",
    "WLS": "England and Wales",
    "SCT": "Scotland",
    "NIR": "Northern Ireland",
}


class OpeningTimes(BaseModel):
    model_config = _FROZEN

    open: time
    close: time

    @field_validator("open", "close", mode="before")
    @classmethod
    def _quoted_time(cls, value: object) -> object:
        # Unquoted YAML reads 17:30 as the sexagesimal number 1050, which pydantic would take as seconds.
        if not isinstance(value, str | time):
            raise ValueError('write times as quoted "HH:MM" strings, e.g. "08:30"')
        return value

    @model_validator(mode="after")
    def _open_before_close(self) -> OpeningTimes:
        if self.close <= self.open:
            raise ValueError(f"close ({self.close:%H:%M}) must be after open ({self.open:%H:%M})")
        return self


def _weekdays_9_to_5() -> dict[Weekday, OpeningTimes]:
    hours = OpeningTimes(open=time(8, 30), close=time(17, 30))
    return {day: hours for day in list(Weekday)[:5]}


class OfficeHours(BaseModel):
    """Weekly opening times in one timezone; days not listed are closed."""

    model_config = _FROZEN

    timezone: str = "Europe/London"
    closed_on_bank_holidays: bool = True
    bank_holiday_region: Literal["ENG", "WLS", "SCT", "NIR"] = Field(
        default="ENG", description="UK subdivision for the `holidays` package (ENG = England and Wales)."
    )
    days: dict[Weekday, OpeningTimes] = Field(default_factory=_weekdays_9_to_5)

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {value!r} (use an IANA name like Europe/London)") from exc
        return value

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def on(self, day: date) -> OpeningTimes | None:
        """Opening times for that weekday (bank holidays are the slot calculator's business)."""
        return self.days.get(Weekday.of(day))

    @property
    def bank_holiday_region_name(self) -> str:
        return _REGION_NAMES[self.bank_holiday_region]


class Service(BaseModel):
    model_config = _FROZEN

    name: str = Field(min_length=3, max_length=120)
    description: str = Field(
        min_length=10,
        max_length=400,
        description="A verb phrase continuing a sentence that starts with the name.",
    )
    delivery: Literal["on_site", "remote", "on_site_or_remote"] | None = None

    @field_validator("description")
    @classmethod
    def _no_final_stop(cls, value: str) -> str:
        return " ".join(value.split()).rstrip(". ")

    @property
    def can_work_remotely(self) -> bool | None:
        return None if self.delivery is None else self.delivery != "on_site"


class Contact(BaseModel):
    model_config = _FROZEN

    email: str
    phone: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        try:
            return validate_email(value)
        except ValidationProblem as exc:
            raise ValueError(str(exc)) from exc

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            validate_uk_phone(value)
        except ValidationProblem as exc:
            raise ValueError(str(exc)) from exc
        return " ".join(value.split())  # keep the provider's own spacing for display


class Consultation(BaseModel):
    model_config = _FROZEN

    free: bool = True
    duration_minutes: int = Field(default=30, ge=10, le=240)
    formats: list[Literal["video", "phone", "in_person"]] = Field(default_factory=lambda: ["video", "phone"])

    @property
    def duration(self) -> timedelta:
        return timedelta(minutes=self.duration_minutes)


def _http_url(value: str) -> str:
    value = value.strip()
    if not value.startswith(("https://", "http://")) or " " in value:
        raise ValueError(f"expected an http(s) URL, got {value!r}")
    return value


class ProviderProfile(BaseModel):
    model_config = _FROZEN

    name: str = Field(min_length=2, max_length=120)
    description: str = Field(
        min_length=10,
        max_length=600,
        description="A verb phrase continuing a sentence that starts with the name.",
    )
    website: str
    last_reviewed: date | None = None
    services: list[Service] = Field(min_length=1)
    office_hours: OfficeHours = Field(default_factory=OfficeHours)
    contact: Contact
    consultation: Consultation = Field(default_factory=Consultation)
    booking_link: str | None = None

    @field_validator("website", "booking_link")
    @classmethod
    def _urls(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("description")
    @classmethod
    def _tidy(cls, value: str) -> str:
        return " ".join(value.split()).rstrip(". ")


def load_profile(path: str | Path) -> ProviderProfile:
    """Read and validate the profile; re-read only when the file changes (path, mtime and size)."""
    resolved = Path(path).expanduser().resolve()
    try:
        stat = resolved.stat()
    except FileNotFoundError:
        raise ProfileError(
            f"provider profile not found: {resolved} (set ARRS_PROVIDER_PROFILE or restore "
            "corpus/provider/profile.yaml)"
        ) from None
    return _load_cached(resolved, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_cached(path: Path, _mtime_ns: int, _size: int) -> ProviderProfile:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ProfileError(f"provider profile {path} cannot be read as YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"provider profile {path} must be a YAML mapping of fields")
    try:
        return ProviderProfile.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top level)'}: {err['msg']}" for err in exc.errors()
        )
        raise ProfileError(f"provider profile {path} is invalid: {problems}") from exc


# Rendering ---------------------------------------------------------------------------------------

PROFILE_DOC_ID = "provider-profile"


def _join(items: list[str], conjunction: str = "and", sep: str = ", ") -> str:
    """'a', 'a and b', 'a, b and c' (British style); with sep='; ' 'a; b; and c' keeps long items apart."""
    if len(items) <= 2:
        return f" {conjunction} ".join(items)
    last_sep = f"{sep.rstrip()} " if sep.strip() != "," else " "
    return sep.join(items[:-1]) + f"{last_sep}{conjunction} " + items[-1]


def _day_ranges(hours: OfficeHours) -> list[tuple[list[Weekday], OpeningTimes]]:
    """Consecutive weekdays with the same times, e.g. ([monday..friday], 08:30-17:30)."""
    runs: list[tuple[list[Weekday], OpeningTimes]] = []
    for day in Weekday:
        times = hours.days.get(day)
        if times is None:
            continue
        if (
            runs
            and runs[-1][1] == times
            and list(Weekday).index(runs[-1][0][-1]) == list(Weekday).index(day) - 1
        ):
            runs[-1][0].append(day)
        else:
            runs.append(([day], times))
    return runs


def _days_label(days: list[Weekday]) -> str:
    names = [d.value.capitalize() for d in days]
    return names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}" if len(names) > 2 else _join(names)


def _formats(consultation: Consultation) -> str:
    words = {"video": "video", "phone": "phone", "in_person": "in person"}
    return _join([words[f] for f in consultation.formats], "or")


_DELIVERY = {
    "on_site": ", on site in the practices",
    "remote": ", remotely",
    "on_site_or_remote": ", on site or remotely",
}


def render_profile_markdown(profile: ProviderProfile) -> str:
    """The profile as a corpus document; every sentence names the provider, as sentences are quoted alone."""
    p = profile.name
    hours = profile.office_hours
    consult = profile.consultation
    offer = "free consultation" if consult.free else "consultation"
    front = {
        "id": PROFILE_DOC_ID,
        "title": f"{p}: services, office hours, consultation and contact",
        "publisher": p,
        "source_type": "provider",
        "financial_years": [],
        "last_reviewed": profile.last_reviewed or date.today(),
        "sources": [profile.website],
    }
    tz_label = "UK time (Europe/London)" if hours.timezone == "Europe/London" else f"{hours.timezone} time"
    out: list[str] = ["---", yaml.safe_dump(front, sort_keys=False, allow_unicode=True).strip(), "---", ""]
    out += [
        f"# {p}",
        "",
        f"This profile describes {p}, the provider whose website hosts this assistant.[^site]",
        "",
    ]

    service_names = [s.name[0].lower() + s.name[1:] for s in profile.services]
    out += [
        f"## About {p}",
        "",
        f"{p} {profile.description}.[^site]",
        "",
        f"{p} offers {len(profile.services)} services: {_join(service_names, sep='; ')}.[^site]",
        "",
        f"{p} offers a {offer} of {consult.duration_minutes} minutes by {_formats(consult)}.[^site]",
        "",
    ]

    out += [f"## Services offered by {p}", ""]
    for service in profile.services:
        where = _DELIVERY.get(service.delivery or "", "")
        out.append(f"- **{service.name}**: {p} {service.description}{where}.[^site]")
    out.append("")

    out += [f"## Office hours of {p}", ""]
    closed_days = [d for d in Weekday if d not in hours.days]
    for days, times in _day_ranges(hours):
        out.append(
            f"- {p} is open {_days_label(days)}, from {times.open:%H:%M} to {times.close:%H:%M} {tz_label}.[^site]"
        )
    if closed_days:
        out.append(f"- {p} is closed on {_join([d.value.capitalize() + 's' for d in closed_days])}.[^site]")
    if hours.closed_on_bank_holidays:
        out.append(f"- {p} is closed on bank holidays in {hours.bank_holiday_region_name}.[^site]")
    out.append(
        f"- A {offer} with {p} is booked as a {consult.duration_minutes}-minute slot that starts and ends "
        f"within the office hours of {p}.[^site]"
    )
    out.append("")

    out += [
        f"## {offer.capitalize()} with {p}",
        "",
        f"- {p} offers a {offer} of {consult.duration_minutes} minutes, held by {_formats(consult)}.[^site]",
        f"- A {offer} with {p} is a chance to discuss a PCN's plans for ARRS roles "
        f"and how the services of {p} could help.[^site]",
    ]
    where_to_book = "in this chat" + (f" or at {profile.booking_link}" if profile.booking_link else "")
    out.append(f"- A {offer} with {p} can be booked {where_to_book}.[^site]")
    out.append(
        f"- This profile of {p} holds no prices other than the {offer} and names no individual staff.[^site]"
    )
    out.append("")

    out += [f"## Contact details of {p}", ""]
    out.append(f"- {p} can be contacted by email at {profile.contact.email}.[^site]")
    if profile.contact.phone:
        out.append(f"- {p} can be contacted by phone on {profile.contact.phone} during office hours.[^site]")
    out.append(f"- The website of {p} is {profile.website}.[^site]")
    out.append(
        f"- A callback from {p} can be requested in this chat by leaving a name and an email address "
        f"or phone number.[^site]"
    )
    out += ["", f'[^site]: {profile.website} "{p}: provider profile"', ""]
    return "\n".join(out)
