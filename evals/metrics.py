"""Pure metric functions for the evaluation: ranking quality, fact matching, rates and percentiles.

Rankings are lists of document ids in retrieved order (one entry per retrieved passage, so a
document can repeat); ``relevant`` is the set of document ids that hold the answer. Any one
relevant document answers the question, so recall@k here is answer recall: the share of
questions with at least one relevant passage in the top k.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence

_DASHES = dict.fromkeys(map(ord, "\u2010\u2011\u2012\u2013\u2014\u2212"), "-")
_QUOTES = {ord("\u2018"): "'", ord("\u2019"): "'", ord("\u201c"): '"', ord("\u201d"): '"'}
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}\b)")


# Ranking ------------------------------------------------------------------------------------
def hit_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """1.0 when any of the first ``k`` entries is relevant (answer recall@k for one question)."""
    wanted = set(relevant)
    return 1.0 if wanted and any(item in wanted for item in ranking[:k]) else 0.0


def recall_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Answer recall@k: identical to ``hit_at_k``; named for the report's column."""
    return hit_at_k(ranking, relevant, k)


def doc_recall_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int) -> float:
    """Classic recall@k: the share of the relevant documents that appear in the first ``k``."""
    wanted = set(relevant)
    if not wanted:
        return 0.0
    return len(wanted & set(ranking[:k])) / len(wanted)


def reciprocal_rank(ranking: Sequence[str], relevant: Iterable[str]) -> float:
    """1 / rank of the first relevant entry, 0 when none is relevant."""
    wanted = set(relevant)
    for position, item in enumerate(ranking, start=1):
        if item in wanted:
            return 1.0 / position
    return 0.0


def ndcg_at_k(ranking: Sequence[str], relevant: Iterable[str], k: int = 10) -> float:
    """Binary-gain nDCG@k over distinct documents: a relevant document gains once, at its first
    passage; the ideal ranking puts every relevant document first."""
    wanted = set(relevant)
    if not wanted:
        return 0.0
    seen: set[str] = set()
    dcg = 0.0
    for position, item in enumerate(ranking[:k]):
        if item in wanted and item not in seen:
            seen.add(item)
            dcg += 1.0 / math.log2(position + 2)
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(len(wanted), k)))
    return dcg / ideal


def mean(values: Iterable[float]) -> float:
    items = list(values)
    return sum(items) / len(items) if items else 0.0


# Facts in text ------------------------------------------------------------------------------
def normalise(text: str) -> str:
    """Casefold, unify dashes and quotes, drop thousands separators, collapse whitespace, so
    "£2,400", "£2400" and "7–8a" / "7-8a" compare equal."""
    text = unicodedata.normalize("NFKC", text).translate(_DASHES).translate(_QUOTES)
    text = _THOUSANDS.sub("", text)
    return re.sub(r"\s+", " ", text).strip().casefold()


def contains(text: str, fact: str) -> bool:
    """Whether ``fact`` occurs in ``text`` as a whole token run: "17" is not found in "2017", but a
    word may take a plural ending ("pharmacy technician" is found in "pharmacy technicians")."""
    needle = normalise(fact)
    if not needle:
        return False
    left = r"(?<![0-9a-z])" if needle[0].isalnum() else ""
    if needle[-1].isalpha():
        right = r"(?:s|es)?(?![0-9a-z])"
    else:
        right = r"(?![0-9a-z])" if needle[-1].isalnum() else ""
    return re.search(left + re.escape(needle) + right, normalise(text)) is not None


def contains_any(text: str, fact: str | Sequence[str]) -> bool:
    """A key fact is one string or a list of acceptable alternatives."""
    options = [fact] if isinstance(fact, str) else list(fact)
    return any(contains(text, option) for option in options)


def fact_label(fact: str | Sequence[str]) -> str:
    return fact if isinstance(fact, str) else " | ".join(fact)


# Rates --------------------------------------------------------------------------------------
def ratio(numerator: float, denominator: float) -> float | None:
    """``None`` when nothing was measured, so an empty class is not reported as 0% or 100%."""
    return numerator / denominator if denominator else None


def precision_recall(
    predicted: Sequence[bool], expected: Sequence[bool]
) -> tuple[float | None, float | None]:
    """Precision and recall of the positive class (for abstention: "the assistant abstained")."""
    true_positive = sum(1 for p, e in zip(predicted, expected, strict=True) if p and e)
    return ratio(true_positive, sum(predicted)), ratio(true_positive, sum(expected))


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100), as numpy's default method."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = math.ceil(position)
    if low == high:
        return ordered[low]
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def money_strings(value: object) -> set[str]:
    """Every two-decimal amount found anywhere in a calculation object (strings or numbers)."""
    found: set[str] = set()
    if isinstance(value, dict):
        for item in value.values():
            found |= money_strings(item)
    elif isinstance(value, list | tuple):
        for item in value:
            found |= money_strings(item)
    elif isinstance(value, str):
        found.update(match.replace(",", "") for match in re.findall(r"\d[\d,]*\.\d{2}\b", value))
    elif isinstance(value, int | float) and not isinstance(value, bool):
        found.add(f"{value:.2f}")
    return found
