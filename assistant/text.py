"""Small text utilities shared by retrieval and answer composition: tokens, stems, sentences."""

from __future__ import annotations

import itertools
import re
from functools import lru_cache

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me
    more most my myself no nor not now of off on once only or other our ours ourselves out over own
    same she should so some such than that the their theirs them themselves then there these they
    this those through to too under until up very was we were what when where which while who whom
    why will with would you your yours yourself yourselves please tell know need want like get got
    also us let lets hi hello may might must shall
    mean means meaning happen happens happened count counts counted explain describe thing things way
    anything something whats what's hows much many go goes going gets getting give gives towards toward
    regarding re via within upon etc roughly ever done always since actually usually still nutshell forgot
    summarise summarize think thought ive i'm im we're were seen brought come came really quite basically
    anyone someone somebody kind sort whole tell lot lots bit percentage percent long take takes
    """.split()
)


_TOKEN = re.compile(r"[a-z0-9£]+(?:[./-][a-z0-9]+)*")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z£\"'(\[0-9])")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light suffix stripper: enough to match plurals and -ing/-ed forms across phrasing."""
    for suffix, keep in (
        ("ies", "y"),
        ("sses", "ss"),
        ("ing", ""),
        ("ers", "er"),
        ("ed", ""),
        ("es", ""),
        ("s", ""),
    ):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: len(word) - len(suffix)] + keep
    return word


# Words PCN staff use interchangeably, mapped to one form so questions and guidance meet.
_CANONICAL = {
    "unspent": "unused",
    "underspend": "unused",
    "underspent": "unused",
    "unclaimed": "unused",
    "leftover": "unused",
    "unclaim": "unused",
    "increas": "uplift",
    "qualifi": "qualif",
    "limit": "cap",
    "rollover": "carry",
    "carri": "carry",
    "carryover": "carry",
    "reimbursable": "reimburs",
    "reimburse": "reimburs",
    "reimbursement": "reimburs",
    "reimbursed": "reimburs",
    "refund": "reimburs",
    "reclaim": "claim",
    "fte": "wte",
    "on-costs": "on-cost",
    "oncosts": "on-cost",
    "oncost": "on-cost",
    "additionality": "additional",
    "tech": "technician",
    "nhse": "nhs",
    "maternity": "parental",
    "paternity": "parental",
    "adoption": "parental",
    "sick": "sickness",
    "budget": "fund",
    "pot": "fund",
    "pool": "fund",
    "money": "fund",
    "cash": "fund",
    "nic": "ni",
    "nics": "ni",
    "allocation": "sum",
    "entitlement": "sum",
    "physio": "physiotherapist",
    "physiotherapy": "physiotherapist",
    "salaried": "salary",
    "wage": "salary",
    "pay": "salary",
    "eligible": "eligib",
    "eligibility": "eligib",
    "qualify": "eligib",
    "requirement": "requir",
    "require": "requir",
    "requir": "requir",
    "qualification": "qualif",
    "qualified": "qualif",
    "cap": "cap",
    "capp": "cap",
    "maximum": "max",
    "ceiling": "max",
    "uplift": "uplift",
    "increase": "uplift",
    "rise": "uplift",
    "rais": "uplift",
}


SYNONYM_FORMS = frozenset(_CANONICAL)
_ON_COSTS = re.compile(r"\bon[\s-]+costs?\b")
_SHORT_YEAR = re.compile(r"(?<![\d/£.,])(\d{2})\s*[/-]\s*(\d{2})(?![\d/%])")


def _full_year(match: re.Match[str]) -> str:
    first, second = int(match.group(1)), int(match.group(2))
    return f"20{first:02d}/{second:02d}" if second == (first + 1) % 100 else match.group(0)


def tokens(text: str) -> list[str]:
    lowered = _ON_COSTS.sub("oncosts", text.lower())
    lowered = _SHORT_YEAR.sub(_full_year, lowered)  # "23/24" is written 2023/24 in the guidance
    lowered = re.sub(r"(?<=[a-z])-(?=[a-z])", "", lowered)
    return _TOKEN.findall(lowered)


def canonical(term: str) -> str:
    return _CANONICAL.get(term, term)


def content_terms(text: str) -> list[str]:
    """Stemmed, canonical tokens without stopwords: what a question is actually about."""
    return [canonical(stem(tok)) for tok in tokens(text) if tok not in STOPWORDS and len(tok) > 1]


def split_sentences(text: str) -> list[tuple[int, str]]:
    """Sentences with their start offsets in ``text`` (offsets map back to source spans)."""
    out: list[tuple[int, str]] = []
    offset = 0
    for line in text.split("\n"):
        line_start = offset
        offset += len(line) + 1
        body = line.lstrip()
        lead = len(line) - len(body)
        if body.startswith(("- ", "* ")):
            body, lead = body[2:], lead + 2
        if not body.strip():
            continue
        cursor = 0
        for part in _SENTENCE_END.split(body):
            position = body.find(part, cursor)
            cursor = position + len(part)
            if part.strip():
                out.append((line_start + lead + position, part.strip()))
    return out


def word_pairs(text: str) -> set[str]:
    """Adjacent word pairs that are not both stopwords ("top up", "maternity leave"): phrases that
    single-word matching misses ("top up pay" is not "the top of the range")."""
    words = tokens(text)
    return {
        f"{a} {b}"
        for a, b in itertools.pairwise(words)
        if not (a in STOPWORDS and b in STOPWORDS) and len(a) > 1 and len(b) > 1
    }
