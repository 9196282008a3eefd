"""The Slack Web API client for a given configuration (a local fake in tests)."""

from __future__ import annotations

from slack_sdk import WebClient

from assistant.settings import Settings


def web_client(settings: Settings) -> WebClient:
    token = settings.slack_bot_token.get_secret_value() if settings.slack_bot_token else None
    if settings.slack_api_url:
        base_url = settings.slack_api_url.rstrip("/") + "/"
        return WebClient(token=token, base_url=base_url)
    return WebClient(token=token)
