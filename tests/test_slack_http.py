"""HTTP mode: ``POST /slack/events`` mounted on a FastAPI app, served by uvicorn on a free port,
called over real HTTP with signed requests, answering through the fake Slack Web API."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
import uvicorn
from api_support import wait_for
from conftest import free_port
from fake_slack import (
    BOT_TOKEN,
    SIGNING_SECRET,
    USER_ID,
    FakeSlack,
    SpyAssistant,
    action_body,
    button,
    command_body,
    event_body,
    mention,
    signed_headers,
)
from fastapi import FastAPI
from pydantic import SecretStr

from assistant.settings import Settings
from slack_app import EVENTS_PATH, mount_slack
from slackbot.blocks import ACTION_SHARE, NOT_READY

pytestmark = pytest.mark.integration

CHANNEL = "C0GENERAL"
QUESTION = "What is the maximum reimbursement for a clinical pharmacist in 2025/26?"
FORM = "application/x-www-form-urlencoded"


class Served:
    """A FastAPI app with the Slack route, running under uvicorn in a thread."""

    def __init__(self, app: FastAPI) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()

        def listening() -> bool:
            assert self.thread.is_alive(), "uvicorn exited during start-up"
            return self.server.started

        wait_for(listening, timeout=30, what="uvicorn listening")
        self.client = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=30)

    def post(self, body: str, *, content_type: str = "application/json", **signing: Any) -> httpx.Response:
        headers = signed_headers(body, content_type=content_type, **signing)
        return self.client.post(EVENTS_PATH, content=body.encode(), headers=headers)

    def close(self) -> None:
        self.client.close()
        self.server.should_exit = True
        self.thread.join(timeout=30)


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack_settings(assistant_settings: Settings, fake: FakeSlack) -> Settings:
    return assistant_settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake.api_url,
        }
    )


@pytest.fixture
def serve(slack_settings: Settings) -> Iterator[Callable[..., tuple[Served, ThreadPoolExecutor]]]:
    started: list[tuple[Served, ThreadPoolExecutor]] = []

    def start(target: Any, *, process_before_response: bool = True) -> tuple[Served, ThreadPoolExecutor]:
        app = FastAPI()
        executor = ThreadPoolExecutor(max_workers=4)
        mounted = mount_slack(
            app,
            target,
            slack_settings,
            process_before_response=process_before_response,
            listener_executor=executor,
        )
        assert mounted
        served = Served(app)
        started.append((served, executor))
        return served, executor

    yield start
    for served, executor in started:
        served.close()
        executor.shutdown(wait=True)


def test_signed_mention_over_http_is_answered_in_its_thread_with_citations(
    serve, fake: FakeSlack, assistant
) -> None:
    expected = assistant.ask(QUESTION, session_id="control-http")
    served, _ = serve(assistant)
    response = served.post(event_body(mention(QUESTION, channel=CHANNEL, ts="1800000101.000100")))
    assert response.status_code == 200
    [post] = fake.wait_for("chat.postMessage")
    assert (post.params["channel"], post.params["thread_ts"]) == (CHANNEL, "1800000101.000100")
    for citation in expected.citations:
        assert f"*[{citation.n}]* <{citation.url}|" in post.block_text()


def test_forged_or_stale_requests_get_401_and_nothing_is_posted(serve, fake: FakeSlack, assistant) -> None:
    spy = SpyAssistant(assistant)
    served, executor = serve(spy)
    body = event_body(mention(QUESTION, channel=CHANNEL, ts="1800000102.000100"))
    assert served.post(body, secret="forged").status_code == 401
    assert served.post(body, timestamp=int(time.time()) - 6 * 60).status_code == 401
    unsigned = served.client.post(
        EVENTS_PATH, content=body.encode(), headers={"content-type": "application/json"}
    )
    assert unsigned.status_code == 401
    executor.shutdown(wait=True)
    assert spy.questions == []
    assert not [m for m in fake.methods() if m.startswith("chat.")]


def test_retry_over_http_is_acknowledged_and_answered_once(serve, fake: FakeSlack, assistant) -> None:
    spy = SpyAssistant(assistant)
    served, executor = serve(spy)
    body = event_body(mention(QUESTION, channel=CHANNEL, ts="1800000103.000100"), event_id="EvHTTPRETRY")
    assert [served.post(body, **extra).status_code for extra in ({}, {"retry": 1}, {"retry": 2}, {})] == [
        200
    ] * 4
    executor.shutdown(wait=True)
    assert spy.questions == [QUESTION]
    assert len(fake.calls_to("chat.postMessage")) == 1


def test_slash_command_and_share_over_http(serve, fake: FakeSlack, assistant) -> None:
    served, _ = serve(assistant)
    response = served.post(command_body(QUESTION, response_url=fake.response_url("cmd")), content_type=FORM)
    assert response.status_code == 200
    [private] = fake.wait_for("response_url")
    assert private.params["response_type"] == "ephemeral"
    served.post(
        action_body(button(private, ACTION_SHARE), response_url=fake.response_url("share")), content_type=FORM
    )
    [shared] = fake.wait_for("chat.postMessage")
    assert shared.params["channel"] == CHANNEL and f"Shared by <@{USER_ID}>" in shared.block_text()


def test_slack_is_acknowledged_before_the_answer_is_ready(serve, fake: FakeSlack, assistant) -> None:
    """Production settings (process_before_response off): Slack's request returns while the
    assistant is still working, so a slow answer can never cause a retry."""
    gate = threading.Event()
    spy = SpyAssistant(assistant, gate=gate)
    served, _ = serve(spy, process_before_response=False)
    response = served.post(event_body(mention(QUESTION, channel=CHANNEL, ts="1800000104.000100")))
    assert response.status_code == 200
    assert spy.started.wait(30)  # the assistant has the question ...
    assert fake.calls_to("chat.postMessage") == []  # ... and has not answered yet
    gate.set()
    [post] = fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1800000104.000100"


def test_while_the_assistant_loads_slack_is_told_to_wait(serve, fake: FakeSlack) -> None:
    served, _ = serve(lambda: None)  # the server mounts Slack before the index has loaded
    served.post(event_body(mention(QUESTION, channel=CHANNEL, ts="1800000105.000100")))
    [post] = fake.wait_for("chat.postMessage")
    assert post.params["text"] == NOT_READY


def test_without_slack_settings_the_route_is_not_mounted(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = FastAPI()
    with caplog.at_level(logging.INFO, logger="arrs.slack"):
        assert mount_slack(app, lambda: None, settings) is False
    assert "Slack is off" in caplog.text and "SLACK_BOT_TOKEN" in caplog.text
    assert EVENTS_PATH not in json.dumps(app.openapi()) and all(
        getattr(route, "path", "") != EVENTS_PATH for route in app.routes
    )
    only_token = settings.model_copy(update={"slack_bot_token": SecretStr(BOT_TOKEN)})
    with caplog.at_level(logging.INFO, logger="arrs.slack"):
        assert mount_slack(app, lambda: None, only_token) is False
    assert "SLACK_SIGNING_SECRET" in caplog.text


def test_the_api_server_serves_slack_when_configured(
    slack_settings: Settings, fake: FakeSlack, assistant
) -> None:
    from server import create_app

    served = Served(create_app(slack_settings, assistant=assistant))
    try:
        response = served.post(event_body(mention(QUESTION, channel=CHANNEL, ts="1800000106.000100")))
        assert response.status_code == 200
        [post] = fake.wait_for("chat.postMessage")
        assert post.params["thread_ts"] == "1800000106.000100" and "*Sources*" in post.block_text()
        assert (
            served.post(event_body(mention(QUESTION, channel=CHANNEL, ts="1")), secret="forged").status_code
            == 401
        )
    finally:
        served.close()


def test_the_api_server_without_slack_settings_has_no_slack_route(settings: Settings, assistant) -> None:
    from server import create_app

    served = Served(create_app(settings, assistant=assistant))
    try:
        assert served.post(event_body(mention(QUESTION, ts="1"))).status_code == 404
    finally:
        served.close()
