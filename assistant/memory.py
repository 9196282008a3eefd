"""Conversation sessions: what earlier turns established, so follow-ups can build on them.

Stored through the shared SQL engine (SQLite by default, PostgreSQL for replicas) so that any
replica can continue any conversation, and a Slack thread is simply one session id.
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Engine,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)

from assistant.db import metadata

sessions_table = Table(
    "conversation_sessions",
    metadata,
    Column("id", String(128), primary_key=True),
    Column("channel", String(16), nullable=False, default="api"),
    Column("state", Text, nullable=False, default="{}"),
    Column("turns", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, index=True),
)

turns_table = Table(
    "conversation_turns",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(128), ForeignKey("conversation_sessions.id", ondelete="CASCADE"), index=True),
    Column("turn", Integer, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("intent", String(32), nullable=False),
    Column("grounded", Boolean, nullable=False),
    Column("financial_year", String(16)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE = re.compile(r"(?:\+44\s?\(?0?\)?|\b0)(?:[\s-]?\d){9,10}\b")
_SESSION_ID = re.compile(r"^[A-Za-z0-9_.:\-]{1,128}$")


def mask_personal(text: str) -> str:
    """Emails and phone numbers never reach stored logs or transcripts."""
    return _PHONE.sub("[phone]", _EMAIL.sub("[email]", text))


def valid_session_id(value: str) -> bool:
    return bool(_SESSION_ID.match(value))


class SessionState(BaseModel):
    """What a conversation has established so far (serialised as JSON)."""

    slots: dict[str, Any] = Field(default_factory=dict)
    last_intent: str | None = None
    last_operation: str | None = None
    last_question: str | None = None
    pending: dict[str, Any] | None = None
    booking: dict[str, Any] | None = None
    transcript: list[str] = Field(default_factory=list)


class SessionStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    @staticmethod
    def new_id() -> str:
        return uuid.uuid4().hex

    def load(self, session_id: str) -> tuple[SessionState, int]:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(sessions_table.c.state, sessions_table.c.turns).where(
                    sessions_table.c.id == session_id
                )
            ).first()
        if row is None:
            return SessionState(), 0
        return SessionState.model_validate(json.loads(row.state)), int(row.turns)

    def save_turn(
        self,
        session_id: str,
        state: SessionState,
        *,
        question: str,
        answer: str,
        intent: str,
        grounded: bool,
        financial_year: str | None,
        channel: str = "api",
    ) -> int:
        """Persist the new state and the turn; returns the 1-based turn number."""
        now = datetime.now(UTC)
        state.transcript = [*state.transcript, f"User: {mask_personal(question)}"][-20:]
        payload = state.model_dump_json()
        with self.engine.begin() as connection:
            current = connection.execute(
                select(sessions_table.c.turns).where(sessions_table.c.id == session_id).with_for_update()
            ).scalar()
            if current is None:
                turn = 1
                connection.execute(
                    insert(sessions_table).values(
                        id=session_id,
                        channel=channel,
                        state=payload,
                        turns=turn,
                        created_at=now,
                        updated_at=now,
                    )
                )
            else:
                turn = int(current) + 1
                connection.execute(
                    update(sessions_table)
                    .where(sessions_table.c.id == session_id)
                    .values(state=payload, turns=turn, updated_at=now)
                )
            connection.execute(
                insert(turns_table).values(
                    session_id=session_id,
                    turn=turn,
                    question=mask_personal(question),
                    answer=mask_personal(answer),
                    intent=intent,
                    grounded=grounded,
                    financial_year=financial_year,
                    created_at=now,
                )
            )
        return turn

    def turns(self, session_id: str) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(turns_table).where(turns_table.c.session_id == session_id).order_by(turns_table.c.turn)
            ).mappings()
            return [dict(row) for row in rows]

    def purge_older_than(self, days: int) -> int:
        cutoff = datetime.now(UTC) - timedelta(days=days)
        with self.engine.begin() as connection:
            stale = select(sessions_table.c.id).where(sessions_table.c.updated_at < cutoff)
            connection.execute(delete(turns_table).where(turns_table.c.session_id.in_(stale)))
            return connection.execute(
                delete(sessions_table).where(sessions_table.c.updated_at < cutoff)
            ).rowcount


def erase_sessions(engine: Engine, session_ids: set[str]) -> dict[str, int]:
    """Delete every row of these conversations in every table that records a session (turns, feedback,
    question logs...): a person's erasure request covers what they said, not only their booking."""
    import assistant.feedback
    import assistant.insights  # noqa: F401 - register every table that records a session
    from assistant.db import create_schema
    from assistant.db import metadata as shared

    if not session_ids:
        return {}
    create_schema(engine)
    counts: dict[str, int] = {}
    ids = sorted(session_ids)
    with engine.begin() as connection:
        for table in reversed(shared.sorted_tables):
            column = table.c.get("session_id")
            if column is not None and "email" not in table.c:  # people's records go by their email
                counts[table.name] = connection.execute(delete(table).where(column.in_(ids))).rowcount
        counts[sessions_table.name] = connection.execute(
            delete(sessions_table).where(sessions_table.c.id.in_(ids))
        ).rowcount
    return {name: count for name, count in counts.items() if count}
