"""Identifiers that tie Slack to the assistant: session ids for conversations, and the answer
reference carried by the feedback and share buttons."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, ValidationError

_UNSAFE = re.compile(r"[^A-Za-z0-9_.\-]")


def _session(*parts: str) -> str:
    """``slack:part:part...`` with only the characters a session id may hold (at most 128)."""
    return ":".join(["slack", *(_UNSAFE.sub("-", part or "-") for part in parts)])[:128]


def thread_session(team: str, channel: str, thread_ts: str) -> str:
    """A Slack thread is one conversation: follow-ups in it build on the earlier turns."""
    return _session(team, channel, thread_ts)


def dm_session(team: str, channel: str) -> str:
    """Top-level direct messages with the app are one running conversation."""
    return _session(team, channel)


def command_session(team: str, channel: str, user: str) -> str:
    """``/arrs`` has no thread: one conversation per person per channel."""
    return _session(team, channel, user)


class AnswerRef(BaseModel):
    """Which answer a button belongs to: the (session, turn) pair the feedback store keys on."""

    session_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:\-]+$")
    turn: int = Field(ge=1)

    def encode(self) -> str:
        return f"{self.session_id}|{self.turn}"

    @classmethod
    def decode(cls, value: str | None) -> AnswerRef | None:
        session_id, _, turn = (value or "").rpartition("|")
        try:
            return cls(session_id=session_id, turn=int(turn))
        except (ValueError, ValidationError):
            return None
