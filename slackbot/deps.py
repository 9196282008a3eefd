"""What the listeners share: the assistant (possibly still loading), the stores built on its
engine, and the event ids already seen."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from assistant.feedback import FeedbackStore
from slackbot.answers import AnswerStore


class NotReady(Exception):
    """The assistant has not finished loading (the HTTP server loads it in the background)."""


class RecentIds:
    """The last ``size`` ids seen, to answer each Slack event once however often it is delivered."""

    def __init__(self, size: int = 10_000) -> None:
        self._order: deque[str] = deque()
        self._ids: set[str] = set()
        self._size = size
        self._lock = threading.Lock()

    def seen(self, key: str) -> bool:
        """True if ``key`` came before; otherwise remember it and return False."""
        with self._lock:
            if key in self._ids:
                return True
            self._ids.add(key)
            self._order.append(key)
            if len(self._order) > self._size:
                self._ids.discard(self._order.popleft())
            return False


class SlackDeps:
    def __init__(self, assistant: Any, timezone: str = "Europe/London") -> None:
        """``assistant``: an Assistant, or a zero-argument callable returning one (or None while
        it loads), so the app can be mounted before the index is ready."""
        self._source: Callable[[], Any] = assistant if _is_provider(assistant) else (lambda: assistant)
        self.timezone = timezone
        self.events = RecentIds()
        self._lock = threading.Lock()
        self._engine: Any = None
        self._stores: tuple[FeedbackStore, AnswerStore] | None = None

    def assistant(self) -> Any:
        assistant = self._source()
        if assistant is None:
            raise NotReady
        return assistant

    def _stores_for(self) -> tuple[FeedbackStore, AnswerStore]:
        engine = self.assistant().engine
        with self._lock:
            if self._stores is None or self._engine is not engine:
                self._engine, self._stores = engine, (FeedbackStore(engine), AnswerStore(engine))
            return self._stores

    def feedback(self) -> FeedbackStore:
        return self._stores_for()[0]

    def answers(self) -> AnswerStore:
        return self._stores_for()[1]


def _is_provider(value: Any) -> bool:
    return callable(value) and not hasattr(value, "ask")
