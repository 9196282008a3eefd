"""The Assistant: one object per process that turns a question into a cited Answer.

Pipeline (a LangChain runnable per step would add nothing but indirection here, so the steps
are plain methods; the retriever, the calculator tools and the optional LLM are LangChain parts):
validate -> load session -> understand (slots, intent) -> route (faq, calculation, booking,
clinical, greeting, off-topic) -> compose with citations -> remember the turn.
"""

from __future__ import annotations

import difflib
import logging
import re
import time
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np

from assistant import messages, years
from assistant.compose import CitationBook, TermWeights, render, select
from assistant.db import create_schema, make_engine
from assistant.embeddings import get_embeddings
from assistant.intents import IntentClassifier, IntentDecision
from assistant.llm import LLMWriter, guard, make_chat_model
from assistant.memory import SessionState, SessionStore, valid_session_id
from assistant.models import Answer, Citation, IndexUnavailable, Intent, InvalidQuestion
from assistant.query import QuerySlots, parse
from assistant.retrieval import HybridIndex, ScoredChunk
from assistant.roles import RoleCatalogue
from assistant.sentences import SentenceBank
from assistant.settings import Settings
from assistant.store import all_chunks, get_collection
from assistant.text import SYNONYM_FORMS, canonical, content_terms, split_sentences, word_pairs

log = logging.getLogger(__name__)

_FOLLOW_UP = re.compile(
    r"^\s*(?:(?:ok|okay|right|so|great|thanks|cool)[,.!]?\s+)?"
    r"(and|what about|how about|same for|what if|and for|and in|also|then)\b|"
    r"\b(they|them|their|it|its|this role|that role|these roles|those roles|the role|same role)\b",
    re.I,
)
_DEFINITION = re.compile(
    r"^\s*(?:what(?:'?s| is| are| does)|define|explain|tell me about)\s+(?:the\s+)?"
    r"(?:arrs|additional roles? reimbursement scheme|additional roles scheme)\b"
    r"(?:\s+(?:mean|stand for|about|for))?\s*\??\s*$",
    re.I,
)
DEFINITION_QUERY = "What the Additional Roles Reimbursement Scheme (ARRS) is, and who can claim it"
_PRONOUN_ONLY = re.compile(r"\b(they|them|their|this role|that role|these roles|those roles)\b", re.I)
_PROVIDER = re.compile(
    r"\b(your|yours)\b|\bdo you (?:offer|provide|have|do|work|charge|cover|supply|employ)\b|"
    r"\bare you (?:open|available|based|closed)\b|\byou (?:offer|provide|charge|open)\b|"
    r"\b(opening|office) hours\b|\bthe (?:free )?consultation\b|\bwho are you\b|\bcontact details\b",
    re.I,
)
_ROLE_LIST = re.compile(
    r"\b(which|what|list(?: all)?(?: of)?(?: the)?|how many|all (?:the )?)\s+(?:\w+\s+){0,2}?"
    r"(roles?|staff|posts|professions|jobs|clinicians)\b"
    r"(?!.*\b(band|cap|maximum|max|rate|salary|qualif\w*|requirements?)\b)",
    re.I,
)
_DOMAIN = re.compile(
    r"\b(arrs|additional roles?|reimburs\w*|pcns?|primary care networks?|network contract|des|wte|fte|"
    r"agenda for change|afc|band \d|on-?costs?|claim\w*|additionality|staff|employ\w*|baseline|icb|workforce|weighted population|"
    r"roles?|bands?|recruit\w*|salar\w*|funding|allocation|sum)\b",
    re.I,
)
# Coverage of the question's weighted terms by the chosen sentences below which we abstain.
MIN_COVERAGE = 0.34
MIN_DENSE_SIMILARITY = 0.28
QUERY_CACHE_SIZE = 2048
# A chosen sentence this close in meaning to the question counts as support even with other words.
STRONG_SENTENCE_SIMILARITY = 0.62
# Sentences are chosen from this many fused passages: a passage that only BM25 ranks highly (rare,
# exact words such as "maternity leave") still gets its sentences considered.
SELECTION_DEPTH = 8


@dataclass
class Draft:
    """An answer under construction; becomes an ``Answer`` once the turn is stored."""

    text: str
    intent: Intent
    grounded: bool
    citations: list[Citation] = field(default_factory=list)
    calculation: dict[str, Any] | None = None
    financial_year: str | None = None
    booking: dict[str, Any] | None = None
    top_score: float | None = None


class Assistant:
    def __init__(
        self,
        settings: Settings,
        *,
        index: HybridIndex,
        embeddings,
        classifier: IntentClassifier,
        roles: RoleCatalogue,
        sessions: SessionStore,
        engine,
    ):
        self.settings = settings
        self.index = index
        self.embeddings = embeddings
        self.classifier = classifier
        self.roles = roles
        self.sessions = sessions
        self.engine = engine
        self.weights = TermWeights(dict(index.bm25.idf) if index.bm25 else {}, index.vocabulary)
        self._long_vocabulary = sorted(
            term for term in index.vocabulary | set(SYNONYM_FORMS) if term.isalpha() and len(term) >= 5
        )
        self.sentences = SentenceBank.build(
            index.chunks, embeddings.encode, settings.data_dir / "cache", model_key=str(embeddings.path)
        )
        self._vectors: dict[str, np.ndarray] = {}
        self._calculator = None
        self._booking = None
        self._llm = None
        self.observers: list = []

    # Construction ------------------------------------------------------------------------------
    @classmethod
    def from_settings(cls, settings: Settings | None = None, chat_model=None) -> Assistant:
        """Build everything from settings; ``chat_model`` overrides the configured LLM (tests)."""
        settings = settings or Settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        collection = get_collection(settings)
        chunks = all_chunks(collection)
        if not chunks:
            raise IndexUnavailable(
                "The index is empty: run `arrs ingest` first (or `make run`, which ingests the bundled corpus)."
            )
        embeddings = get_embeddings(settings)
        classifier = IntentClassifier.load(
            settings.corpus_dir / "intents.yaml", embeddings.encode, cache_dir=settings.data_dir / "cache"
        )
        engine = make_engine(settings.resolved_database_url)
        create_schema(engine)
        assistant = cls(
            settings,
            index=HybridIndex(collection, chunks),
            embeddings=embeddings,
            classifier=classifier,
            roles=RoleCatalogue.load(settings.roles_file),
            sessions=SessionStore(engine),
            engine=engine,
        )
        model = chat_model if chat_model is not None else make_chat_model(settings)
        if model is not None:
            from assistant.calc_dialogue import tables_for
            from assistant.calc_tool import make_calculator_tools

            assistant._llm = LLMWriter(model, make_calculator_tools(tables_for(assistant)))
        from assistant.insights import attach_insights

        attach_insights(assistant)
        return assistant

    # Public API --------------------------------------------------------------------------------
    def ask(self, question: str, session_id: str | None = None, channel: str = "api") -> Answer:
        text = self.validate(question)
        if session_id is not None and not valid_session_id(session_id):
            raise InvalidQuestion("session_id may hold only letters, digits and . _ : - (at most 128).")
        session_id = session_id or SessionStore.new_id()
        state, _ = self.sessions.load(session_id)
        started = time.perf_counter()
        draft = self._respond(text, state, session_id)
        if self._llm is not None and draft.grounded and draft.citations:
            self._reword(text, draft)
        turn = self.sessions.save_turn(
            session_id,
            state,
            question=text,
            answer=draft.text,
            intent=draft.intent.value,
            grounded=draft.grounded,
            financial_year=draft.financial_year,
            channel=channel,
        )
        answer = Answer(
            answer=draft.text,
            citations=draft.citations,
            intent=draft.intent,
            grounded=draft.grounded,
            calculation=draft.calculation,
            financial_year=draft.financial_year,
            session_id=session_id,
            turn=turn,
            booking=draft.booking,
        )
        self._observe(answer, draft, channel, time.perf_counter() - started, text)
        return answer

    def _reword(self, question: str, draft: Draft) -> None:
        """Let the LLM write the answer from the same evidence; keep it only if the guard passes."""
        body, _, note = draft.text.rpartition("\n\nFinancial year:")
        if not body:
            body, note = draft.text, ""
        written = self._llm.write(question, draft.citations, draft.calculation)
        if written is None:
            return
        text, tool_results = written
        calculation = draft.calculation or {}
        if tool_results:
            calculation = {**calculation, "tool_results": tool_results}
        verdict = guard(text, draft.citations, calculation or None, question)
        if not verdict.ok:
            log.info("LLM answer rejected: %s", "; ".join(verdict.reasons))
            return
        draft.text = f"{text}\n\nFinancial year:{note}" if note else text

    def validate(self, question: object) -> str:
        if not isinstance(question, str):
            raise InvalidQuestion("The question must be text.")
        text = unicodedata.normalize("NFKC", question)
        text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch)[0] != "C")
        text = re.sub(r"\s+", " ", text).strip()
        if not text:
            raise InvalidQuestion("Please type a question: the message was empty.")
        if len(text) > self.settings.max_question_chars:
            raise InvalidQuestion(
                f"The question is {len(text):,} characters long; the limit is "
                f"{self.settings.max_question_chars:,}. Please shorten it."
            )
        if not re.search(r"[A-Za-z0-9]", text):
            raise InvalidQuestion("Please type a question in words.")
        return text

    def ready(self) -> bool:
        try:
            self.index.collection.count()
        except Exception:  # any client failure means not ready
            return False
        return len(self.index) > 0

    def encode(self, text: str) -> np.ndarray:
        """The query vector; repeated questions (starter questions, retries) skip the model."""
        vector = self._vectors.get(text)
        if vector is None:
            vector = np.asarray(self.embeddings.encode([text])[0], dtype=np.float32)
            if len(self._vectors) >= QUERY_CACHE_SIZE:
                self._vectors.pop(next(iter(self._vectors)))
            self._vectors[text] = vector
        return vector

    # Routing -----------------------------------------------------------------------------------
    def _respond(self, text: str, state: SessionState, session_id: str) -> Draft:
        today = self.settings.current_date()
        previous = QuerySlots.model_validate(state.slots) if state.slots else QuerySlots()
        pending_year = (state.pending or {}).get("slots", {}).get("financial_year")
        # Months named without a year ("from October to March") belong to the year under discussion.
        slots = parse(text, today, self._find_roles, context_year=pending_year or previous.financial_year)
        follow_up = self._is_follow_up(text, slots, state)
        merged = slots.merged_over(previous) if follow_up else slots

        booking_draft = self._booking_step(text, state, session_id)
        if booking_draft is not None:
            return booking_draft

        if state.pending and state.pending.get("kind") == "calculation":
            if state.pending.get("missing") == "area" and (
                area := re.search(r"\b(inner|outer)\b", text, re.I)
            ):
                slots.area = "inner_london" if area.group(1).lower() == "inner" else "outer_london"
            if state.pending.get("missing") == "wte" and (bare := re.fullmatch(r"\s*(\d*\.?\d+)\s*", text)):
                value = Decimal(bare.group(1))
                if 0 < value <= 1:
                    slots.wte = value
                elif value <= 60:
                    slots.hours_per_week = value
            if slots.stated() - {"financial_years"}:
                pending = QuerySlots.model_validate(state.pending["slots"])
                draft = self._calculation(
                    text, slots.merged_over(pending), state, operation=state.pending.get("operation")
                )
                if draft is not None:
                    return draft
            state.pending = None

        query_text = self._expanded_query(text, slots, previous if follow_up else None)
        vector = self.encode(query_text)
        decision = self.classifier.classify(
            text,
            vector,
            has_calc_slots=self._has_calc_slots(slots),
            domain_hit=bool(slots.role_ids) or bool(_DOMAIN.search(text)),
        )
        intent = decision.intent
        if (
            follow_up
            and state.last_operation
            and intent in (Intent.FAQ, Intent.CALCULATION, Intent.OUT_OF_SCOPE)
        ):
            from assistant.calc_dialogue import decide

            # A follow-up that asks for its own calculation runs that one; otherwise it repeats the
            # previous calculation with what it changed ("And in inner London?", "What about 0.5 WTE?").
            with_role = slots.model_copy(update={"role_ids": merged.role_ids})
            own = decide(text, with_role) or decide(text, with_role, lookup_only=True)
            if own is None and (slots.stated() - {"financial_years"}):
                own = state.last_operation
            if own is not None:
                draft = self._calculation(text, merged, state, operation=own)
                if draft is not None:
                    return draft

        state.pending = None
        if decision.reason == "instruction-override rule":
            state.last_intent = Intent.OUT_OF_SCOPE.value
            return Draft(messages.INSTRUCTIONS_REFUSED, Intent.OUT_OF_SCOPE, grounded=False)
        if _PRONOUN_ONLY.search(text) and not merged.role_ids and not state.last_question:
            state.last_intent = Intent.FAQ.value
            return Draft(messages.WHICH_ROLE, Intent.FAQ, grounded=False)
        provider = is_provider_question(text)
        if (
            provider
            and intent in (Intent.GREETING, Intent.OUT_OF_SCOPE, Intent.CALCULATION, Intent.FAQ)
            and not (intent is Intent.GREETING and decision.reason == "greeting rule")
        ):
            return self._faq(text, query_text, vector, merged, state, decision, provider=True)
        if intent is Intent.GREETING:
            return self._greeting(text, state)
        if intent is Intent.CLINICAL:
            state.last_intent = intent.value
            return Draft(messages.CLINICAL, Intent.CLINICAL, grounded=False)
        if intent is Intent.BOOKING:
            return self._start_booking(text, state, session_id)
        if intent is Intent.CALCULATION:
            draft = self._calculation(text, merged, state)
            if draft is not None:
                return draft
        draft = self._calculation(text, merged, state, lookup_only=True)
        if draft is not None:
            return draft
        if not slots.role_ids and _ROLE_LIST.search(text) and not _PROVIDER.search(text):
            draft = self._role_list(text, slots, state)
            if draft is not None:
                return draft
        return self._faq(text, query_text, vector, merged, state, decision, provider=False)

    def _find_roles(self, text: str) -> list[str]:
        return [role.id for role in self.roles.find_in_text(text)]

    def _is_follow_up(self, text: str, slots: QuerySlots, state: SessionState) -> bool:
        if not state.last_question:
            return False
        if _FOLLOW_UP.search(text):
            return True
        previous = state.slots or {}
        if (
            not slots.role_ids
            and previous.get("role_ids")
            and (slots.wte or slots.hours_per_week or slots.sessions_per_week or slots.start or slots.area)
        ):
            return True  # "1 WTE from October to March?" right after a question about a role
        return len(content_terms(text)) <= 3 and bool(slots.stated() - {"financial_years"})

    def _expanded_query(self, text: str, slots: QuerySlots, previous: QuerySlots | None) -> str:
        names = [self.roles.get(role_id).name for role_id in slots.role_ids]
        if previous is not None and not slots.role_ids:
            names += [self.roles.get(role_id).name for role_id in previous.role_ids]
        extra = ", ".join(dict.fromkeys(names))
        if previous is not None and previous.financial_year and not slots.financial_year:
            extra = f"{extra} {previous.financial_year}".strip()
        return f"{text} ({extra})" if extra else text

    @staticmethod
    def _has_calc_slots(slots: QuerySlots) -> bool:
        return any(
            value is not None
            for value in (
                slots.wte,
                slots.hours_per_week,
                slots.sessions_per_week,
                slots.population,
                slots.budget,
                slots.salary,
                slots.actual_annual_cost,
                slots.actual_monthly_cost,
            )
        ) or bool(slots.start and slots.role_ids)

    # Replies -----------------------------------------------------------------------------------
    def _greeting(self, text: str, state: SessionState) -> Draft:
        state.last_intent = Intent.GREETING.value
        thanks = re.match(r"\s*(thanks?|thank you|cheers|ok|great|bye)", text, re.I)
        return Draft(messages.THANKS if thanks else messages.GREETING, Intent.GREETING, grounded=False)

    def _abstain(
        self, intent: Intent, state: SessionState, financial_year: str | None, provider: bool = False
    ) -> Draft:
        state.last_intent = intent.value
        base = (
            messages.PROVIDER_NOT_COVERED
            if provider
            else (messages.OUT_OF_SCOPE if intent is Intent.OUT_OF_SCOPE else messages.NOT_COVERED)
        )
        return Draft(
            f"{base} {messages.CONSULTATION_OFFER}", intent, grounded=False, financial_year=financial_year
        )

    def _faq(
        self,
        text: str,
        query_text: str,
        vector: np.ndarray,
        slots: QuerySlots,
        state: SessionState,
        decision: IntentDecision,
        *,
        provider: bool,
    ) -> Draft:
        today = self.settings.current_date()
        definition = bool(_DEFINITION.match(text))
        if definition:
            query_text, vector = DEFINITION_QUERY, self.encode(DEFINITION_QUERY)
        named_year = slots.financial_year
        financial_year = named_year or years.of_date(today)
        if decision.intent is Intent.OUT_OF_SCOPE and not provider:
            return self._abstain(Intent.OUT_OF_SCOPE, state, None)
        source_types = ["provider"] if provider else ["guidance", "user", "rates"]
        hits = self.index.search(
            query_text,
            vector,
            k=max(self.settings.top_k, SELECTION_DEPTH),
            candidates=self.settings.retrieval_candidates,
            years=slots.financial_years,
            source_types=source_types,
        )
        terms = (
            content_terms(DEFINITION_QUERY) if definition else self._question_terms(text, slots, query_text)
        )
        selection = select(
            terms,
            hits,
            self.weights,
            asked_years=slots.financial_years,
            boost_terms=terms,
            meaning=lambda chunk_id, offset: self.sentences.similarity(chunk_id, offset, vector),
            recent_year=None if (named_year or definition) else financial_year,
            question_phrases=word_pairs(text),
        )
        top_dense = max((hit.dense_similarity or 0.0 for hit in hits), default=0.0)
        state.last_question = text
        state.slots = slots.model_dump(mode="json")
        # Support is weak when the chosen sentences cover too little of the question, unless they say
        # the same thing in other words (high sentence similarity); an unknown key word always fails.
        by_meaning = selection.best_similarity >= STRONG_SENTENCE_SIMILARITY and selection.coverage >= 0.2
        if (
            not selection.evidence
            or (selection.coverage < MIN_COVERAGE and not by_meaning)
            or top_dense < MIN_DENSE_SIMILARITY
            or self._key_term_missing(terms, selection.missing_terms)
            or (provider and max(terms, key=self.weights, default="") in selection.missing_terms)
        ):
            off_topic = not provider and not slots.role_ids and not _DOMAIN.search(text)
            intent = Intent.OUT_OF_SCOPE if off_topic else Intent.FAQ
            draft = self._abstain(
                intent, state, None if (provider or off_topic) else financial_year, provider=provider
            )
            draft.top_score = top_dense
            return draft
        book = CitationBook()
        body = render(selection, book)
        if not provider:
            body = f"{body}\n\n{messages.year_note(financial_year, named=bool(named_year))}"
        state.last_intent = Intent.FAQ.value
        state.last_operation = None
        return Draft(
            body,
            Intent.FAQ,
            grounded=True,
            citations=book.citations,
            financial_year=None if provider else financial_year,
            top_score=top_dense,
        )

    def _role_list(self, text: str, slots: QuerySlots, state: SessionState) -> Draft | None:
        """Which roles qualify: one cited line per role from the roles overview, for the year asked."""
        named_year = slots.financial_year
        financial_year = named_year or years.of_date(self.settings.current_date())
        fy_start = years.start_year_of(financial_year)
        overview = [chunk for chunk in self.index.chunks if chunk.metadata.doc_id == "roles-overview"]
        if not overview:
            return None
        book = CitationBook()
        lines: list[str] = []
        for role in self.roles.all():
            if years.start_year_of(role.year_added) > fy_start:
                continue
            found = _first_sentence_starting(overview, [role.name, *role.abbreviations, *role.synonyms])
            if found is None:
                continue
            chunk, offset, sentence = found
            number = book.cite_chunk(ScoredChunk(chunk=chunk, score=1.0), offset, sentence)
            lines.append(f"- {sentence} [{number}]")
        if not lines:
            return None
        state.last_question, state.last_intent, state.last_operation = text, Intent.FAQ.value, None
        state.slots = slots.model_dump(mode="json")
        intro = f"Roles reimbursable under ARRS by {financial_year}, as listed in the guidance held ({len(lines)}):"
        body = "\n".join([intro, *lines])
        caveat = (
            "Bands marked unverified come from a third-party reckoner, not the DES; from 2024/25 an ICB may also "
            "agree other direct patient care roles."
        )
        note = messages.year_note(financial_year, named=bool(named_year))
        return Draft(
            f"{body}\n\n{caveat}\n\n{note}",
            Intent.FAQ,
            grounded=True,
            citations=book.citations,
            financial_year=financial_year,
        )

    def _key_term_missing(self, terms: list[str], missing: list[str]) -> bool:
        """The question's most specific word (say "dentist") appears nowhere in the corpus: the guidance
        held cannot be about it, however well the other words match."""
        unknown = [
            term
            for term in missing
            if term not in self.index.vocabulary and term.isalpha() and len(term) >= 4
        ]
        return bool(unknown) and max(terms, key=self.weights) in unknown

    def _question_terms(self, text: str, slots: QuerySlots, query_text: str) -> list[str]:
        terms = content_terms(text)
        abbreviations = set()
        for role_id in slots.role_ids:
            role = self.roles.get(role_id)
            abbreviations |= {abbr.lower() for abbr in getattr(role, "abbreviations", [])}
        terms = [term for term in terms if term not in abbreviations]
        extra = content_terms(query_text[len(text) :]) if len(query_text) > len(text) else []
        return list(dict.fromkeys([self._spelling(term) for term in terms] + extra))

    def _spelling(self, term: str) -> str:
        """A word the corpus never uses is read as its nearest corpus word when that is a likely typo."""
        if term in self.index.vocabulary or not term.isalpha() or len(term) < 5:
            return term
        close = difflib.get_close_matches(term, self._long_vocabulary, n=1, cutoff=0.84)
        return canonical(close[0]) if close else term

    # Hooks filled by the calculation and booking modules ----------------------------------------
    def _calculation(
        self,
        text: str,
        slots: QuerySlots,
        state: SessionState,
        *,
        operation: str | None = None,
        lookup_only: bool = False,
    ) -> Draft | None:
        from assistant.calc_dialogue import respond

        return respond(self, text, slots, state, operation=operation, lookup_only=lookup_only)

    def _booking_step(self, text: str, state: SessionState, session_id: str) -> Draft | None:
        from assistant.booking_dialogue import continue_booking

        return continue_booking(self, text, state, session_id)

    def _start_booking(self, text: str, state: SessionState, session_id: str) -> Draft:
        from assistant.booking_dialogue import start_booking

        return start_booking(self, text, state, session_id)

    def _observe(self, answer: Answer, draft: Draft, channel: str, seconds: float, question: str) -> None:
        """Hook for metrics and the question log (set by the insights module)."""
        for observer in getattr(self, "observers", []):
            try:
                observer(
                    answer=answer,
                    top_score=draft.top_score,
                    channel=channel,
                    seconds=seconds,
                    question=question,
                )
            except Exception:  # an observer must never break an answer
                log.exception("answer observer failed")


def _first_sentence_starting(chunks, names: list[str]):
    """The overview bullet for a role: a sentence that begins with one of its names and a colon
    or bracket ("Paramedic: added ...", "GP: added ...", "Consultant nurse in primary care: ...")."""
    sentences = [
        (chunk, offset, sentence) for chunk in chunks for offset, sentence in split_sentences(chunk.text)
    ]
    for name in names:
        pattern = re.compile(rf"^{re.escape(name)}(?: in primary care)?(?: \(|: )", re.I)
        for chunk, offset, sentence in sentences:
            if pattern.match(sentence):
                return chunk, offset, sentence
    return None


def is_provider_question(text: str) -> bool:
    """Asked of the provider itself ("your pharmacists", "when are you open", "the consultation")."""
    return bool(_PROVIDER.search(text)) or _about_provider_only(text)


def _about_provider_only(text: str) -> bool:
    return bool(re.search(r"\b(consultation|office hours|opening hours|are you open)\b", text, re.I))
