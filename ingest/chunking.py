"""Structure-aware chunking: one section at a time, within the embedding model's window.

Chunks never cross a heading (or a PDF page), so every chunk has one heading path and one page;
ids depend only on the document id, the section and the position inside that section, so an edit
in one section leaves the ids of every other section unchanged.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable
from itertools import groupby
from pathlib import Path

from assistant import years
from assistant.models import Chunk, ChunkMetadata
from ingest.loaders import Block, LoadedDocument

SECTION_SEPARATOR = " > "
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'“(\[£$€]?[A-Z0-9])")


TokenCounter = Callable[[str], int]


class _Limits:
    """Words per chunk, and optionally word pieces the model reads (its window minus the heading)."""

    def __init__(self, max_words: int, count_tokens: TokenCounter | None, max_tokens: int | None) -> None:
        self.max_words = max_words
        self.count_tokens = count_tokens if max_tokens else None
        self.max_tokens = max_tokens or 0

    def for_heading(self, head: str) -> _Limits:
        if self.count_tokens is None:
            return self
        # never squeeze the text below a third of the window, even under a very long heading
        budget = max(self.max_tokens - self.count_tokens(f"{head}\n"), self.max_tokens // 3)
        return _Limits(self.max_words, self.count_tokens, budget)

    def size(self, text: str) -> tuple[int, int]:
        return len(text.split()), self.count_tokens(text) if self.count_tokens else 0

    def fits(self, size: tuple[int, int]) -> bool:
        return size[0] <= self.max_words and (self.count_tokens is None or size[1] <= self.max_tokens)


class _Piece:
    """A block, or a sentence run of a long block, with the URL its text is cited to."""

    __slots__ = ("size", "text", "url")

    def __init__(self, text: str, url: str, limits: _Limits) -> None:
        self.text = text
        self.url = url
        self.size = limits.size(text)


def _cut_words(sentence: str, limits: _Limits) -> list[str]:
    """A sentence too long for one chunk, cut into word runs that each fit."""
    words = sentence.split()
    step = min(limits.max_words, len(words))
    while True:
        runs = [" ".join(words[i : i + step]) for i in range(0, len(words), step)]
        if step == 1 or all(limits.fits(limits.size(run)) for run in runs):
            return runs
        step = max(1, step * 3 // 4)


def _split_long(text: str, limits: _Limits) -> list[str]:
    """Sentence runs that fit the limits (a single longer sentence is cut on words)."""
    if limits.fits(limits.size(text)):
        return [text]
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        parts += [sentence] if limits.fits(limits.size(sentence)) else _cut_words(sentence, limits)
    groups = _pack([limits.size(part) for part in parts], limits)
    return [" ".join(parts[i] for i in group) for group in groups]


def _pack(sizes: list[tuple[int, int]], limits: _Limits) -> list[list[int]]:
    """In-order groups of item indexes, fewest possible, evened out so no chunk is a small tail.

    Every item fits the limits on its own, so no group exceeds them (word pieces add up across
    items because the tokenizer splits on whitespace first).
    """
    words = sum(size[0] for size in sizes)
    tokens = sum(size[1] for size in sizes)
    fewest = max(1, math.ceil(words / limits.max_words), math.ceil(tokens / max(limits.max_tokens, 1)))
    even = (math.ceil(words / fewest), math.ceil(tokens / fewest))
    full = (limits.max_words, limits.max_tokens if limits.count_tokens else tokens)
    groups: list[list[int]] = []
    for cap_words, cap_tokens in (even, full):
        groups, used_words, used_tokens = [[]], 0, 0
        for index, (size_words, size_tokens) in enumerate(sizes):
            if groups[-1] and (used_words + size_words > cap_words or used_tokens + size_tokens > cap_tokens):
                groups.append([])
                used_words = used_tokens = 0
            groups[-1].append(index)
            used_words += size_words
            used_tokens += size_tokens
        if len(groups) <= fewest:
            break
    return groups


def section_label(heading_path: tuple[str, ...]) -> str:
    return SECTION_SEPARATOR.join(heading_path)


def chunk_id(doc_id: str, section: str, index_in_section: int, page: int | None = None) -> str:
    key = "\x1f".join([doc_id, section, "" if page is None else str(page), str(index_in_section)])
    return hashlib.sha1(key.encode("utf-8")).hexdigest()


def content_hash(text: str, metadata: ChunkMetadata) -> str:
    """Changes when the text or anything stored with it changes (not the position in the document)."""
    fields = metadata.model_dump(mode="json", exclude={"chunk_index", "content_hash"})
    payload = json.dumps({"text": text, "metadata": fields}, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def source_path_of(path: Path, corpus_dir: Path | None) -> str:
    """Relative to the corpus directory for bundled files (stable across machines), else absolute."""
    resolved = Path(path).resolve()
    if corpus_dir is not None:
        try:
            return resolved.relative_to(Path(corpus_dir).resolve()).as_posix()
        except ValueError:
            pass
    return resolved.as_posix()


def chunk_document(
    doc: LoadedDocument,
    max_words: int = 180,
    corpus_dir: Path | None = None,
    count_tokens: TokenCounter | None = None,
    max_tokens: int | None = None,
) -> list[Chunk]:
    """Chunks of at most ``max_words`` words, one section at a time, each with full metadata.

    With ``count_tokens`` and ``max_tokens`` (the embedding model's tokenizer and window), a chunk's
    embedding text (title > section, then the text) also stays within the window.
    """
    if max_words < 1:
        raise ValueError("max_words must be positive")
    limits = _Limits(max_words, count_tokens, max_tokens)
    chunks: list[Chunk] = []
    per_section: dict[tuple[str, int | None], int] = {}
    source_path = source_path_of(doc.path, corpus_dir)
    last_reviewed = doc.last_reviewed.isoformat() if doc.last_reviewed else ""

    def key(block: Block) -> tuple[tuple[str, ...], int | None]:
        return block.heading_path, block.page

    for (heading_path, page), blocks in groupby(doc.blocks, key=key):
        section = section_label(heading_path)
        section_years = years.find_all(section) or doc.financial_years
        section_limits = limits.for_heading(SECTION_SEPARATOR.join(p for p in (doc.title, section) if p))
        pieces = [
            _Piece(part, block.source_urls[0] if block.source_urls else doc.url, section_limits)
            for block in blocks
            for part in _split_long(block.text, section_limits)
        ]
        for indexes in _pack([piece.size for piece in pieces], section_limits):
            group = [pieces[i] for i in indexes]
            text, spans = _join(group)
            index_in_section = per_section.get((section, page), 0)
            per_section[(section, page)] = index_in_section + 1
            metadata = ChunkMetadata(
                doc_id=doc.doc_id,
                title=doc.title,
                section=section,
                url=group[0].url,
                source_type=doc.source_type,
                publisher=doc.publisher,
                financial_years=",".join(section_years),
                last_reviewed=last_reviewed,
                page=page or 0,
                source_path=source_path,
                chunk_index=len(chunks),
                spans=json.dumps(spans),
            )
            metadata.content_hash = content_hash(text, metadata)
            chunks.append(
                Chunk(id=chunk_id(doc.doc_id, section, index_in_section, page), text=text, metadata=metadata)
            )
    return chunks


def _join(pieces: list[_Piece]) -> tuple[str, list[list[int | str]]]:
    spans: list[list[int | str]] = []
    offset = 0
    for piece in pieces:
        spans.append([offset, offset + len(piece.text), piece.url])
        offset += len(piece.text) + 1
    return "\n".join(piece.text for piece in pieces), spans
