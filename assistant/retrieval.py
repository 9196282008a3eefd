"""Hybrid retrieval: dense (Chroma, cosine) and BM25, fused by reciprocal rank fusion.

Dense search finds paraphrases; BM25 finds exact terms such as "SPLW" or "£22.894" that a small
embedding model blurs. Fusing ranks (not scores) needs no calibration between the two. The
fused ranking is then nudged toward passages about the financial year the question names.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Literal

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import BaseModel, ConfigDict
from scipy import sparse

from assistant.models import Chunk
from assistant.text import content_terms

RRF_K = 60
# Up to this many chunks of unwanted source types are dropped after the search instead of by a filter.
POST_FILTER_LIMIT = 200
# A query whose rarest word has a lower BM25 IDF than this gets dense retrieval only.
MIN_USEFUL_IDF = 1.5
Mode = Literal["hybrid", "dense", "bm25"]


class ScoredChunk(BaseModel):
    chunk: Chunk
    score: float
    dense_similarity: float | None = None
    dense_rank: int | None = None
    bm25_rank: int | None = None


class SparseBM25:
    """Okapi BM25 (the same formula and IDF floor as rank_bm25's BM25Okapi) as a sparse matrix, so a
    query costs a few column sums instead of a Python loop over every document: 100k chunks in ms."""

    def __init__(
        self, corpus: Sequence[Sequence[str]], k1: float = 1.5, b: float = 0.75, epsilon: float = 0.25
    ):
        self.vocabulary: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        frequency: Counter[str] = Counter()
        lengths = np.array([len(document) for document in corpus], dtype=np.float64)
        for row, document in enumerate(corpus):
            for term, count in Counter(document).items():
                rows.append(row)
                columns.append(self.vocabulary.setdefault(term, len(self.vocabulary)))
                counts.append(count)
                frequency[term] += 1
        total = len(corpus)
        raw = {term: math.log(total - n + 0.5) - math.log(n + 0.5) for term, n in frequency.items()}
        floor = epsilon * (sum(raw.values()) / len(raw)) if raw else 0.0
        self.idf = {term: (value if value >= 0 else floor) for term, value in raw.items()}
        idf_by_column = np.zeros(len(self.vocabulary))
        for term, column in self.vocabulary.items():
            idf_by_column[column] = self.idf[term]
        tf = np.array(counts, dtype=np.float64)
        row_index = np.array(rows, dtype=np.int64)
        column_index = np.array(columns, dtype=np.int64)
        average = lengths.mean() if total else 1.0
        norm = k1 * (1 - b + b * lengths[row_index] / average)
        weights = idf_by_column[column_index] * tf * (k1 + 1) / (tf + norm)
        self.matrix = sparse.csc_matrix(
            (weights, (row_index, column_index)), shape=(total, len(self.vocabulary))
        )
        self.size = total

    def get_scores(self, terms: Sequence[str]) -> np.ndarray:
        columns = [self.vocabulary[term] for term in terms if term in self.vocabulary]
        if not columns:
            return np.zeros(self.size)
        return np.asarray(self.matrix[:, columns].sum(axis=1)).ravel()


class HybridIndex:
    """An in-memory BM25 index over the chunks of a Chroma collection, plus the collection itself."""

    def __init__(self, collection, chunks: Sequence[Chunk]):
        self.collection = collection
        self.chunks = list(chunks)
        self.by_id = {chunk.id: chunk for chunk in self.chunks}
        self._position = {chunk.id: index for index, chunk in enumerate(self.chunks)}
        corpus = [content_terms(chunk.embedding_text()) or ["_"] for chunk in self.chunks]
        self.bm25 = SparseBM25(corpus) if corpus else None
        self.vocabulary = {term for terms in corpus for term in terms}
        self.source_types = np.array([chunk.metadata.source_type for chunk in self.chunks])

    def __len__(self) -> int:
        return len(self.chunks)

    def dense(
        self, query_vector: np.ndarray, n: int, source_types: Iterable[str] | None = None
    ) -> list[tuple[str, float]]:
        if not self.chunks:
            return []
        where = None
        fetch = n
        types = list(source_types or [])
        if types:
            excluded = int(len(self.chunks) - np.isin(self.source_types, types).sum())
            if excluded > POST_FILTER_LIMIT:
                where = {"source_type": types[0]} if len(types) == 1 else {"source_type": {"$in": types}}
            else:
                # Chroma's metadata filter costs far more than a few extra neighbours (hundreds of ms at
                # 100k chunks): when few chunks are excluded, ask for more and drop them here.
                fetch = n + excluded
        result = self.collection.query(
            query_embeddings=[np.asarray(query_vector, dtype=np.float32).tolist()],
            n_results=min(fetch, len(self.chunks)),
            where=where,
            include=["distances"],
        )
        ids = result["ids"][0]
        distances = result["distances"][0]
        allowed = set(types)
        pairs = [
            (chunk_id, 1.0 - float(distance))
            for chunk_id, distance in zip(ids, distances, strict=True)
            if not allowed
            or (chunk_id in self.by_id and self.by_id[chunk_id].metadata.source_type in allowed)
        ]
        return pairs[:n]

    def lexical(
        self, query: str, n: int, source_types: Iterable[str] | None = None
    ) -> list[tuple[str, float]]:
        terms = content_terms(query)
        if not terms or self.bm25 is None:
            return []
        if max(self.bm25.idf.get(term, MIN_USEFUL_IDF) for term in terms) < MIN_USEFUL_IDF:
            return []  # only words found nearly everywhere ("what is ARRS?"): BM25 ranks noise
        scores = self.bm25.get_scores(terms)
        types = list(source_types or [])
        if types:
            scores = np.where(np.isin(self.source_types, types), scores, 0.0)
        top = np.argsort(-scores)[:n]
        return [(self.chunks[i].id, float(scores[i])) for i in top if scores[i] > 0]

    def search(
        self,
        query: str,
        query_vector: np.ndarray,
        *,
        k: int = 5,
        candidates: int = 20,
        mode: Mode = "hybrid",
        years: Sequence[str] = (),
        source_types: Iterable[str] | None = None,
    ) -> list[ScoredChunk]:
        types = list(source_types or [])
        dense = self.dense(query_vector, candidates, types) if mode != "bm25" else []
        lexical = self.lexical(query, candidates, types) if mode != "dense" else []
        fused: dict[str, ScoredChunk] = {}
        for rank, (chunk_id, similarity) in enumerate(dense, start=1):
            if chunk_id not in self.by_id:
                continue
            fused[chunk_id] = ScoredChunk(
                chunk=self.by_id[chunk_id],
                score=1.0 / (RRF_K + rank),
                dense_similarity=similarity,
                dense_rank=rank,
            )
        for rank, (chunk_id, _score) in enumerate(lexical, start=1):
            entry = fused.get(chunk_id)
            if entry is None:
                entry = fused[chunk_id] = ScoredChunk(chunk=self.by_id[chunk_id], score=0.0)
            entry.score += 1.0 / (RRF_K + rank)
            entry.bm25_rank = rank
        if years:
            for entry in fused.values():
                entry.score *= year_weight(entry.chunk.metadata.years(), years)
        ranked = sorted(fused.values(), key=lambda entry: (-entry.score, entry.chunk.id))
        if mode == "hybrid" and lexical and ranked:
            ranked = _promote_decisive_lexical(ranked, dict(lexical), lexical[0][0])
        return ranked[:k]


DECISIVE_LEXICAL_RATIO = 1.25


def _promote_decisive_lexical(
    ranked: list[ScoredChunk], lexical_scores: dict[str, float], best_lexical: str
) -> list[ScoredChunk]:
    """Rank fusion ignores how far ahead a BM25 hit is. When the passage with the question's rare
    words ("maternity leave") outscores the fused leader by a clear margin on BM25, while dense search
    prefers passages about a common word in the question ("pharmacist"), it goes first."""
    leader = ranked[0]
    if leader.chunk.id == best_lexical:
        return ranked
    if lexical_scores[best_lexical] < DECISIVE_LEXICAL_RATIO * lexical_scores.get(leader.chunk.id, 0.0):
        return ranked
    promoted = next(entry for entry in ranked if entry.chunk.id == best_lexical)
    return [promoted, *(entry for entry in ranked if entry is not promoted)]


def year_weight(chunk_years: Sequence[str], asked: Sequence[str]) -> float:
    """Prefer passages about the asked year; demote passages only about other years."""
    if not chunk_years:
        return 1.0
    if any(year in chunk_years for year in asked):
        return 1.35 if len(chunk_years) <= 2 else 1.1
    return 0.75


class HybridRetriever(BaseRetriever):
    """The hybrid index as a LangChain retriever (used by the optional LLM chain)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: HybridIndex
    encode_query: object
    k: int = 5
    years: tuple[str, ...] = ()

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        vector = self.encode_query(query)  # type: ignore[operator]
        hits = self.index.search(query, vector, k=self.k, years=self.years)
        return [
            Document(
                page_content=hit.chunk.text,
                metadata={**hit.chunk.metadata.to_chroma(), "id": hit.chunk.id, "score": hit.score},
            )
            for hit in hits
        ]
