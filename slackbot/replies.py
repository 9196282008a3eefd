"""Asking the assistant on behalf of a Slack user, and posting the reply.

Every path ends in a message: an answer, the assistant's own user-facing error, or a short
apology. Logs carry ids and outcomes only, never what anyone wrote.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from pydantic import BaseModel
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.models import Answer, AssistantError
from slackbot.blocks import APOLOGY, NOT_READY, SlackMessage, answer_messages, notice
from slackbot.deps import NotReady, SlackDeps
from slackbot.text import SECTION_LIMIT, truncate

log = logging.getLogger("arrs.slack")

# Errors after which the same message is retried as plain text rather than dropped.
_BLOCK_ERRORS = {"invalid_blocks", "invalid_blocks_format", "msg_too_long", "too_many_blocks"}


class Reply(BaseModel):
    answer: Answer | None = None
    error: str | None = None

    def messages(
        self, *, question: str | None = None, asked_by: str | None = None, ephemeral: bool = False
    ) -> list[SlackMessage]:
        if self.answer is not None:
            return answer_messages(self.answer, question=question, asked_by=asked_by, ephemeral=ephemeral)
        return [notice(self.error or APOLOGY)]


def ask(deps: SlackDeps, question: str, session_id: str) -> Reply:
    try:
        answer = deps.assistant().ask(question, session_id=session_id, channel="slack")
    except NotReady:
        return Reply(error=NOT_READY)
    except AssistantError as exc:
        return Reply(error=str(exc))
    except Exception:
        log.exception("the assistant failed on a Slack question (session %s)", session_id)
        return Reply(error=APOLOGY)
    log.info(
        "slack answer",
        extra={
            "session": session_id,
            "turn": answer.turn,
            "intent": answer.intent,
            "grounded": answer.grounded,
        },
    )
    return Reply(answer=answer)


def post(
    client: WebClient, channel: str, messages: Sequence[SlackMessage], thread_ts: str | None = None
) -> list[str]:
    """Post the messages in order (in a thread when ``thread_ts``); returns their timestamps."""
    stamps = []
    for message in messages:
        options = {"channel": channel, "thread_ts": thread_ts, "unfurl_links": False, "unfurl_media": False}
        try:
            response = client.chat_postMessage(**options, **message.kwargs())
        except SlackApiError as exc:
            if exc.response.get("error") not in _BLOCK_ERRORS:
                raise
            log.warning("blocks refused (%s); posting plain text", exc.response.get("error"))
            response = client.chat_postMessage(**options, text=truncate(message.text, SECTION_LIMIT))
        stamps.append(str(response.get("ts", "")))
    return stamps


def post_or_apologise(
    client: WebClient, channel: str, messages: Sequence[SlackMessage], thread_ts: str | None = None
) -> None:
    """Post; if that fails, try once to say sorry in the same place, so the person is never left
    waiting in silence."""
    try:
        post(client, channel, messages, thread_ts)
    except Exception:
        log.exception("posting a reply failed (channel %s)", channel)
        try:
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=APOLOGY)
        except Exception:
            log.exception("posting the apology failed too (channel %s)", channel)
