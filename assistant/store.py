"""The Chroma index: embedded (PersistentClient) by default, a server when ARRS_CHROMA_URL is set.

The collection never has an embedding function: we always pass our own vectors, and Chroma's
default function would try to download a model at query time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple
from urllib.parse import urlsplit

from assistant.models import Chunk, ChunkMetadata, IndexUnavailable

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

    from assistant.settings import Settings

PAGE_SIZE = 1000


def describe(settings: Settings) -> str:
    """Where the index lives, for messages."""
    if settings.chroma_url:
        return f"the Chroma server at {settings.chroma_url}"
    return f"the embedded index at {settings.resolved_chroma_path}"


def _server_address(url: str) -> tuple[str, int, bool]:
    parts = urlsplit(url if "://" in url else f"http://{url}")
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise IndexUnavailable(f"ARRS_CHROMA_URL must look like http://host:port, not {url!r}.")
    ssl = parts.scheme == "https"
    try:
        port = parts.port or (443 if ssl else 8000)
    except ValueError as exc:
        raise IndexUnavailable(f"ARRS_CHROMA_URL has an invalid port: {url!r}.") from exc
    return parts.hostname, port, ssl


def _unreachable(settings: Settings, exc: BaseException) -> IndexUnavailable:
    if settings.chroma_url:
        return IndexUnavailable(
            f"Cannot reach the Chroma server at {settings.chroma_url} ({exc}). Start it "
            "(e.g. `chroma run --path data/chroma --port 8000`) or unset ARRS_CHROMA_URL to use the "
            "embedded index."
        )
    return IndexUnavailable(f"Cannot open the embedded index at {settings.resolved_chroma_path}: {exc}")


@contextmanager
def guard(settings: Settings) -> Iterator[None]:
    """Turn connection and storage failures inside the block into ``IndexUnavailable``."""
    import httpx

    try:
        yield
    except IndexUnavailable:
        raise
    except (httpx.TransportError, ConnectionError, OSError) as exc:
        raise _unreachable(settings, exc) from exc
    except ValueError as exc:
        # chromadb reports a dead server as ValueError("Could not connect to a Chroma server...").
        if "connect" in str(exc).lower():
            raise _unreachable(settings, exc) from exc
        raise


def get_client(settings: Settings) -> ClientAPI:
    """A Chroma client for the configured mode; ``IndexUnavailable`` if it cannot be reached."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    with guard(settings):
        if settings.chroma_url:
            host, port, ssl = _server_address(settings.chroma_url)
            return chromadb.HttpClient(host=host, port=port, ssl=ssl, settings=chroma_settings)
        path = settings.resolved_chroma_path
        path.mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def get_collection(settings: Settings, client: ClientAPI | None = None) -> Collection:
    """The guidance collection (cosine space, no embedding function), created when missing."""
    client = client or get_client(settings)
    with guard(settings):
        return client.get_or_create_collection(
            settings.collection,
            configuration={"hnsw": {"space": "cosine"}},
            embedding_function=None,
        )


def _pages(collection: Collection, include: list[Any]) -> Iterator[dict[str, Any]]:
    offset = 0
    while True:
        page = collection.get(include=include, limit=PAGE_SIZE, offset=offset)
        if not page["ids"]:
            return
        yield page
        if len(page["ids"]) < PAGE_SIZE:
            return
        offset += PAGE_SIZE


def all_chunks(collection: Collection) -> list[Chunk]:
    """Every chunk in the collection (text + metadata), ordered by document and position, for BM25."""
    chunks: list[Chunk] = []
    for page in _pages(collection, ["documents", "metadatas"]):
        for chunk_id, text, meta in zip(page["ids"], page["documents"], page["metadatas"], strict=True):
            chunks.append(Chunk(id=chunk_id, text=text or "", metadata=ChunkMetadata.from_chroma(dict(meta))))
    chunks.sort(key=lambda c: (c.metadata.source_path, c.metadata.doc_id, c.metadata.chunk_index, c.id))
    return chunks


class StoredChunk(NamedTuple):
    """What incremental ingest needs to know about a chunk already in the index."""

    content_hash: str
    source_path: str
    doc_id: str
    chunk_index: int


def chunk_states(collection: Collection) -> dict[str, StoredChunk]:
    """id -> ``StoredChunk`` for every chunk in the collection (metadata only, no text or vectors)."""
    states: dict[str, StoredChunk] = {}
    for page in _pages(collection, ["metadatas"]):
        for chunk_id, meta in zip(page["ids"], page["metadatas"], strict=True):
            meta = meta or {}
            states[chunk_id] = StoredChunk(
                content_hash=str(meta.get("content_hash", "")),
                source_path=str(meta.get("source_path", "")),
                doc_id=str(meta.get("doc_id", "")),
                chunk_index=int(meta.get("chunk_index", 0) or 0),
            )
    return states
