"""Button clicks: feedback on an answer (the same store as the web feedback) and sharing an
ephemeral ``/arrs`` answer in the channel."""

from __future__ import annotations

import logging
import re
from typing import Any

from slack_bolt import Ack, App, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from assistant.feedback import FeedbackIn
from slackbot import replies
from slackbot.blocks import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    SHARE_EXPIRED,
    answer_messages,
    with_feedback,
)
from slackbot.deps import SlackDeps
from slackbot.refs import AnswerRef

log = logging.getLogger("arrs.slack")

_FEEDBACK = re.compile(f"^({ACTION_FEEDBACK_UP}|{ACTION_FEEDBACK_DOWN})$")
# The app cannot post in a channel it has not joined: fall back to the command's response_url.
_NOT_A_MEMBER = {"not_in_channel", "channel_not_found"}


def _channel(body: dict[str, Any]) -> str:
    return str((body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id") or "")


def register(app: App, deps: SlackDeps) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def record_feedback(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ref = AnswerRef.decode(action.get("value"))
        if ref is None:
            log.warning("feedback button with an unreadable value ignored")
            return
        rating = "up" if action.get("action_id") == ACTION_FEEDBACK_UP else "down"
        user = str((body.get("user") or {}).get("id") or "")
        deps.feedback().record(
            FeedbackIn(session_id=ref.session_id, turn=ref.turn, rating=rating), channel="slack"
        )
        log.info(
            "slack feedback stored", extra={"session": ref.session_id, "turn": ref.turn, "rating": rating}
        )
        message = body.get("message")
        if message and not (body.get("container") or {}).get("is_ephemeral"):
            blocks = with_feedback(message.get("blocks") or [], rating, user)
            try:
                client.chat_update(
                    channel=_channel(body), ts=message["ts"], blocks=blocks, text=message.get("text", "")
                )
            except SlackApiError:
                respond(replace_original=True, blocks=blocks, text=message.get("text", ""))
            return
        # An ephemeral answer comes back without its message: rebuild it from the kept copy.
        stored = deps.answers().get(ref)
        if stored is None:
            respond(
                response_type="ephemeral", replace_original=False, text="Thank you: your rating is recorded."
            )
            return
        last = answer_messages(
            stored.answer, question=stored.question, asked_by=stored.user_id, ephemeral=True
        )[-1]
        respond(replace_original=True, text=last.text, blocks=with_feedback(last.blocks, rating, user))

    def share_answer(
        body: dict[str, Any], action: dict[str, Any], client: WebClient, respond: Respond
    ) -> None:
        ref = AnswerRef.decode(action.get("value"))
        stored = deps.answers().get(ref) if ref is not None else None
        if stored is None:
            respond(response_type="ephemeral", replace_original=False, text=SHARE_EXPIRED)
            return
        user = str((body.get("user") or {}).get("id") or "")
        messages = answer_messages(
            stored.answer, question=stored.question, asked_by=stored.user_id, shared_by=user
        )
        try:
            replies.post(client, _channel(body), messages)
        except SlackApiError as exc:
            if exc.response.get("error") not in _NOT_A_MEMBER:
                raise
            for message in messages:
                respond(response_type="in_channel", replace_original=False, **message.kwargs())
        log.info("slack answer shared", extra={"session": ref.session_id, "turn": ref.turn})
        respond(delete_original=True)

    app.action(_FEEDBACK)(ack=acknowledge, lazy=[record_feedback])
    app.action(ACTION_SHARE)(ack=acknowledge, lazy=[share_answer])
