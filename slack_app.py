"""The Slack app for staff: wiring only (listeners live in ``slackbot.listeners``).

Two ways to run it:
- HTTP mode: ``mount_slack(fastapi_app, assistant, settings)`` adds ``POST /slack/events`` to the
  API server, with every request's signature checked against SLACK_SIGNING_SECRET;
- Socket Mode: ``arrs slack`` (``run_socket_mode``), with SLACK_BOT_TOKEN and SLACK_APP_TOKEN,
  for a workspace that cannot reach the server.
"""

from __future__ import annotations

import logging
from concurrent.futures import Executor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.fastapi import SlackRequestHandler
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from assistant.settings import Settings
from slackbot import listeners
from slackbot.client import web_client
from slackbot.deps import SlackDeps

log = logging.getLogger("arrs.slack")

EVENTS_PATH = "/slack/events"


class SlackNotConfigured(RuntimeError):
    """A Slack setting the chosen mode needs is missing."""


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value else None


def build_app(
    assistant: Any,
    settings: Settings,
    *,
    client: WebClient | None = None,
    process_before_response: bool = False,
    listener_executor: Executor | None = None,
) -> App:
    """The Bolt app. ``assistant`` is an Assistant or a zero-argument callable returning one (None
    while it loads). ``process_before_response=True`` is for tests: listeners' acknowledgements
    then complete before the HTTP response (answers still come from lazy listeners), and a
    ``listener_executor`` they can shut down waits for every answer in flight."""
    app = App(
        client=client or web_client(settings),
        signing_secret=_secret(settings.slack_signing_secret) or "",
        token_verification_enabled=False,
        process_before_response=process_before_response,
        logger=logging.getLogger("arrs.slack.bolt"),
        listener_executor=listener_executor,
    )
    listeners.register(app, SlackDeps(assistant, timezone=settings.timezone))
    return app


class _ThreadedHandler(SlackRequestHandler):
    """Bolt's FastAPI adapter, with the blocking dispatch moved off the event loop."""

    async def handle(
        self, req: Request, addition_context_properties: dict[str, Any] | None = None
    ) -> Response:
        if req.method != "POST":
            return await super().handle(req, addition_context_properties)
        body = await req.body()
        request = to_bolt_request(req, body, addition_context_properties)
        return to_starlette_response(await run_in_threadpool(self.app.dispatch, request))


def mount_slack(fastapi_app: Any, assistant: Any, settings: Settings, **options: Any) -> bool:
    """Add ``POST /slack/events`` when SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET are set.

    Returns False, and logs that Slack is off, otherwise. ``options`` go to ``build_app``.
    """
    missing = [
        name
        for name, value in (
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
        )
        if not _secret(value)
    ]
    if missing:
        log.info("Slack is off: %s not set, so %s is not mounted", " and ".join(missing), EVENTS_PATH)
        return False
    handler = _ThreadedHandler(build_app(assistant, settings, **options))

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    fastapi_app.add_api_route(EVENTS_PATH, slack_events, methods=["POST"], include_in_schema=False)
    fastapi_app.state.slack_app = handler.app
    log.info("Slack is on: events, commands and actions at POST %s", EVENTS_PATH)
    return True


def run_socket_mode(settings: Settings | None = None) -> None:
    """Connect to Slack over Socket Mode and answer until interrupted (``arrs slack``)."""
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    from assistant.chain import Assistant

    settings = settings or Settings()
    app_token = _secret(settings.slack_app_token)
    if not (_secret(settings.slack_bot_token) and app_token):
        raise SlackNotConfigured(
            "Socket Mode needs SLACK_BOT_TOKEN (xoxb-...) and SLACK_APP_TOKEN (xapp-...)."
        )
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    from slackbot.leads import lead_notifier

    assistant = Assistant.from_settings(settings)
    assistant.lead_notifier = lead_notifier(settings)
    app = build_app(assistant, settings)
    log.info("Slack is on: Socket Mode")
    SocketModeHandler(app, app_token).start()
