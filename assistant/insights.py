"""The question log behind the staff insights report: one row per answered question.

Each row keeps what staff need to find coverage gaps (intent, grounded, best retrieval score,
cited documents, latency, channel, financial year) and the session id + turn that joins it to
feedback and bookings. The question text is masked (emails, phone numbers) before it is stored,
and rows older than ``ARRS_QUESTION_LOG_RETENTION_DAYS`` are deleted.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Engine,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)

from assistant.booking.store import UTCDateTime
from assistant.db import create_schema, metadata
from assistant.memory import mask_personal
from assistant.models import Answer

log = logging.getLogger(__name__)

question_log = Table(
    "question_log",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("created_at", UTCDateTime(), nullable=False),
    Column("session_id", String(128), nullable=False),
    Column("turn", Integer, nullable=False),
    Column("channel", String(16), nullable=False),
    Column("intent", String(32), nullable=False),
    Column("grounded", Boolean, nullable=False),
    Column("top_score", Float),
    Column("doc_ids", JSON, nullable=False, default=list),
    Column("latency_ms", Float, nullable=False),
    Column("financial_year", String(16)),
    Column("clarification", Boolean, nullable=False, default=False),
    Column("question", Text, nullable=False),
)
Index("ix_question_log_created_at", question_log.c.created_at)
Index("ix_question_log_session_turn", question_log.c.session_id, question_log.c.turn)


class LoggedQuestion(BaseModel):
    """One stored row; ``question`` is already masked."""

    id: int | None = None
    created_at: datetime
    session_id: str
    turn: int
    channel: str
    intent: str
    grounded: bool
    top_score: float | None = None
    doc_ids: list[str] = Field(default_factory=list)
    latency_ms: float
    financial_year: str | None = None
    clarification: bool = Field(
        default=False, description="The answer asked the user for a missing detail (not a coverage gap)."
    )
    question: str


class QuestionLog:
    """Typed access to ``question_log``; every write is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def record(
        self,
        *,
        question: str,
        session_id: str,
        turn: int,
        channel: str,
        intent: str,
        grounded: bool,
        top_score: float | None,
        doc_ids: list[str],
        seconds: float,
        financial_year: str | None = None,
        clarification: bool = False,
        created_at: datetime | None = None,
    ) -> LoggedQuestion:
        """Store one question. Masking happens here, so no caller can store a raw email or phone."""
        row = LoggedQuestion(
            created_at=created_at or datetime.now(UTC),
            session_id=session_id,
            turn=turn,
            channel=channel,
            intent=intent,
            grounded=grounded,
            top_score=None if top_score is None else float(top_score),
            doc_ids=list(dict.fromkeys(doc_ids)),
            latency_ms=round(seconds * 1000.0, 3),
            financial_year=financial_year,
            clarification=clarification,
            question=mask_personal(question),
        )
        with self.engine.begin() as connection:
            result = connection.execute(insert(question_log).values(**row.model_dump(exclude={"id"})))
            row.id = result.inserted_primary_key[0] if result.inserted_primary_key else None
        return row

    def rows(self, since: datetime | None = None) -> list[LoggedQuestion]:
        """Logged questions created at or after ``since``, oldest first (a stable order for grouping)."""
        query = select(question_log).order_by(question_log.c.created_at, question_log.c.id)
        if since is not None:
            query = query.where(question_log.c.created_at >= since)
        with self.engine.connect() as connection:
            return [LoggedQuestion.model_validate(dict(row)) for row in connection.execute(query).mappings()]

    def purge_older_than(self, days: int, now: datetime | None = None) -> int:
        """Delete rows created more than ``days`` ago; returns how many went."""
        cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
        with self.engine.begin() as connection:
            return connection.execute(delete(question_log).where(question_log.c.created_at < cutoff)).rowcount


def is_clarification(answer: Answer) -> bool:
    """A calculation that stopped to ask for a missing detail (area, WTE, dates): the next turn answers it."""
    return str(answer.intent) == "calculation" and not answer.grounded and answer.calculation is None


def make_observer(engine: Engine) -> Callable[..., None]:
    """An ``Assistant.observers`` callable that logs every answer."""
    store = QuestionLog(engine)

    def observe(
        *,
        answer: Answer,
        top_score: float | None,
        channel: str,
        seconds: float,
        question: str,
        **_: Any,
    ) -> None:
        store.record(
            question=question,
            session_id=answer.session_id,
            turn=answer.turn,
            channel=channel,
            intent=str(answer.intent),
            grounded=answer.grounded,
            top_score=top_score,
            doc_ids=[citation.doc_id for citation in answer.citations],
            seconds=seconds,
            financial_year=answer.financial_year,
            clarification=is_clarification(answer),
        )

    observe.question_log_engine = engine  # type: ignore[attr-defined]  # marks it for attach_insights
    return observe


def attach_insights(assistant: Any) -> QuestionLog:
    """Log every answer of ``assistant`` from now on (idempotent), after purging expired rows.

    Called once at start-up, so the retention purge runs whenever the app starts.
    """
    engine = assistant.engine
    create_schema(engine)
    store = QuestionLog(engine)
    days = assistant.settings.question_log_retention_days
    purged = store.purge_older_than(days)
    if purged:
        log.info("question log retention: %d row(s) older than %d days deleted", purged, days)
    observers = getattr(assistant, "observers", None)
    if observers is None:
        observers = assistant.observers = []
    if not any(getattr(observer, "question_log_engine", None) is engine for observer in observers):
        observers.append(make_observer(engine))
    return store
