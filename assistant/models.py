"""Typed shapes that cross a boundary: the Answer every client receives, and chunk metadata."""

from __future__ import annotations

import json
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class Intent(StrEnum):
    GREETING = "greeting"
    FAQ = "faq"
    CALCULATION = "calculation"
    BOOKING = "booking"
    CLINICAL = "clinical"
    OUT_OF_SCOPE = "out_of_scope"


class SourceType(StrEnum):
    GUIDANCE = "guidance"
    RATES = "rates"
    PROVIDER = "provider"
    USER = "user"


class Citation(BaseModel):
    """One numbered source behind an answer; ``quote`` is the exact corpus text relied on."""

    n: int
    doc_id: str
    title: str
    section: str = ""
    url: str = ""
    quote: str
    source_type: SourceType = SourceType.GUIDANCE
    page: int | None = None


class Answer(BaseModel):
    """The stable answer contract shared by the CLI, the HTTP API, the widget and Slack."""

    model_config = ConfigDict(use_enum_values=True)

    answer: str = Field(description="Markdown with [n] markers pointing into citations.")
    citations: list[Citation] = Field(default_factory=list)
    intent: Intent
    grounded: bool = Field(description="False when the assistant abstained or redirected.")
    calculation: dict[str, Any] | None = None
    financial_year: str | None = None
    session_id: str
    turn: int = Field(default=0, description="1-based turn number in the session, for feedback.")
    booking: dict[str, Any] | None = Field(
        default=None, description="Booking-flow state for clients that render a form or slot picker."
    )


class ChunkMetadata(BaseModel):
    """Metadata carried by every chunk in Chroma (flat scalars only, as Chroma requires)."""

    doc_id: str
    title: str
    section: str = ""
    url: str = ""
    source_type: SourceType = SourceType.GUIDANCE
    publisher: str = ""
    financial_years: str = Field(default="", description="Comma-separated labels, e.g. '2024/25,2025/26'.")
    last_reviewed: str = ""
    page: int = 0
    source_path: str = ""
    chunk_index: int = 0
    content_hash: str = ""
    spans: str = Field(
        default="[]",
        description="JSON list of [start, end, url] giving the source URL of each block of the chunk text.",
    )

    def to_chroma(self) -> dict[str, str | int]:
        return {key: (value.value if isinstance(value, StrEnum) else value) for key, value in self}

    @classmethod
    def from_chroma(cls, meta: dict[str, Any]) -> ChunkMetadata:
        return cls.model_validate(meta)

    def years(self) -> list[str]:
        return [y for y in self.financial_years.split(",") if y]

    def span_list(self) -> list[tuple[int, int, str]]:
        return [(int(a), int(b), str(u)) for a, b, u in json.loads(self.spans or "[]")]

    def url_at(self, offset: int) -> str:
        """The source URL of the block containing character ``offset`` of the chunk text."""
        for start, end, url in self.span_list():
            if start <= offset < end and url:
                return url
        return self.url


class Chunk(BaseModel):
    id: str
    text: str
    metadata: ChunkMetadata

    def embedding_text(self) -> str:
        """What is embedded and BM25-indexed: the heading path gives a short chunk its context."""
        head = " > ".join(part for part in (self.metadata.title, self.metadata.section) if part)
        return f"{head}\n{self.text}" if head else self.text


class AssistantError(Exception):
    """A user-facing error: the message is safe and helpful to show as is."""


class InvalidQuestion(AssistantError):
    pass


class IndexUnavailable(AssistantError):
    pass
