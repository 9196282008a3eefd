"""Answers given with ``/arrs``, kept for a day so their buttons can act on them.

Slack does not send an ephemeral message back with a button click, so "Share in channel" (and
the feedback note on an ephemeral answer) re-render the answer from here. Stored in the shared
SQL database, so any replica can handle the click; on its own table (its own ``MetaData``),
because the core knows nothing of Slack.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from pydantic import BaseModel
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
)

from assistant.memory import mask_personal
from assistant.models import Answer
from slackbot.refs import AnswerRef

KEEP = timedelta(days=1)

slack_metadata = MetaData()
slack_answers = Table(
    "slack_answers",
    slack_metadata,
    Column("session_id", String(128), primary_key=True),
    Column("turn", Integer, primary_key=True),
    Column("question", Text, nullable=False),
    Column("user_id", String(32)),
    Column("answer", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
)


class StoredAnswer(BaseModel):
    answer: Answer
    question: str
    user_id: str | None = None


class AnswerStore:
    def __init__(self, engine: Engine, keep: timedelta = KEEP) -> None:
        self.engine = engine
        self.keep = keep
        slack_metadata.create_all(engine)

    def put(self, answer: Answer, question: str, user_id: str | None) -> None:
        """Keep one answer (and drop those past their day: the table never grows)."""
        now = datetime.now(UTC)
        with self.engine.begin() as connection:
            connection.execute(delete(slack_answers).where(slack_answers.c.created_at < now - self.keep))
            connection.execute(
                delete(slack_answers).where(
                    slack_answers.c.session_id == answer.session_id, slack_answers.c.turn == answer.turn
                )
            )
            connection.execute(
                insert(slack_answers).values(
                    session_id=answer.session_id,
                    turn=answer.turn,
                    question=mask_personal(question),
                    user_id=user_id,
                    answer=answer.model_dump_json(),
                    created_at=now,
                )
            )

    def get(self, ref: AnswerRef) -> StoredAnswer | None:
        cutoff = datetime.now(UTC) - self.keep
        with self.engine.connect() as connection:
            row = connection.execute(
                select(slack_answers).where(
                    slack_answers.c.session_id == ref.session_id,
                    slack_answers.c.turn == ref.turn,
                    slack_answers.c.created_at >= cutoff,
                )
            ).first()
        if row is None:
            return None
        return StoredAnswer(
            answer=Answer.model_validate_json(row.answer), question=row.question, user_id=row.user_id
        )
