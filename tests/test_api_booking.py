"""Booking over HTTP: free slots, bookings (201 / 409), invites, callbacks, and the admin routes."""

from __future__ import annotations

import csv
import io
import json
import logging
import threading
from collections.abc import Iterator
from datetime import date, datetime, timedelta

import httpx
import pytest
from api_support import LiveServer, live_server
from icalendar import Calendar

from assistant.settings import Settings
from server import create_app

pytestmark = pytest.mark.integration

TOKEN = "test-admin-token-0123456789"
EMAIL = "jane.doe@riverside.nhs.net"


def booking_body(slot_start: str, **overrides) -> dict:
    return {
        "name": "Jane Doe",
        "email": EMAIL,
        "organisation": "Riverside PCN",
        "interest": "Two clinical pharmacists at 1.0 WTE before the year end",
        "slot_start": slot_start,
        "phone": "07700 900123",
    } | overrides


@pytest.fixture
def booking_settings(assistant_settings: Settings) -> Settings:
    """The shared index and a fresh state database; admin on; a horizon that reaches Christmas."""
    return Settings(
        data_dir=assistant_settings.data_dir,
        database_url=assistant_settings.database_url,
        today=assistant_settings.today,
        admin_token=TOKEN,
        booking_horizon_days=60,
        _env_file=None,
    )


@pytest.fixture
def booking_assistant(booking_settings: Settings):
    from assistant.chain import Assistant

    return Assistant.from_settings(booking_settings)


@pytest.fixture
def server(booking_settings: Settings, booking_assistant) -> Iterator[LiveServer]:
    with live_server(create_app(booking_settings, assistant=booking_assistant)) as running:
        yield running


@pytest.fixture
def http(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        yield client


def admin(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def first_free(http: httpx.Client, day: str = "2026-11-23") -> dict:
    slots = http.get("/api/slots", params={"from": day, "to": day}).json()
    assert slots, f"no free slot on {day}"
    return slots[0]


def test_slots_are_the_services_free_slots(http: httpx.Client, booking_assistant) -> None:
    from assistant.booking_dialogue import service

    response = http.get("/api/slots", params={"from": "2026-11-23", "to": "2026-11-27"})
    assert response.status_code == 200
    slots = response.json()
    expected = service(booking_assistant).available_slots(date(2026, 11, 23), date(2026, 11, 27))
    assert slots == [slot.as_json() for slot in expected]
    first = datetime.fromisoformat(slots[0]["start"])
    assert first.utcoffset() is not None  # ISO 8601 with an offset
    assert datetime.fromisoformat(slots[0]["end"]) - first == timedelta(minutes=30)
    # Christmas 2026: 25 and 28 December are bank holidays; 24 and 29 December are not.
    for day, bookable in (
        ("2026-12-24", True),
        ("2026-12-25", False),
        ("2026-12-28", False),
        ("2026-12-29", True),
    ):
        assert bool(http.get("/api/slots", params={"from": day, "to": day}).json()) is bookable, day


@pytest.mark.parametrize(
    "params", [{"from": "23/11/2026"}, {"from": "2026-11-30", "to": "2026-11-23"}, {"to": "tomorrow"}]
)
def test_bad_slot_ranges_are_422(http: httpx.Client, params: dict) -> None:
    response = http.get("/api/slots", params=params)
    assert response.status_code == 422
    assert response.json()["message"]


def test_book_invite_and_conflict(http: httpx.Client, server: LiveServer) -> None:
    slot = first_free(http)
    created = http.post("/api/bookings", json=booking_body(slot["start"]))
    assert created.status_code == 201, created.text
    booking = created.json()
    assert booking["slot_start"] == slot["start"] and booking["slot_end"] == slot["end"]
    assert booking["email"] != EMAIL and booking["email"].endswith("@riverside.nhs.net")  # masked
    assert "priority" not in booking  # lead scoring is for staff
    assert (
        created.headers["location"]
        == booking["invite_url"]
        == f"{server.url}/api/bookings/{booking['id']}.ics"
    )

    invite = http.get(booking["invite_url"])
    assert invite.status_code == 200 and invite.headers["content-type"].startswith("text/calendar")
    event = Calendar.from_ical(invite.content).walk("VEVENT")[0]
    assert event.decoded("dtstart") == datetime.fromisoformat(slot["start"])

    taken = http.post("/api/bookings", json=booking_body(slot["start"], email="someone.else@nhs.net"))
    assert taken.status_code == 409 and taken.json()["error"] == "slot_taken"
    assert slot not in http.get("/api/slots", params={"from": "2026-11-23", "to": "2026-11-23"}).json()


def test_two_concurrent_requests_make_one_booking(http: httpx.Client, server: LiveServer) -> None:
    slot = first_free(http, "2026-11-24")
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def book(email: str) -> None:
        with httpx.Client(base_url=server.url, timeout=60) as client:
            barrier.wait()
            statuses.append(
                client.post("/api/bookings", json=booking_body(slot["start"], email=email)).status_code
            )

    threads = [threading.Thread(target=book, args=(f"person{i}@nhs.net",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [201, 409]


@pytest.mark.parametrize(
    ("overrides", "status", "field"),
    [
        ({"email": "not-an-email"}, 422, "email"),
        ({"slot_start": "2026-11-22T10:00:00+00:00"}, 422, "slot_start"),  # a Sunday
        ({"slot_start": "2026-11-23T10:00:00"}, 422, "slot"),  # no offset
        ({"slot_start": "soon"}, 422, "slot_start"),
        ({"name": ""}, 422, "name"),
        ({"phone": "12"}, 422, "phone"),
    ],
)
def test_booking_validation(http: httpx.Client, overrides: dict, status: int, field: str) -> None:
    body = booking_body("2026-11-25T10:00:00+00:00") | overrides
    response = http.post("/api/bookings", json=body)
    assert response.status_code == status, response.text
    assert field in [problem["field"] for problem in response.json()["details"]]


def test_callback_requests(http: httpx.Client) -> None:
    stored = http.post(
        "/api/callbacks", json={"name": "Sam Lee", "email": "sam.lee@nhs.net", "question": "Can you help us?"}
    )
    assert stored.status_code == 201 and stored.json()["id"]
    missing = http.post("/api/callbacks", json={"name": "Sam Lee", "question": "Call me"})
    assert missing.status_code == 422


def test_admin_routes_are_off_without_a_token(assistant_settings: Settings, assistant) -> None:
    with (
        live_server(create_app(assistant_settings, assistant=assistant)) as running,
        httpx.Client(base_url=running.url) as client,
    ):
        for method, path in (
            ("GET", "/api/admin/bookings"),
            ("DELETE", "/api/admin/bookings/0b1c2d3e-0000-4000-8000-000000000000"),
            ("DELETE", f"/api/admin/people?email={EMAIL}"),
        ):
            assert client.request(method, path, headers=admin()).status_code == 404, path
        assert "/api/admin/bookings" not in client.get("/openapi.json").json()["paths"]


def test_admin_needs_the_bearer_token(http: httpx.Client) -> None:
    for headers in ({}, admin("wrong"), {"Authorization": TOKEN}):
        response = http.get("/api/admin/bookings", headers=headers)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"


def test_admin_list_csv_delete_and_erase(http: httpx.Client, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    slot = first_free(http, "2026-11-26")
    notes = '=HYPERLINK("http://evil.example","click")'
    booking = http.post("/api/bookings", json=booking_body(slot["start"], notes=notes)).json()
    second = first_free(http, "2026-11-27")
    other = http.post(
        "/api/bookings", json=booking_body(second["start"], email="other.person@nhs.net")
    ).json()

    listed = http.get("/api/admin/bookings", headers=admin())
    assert listed.status_code == 200
    rows = {row["id"]: row for row in listed.json()}
    assert rows[booking["id"]]["email"] == EMAIL and rows[booking["id"]]["priority"] in (
        "high",
        "medium",
        "low",
    )

    exported = http.get("/api/admin/bookings", params={"format": "csv"}, headers=admin())
    assert exported.headers["content-type"].startswith("text/csv")
    table = list(csv.DictReader(io.StringIO(exported.text)))
    row = next(r for r in table if r["id"] == booking["id"])
    assert row["email"] == EMAIL
    assert row["notes"] == "'" + notes  # a spreadsheet will not run it as a formula

    assert http.delete(f"/api/admin/bookings/{other['id']}", headers=admin()).status_code == 204
    assert http.delete(f"/api/admin/bookings/{other['id']}", headers=admin()).status_code == 404
    assert http.get(other["invite_url"]).status_code == 404
    assert second in http.get("/api/slots", params={"from": "2026-11-27", "to": "2026-11-27"}).json()

    erased = http.delete("/api/admin/people", params={"email": EMAIL.upper()}, headers=admin())
    assert erased.status_code == 200
    assert erased.json()["deleted"]["bookings"] >= 1
    assert all(r["email"] != EMAIL for r in http.get("/api/admin/bookings", headers=admin()).json())
    assert http.get(booking["invite_url"]).status_code == 404

    logged = " ".join(json.dumps(r.__dict__, default=str) for r in caplog.records)
    assert "HTTP Request" in logged or "request" in logged
    for secret in (EMAIL, EMAIL.upper(), "other.person@nhs.net", "07700 900123", "7700900123"):
        assert secret not in logged, f"{secret} reached the logs"


def test_erasure_also_removes_the_conversation_that_led_to_the_booking(
    http: httpx.Client, booking_assistant
) -> None:
    from assistant.memory import SessionStore
    from assistant.report import build_report  # noqa: F401 - the question log table is registered

    asked = http.post("/api/ask", json={"question": "Can your pharmacists work remotely?"}).json()
    session = asked["session_id"]
    slot = first_free(http, "2026-11-30")
    email = "erase.me@riverside.nhs.net"
    http.post("/api/bookings", json=booking_body(slot["start"], email=email, session_id=session))
    assert SessionStore(booking_assistant.engine).turns(session)

    erased = http.delete("/api/admin/people", params={"email": email}, headers=admin()).json()["deleted"]
    assert erased["bookings"] == 1 and erased["conversation_turns"] >= 1 and erased["question_log"] >= 1
    assert SessionStore(booking_assistant.engine).turns(session) == []


def test_admin_report_needs_the_token_and_renders(http: httpx.Client) -> None:
    http.post("/api/ask", json={"question": "Can we claim ARRS for a dentist?"})
    assert http.get("/api/admin/report").status_code == 401
    page = http.get("/api/admin/report", headers=admin())
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "data:image/png;base64," in page.text and "dentist" in page.text
    assert "img-src" in page.headers["content-security-policy"]
    data = http.get("/api/admin/report", params={"format": "json"}, headers=admin()).json()
    assert data
    assert http.get("/api/admin/report", params={"format": "pdf"}, headers=admin()).status_code == 422
