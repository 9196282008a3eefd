"""Form validation: each bad value gives a ValidationProblem naming the field, with a helpful message."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from assistant.booking.validation import (
    BookingRequest,
    CallbackRequest,
    ValidationProblem,
    clean_booking,
    clean_callback,
    format_uk_phone,
    mask_contacts,
    mask_email,
    ods_code_kind,
    validate_email,
    validate_interest,
    validate_name,
    validate_ods_code,
    validate_organisation,
    validate_uk_phone,
)


def test_email_normalised() -> None:
    assert validate_email("  Jane.Doe@NHS.net ") == "Jane.Doe@nhs.net"


@pytest.mark.parametrize("bad", ["", "jane", "jane@", "jane@nhs", "jane doe@nhs.net", "a@b@c.com"])
def test_email_rejected(bad: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        validate_email(bad)
    assert info.value.field == "email"
    assert "email" in info.value.message.lower()


@pytest.mark.parametrize(
    ("raw", "e164"),
    [
        ("020 7946 0000", "+442079460000"),
        ("07700 900123", "+447700900123"),
        ("+44 7700 900123", "+447700900123"),
        ("+44 (0)20 7946 0000", "+442079460000"),
        ("0044 20 7946 0000", "+442079460000"),
        ("(01632) 960-000", "+441632960000"),
    ],
)
def test_uk_phone_normalised(raw: str, e164: str) -> None:
    assert validate_uk_phone(raw) == e164


def test_phone_optional() -> None:
    assert validate_uk_phone(None) is None
    assert validate_uk_phone("   ") is None


@pytest.mark.parametrize("bad", ["12345", "+1 212 555 0100", "07700 9001", "0000 000 0000", "call me"])
def test_phone_rejected(bad: str) -> None:
    with pytest.raises(ValidationProblem, match="UK phone number") as info:
        validate_uk_phone(bad)
    assert info.value.field == "phone" and "skip" in info.value.message


def test_phone_display() -> None:
    assert format_uk_phone("+442079460000") == "020 7946 0000"
    assert format_uk_phone("+447700900123") == "07700 900123"


@pytest.mark.parametrize(
    ("raw", "code", "kind"), [("a81001", "A81001", "gp_practice"), (" U12345 ", "U12345", "pcn")]
)
def test_ods_codes(raw: str, code: str, kind: str) -> None:
    assert validate_ods_code(raw) == code
    assert ods_code_kind(code) == kind


@pytest.mark.parametrize("bad", ["A8100", "81001A", "AB1001", "U123456", "riverside"])
def test_ods_rejected(bad: str) -> None:
    with pytest.raises(ValidationProblem, match=r"A81001.*U12345"):
        validate_ods_code(bad)


def test_names() -> None:
    assert validate_name("  Siân   O'Neil-Jones ") == "Siân O'Neil-Jones"
    assert validate_name("Dr. J. Smith") == "Dr. J. Smith"
    for bad in ("J", "Jane99", "jane@nhs.net", "x" * 81):
        with pytest.raises(ValidationProblem) as info:
            validate_name(bad)
        assert info.value.field == "name"


def test_organisations() -> None:
    assert validate_organisation("St Mary's & Riverside PCN (North)") == "St Mary's & Riverside PCN (North)"
    for bad in ("1", "12345", "jane@nhs.net", "a" * 121, "<script>"):
        with pytest.raises(ValidationProblem) as info:
            validate_organisation(bad)
        assert info.value.field == "organisation"


def test_interest_length() -> None:
    assert validate_interest(" clinical   pharmacists ") == "clinical pharmacists"
    with pytest.raises(ValidationProblem):
        validate_interest("x" * 501)


def _request(**changes: object) -> BookingRequest:
    data: dict[str, object] = {
        "name": "Jane Doe",
        "email": "jane@nhs.net",
        "organisation": "Riverside PCN",
        "interest": "clinical pharmacists",
        "slot_start": datetime(2026, 11, 24, 10, 30, tzinfo=UTC),
    }
    return BookingRequest.model_validate({**data, **changes})


def test_clean_booking_normalises() -> None:
    clean = clean_booking(_request(phone="07700 900123", ods_code="u12345", notes="  "))
    assert clean.phone == "+447700900123" and clean.ods_code == "U12345" and clean.notes is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"email": "nope"}, "email"),
        ({"phone": "123"}, "phone"),
        ({"ods_code": "XYZ"}, "ods_code"),
        ({"name": "1"}, "name"),
        ({"slot_start": datetime(2026, 11, 24, 10, 30)}, "slot"),
    ],
)
def test_clean_booking_problems(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationProblem) as info:
        clean_booking(_request(**change))
    assert info.value.field == field


def test_callback_needs_a_way_to_reach_the_person() -> None:
    with pytest.raises(ValidationProblem, match="email address or a UK phone"):
        clean_callback(CallbackRequest(name="Jane Doe", question="What about GP funding?"))
    assert clean_callback(CallbackRequest(name="Jane Doe", phone="07700 900123")).phone == "+447700900123"


def test_masking() -> None:
    text = "Mail jane.doe@practice.nhs.net or call 07700 900123 / +44 (0)20 7946 0000 about 2 WTE."
    masked = mask_contacts(text)
    assert masked == "Mail [email] or call [phone] / [phone] about 2 WTE."
    assert mask_email("jane.doe@nhs.net") == "j***@nhs.net"
