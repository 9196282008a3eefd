"""A fake Slack for the Slack app's tests: a Web API on 127.0.0.1 that records every call, and
builders for the signed requests Slack would send.

The fake answers like Slack (``ok: true`` with a ``ts`` for posts) and can be told to fail a
method with a Slack error. Waiting is by condition with a deadline, never a fixed sleep.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlparse

from slack_sdk.signature import SignatureVerifier

SIGNING_SECRET = "test-signing-secret"
BOT_TOKEN = "xoxb-test"
TEAM_ID = "T0TEST"
BOT_USER_ID = "U0ARRSBOT"
BOT_ID = "B0ARRSBOT"
APP_ID = "A0ARRS"
USER_ID = "U0STAFF1"
WAIT_SECONDS = 60.0


@dataclass
class Call:
    """One request the app made: a Web API method (``chat.postMessage``) or a ``response_url``."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def blocks(self) -> list[dict[str, Any]]:
        return list(self.params.get("blocks") or [])

    def block_text(self) -> str:
        """Every piece of text in the blocks, joined (what a reader would see)."""
        return "\n".join(_texts(self.blocks))


def _texts(node: Any) -> list[str]:
    if isinstance(node, dict):
        out = [node["text"]] if isinstance(node.get("text"), str) else []
        for key, value in node.items():
            if key != "text" or not isinstance(value, str):
                out += _texts(value)
        return out
    if isinstance(node, list):
        return [text for item in node for text in _texts(item)]
    return []


class FakeSlack:
    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.failures: dict[str, str] = {}
        self._condition = threading.Condition()
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    # Lifecycle --------------------------------------------------------------------------------
    def __enter__(self) -> FakeSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    # Inspection -------------------------------------------------------------------------------
    def calls_to(self, method: str) -> list[Call]:
        with self._condition:
            return [call for call in self.calls if call.method == method]

    def methods(self) -> list[str]:
        with self._condition:
            return [call.method for call in self.calls]

    def wait_for(
        self, method: str, where: Callable[[Call], bool] = lambda call: True, count: int = 1
    ) -> list[Call]:
        """The first ``count`` calls to ``method`` matching ``where``, once they have arrived."""

        def matching() -> list[Call]:
            return [call for call in self.calls if call.method == method and where(call)]

        with self._condition:
            if not self._condition.wait_for(lambda: len(matching()) >= count, timeout=WAIT_SECONDS):
                raise AssertionError(
                    f"no {count} x {method} within {WAIT_SECONDS} s; calls: {self.methods()}"
                )
            return matching()[:count]

    # The server -------------------------------------------------------------------------------
    def _record(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        error = self.failures.get(method)
        with self._condition:
            response = {"ok": False, "error": error} if error else self._answer(method, params)
            self.calls.append(Call(method, params, response))
            self._condition.notify_all()
        return response

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        ts = f"1800000000.{next(self._ts):06d}"
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://test.slack.com/",
                "team": "Test",
                "user": "arrs",
                "team_id": TEAM_ID,
                "user_id": BOT_USER_ID,
                "bot_id": BOT_ID,
            }
        if method == "chat.postMessage":
            message = {k: params.get(k) for k in ("text", "blocks", "thread_ts")} | {
                "ts": ts,
                "bot_id": BOT_ID,
            }
            return {"ok": True, "channel": params.get("channel"), "ts": ts, "message": message}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": ts}
        if method == "chat.update":
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": params.get("ts"),
                "text": params.get("text"),
            }
        if method == "conversations.replies":
            return {"ok": True, "messages": [], "has_more": False}
        return {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length).decode() if length else ""
                path = urlparse(self.path).path
                params = _parse(raw, self.headers.get("content-type", ""), urlparse(self.path).query)
                if path.startswith("/response/"):
                    fake._record("response_url", params | {"_url": path})
                    self._send(200, b"ok", "text/plain")
                    return
                method = path.removeprefix("/api/")
                body = json.dumps(fake._record(method, params)).encode()
                self._send(200, body, "application/json; charset=utf-8")

            do_GET = do_POST

            def _send(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        return Handler


def _parse(raw: str, content_type: str, query: str) -> dict[str, Any]:
    params = json.loads(raw) if "json" in content_type and raw else dict(parse_qsl(raw or query))
    for key in ("blocks", "attachments"):
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


# Requests as Slack sends them ------------------------------------------------------------------


def signed_headers(
    body: str,
    *,
    secret: str = SIGNING_SECRET,
    timestamp: int | None = None,
    content_type: str = "application/json",
    retry: int | None = None,
) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    headers = {
        "content-type": content_type,
        "x-slack-request-timestamp": stamp,
        "x-slack-signature": SignatureVerifier(secret).generate_signature(timestamp=stamp, body=body),
    }
    if retry is not None:
        headers |= {"x-slack-retry-num": str(retry), "x-slack-retry-reason": "http_timeout"}
    return headers


_event_ids = itertools.count(1)


def event_body(event: dict[str, Any], event_id: str | None = None) -> str:
    return json.dumps(
        {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "api_app_id": APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(_event_ids):08d}",
            "event_time": int(time.time()),
            "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
        }
    )


def mention(
    text: str, *, channel: str = "C0GENERAL", ts: str, thread_ts: str | None = None, user: str = USER_ID
) -> dict[str, Any]:
    event = {
        "type": "app_mention",
        "user": user,
        "text": f"<@{BOT_USER_ID}> {text}",
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    }
    return event | ({"thread_ts": thread_ts} if thread_ts else {})


def direct_message(
    text: str, *, channel: str = "D0STAFF1", ts: str, user: str = USER_ID, **extra: Any
) -> dict[str, Any]:
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        "team": TEAM_ID,
    } | extra


def command_body(text: str, *, response_url: str, channel: str = "C0GENERAL", user: str = USER_ID) -> str:
    return urlencode(
        {
            "token": "legacy-unused",
            "team_id": TEAM_ID,
            "channel_id": channel,
            "channel_name": "general",
            "user_id": user,
            "user_name": "staff",
            "command": "/arrs",
            "text": text,
            "api_app_id": APP_ID,
            "response_url": response_url,
            "trigger_id": "1.2.3",
        }
    )


def action_body(
    action: dict[str, Any],
    *,
    response_url: str,
    channel: str = "C0GENERAL",
    user: str = USER_ID,
    message: dict[str, Any] | None = None,
) -> str:
    """A ``block_actions`` payload; without ``message`` it is a click on an ephemeral message."""
    container: dict[str, Any] = {"type": "message", "channel_id": channel, "is_ephemeral": message is None}
    if message is not None:
        container["message_ts"] = message["ts"]
    payload: dict[str, Any] = {
        "type": "block_actions",
        "team": {"id": TEAM_ID, "domain": "test"},
        "user": {"id": user, "team_id": TEAM_ID},
        "api_app_id": APP_ID,
        "token": "legacy-unused",
        "container": container,
        "trigger_id": "1.2.3",
        "channel": {"id": channel, "name": "general"},
        "response_url": response_url,
        "actions": [action | {"type": "button", "block_id": "arrs_feedback", "action_ts": "1800000000.1"}],
    }
    if message is not None:
        payload["message"] = message
    return urlencode({"payload": json.dumps(payload)})


def button(call: Call, action_id: str) -> dict[str, Any]:
    """The button ``action_id`` as posted in ``call``'s blocks."""
    for block in call.blocks:
        for element in block.get("elements", []):
            if element.get("action_id") == action_id:
                return {"action_id": action_id, "value": element["value"], "text": element["text"]}
    raise AssertionError(f"no {action_id} button in {call.method}")


# A stand-in assistant ------------------------------------------------------------------------


class SpyAssistant:
    """The real assistant seen through a window: records each question, and can raise, wait for
    a gate, or give a fixed answer instead."""

    def __init__(
        self,
        real: Any,
        *,
        error: Exception | None = None,
        gate: threading.Event | None = None,
        answer: Any = None,
    ) -> None:
        self.real = real
        self.error = error
        self.gate = gate
        self.answer = answer
        self.questions: list[str] = []
        self.started = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def ask(self, question: str, session_id: str | None = None, channel: str = "api") -> Any:
        self.questions.append(question)
        self.started.set()
        if self.gate is not None and not self.gate.wait(WAIT_SECONDS):
            raise AssertionError("the gate was never opened")
        if self.error is not None:
            raise self.error
        if self.answer is not None:
            return self.answer.model_copy(update={"session_id": session_id})
        return self.real.ask(question, session_id=session_id, channel=channel)
