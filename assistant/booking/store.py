"""Bookings and callback requests in SQL (SQLAlchemy Core on the shared ``assistant.db.metadata``).

A slot is taken by the database, not by the code: ``bookings.slot_start`` is UNIQUE, so of two
concurrent requests for one slot exactly one INSERT succeeds and the other becomes ``SlotTaken``.
Cancelling a booking is deleting its row, which frees the slot.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Column,
    DateTime,
    Engine,
    Index,
    String,
    Table,
    Text,
    TypeDecorator,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError

from assistant.db import metadata
from assistant.models import AssistantError

Priority = Literal["high", "medium", "low"]


class SlotTaken(AssistantError):
    """Someone else booked that slot first (HTTP 409)."""

    def __init__(self, slot_start: datetime) -> None:
        super().__init__("Sorry, that slot has just been booked by someone else. Please choose another.")
        self.slot_start = slot_start


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC in and out, on every backend (SQLite stores naive text, PostgreSQL ``timestamptz``)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


bookings = Table(
    "bookings",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("slot_start", UTCDateTime(), nullable=False, unique=True),
    Column("slot_end", UTCDateTime(), nullable=False),
    Column("name", String(80), nullable=False),
    Column("email", String(320), nullable=False, index=True),
    Column("phone", String(20)),
    Column("organisation", String(120), nullable=False),
    Column("ods_code", String(10)),
    Column("interest", Text, nullable=False),
    Column("notes", Text),
    Column("session_id", String(128), index=True),
    Column("priority", String(8), nullable=False, default="low"),
    Column("priority_reasons", JSON, nullable=False, default=list),
    Column("summary", Text, nullable=False, default=""),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("status", String(16), nullable=False, default="booked"),
)
Index("ix_bookings_created_at", bookings.c.created_at)

callback_requests = Table(
    "callback_requests",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("name", String(80), nullable=False),
    Column("email", String(320), index=True),
    Column("phone", String(20)),
    Column("organisation", String(120)),
    Column("question", Text, nullable=False, default=""),
    Column("reason", String(200), nullable=False, default=""),
    Column("session_id", String(128), index=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("priority", String(8), nullable=False, default="low"),
    Column("priority_reasons", JSON, nullable=False, default=list),
    Column("summary", Text, nullable=False, default=""),
)
Index("ix_callback_requests_created_at", callback_requests.c.created_at)


class Booking(BaseModel):
    id: str
    slot_start: datetime = Field(description="UTC.")
    slot_end: datetime = Field(description="UTC.")
    name: str
    email: str
    phone: str | None = None
    organisation: str
    ods_code: str | None = None
    interest: str
    notes: str | None = None
    session_id: str | None = None
    priority: Priority = "low"
    priority_reasons: list[str] = Field(default_factory=list)
    summary: str = ""
    created_at: datetime
    status: str = "booked"


class Callback(BaseModel):
    id: str
    name: str
    email: str | None = None
    phone: str | None = None
    organisation: str | None = None
    question: str = ""
    reason: str = ""
    session_id: str | None = None
    created_at: datetime
    priority: Priority = "low"
    priority_reasons: list[str] = Field(default_factory=list)
    summary: str = ""


def _now() -> datetime:
    return datetime.now(UTC)


class BookingStore:
    """Typed access to the two tables; every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # Bookings ----------------------------------------------------------------------------------

    def create_booking(self, **fields: Any) -> Booking:
        """Insert one booking; ``SlotTaken`` when the slot's row already exists (the UNIQUE constraint)."""
        row = {
            "id": fields.pop("id", None) or str(uuid.uuid4()),
            "created_at": fields.pop("created_at", None) or _now(),
            "status": fields.pop("status", "booked"),
            **fields,
        }
        booking = Booking.model_validate(row)
        values = booking.model_dump()
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(bookings).values(**values))
        except IntegrityError:
            if self._slot_row_exists(booking.slot_start):
                raise SlotTaken(booking.slot_start) from None
            raise
        return self.get(booking.id) or booking

    def _slot_row_exists(self, slot_start: datetime) -> bool:
        with self.engine.connect() as conn:
            return (
                conn.execute(select(bookings.c.id).where(bookings.c.slot_start == slot_start)).first()
                is not None
            )

    def get(self, booking_id: str) -> Booking | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(bookings).where(bookings.c.id == booking_id)).mappings().first()
        return Booking.model_validate(dict(row)) if row else None

    def list_bookings(self, since: datetime | None = None) -> list[Booking]:
        """Bookings created at or after ``since``, newest first."""
        query = select(bookings).order_by(bookings.c.created_at.desc())
        if since is not None:
            query = query.where(bookings.c.created_at >= since)
        with self.engine.connect() as conn:
            return [Booking.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def delete(self, booking_id: str) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(delete(bookings).where(bookings.c.id == booking_id)).rowcount > 0

    def booked_slots(self, start: datetime, end: datetime) -> set[datetime]:
        """Starts (UTC) of booked slots in ``[start, end)``."""
        query = select(bookings.c.slot_start).where(
            bookings.c.slot_start >= start, bookings.c.slot_start < end
        )
        with self.engine.connect() as conn:
            return {row[0] for row in conn.execute(query)}

    # Callbacks ---------------------------------------------------------------------------------

    def create_callback(self, **fields: Any) -> Callback:
        row = {
            "id": fields.pop("id", None) or str(uuid.uuid4()),
            "created_at": fields.pop("created_at", None) or _now(),
        }
        callback = Callback.model_validate({**row, **fields})
        with self.engine.begin() as conn:
            conn.execute(insert(callback_requests).values(**callback.model_dump()))
        return callback

    def get_callback(self, callback_id: str) -> Callback | None:
        with self.engine.connect() as conn:
            query = select(callback_requests).where(callback_requests.c.id == callback_id)
            row = conn.execute(query).mappings().first()
        return Callback.model_validate(dict(row)) if row else None

    def list_callbacks(self, since: datetime | None = None) -> list[Callback]:
        query = select(callback_requests).order_by(callback_requests.c.created_at.desc())
        if since is not None:
            query = query.where(callback_requests.c.created_at >= since)
        with self.engine.connect() as conn:
            return [Callback.model_validate(dict(r)) for r in conn.execute(query).mappings()]

    def delete_callback(self, callback_id: str) -> bool:
        with self.engine.begin() as conn:
            return (
                conn.execute(delete(callback_requests).where(callback_requests.c.id == callback_id)).rowcount
                > 0
            )

    # Privacy -----------------------------------------------------------------------------------

    def session_ids_for(self, email: str) -> set[str]:
        """Chat sessions that led to this person's bookings or callbacks (to erase those too, before
        ``erase_person``: session data is keyed on the session, not the email)."""
        needle = email.strip().lower()
        ids: set[str] = set()
        with self.engine.connect() as conn:
            for table in (bookings, callback_requests):
                query = select(table.c.session_id).where(func.lower(table.c.email) == needle)
                ids |= {row[0] for row in conn.execute(query) if row[0]}
        return ids

    def erase_person(self, email: str) -> dict[str, int]:
        """Delete every row keyed on this email, in every table on the shared metadata with an ``email``
        column (bookings, callbacks, and whatever other areas add); counts per table. Case-insensitive.
        """
        needle = email.strip().lower()
        counts: dict[str, int] = {}
        with self.engine.begin() as conn:
            for table in metadata.sorted_tables:
                if "email" not in table.c or not self.engine.dialect.has_table(conn, table.name):
                    continue
                result = conn.execute(delete(table).where(func.lower(table.c.email) == needle))
                counts[table.name] = result.rowcount
        return counts

    def purge_older_than(self, days: int, now: datetime | None = None) -> dict[str, int]:
        """Delete stale enquiries: callbacks created, and bookings whose consultation ended, over ``days`` ago.

        A booking for a future slot is never purged, however long ago it was made.
        """
        cutoff = (now or _now()) - timedelta(days=days)
        with self.engine.begin() as conn:
            stale_bookings = conn.execute(
                delete(bookings).where(bookings.c.created_at < cutoff, bookings.c.slot_end < cutoff)
            ).rowcount
            stale_callbacks = conn.execute(
                delete(callback_requests).where(callback_requests.c.created_at < cutoff)
            ).rowcount
        return {"bookings": stale_bookings, "callback_requests": stale_callbacks}
