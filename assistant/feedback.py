"""Thumbs up or down on an answer, from the widget or Slack: one store, one shape."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    select,
    update,
)

from assistant.db import metadata
from assistant.memory import mask_personal

feedback_table = Table(
    "feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(128), nullable=False, index=True),
    Column("turn", Integer, nullable=False),
    Column("rating", String(8), nullable=False),
    Column("comment", Text),
    Column("channel", String(16), nullable=False, default="api"),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("session_id", "turn", name="uq_feedback_session_turn"),
)


class FeedbackIn(BaseModel):
    session_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
    turn: int = Field(ge=1, le=10_000)
    rating: Literal["up", "down"]
    comment: str | None = Field(default=None, max_length=2000)


class FeedbackStore:
    def __init__(self, engine: Engine):
        self.engine = engine

    def record(self, feedback: FeedbackIn, channel: str = "api") -> None:
        """One rating per answer: a second click changes the rating rather than adding a row."""
        values = {
            "rating": feedback.rating,
            "comment": mask_personal(feedback.comment) if feedback.comment else None,
            "channel": channel,
            "created_at": datetime.now(UTC),
        }
        with self.engine.begin() as connection:
            existing = connection.execute(
                select(feedback_table.c.id).where(
                    feedback_table.c.session_id == feedback.session_id, feedback_table.c.turn == feedback.turn
                )
            ).scalar()
            if existing is None:
                connection.execute(
                    insert(feedback_table).values(
                        session_id=feedback.session_id, turn=feedback.turn, **values
                    )
                )
            else:
                connection.execute(
                    update(feedback_table).where(feedback_table.c.id == existing).values(**values)
                )

    def all(self) -> list[dict]:
        with self.engine.connect() as connection:
            return [dict(row) for row in connection.execute(select(feedback_table)).mappings()]
