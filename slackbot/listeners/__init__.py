"""Bolt listeners, one module per kind; each has ``register(app, deps)``.

Every listener acknowledges at once and does the work in a lazy listener, so Slack always gets
its acknowledgement within three seconds whatever the assistant is doing.
"""

from __future__ import annotations

from slack_bolt import App

from slackbot.deps import SlackDeps
from slackbot.listeners import actions, commands, events
from slackbot.middleware import once_per_event


def register(app: App, deps: SlackDeps) -> None:
    app.middleware(once_per_event(deps))
    events.register(app, deps)
    commands.register(app, deps)
    actions.register(app, deps)
