"""Each Slack event is answered once, however many times it is delivered.

Slack redelivers an event (with ``X-Slack-Retry-Num``) when it did not see an acknowledgement in
time; Socket Mode mirrors that header (``0`` on the first delivery). Retries are acknowledged
and dropped, and event ids already seen are dropped too, so a redelivery can never produce a
second answer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from slack_bolt import BoltRequest, BoltResponse

from slackbot.deps import SlackDeps

log = logging.getLogger("arrs.slack")


def _header(request: BoltRequest, name: str) -> str | None:
    values = request.headers.get(name) or []
    return str(values[0]) if values else None


def once_per_event(deps: SlackDeps) -> Callable[..., Any]:
    def middleware(request: BoltRequest, body: dict[str, Any], next_: Callable[[], BoltResponse]) -> Any:
        retry = _header(request, "x-slack-retry-num")
        if retry not in (None, "", "0"):
            log.info(
                "slack retry dropped",
                extra={
                    "retry": retry,
                    "reason": _header(request, "x-slack-retry-reason"),
                    "event": body.get("event_id"),
                },
            )
            return BoltResponse(status=200, body="")
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id and deps.events.seen(str(event_id)):
            log.info("slack duplicate event dropped", extra={"event": event_id})
            return BoltResponse(status=200, body="")
        return next_()

    return middleware
