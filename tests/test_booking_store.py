"""The booking store on SQLite and on a real PostgreSQL server: races, erasure, retention."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import POSTGRES_URL
from sqlalchemy import Column, Engine, String, Table, create_engine, func, insert, select, text
from sqlalchemy.exc import OperationalError

from assistant.booking.store import BookingStore, SlotTaken, bookings, callback_requests
from assistant.db import create_schema, make_engine, metadata

SLOT = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)


def _sqlite(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'bookings.db'}")
    create_schema(engine)
    yield engine
    engine.dispose()


def _postgres() -> Iterator[Engine]:
    """A unique schema on the test server, dropped afterwards; skipped loudly when no server answers."""
    schema = f"test_booking_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL, connect_args={"connect_timeout": 5})
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except OperationalError as exc:
        admin.dispose()
        pytest.skip(f"PostgreSQL NOT TESTED: no server answers at {POSTGRES_URL} ({exc.orig})")
    engine = create_engine(
        POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}", "connect_timeout": 5}, pool_size=10
    )
    try:
        create_schema(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    yield from (_sqlite(tmp_path) if request.param == "sqlite" else _postgres())


def _fields(slot: datetime = SLOT, email: str = "jane@nhs.net", **extra: object) -> dict[str, object]:
    return {
        "slot_start": slot,
        "slot_end": slot + timedelta(minutes=30),
        "name": "Jane Doe",
        "email": email,
        "organisation": "Riverside PCN",
        "interest": "clinical pharmacists",
        "priority": "medium",
        "priority_reasons": ["Roles mentioned: Clinical pharmacist"],
        **extra,
    }


def _count(engine: Engine, table: Table) -> int:
    with engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def test_round_trip(engine: Engine) -> None:
    store = BookingStore(engine)
    made = store.create_booking(**_fields(phone="+447700900123", ods_code="U12345", session_id="s1"))
    got = store.get(made.id)
    assert got is not None
    assert got.slot_start == SLOT and got.slot_start.tzinfo is not None
    assert got.priority_reasons == ["Roles mentioned: Clinical pharmacist"]
    assert (got.phone, got.ods_code, got.status) == ("+447700900123", "U12345", "booked")
    assert [b.id for b in store.list_bookings()] == [made.id]
    assert store.list_bookings(since=made.created_at + timedelta(seconds=1)) == []
    assert store.booked_slots(SLOT - timedelta(hours=1), SLOT + timedelta(hours=1)) == {SLOT}
    assert store.booked_slots(SLOT + timedelta(minutes=30), SLOT + timedelta(hours=1)) == set()
    assert store.delete(made.id) and store.get(made.id) is None
    assert not store.delete(made.id)


def test_same_instant_in_another_zone_is_the_same_slot(engine: Engine) -> None:
    from zoneinfo import ZoneInfo

    store = BookingStore(engine)
    store.create_booking(**_fields())
    with pytest.raises(SlotTaken):
        store.create_booking(**_fields(slot=SLOT.astimezone(ZoneInfo("Europe/London"))))


def test_concurrent_requests_for_one_slot_make_exactly_one_booking(engine: Engine) -> None:
    store = BookingStore(engine)
    attempts = 8
    barrier = threading.Barrier(attempts)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(i: int) -> None:
        barrier.wait()
        try:
            store.create_booking(**_fields(email=f"person{i}@nhs.net"))
            result = "booked"
        except SlotTaken:
            result = "taken"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == ["booked"] + ["taken"] * (attempts - 1)
    assert _count(engine, bookings) == 1


def test_callbacks(engine: Engine) -> None:
    store = BookingStore(engine)
    made = store.create_callback(
        name="Sam Lee", phone="+447700900123", question="GP funding?", reason="ungrounded"
    )
    assert store.get_callback(made.id) == made
    assert [c.id for c in store.list_callbacks()] == [made.id]
    assert store.delete_callback(made.id) and store.list_callbacks() == []


def test_erase_person_removes_everything_keyed_on_the_email(engine: Engine) -> None:
    extra = Table(
        "test_erasure_extra",
        metadata,
        Column("id", String(36), primary_key=True),
        Column("email", String(320)),
    )
    try:
        extra.create(engine)
        store = BookingStore(engine)
        store.create_booking(**_fields(email="Jane@NHS.net"))
        store.create_booking(**_fields(slot=SLOT + timedelta(days=1), email="jane@nhs.net"))
        kept = store.create_booking(**_fields(slot=SLOT + timedelta(days=2), email="sam@nhs.net"))
        store.create_callback(name="Jane Doe", email="jane@nhs.net", question="Call me")
        store.create_callback(name="Sam Lee", email="sam@nhs.net", question="Call me")
        with engine.begin() as conn:
            conn.execute(insert(extra).values(id="x1", email="jane@nhs.net"))

        assert store.session_ids_for("jane@nhs.net") == set()
        store.create_callback(name="Jane Doe", email="jane@nhs.net", session_id="chat-7")
        assert store.session_ids_for("JANE@nhs.net") == {"chat-7"}

        counts = store.erase_person(" JANE@nhs.net ")
        assert counts["bookings"] == 2
        assert counts["callback_requests"] == 2
        assert counts["test_erasure_extra"] == 1
        assert [b.id for b in store.list_bookings()] == [kept.id]
        assert [c.email for c in store.list_callbacks()] == ["sam@nhs.net"]
        assert store.erase_person("jane@nhs.net")["bookings"] == 0
    finally:
        extra.drop(engine, checkfirst=True)
        metadata.remove(extra)


def test_retention_purge_keeps_recent_and_future(engine: Engine) -> None:
    store = BookingStore(engine)
    now = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
    days = 365
    old = now - timedelta(days=days + 10)
    stale = store.create_booking(**_fields(slot=old + timedelta(days=2), created_at=old))
    future = store.create_booking(**_fields(slot=now + timedelta(days=3), created_at=old))
    recent = store.create_booking(
        **_fields(slot=now - timedelta(days=5), created_at=now - timedelta(days=20))
    )
    store.create_callback(name="Old Caller", email="old@nhs.net", created_at=old)
    fresh_callback = store.create_callback(name="New Caller", email="new@nhs.net", created_at=now)

    assert store.purge_older_than(days, now) == {"bookings": 1, "callback_requests": 1}
    remaining = {b.id for b in store.list_bookings()}
    assert stale.id not in remaining and remaining == {future.id, recent.id}
    assert [c.id for c in store.list_callbacks()] == [fresh_callback.id]
    assert _count(engine, callback_requests) == 1
