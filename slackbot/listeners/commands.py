"""``/arrs QUESTION``: an answer only the asker sees, with a button to share it in the channel."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from slackbot import replies
from slackbot.blocks import APOLOGY, COMMAND, help_message, is_help
from slackbot.deps import SlackDeps
from slackbot.refs import command_session
from slackbot.text import slack_to_plain

log = logging.getLogger("arrs.slack")


def register(app: App, deps: SlackDeps) -> None:
    def acknowledge(ack: Ack, command: dict[str, Any]) -> None:
        if is_help(slack_to_plain(str(command.get("text") or ""))):
            ack(response_type="ephemeral", **help_message().kwargs())
        else:
            ack()

    def answer_command(command: dict[str, Any], context: BoltContext, respond: Respond) -> None:
        question = slack_to_plain(str(command.get("text") or ""), context.bot_user_id)
        if is_help(question):
            return
        user = str(command.get("user_id") or "")
        team = str(context.team_id or command.get("team_id") or "-")
        session_id = command_session(team, str(command.get("channel_id") or "-"), user)
        reply = replies.ask(deps, question, session_id)
        if reply.answer is not None:
            try:
                deps.answers().put(reply.answer, question, user)
            except Exception:  # sharing will say the answer expired; the answer itself still goes out
                log.exception("could not keep the answer for sharing (session %s)", session_id)
        try:
            for message in reply.messages(question=question, asked_by=user or None, ephemeral=True):
                respond(response_type="ephemeral", **message.kwargs())
        except Exception:
            log.exception("responding to %s failed (session %s)", COMMAND, session_id)
            respond(response_type="ephemeral", text=APOLOGY)

    app.command(COMMAND)(ack=acknowledge, lazy=[answer_command])
