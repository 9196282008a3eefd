"""Socket Mode (``arrs slack``): refuses to start without its tokens, and otherwise hands the
Bolt app and the app-level token to Bolt's Socket Mode handler."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr
from slack_bolt import App

import slack_app
from assistant.settings import Settings


def test_socket_mode_needs_both_tokens(settings: Settings) -> None:
    with pytest.raises(slack_app.SlackNotConfigured, match="SLACK_APP_TOKEN"):
        slack_app.run_socket_mode(settings.model_copy(update={"slack_bot_token": SecretStr("xoxb-test")}))


def test_socket_mode_starts_the_handler(
    assistant_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[tuple[Any, str]] = []

    class Handler:
        def __init__(self, app: App, app_token: str) -> None:
            self.app, self.app_token = app, app_token

        def start(self) -> None:
            started.append((self.app, self.app_token))

    monkeypatch.setattr("slack_bolt.adapter.socket_mode.SocketModeHandler", Handler)
    settings = assistant_settings.model_copy(
        update={"slack_bot_token": SecretStr("xoxb-test"), "slack_app_token": SecretStr("xapp-test")}
    )
    slack_app.run_socket_mode(settings)
    [(app, token)] = started
    assert isinstance(app, App) and token == "xapp-test"
