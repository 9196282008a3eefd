"""Scale test: retrieval latency and memory over synthetic corpora of 1k, 10k and 100k chunks.

Encoding 100k real chunks would take about half an hour on 2 cores, so each chunk is generated
text (words drawn with the bundled corpus's word frequencies) with a random unit vector. The
same code paths as production run over it: a temp embedded Chroma collection (cosine HNSW) and
``assistant.retrieval.HybridIndex`` (BM25 plus rank fusion). Each size runs in its own process
(``python -m evals.scale --size N``) so resident memory is measured per size, not accumulated.
"""

from __future__ import annotations

import argparse
import json
import re
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

DIMENSION = 384
WORDS_PER_CHUNK = 120
DEFAULT_QUERIES = 40


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc; 0 when unavailable)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def peak_rss_mb() -> float:
    """Peak resident set of this process image (VmHWM). Not ``ru_maxrss``: Linux carries that
    across exec, so a child started by a large parent would report the parent's peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def corpus_vocabulary(corpus_dir: Path) -> tuple[list[str], np.ndarray]:
    """Words of the bundled guidance with their relative frequencies (a realistic term mix)."""
    counts: Counter[str] = Counter()
    for path in sorted((corpus_dir / "guidance").glob("*.md")):
        counts.update(re.findall(r"[a-z][a-z'-]+|\d[\d,./]*", path.read_text(encoding="utf-8").lower()))
    words = [word for word, _ in counts.most_common()]
    weights = np.array([counts[word] for word in words], dtype=np.float64)
    return words, weights / weights.sum()


def synthetic_texts(
    rng: np.random.Generator, n: int, words: list[str], probs: np.ndarray, length: int
) -> list[str]:
    picks = rng.choice(len(words), size=(n, length), p=probs)
    vocab = np.array(words, dtype=object)
    return [" ".join(row) for row in vocab[picks]]


def unit_vectors(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIMENSION), dtype=np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


def _timed(fn, repeats: int) -> list[float]:
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def _summary(samples: list[float]) -> dict[str, float]:
    from evals.metrics import percentile

    return {
        "p50_ms": round(percentile(samples, 50), 2),
        "p95_ms": round(percentile(samples, 95), 2),
        "max_ms": round(max(samples), 2),
    }


def run_size(
    n: int,
    queries: int = DEFAULT_QUERIES,
    seed: int = 7,
    corpus_dir: Path | None = None,
    store_documents: bool = False,
) -> dict[str, Any]:
    """Build an index of ``n`` synthetic chunks and time dense, BM25 and hybrid top-5 searches.

    Chunk texts live in the in-memory BM25 index (as in production, where they are loaded from
    Chroma once at start-up); they are not written to Chroma unless ``store_documents``, because
    Chroma's full-text index then dominates the build time and no query reads it."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.models import Chunk, ChunkMetadata
    from assistant.retrieval import HybridIndex
    from assistant.settings import BUNDLED_CORPUS

    baseline = rss_mb()
    rng = np.random.default_rng(seed)
    words, probs = corpus_vocabulary(corpus_dir or BUNDLED_CORPUS)
    started = time.perf_counter()
    texts = synthetic_texts(rng, n, words, probs, WORDS_PER_CHUNK)
    vectors = unit_vectors(rng, n)
    generate_s = time.perf_counter() - started
    fys = ["2023/24", "2024/25", "2025/26", "2026/27"]
    chunks = [
        Chunk(
            id=f"synthetic-{i:06d}",
            text=text,
            metadata=ChunkMetadata(
                doc_id=f"synthetic-doc-{i // 25:05d}",
                title=f"Synthetic document {i // 25}",
                section=f"Section {i % 25}",
                financial_years=fys[i % len(fys)],
                chunk_index=i % 25,
            ),
        )
        for i, text in enumerate(texts)
    ]
    workdir = Path(tempfile.mkdtemp(prefix="arrs-scale-"))
    try:
        client = chromadb.PersistentClient(
            path=str(workdir), settings=ChromaSettings(anonymized_telemetry=False)
        )
        collection = client.create_collection(
            "scale", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        batch = min(5000, client.get_max_batch_size())
        started = time.perf_counter()
        for start in range(0, n, batch):
            part = chunks[start : start + batch]
            collection.add(
                ids=[c.id for c in part],
                embeddings=vectors[start : start + batch],
                documents=[c.text for c in part] if store_documents else None,
                metadatas=[c.metadata.to_chroma() for c in part],
            )
        add_s = time.perf_counter() - started
        after_chroma = rss_mb()
        started = time.perf_counter()
        index = HybridIndex(collection, chunks)
        bm25_build_s = time.perf_counter() - started
        after_index = rss_mb()

        query_vectors = unit_vectors(rng, queries)
        query_texts = synthetic_texts(rng, queries, words[:3000], _renorm(probs[:3000]), 8)
        # one untimed query each to warm caches (HNSW pages, numpy)
        index.dense(query_vectors[0], 5)
        index.lexical(query_texts[0], 20)
        it = iter(range(10**9))

        def dense() -> None:
            i = next(it) % queries
            index.dense(query_vectors[i], 5)

        filtered_queries = max(3, queries // 4)  # Chroma's metadata filter is slow at scale

        def dense_filtered() -> None:
            i = next(it) % queries
            index.dense(query_vectors[i], 5, source_types=["guidance"])

        def lexical() -> None:
            i = next(it) % queries
            index.lexical(query_texts[i], 20)

        def hybrid() -> None:
            i = next(it) % queries
            index.search(query_texts[i], query_vectors[i], k=5, candidates=20, years=["2025/26"])

        result = {
            "chunks": n,
            "queries": queries,
            "documents_in_chroma": store_documents,
            "generate_s": round(generate_s, 2),
            "chroma_add_s": round(add_s, 2),
            "bm25_build_s": round(bm25_build_s, 2),
            "dense": _summary(_timed(dense, queries)),
            "dense_filtered": _summary(_timed(dense_filtered, filtered_queries)),
            "bm25": _summary(_timed(lexical, queries)),
            "hybrid": _summary(_timed(hybrid, queries)),
            "rss_baseline_mb": round(baseline, 1),
            "rss_after_chroma_mb": round(after_chroma, 1),
            "rss_after_index_mb": round(after_index, 1),
            "rss_growth_mb": round(after_index - baseline, 1),
            "peak_rss_mb": round(peak_rss_mb(), 1),
            "disk_mb": round(sum(p.stat().st_size for p in workdir.rglob("*") if p.is_file()) / 2**20, 1),
        }
        return result
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _renorm(probs: np.ndarray) -> np.ndarray:
    return probs / probs.sum()


def run_in_subprocess(n: int, queries: int = DEFAULT_QUERIES, timeout: float = 600) -> dict[str, Any]:
    """One size in a fresh interpreter, so its memory is its own."""
    import subprocess

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        out = Path(handle.name)
    try:
        started = time.perf_counter()
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "evals.scale",
                "--size",
                str(n),
                "--queries",
                str(queries),
                "--out",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
        if completed.returncode != 0:
            return {"chunks": n, "error": (completed.stderr or completed.stdout).strip().splitlines()[-1:]}
        data = json.loads(out.read_text(encoding="utf-8"))
        data["wall_s"] = round(time.perf_counter() - started, 1)
        return data
    except subprocess.TimeoutExpired:
        return {"chunks": n, "error": [f"timed out after {timeout:.0f} s"]}
    finally:
        out.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.scale", description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, required=True)
    parser.add_argument("--queries", type=int, default=DEFAULT_QUERIES)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    result = run_size(args.size, args.queries)
    text = json.dumps(result, indent=2)
    if args.out:
        args.out.write_text(text, encoding="utf-8")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
