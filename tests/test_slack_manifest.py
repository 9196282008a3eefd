"""The checked-in Slack manifest matches what the app listens for."""

from __future__ import annotations

from pathlib import Path

import yaml

from slack_app import EVENTS_PATH
from slackbot.blocks import COMMAND

MANIFEST = Path(__file__).resolve().parent.parent / "slack" / "manifest.yaml"


def test_manifest_subscribes_to_what_the_app_handles() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    settings = manifest["settings"]
    assert set(settings["event_subscriptions"]["bot_events"]) == {"app_mention", "message.im"}
    assert settings["interactivity"]["is_enabled"] is True
    [command] = manifest["features"]["slash_commands"]
    assert command["command"] == COMMAND
    urls = [
        command["url"],
        settings["event_subscriptions"]["request_url"],
        settings["interactivity"]["request_url"],
    ]
    assert all(url.startswith("https://") and url.endswith(EVENTS_PATH) for url in urls)
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {"app_mentions:read", "chat:write", "commands", "im:history"} <= scopes
