"""Extractive, cited answers: pick the corpus sentences that answer the question, number them.

Without an LLM nothing is paraphrased: each answer sentence is a corpus sentence, so its
citation's quote is exactly the text relied on and no figure can be invented.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from assistant import years
from assistant.intents import looks_like_injection
from assistant.models import Citation
from assistant.retrieval import ScoredChunk
from assistant.text import content_terms, split_sentences, word_pairs

MAX_SENTENCES = 4
# How much a sentence's chunk rank counts: the best chunk is usually about exactly the question.
RANK_WEIGHTS = (1.0, 0.8, 0.65, 0.55, 0.45, 0.4)


@dataclass
class Evidence:
    hit: ScoredChunk
    rank: int
    offset: int
    sentence: str
    terms: set[str]
    score: float = 0.0
    overlap: float = 0.0
    similarity: float = 0.0


@dataclass
class Selection:
    evidence: list[Evidence]
    coverage: float
    best_overlap: float
    missing_terms: list[str] = field(default_factory=list)
    best_similarity: float = 0.0


class TermWeights:
    """IDF weights from the BM25 index; a term the corpus never uses weighs the most."""

    def __init__(self, idf: dict[str, float], vocabulary: set[str]):
        self.idf = idf
        self.vocabulary = vocabulary
        self.ceiling = max(idf.values(), default=1.0)

    def __call__(self, term: str) -> float:
        if term not in self.vocabulary:
            return self.ceiling
        return max(self.idf.get(term, self.ceiling), 0.05)


def select(
    question_terms: Sequence[str],
    hits: Sequence[ScoredChunk],
    weights: TermWeights,
    asked_years: Sequence[str] = (),
    other_years_penalty: bool = True,
    max_sentences: int = MAX_SENTENCES,
    boost_terms: Sequence[str] = (),
    meaning: Callable[[str, int], float | None] | None = None,
    recent_year: str | None = None,
    question_phrases: set[str] | None = None,
) -> Selection:
    """Score every sentence of the top chunks against the question and keep the best few."""
    terms = list(dict.fromkeys(question_terms))
    total = sum(weights(term) for term in terms) or 1.0
    if not hits:
        return Selection([], 0.0, 0.0, terms)
    boosts = set(boost_terms)
    phrases = question_phrases or set()
    candidates: list[Evidence] = []
    for rank, hit in enumerate(hits):
        chunk_weight = RANK_WEIGHTS[min(rank, len(RANK_WEIGHTS) - 1)]
        heading_terms = set(content_terms(f"{hit.chunk.metadata.title} {hit.chunk.metadata.section}"))
        for offset, sentence in split_sentences(hit.chunk.text):
            if looks_like_injection(sentence):
                continue  # text in documents is data: an instruction to an assistant is never repeated
            sentence_terms = set(content_terms(sentence))
            direct = sum(weights(term) for term in terms if term in sentence_terms)
            via_heading = sum(
                weights(term) for term in terms if term in heading_terms and term not in sentence_terms
            )
            overlap = (direct + 0.5 * via_heading) / total
            similarity = meaning(hit.chunk.id, offset) if meaning else None
            if similarity is None:
                score = 0.55 * overlap + 0.45 * chunk_weight
            else:
                score = 0.4 * overlap + 0.35 * max(similarity, 0.0) + 0.25 * chunk_weight
            if boosts and boosts & sentence_terms:
                score += 0.05
            if phrases:
                score += min(0.2, 0.1 * len(phrases & word_pairs(sentence)))
            if recent_year and not asked_years:
                score += _recency_bonus(_years_in(sentence), recent_year)
            if asked_years:
                named = _years_in(sentence)
                if any(year in named for year in asked_years):
                    score += 0.12
                elif named and other_years_penalty:
                    score -= 0.12
            candidates.append(
                Evidence(
                    hit,
                    rank,
                    offset,
                    sentence,
                    sentence_terms | heading_terms,
                    score,
                    overlap,
                    similarity or 0.0,
                )
            )
    candidates.sort(key=lambda ev: (-ev.score, ev.rank, ev.offset))
    chosen: list[Evidence] = []
    for evidence in candidates:
        if len(chosen) >= max_sentences:
            break
        if (evidence.overlap <= 0 and evidence.similarity < 0.5) or len(evidence.sentence) < 15:
            continue
        if chosen and evidence.score < 0.7 * chosen[0].score:
            break
        if any(_similar(evidence.terms, other.terms) for other in chosen):
            continue
        chosen.append(evidence)
    covered = set().union(*(ev.terms for ev in chosen)) if chosen else set()
    coverage = sum(weights(term) for term in terms if term in covered) / total
    missing = [term for term in terms if term not in covered]
    chosen.sort(key=lambda ev: (ev.rank, ev.offset))
    return Selection(
        chosen,
        coverage,
        max((ev.overlap for ev in chosen), default=0.0),
        missing,
        max((ev.similarity for ev in chosen), default=0.0),
    )


def _recency_bonus(named: Sequence[str], current: str) -> float:
    """With no year asked, the rule in force now matters most: a sentence about a recent year gets a
    small lift over one about the scheme's early years (undated sentences are neutral)."""
    if not named:
        return 0.0
    gap = years.start_year_of(current) - max(years.start_year_of(year) for year in named)
    return max(0.0, 0.06 - 0.015 * max(gap, 0))


def _similar(a: set[str], b: set[str]) -> bool:
    if not a or not b:
        return False
    return len(a & b) / len(a | b) > 0.75


def _years_in(sentence: str) -> list[str]:
    return years.find_all(sentence)


class CitationBook:
    """Numbers sources in order of first use; one number per (chunk, source URL)."""

    def __init__(self) -> None:
        self.citations: list[Citation] = []
        self._keys: dict[tuple[str, str], int] = {}

    def cite_chunk(self, hit: ScoredChunk, offset: int, sentence: str) -> int:
        meta = hit.chunk.metadata
        url = meta.url_at(offset)
        key = (hit.chunk.id, url)
        if key in self._keys:
            number = self._keys[key]
            citation = self.citations[number - 1]
            if sentence not in citation.quote:
                citation.quote = f"{citation.quote} … {sentence}"
            return number
        number = len(self.citations) + 1
        self._keys[key] = number
        self.citations.append(
            Citation(
                n=number,
                doc_id=meta.doc_id,
                title=meta.title,
                section=meta.section,
                url=url,
                quote=sentence,
                source_type=meta.source_type,
                page=meta.page or None,
            )
        )
        return number

    def cite(self, key: str, citation: Citation) -> int:
        """Cite a non-chunk source (a rate-table row) under a stable key."""
        if (key, citation.url) in self._keys:
            return self._keys[(key, citation.url)]
        number = len(self.citations) + 1
        self._keys[(key, citation.url)] = number
        self.citations.append(citation.model_copy(update={"n": number}))
        return number


def render(selection: Selection, book: CitationBook) -> str:
    """The chosen sentences, each followed by its [n] marker."""
    parts = []
    for evidence in selection.evidence:
        number = book.cite_chunk(evidence.hit, evidence.offset, evidence.sentence)
        sentence = evidence.sentence.rstrip()
        parts.append(f"{sentence} [{number}]")
    return " ".join(parts)
