"""Incremental ingest: load, chunk, embed only what changed, upsert, then delete what is stale.

Crash safety comes from the order: new and changed chunks are upserted (same ids overwrite in
place) before anything is deleted, so a run that dies part-way leaves every previous chunk
queryable; the next run finishes the job because it compares content hashes again.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from time import perf_counter
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, Field
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from assistant import store
from assistant.embeddings import get_embeddings
from assistant.models import Chunk, SourceType
from ingest.chunking import chunk_document, source_path_of
from ingest.loaders import SUPPORTED_SUFFIXES, IngestError, LoadedDocument, load_file

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection

    from assistant.settings import Settings

T = TypeVar("T")
BATCH_SIZE = 64
MAX_WORDS = 180


class FileError(BaseModel):
    file: str
    message: str


class IngestReport(BaseModel):
    files: int = Field(0, description="Files loaded and indexed.")
    documents: list[str] = Field(default_factory=list, description="Doc ids indexed in this run.")
    chunks_added: int = 0
    chunks_updated: int = 0
    chunks_unchanged: int = 0
    chunks_removed: int = 0
    chunks_embedded: int = 0
    errors: list[FileError] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    skipped: list[str] = Field(default_factory=list, description="Files of unsupported types in folders.")
    seconds: float = 0.0
    embed_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        failed = f"; {_plural(len(self.errors), 'file')} failed" if self.errors else ""
        return (
            f"{_plural(self.files, 'file')}: {_plural(self.chunks_added, 'chunk')} added, "
            f"{self.chunks_updated} updated, {self.chunks_unchanged} unchanged, {self.chunks_removed} removed "
            f"({self.chunks_embedded} embedded) in {self.seconds:.1f} s{failed}"
        )


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


class _Source(BaseModel):
    path: Path
    default_type: SourceType
    forced_type: SourceType | None = None


def bundled_dirs(settings: Settings) -> list[Path]:
    """The bundled corpus: guidance (required), provider documents and the provider profile."""
    guidance = settings.corpus_dir / "guidance"
    if not guidance.is_dir():
        raise IngestError(
            f"Bundled corpus folder not found: {guidance}. Check ARRS_CORPUS_DIR, or pass the files "
            "or folders to ingest."
        )
    roots = [guidance]
    provider = settings.corpus_dir / "provider"
    if provider.is_dir():
        roots.append(provider)  # provider documents (Markdown etc.); YAML is skipped by the walk ...
    profile = settings.resolved_provider_profile
    if profile.is_file():
        roots.append(profile)  # ... and the profile is rendered from its YAML (wherever it lives)
    return roots


def _types_for(settings: Settings, path: Path) -> tuple[SourceType, SourceType | None]:
    """(default, forced) source type by location: provider files are always 'provider'."""
    resolved = path.resolve()
    corpus = settings.corpus_dir.resolve()
    if (
        resolved.is_relative_to(corpus / "provider")
        or resolved == settings.resolved_provider_profile.resolve()
    ):
        return SourceType.PROVIDER, SourceType.PROVIDER
    if resolved.is_relative_to(corpus):
        return SourceType.GUIDANCE, None
    return SourceType.USER, None


def _is_candidate(path: Path, root: Path) -> bool:
    parts = path.relative_to(root).parts
    return not any(part.startswith((".", "_")) for part in parts) and path.stem.upper() != "README"


def collect_sources(settings: Settings, paths: Sequence[Path] | None) -> tuple[list[_Source], list[str]]:
    """Files to ingest (folders walked recursively, sorted) and the unsupported files skipped."""
    roots = [Path(p).expanduser() for p in paths] if paths else bundled_dirs(settings)
    missing = [str(p) for p in roots if not p.exists()]
    if missing:
        raise IngestError(f"No such file or folder: {', '.join(missing)}. Nothing was ingested.")
    sources: list[_Source] = []
    skipped: list[str] = []
    seen: set[Path] = set()
    for root in roots:
        if root.is_dir():
            found = sorted(p for p in root.rglob("*") if p.is_file() and _is_candidate(p, root))
            files = [p for p in found if p.suffix.lower() in SUPPORTED_SUFFIXES]
            skipped += [str(p) for p in found if p.suffix.lower() not in SUPPORTED_SUFFIXES]
        else:
            files = [root]
        for file in files:
            if file.resolve() in seen:
                continue
            seen.add(file.resolve())
            default, forced = _types_for(settings, file)
            sources.append(_Source(path=file, default_type=default, forced_type=forced))
    return sources, skipped


def _stored_file(settings: Settings, source_path: str) -> Path:
    path = Path(source_path)
    return path if path.is_absolute() else settings.corpus_dir / path


def _progress(enabled: bool) -> Progress:
    return Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=not enabled,
        transient=False,
    )


def _load_all(
    settings: Settings, sources: list[_Source], progress: Progress, report: IngestReport
) -> list[tuple[LoadedDocument, list[Chunk]]]:
    loaded: list[tuple[LoadedDocument, list[Chunk]]] = []
    window = get_embeddings(settings).token_counter()
    count_tokens, max_tokens = window if window else (None, None)
    task = progress.add_task("Reading files", total=len(sources))
    for source in sources:
        try:
            doc = load_file(source.path, default_source_type=source.default_type)
            if source.forced_type is not None:
                doc.source_type = source.forced_type
            chunks = chunk_document(
                doc,
                max_words=MAX_WORDS,
                corpus_dir=settings.corpus_dir,
                count_tokens=count_tokens,
                max_tokens=max_tokens,
            )
        except IngestError as exc:
            report.errors.append(FileError(file=str(source.path), message=str(exc)))
        except Exception as exc:  # a parser bug on one odd file must not stop the run
            message = f"{source.path}: could not be ingested ({type(exc).__name__}: {exc})."
            report.errors.append(FileError(file=str(source.path), message=message))
        else:
            report.warnings += doc.warnings
            loaded.append((doc, chunks))
        progress.advance(task)
    return loaded


def _check_ids(
    settings: Settings,
    loaded: list[tuple[LoadedDocument, list[Chunk]]],
    stored: dict[str, store.StoredChunk],
    report: IngestReport,
) -> list[tuple[LoadedDocument, list[Chunk]]]:
    """Drop documents whose id is already used by another file that still exists."""
    owners: dict[str, str] = {}
    for entry in stored.values():
        if _stored_file(settings, entry.source_path).is_file():
            owners.setdefault(entry.doc_id, entry.source_path)
    kept: list[tuple[LoadedDocument, list[Chunk]]] = []
    claimed: dict[str, str] = {}
    for doc, chunks in loaded:
        here = source_path_of(doc.path, settings.corpus_dir)
        other = claimed.get(doc.doc_id) or owners.get(doc.doc_id)
        if other is not None and other != here:
            report.errors.append(
                FileError(
                    file=str(doc.path),
                    message=(
                        f"{doc.path}: document id {doc.doc_id!r} is already used by {other}; rename the "
                        "file or give it front matter with a unique id."
                    ),
                )
            )
            continue
        claimed[doc.doc_id] = here
        kept.append((doc, chunks))
    return kept


def _batches(items: list[T], size: int = BATCH_SIZE) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def _timer(report: IngestReport) -> Iterator[None]:
    start = perf_counter()
    try:
        yield
    finally:
        report.embed_seconds += perf_counter() - start


def _write(
    settings: Settings,
    collection: Collection,
    to_embed: list[Chunk],
    to_reindex: list[Chunk],
    progress: Progress,
    report: IngestReport,
) -> None:
    """Embed and upsert new or changed chunks; refresh the position of moved ones (no embedding)."""
    task = progress.add_task("Embedding chunks", total=len(to_embed))
    embeddings = get_embeddings(settings) if to_embed else None
    for batch in _batches(to_embed):
        assert embeddings is not None
        with _timer(report):
            vectors = embeddings.encode([chunk.embedding_text() for chunk in batch])
        with store.guard(settings):
            collection.upsert(
                ids=[chunk.id for chunk in batch],
                embeddings=vectors,
                documents=[chunk.text for chunk in batch],
                metadatas=[chunk.metadata.to_chroma() for chunk in batch],
            )
        report.chunks_embedded += len(batch)
        progress.advance(task, len(batch))
    for batch in _batches(to_reindex):
        with store.guard(settings):
            collection.update(
                ids=[chunk.id for chunk in batch], metadatas=[chunk.metadata.to_chroma() for chunk in batch]
            )


def delete_chunks(settings: Settings, collection: Collection, ids: list[str]) -> None:
    """The last step of a run (a separate function so tests can make it fail)."""
    for batch in _batches(sorted(ids), 500):
        with store.guard(settings):
            collection.delete(ids=batch)


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path] | None = None,
    prune: bool = False,
    progress: bool = True,
) -> IngestReport:
    """Ingest files or folders (default: the bundled corpus) into the index, incrementally.

    Raises ``IngestError`` for a missing path and ``IndexUnavailable`` when the index cannot be
    reached, before anything is written; per-file problems are collected in ``report.errors``.
    """
    started = perf_counter()
    report = IngestReport()
    sources, report.skipped = collect_sources(settings, paths)
    collection = store.get_collection(settings)
    with store.guard(settings):
        stored = store.chunk_states(collection)
    with _progress(progress) as bar:
        loaded = _check_ids(settings, _load_all(settings, sources, bar, report), stored, report)
        fresh: dict[str, Chunk] = {chunk.id: chunk for _, chunks in loaded for chunk in chunks}
        to_embed: list[Chunk] = []
        to_reindex: list[Chunk] = []
        for chunk in fresh.values():
            old = stored.get(chunk.id)
            if old is None:
                report.chunks_added += 1
                to_embed.append(chunk)
            elif old.content_hash != chunk.metadata.content_hash:
                report.chunks_updated += 1
                to_embed.append(chunk)
            else:
                report.chunks_unchanged += 1
                if old.chunk_index != chunk.metadata.chunk_index:
                    to_reindex.append(chunk)
        _write(settings, collection, to_embed, to_reindex, bar, report)

    # Stale: chunks of the files (or document ids) just ingested that the new version no longer has.
    ingested_paths = {source_path_of(doc.path, settings.corpus_dir) for doc, _ in loaded}
    ingested_ids = {doc.doc_id for doc, _ in loaded}
    stale = {
        chunk_id
        for chunk_id, entry in stored.items()
        if chunk_id not in fresh and (entry.source_path in ingested_paths or entry.doc_id in ingested_ids)
    }
    if prune:
        stale |= {
            chunk_id
            for chunk_id, entry in stored.items()
            if chunk_id not in fresh and not _stored_file(settings, entry.source_path).is_file()
        }
    delete_chunks(settings, collection, list(stale))
    report.chunks_removed = len(stale)
    report.files = len(loaded)
    report.documents = [doc.doc_id for doc, _ in loaded]
    report.seconds = perf_counter() - started
    return report
