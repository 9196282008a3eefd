"""The optional LLM: its wording is used only when the guard finds every marker and figure backed."""

from __future__ import annotations

import pytest
from langchain_core.language_models import GenericFakeChatModel
from langchain_core.messages import AIMessage

from assistant.chain import Assistant
from assistant.llm import guard
from assistant.models import Citation

CLAIMS_DOC = {
    "claims-guide": (
        "Submitting ARRS claims",
        "## Monthly claims\n"
        "- PCNs submit ARRS claims every month through the national claims portal.[^src]\n"
        "- The ICB approves each ARRS claim before payment.[^src]\n"
        "- ARRS payments usually arrive one month in arrears.[^src]",
    )
}


def citation(n: int, quote: str) -> Citation:
    return Citation(n=n, doc_id="d", title="t", url="https://example.org", quote=quote)


def test_guard_accepts_figures_from_quotes_and_calculations():
    cites = [citation(1, "The 2025/26 multiplier is £26.631 per weighted patient.")]
    ok = guard("The multiplier is £26.631 per weighted patient [1].", cites, None, "what is the multiplier")
    assert ok.ok, ok.reasons
    calc = {"result": {"claim": "12523.50"}}
    assert guard("You can claim £12,523.50 [1].", cites, calc, "0.5 WTE").ok


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("The multiplier is £27.000 per weighted patient [1].", "figures not in any source"),
        ("The multiplier is £26.631 [2].", "markers without a source"),
        ("The multiplier is £26.631.", "no citation markers"),
    ],
)
def test_guard_rejects_invented_figures_and_markers(text, reason):
    cites = [citation(1, "The 2025/26 multiplier is £26.631 per weighted patient.")]
    verdict = guard(text, cites, None, "what is the multiplier")
    assert not verdict.ok
    assert any(reason in r for r in verdict.reasons)


def fake(text: str) -> GenericFakeChatModel:
    return GenericFakeChatModel(messages=iter([AIMessage(content=text)]))


def test_llm_wording_is_used_when_it_passes_the_guard(small_corpus):
    settings = small_corpus(CLAIMS_DOC)
    assistant = Assistant.from_settings(
        settings, chat_model=fake("Claims go in monthly via the national portal [1].")
    )
    answer = assistant.ask("How do we submit ARRS claims?")
    assert answer.grounded
    assert answer.answer.startswith("Claims go in monthly via the national portal [1].")
    assert "Financial year:" in answer.answer


def test_llm_that_invents_a_figure_falls_back_to_the_extractive_answer(small_corpus):
    settings = small_corpus(CLAIMS_DOC)
    invented = "Claims are paid within 14 days and each claim is worth £5,000 [1]."
    assistant = Assistant.from_settings(settings, chat_model=fake(invented))
    answer = assistant.ask("How do we submit ARRS claims?")
    assert answer.grounded
    assert "£5,000" not in answer.answer and "14 days" not in answer.answer
    assert "national claims portal" in answer.answer


def test_llm_failure_falls_back(small_corpus):
    settings = small_corpus(CLAIMS_DOC)
    exhausted = GenericFakeChatModel(messages=iter([]))  # raises when called
    answer = Assistant.from_settings(settings, chat_model=exhausted).ask("How do we submit ARRS claims?")
    assert answer.grounded and "national claims portal" in answer.answer
