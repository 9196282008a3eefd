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
from itertools import groupby
from pathlib import Path

from assistant import years
from assistant.models import Chunk, ChunkMetadata
from ingest.loaders import Block, LoadedDocument

SECTION_SEPARATOR = " > "
_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'“(\[£$€]?[A-Z0-9])")


class _Piece:
    """A block, or a sentence run of a long block, with the URL its text is cited to."""

    __slots__ = ("text", "url", "words")

    def __init__(self, text: str, url: str) -> None:
        self.text = text
        self.url = url
        self.words = len(text.split())


def _split_long(text: str, max_words: int) -> list[str]:
    """Sentence runs of at most ``max_words`` words (a single longer sentence is cut on words)."""
    if len(text.split()) <= max_words:
        return [text]
    parts: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        words = sentence.split()
        parts += [" ".join(words[i : i + max_words]) for i in range(0, len(words), max_words)]
    groups = _pack([len(part.split()) for part in parts], max_words)
    return [" ".join(parts[i] for i in group) for group in groups]


def _pack(sizes: list[int], max_words: int) -> list[list[int]]:
    """In-order groups of item indexes, fewest possible, evened out so no chunk is a small tail.

    Every item is at most ``max_words`` long, so no group exceeds ``max_words``.
    """
    total = sum(sizes)
    fewest = max(1, math.ceil(total / max_words))
    groups: list[list[int]] = []
    for limit in (math.ceil(total / fewest), max_words):
        groups, used = [[]], 0
        for index, size in enumerate(sizes):
            if groups[-1] and used + size > limit:
                groups.append([])
                used = 0
            groups[-1].append(index)
            used += size
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


def chunk_document(doc: LoadedDocument, max_words: int = 180, corpus_dir: Path | None = None) -> list[Chunk]:
    """Chunks of at most ``max_words`` words, one section at a time, each with full metadata."""
    if max_words < 1:
        raise ValueError("max_words must be positive")
    chunks: list[Chunk] = []
    per_section: dict[tuple[str, int | None], int] = {}
    source_path = source_path_of(doc.path, corpus_dir)
    last_reviewed = doc.last_reviewed.isoformat() if doc.last_reviewed else ""

    def key(block: Block) -> tuple[tuple[str, ...], int | None]:
        return block.heading_path, block.page

    for (heading_path, page), blocks in groupby(doc.blocks, key=key):
        section = section_label(heading_path)
        section_years = years.find_all(section) or doc.financial_years
        pieces = [
            _Piece(part, block.source_urls[0] if block.source_urls else doc.url)
            for block in blocks
            for part in _split_long(block.text, max_words)
        ]
        for indexes in _pack([piece.words for piece in pieces], max_words):
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
