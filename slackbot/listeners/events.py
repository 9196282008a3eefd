"""Mentions in channels (answered in their thread) and direct messages (answered in the DM)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient

from slackbot import replies
from slackbot.blocks import help_message, is_help
from slackbot.deps import SlackDeps
from slackbot.refs import dm_session, thread_session
from slackbot.text import slack_to_plain


def _from_a_bot(event: dict[str, Any]) -> bool:
    return bool(event.get("bot_id") or event.get("bot_profile") or event.get("subtype") == "bot_message")


def _team(context: BoltContext, body: dict[str, Any], event: dict[str, Any]) -> str:
    return str(context.team_id or body.get("team_id") or event.get("team") or "-")


def _answer(
    deps: SlackDeps,
    client: WebClient,
    context: BoltContext,
    event: dict[str, Any],
    *,
    session_id: str,
    thread_ts: str | None,
) -> None:
    channel = str(event["channel"])
    question = slack_to_plain(str(event.get("text") or ""), context.bot_user_id)
    if is_help(question):
        replies.post_or_apologise(client, channel, [help_message()], thread_ts)
        return
    reply = replies.ask(deps, question, session_id)
    replies.post_or_apologise(client, channel, reply.messages(), thread_ts)


def register(app: App, deps: SlackDeps) -> None:
    def acknowledge(ack: Ack) -> None:
        ack()

    def answer_mention(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        if _from_a_bot(event):
            return
        thread_ts = str(event.get("thread_ts") or event["ts"])
        session_id = thread_session(_team(context, body, event), str(event["channel"]), thread_ts)
        _answer(deps, client, context, event, session_id=session_id, thread_ts=thread_ts)

    def answer_direct_message(
        event: dict[str, Any], body: dict[str, Any], context: BoltContext, client: WebClient
    ) -> None:
        # Only what a person typed in a DM: no edits, joins or other subtypes, no bots.
        if event.get("channel_type") != "im" or event.get("subtype") or _from_a_bot(event):
            return
        team, channel = _team(context, body, event), str(event["channel"])
        thread_ts = event.get("thread_ts")
        session_id = thread_session(team, channel, str(thread_ts)) if thread_ts else dm_session(team, channel)
        _answer(deps, client, context, event, session_id=session_id, thread_ts=thread_ts)

    app.event("app_mention")(ack=acknowledge, lazy=[answer_mention])
    # Every message event is acknowledged (an unhandled one would be answered 404 and retried).
    app.event("message")(ack=acknowledge, lazy=[answer_direct_message])
