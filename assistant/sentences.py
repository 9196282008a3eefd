"""Sentence vectors for every chunk, so answer sentences are chosen by meaning, not only words.

Computed once per corpus version and cached on disk (keyed by the sentences' hash and the model),
so start-up stays fast and the ranking is identical across runs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from assistant.models import Chunk
from assistant.text import split_sentences


class SentenceBank:
    """All sentences of all chunks, with normalized vectors, addressable by (chunk id, offset)."""

    def __init__(self, keys: list[tuple[str, int]], vectors: np.ndarray):
        self.keys = keys
        self.vectors = vectors
        self.row = {key: index for index, key in enumerate(keys)}

    @classmethod
    def build(
        cls,
        chunks: Sequence[Chunk],
        encode: Callable[[list[str]], np.ndarray],
        cache_dir: Path | None,
        model_key: str,
    ) -> SentenceBank:
        keys: list[tuple[str, int]] = []
        texts: list[str] = []
        for chunk in chunks:
            for offset, sentence in split_sentences(chunk.text):
                keys.append((chunk.id, offset))
                texts.append(sentence)
        digest = hashlib.sha256("\x1f".join([model_key, *texts]).encode()).hexdigest()[:20]
        cache_file = cache_dir / f"sentences-{digest}.npy" if cache_dir else None
        if cache_file is not None and cache_file.exists():
            vectors = np.load(cache_file)
            if len(vectors) == len(keys):
                return cls(keys, vectors)
        vectors = np.asarray(encode(texts), dtype=np.float32) if texts else np.zeros((0, 384), np.float32)
        if cache_file is not None:
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache_file.with_suffix(".tmp.npy")
            np.save(temporary, vectors)
            temporary.replace(cache_file)
        return cls(keys, vectors)

    def similarity(self, chunk_id: str, offset: int, query_vector: np.ndarray) -> float | None:
        index = self.row.get((chunk_id, offset))
        if index is None:
            return None
        return float(self.vectors[index] @ query_vector)
