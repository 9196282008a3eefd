"""Deciding what a message wants: rules for the unmistakable cases, nearest labelled examples
(``corpus/intents.yaml``, same embedding model as retrieval) for the rest.

Deterministic: the same message always gets the same intent and confidence.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel

from assistant.models import Intent

_CLINICAL = re.compile(
    r"\b(dose|dosage|\d+\s?mg|overdose|symptom|symptoms|chest pain|rash|fever|bleeding|infection|"
    r"prescription ran out|side effects?|tablets?|paracetamol|ibuprofen|amoxicillin|antibiotics?|statins?|"
    r"diagnos\w*|treat(?:ment)? for|cancer(?:ous)?|suicid\w*|self[- ]harm|my (?:child|baby|son|daughter|mum|dad)|"
    r"i feel|i have (?:a|an|got)|am i|should i (?:take|stop|go)|uti|mole|pregnan\w*)\b",
    re.I,
)
_CLINICAL_NOT = re.compile(
    r"\b(arrs|reimburs\w*|claim\w*|wte|band|role|pcn|recruit\w*|salary|funding|employ\w*|prescribers?|"
    r"pharmacists?|staff|practitioners?|consultation|book)\b",
    re.I,
)
_BOOKING = re.compile(
    r"\b(book(?:ing)?|consultation|(?:call|ring|phone) (?:me |us )?back|callback|give (?:me|us) a (?:call|ring)|speak (?:to|with) (?:someone|(?:a |an )?(?:real )?(?:person|human|adviser|advisor)|your)|"
    r"talk to (?:someone|a person|an adviser|a human|your)|arrange (?:a )?(?:call|meeting|chat)|"
    r"get in touch|contact (?:you|your team|someone)|schedule (?:a )?(?:call|meeting|consultation)|"
    r"can (?:you|your team) help us)\b",
    re.I,
)
_BOOKING_QUESTION = re.compile(
    r"\b(is the consultation|how long is the consultation|consultation free|cost of (?:the )?consultation|"
    r"what happens (?:in|at) the consultation)\b",
    re.I,
)
_GREETING = re.compile(
    r"^\s*(hi|hello|hey|hiya|good (?:morning|afternoon|evening)|thanks?|thank you|cheers|ok(?:ay)?|great|bye|"
    r"goodbye|who are you|what can you (?:do|help (?:me )?with)|what can i ask(?: you)?|help)\b[\s!.?,]*"
    r"(?:there|so much|very much|a lot|you|again|team)?[\s!.?]*$",
    re.I,
)
_CALCULATION = re.compile(
    r"\b(calculat\w*|work out|how much (?:can|could|would|will|do|does)|how many (?:wte|fte|staff|posts|\w+s) "
    r"(?:can|could|would|does)|afford|headroom|cost us|reclaim|claim back|what (?:would|will) .{0,40} cost|"
    r"our (?:arrs )?(?:sum|allocation|entitlement)|weighted (?:list|population)|monthly claim|pro rata)\b",
    re.I,
)
_NUMBERISH = re.compile(r"\d")


_INJECTION = re.compile(
    r"\b(ignore|disregard|forget|override)\b.{0,40}\b(instructions?|rules?|prompt|guidelines)\b|"
    r"\bsystem prompt\b|\byou are now\b|\bdeveloper mode\b|\bjailbreak\b|\bact as (?:a|an|my)\b|"
    r"\bpretend (?:to be|you are)\b|\breveal (?:your|the) (?:instructions|prompt|rules)\b",
    re.I | re.S,
)


def looks_like_injection(text: str) -> bool:
    """A message that tries to change the assistant's rules: never obeyed, answered as off-topic."""
    return bool(_INJECTION.search(text))


class IntentDecision(BaseModel):
    intent: Intent
    confidence: float
    reason: str


class IntentClassifier:
    """Rules first, then a similarity-weighted vote of the k nearest labelled examples."""

    def __init__(
        self, examples: dict[Intent, list[str]], vectors: np.ndarray, labels: list[Intent], k: int = 7
    ):
        self.examples = examples
        self.vectors = vectors
        self.labels = labels
        self.k = k

    @classmethod
    def load(cls, path: Path, encode, cache_dir: Path | None = None) -> IntentClassifier:
        """``encode(texts) -> normalized array``; example vectors are cached on disk by content hash."""
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        examples = {Intent(name): [str(text) for text in texts] for name, texts in raw.items()}
        texts = [text for texts in examples.values() for text in texts]
        labels = [intent for intent, texts in examples.items() for _ in texts]
        vectors = None
        cache_file = None
        if cache_dir is not None:
            digest = hashlib.sha256(("\n".join(texts)).encode()).hexdigest()[:16]
            cache_file = cache_dir / f"intent-examples-{digest}.npy"
            if cache_file.exists():
                vectors = np.load(cache_file)
        if vectors is None or len(vectors) != len(texts):
            vectors = np.asarray(encode(texts), dtype=np.float32)
            if cache_file is not None:
                cache_file.parent.mkdir(parents=True, exist_ok=True)
                np.save(cache_file, vectors)
        return cls(examples, vectors, labels)

    def nearest(self, query_vector: np.ndarray) -> tuple[Intent, float]:
        scores = self.vectors @ query_vector
        top = np.argsort(-scores)[: self.k]
        votes: dict[Intent, float] = defaultdict(float)
        for index in top:
            votes[self.labels[index]] += max(float(scores[index]), 0.0)
        total = sum(votes.values()) or 1.0
        best = max(votes, key=votes.__getitem__)
        return best, votes[best] / total

    def classify(
        self, text: str, query_vector: np.ndarray, *, has_calc_slots: bool = False, domain_hit: bool = False
    ) -> IntentDecision:
        """``has_calc_slots``: the message states numbers a calculation needs (WTE, population...).
        ``domain_hit``: it names an ARRS role or scheme term, which rules out clinical/off-topic."""
        if looks_like_injection(text):
            return IntentDecision(
                intent=Intent.OUT_OF_SCOPE, confidence=1.0, reason="instruction-override rule"
            )
        if _GREETING.match(text):
            return IntentDecision(intent=Intent.GREETING, confidence=1.0, reason="greeting rule")
        if _CLINICAL.search(text) and not _CLINICAL_NOT.search(text):
            return IntentDecision(intent=Intent.CLINICAL, confidence=0.95, reason="clinical rule")
        if _BOOKING.search(text) and not _BOOKING_QUESTION.search(text):
            return IntentDecision(intent=Intent.BOOKING, confidence=0.9, reason="booking rule")
        if has_calc_slots and (_CALCULATION.search(text) or _NUMBERISH.search(text)):
            return IntentDecision(intent=Intent.CALCULATION, confidence=0.9, reason="calculation rule")
        intent, confidence = self.nearest(query_vector)
        if intent in (Intent.CLINICAL, Intent.OUT_OF_SCOPE) and domain_hit:
            intent, confidence = Intent.FAQ, 0.6
        if intent is Intent.CALCULATION and not has_calc_slots and not _CALCULATION.search(text):
            intent, confidence = Intent.FAQ, 0.55
        if intent is Intent.BOOKING and not domain_hit:
            # Only the booking rules start a booking; a near miss with nothing about ARRS is off-topic.
            intent, confidence = Intent.OUT_OF_SCOPE, 0.5
        if intent is Intent.GREETING and (len(text.split()) > 6 or domain_hit):
            intent, confidence = Intent.FAQ, 0.5
        return IntentDecision(intent=intent, confidence=round(confidence, 3), reason="nearest examples")
