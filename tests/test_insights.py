"""The question log: what every answer records, masking before storage, retention, the wiring."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from assistant.db import create_schema, make_engine
from assistant.insights import QuestionLog, attach_insights, make_observer, question_log
from assistant.models import Answer, Citation, Intent
from assistant.settings import Settings

EMAIL = "jane.doe@example-pcn.nhs.uk"
PHONES = ["07700 900123", "+44 20 7946 0958", "0161 496 0000"]


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "insights.db"


@pytest.fixture
def engine(db_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{db_path}")
    create_schema(engine)
    return engine


def _answer(**overrides) -> Answer:
    values = {
        "answer": "A PCN may claim ... [1] [2]",
        "citations": [
            Citation(n=1, doc_id="scheme-funding", title="Funding", quote="q1"),
            Citation(n=2, doc_id="roles-pharmacy", title="Pharmacy", quote="q2"),
            Citation(n=3, doc_id="scheme-funding", title="Funding", quote="q3"),
        ],
        "intent": Intent.FAQ,
        "grounded": True,
        "financial_year": "2026/27",
        "session_id": "sess-1",
        "turn": 3,
    }
    return Answer(**{**values, **overrides})


def _raw_rows(engine: Engine) -> list[dict]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(select(question_log)).mappings()]


def test_observer_records_every_field_of_an_answer(engine: Engine) -> None:
    answer = _answer()
    make_observer(engine)(
        answer=answer, top_score=0.61, channel="widget", seconds=0.0425, question="What is ARRS?"
    )
    [row] = QuestionLog(engine).rows()
    assert row.session_id == answer.session_id and row.turn == answer.turn
    assert row.intent == "faq" and row.grounded is True and row.channel == "widget"
    assert row.top_score == pytest.approx(0.61)
    # Cited documents once each, in citation order.
    assert row.doc_ids == list(dict.fromkeys(citation.doc_id for citation in answer.citations))
    assert row.latency_ms == pytest.approx(42.5)
    assert row.financial_year == answer.financial_year
    assert row.clarification is False
    assert row.created_at.tzinfo is not None


def test_a_calculation_that_asks_for_a_missing_detail_is_marked_as_clarification(engine: Engine) -> None:
    observe = make_observer(engine)
    observe(
        answer=_answer(intent=Intent.CALCULATION, grounded=False, citations=[]),
        top_score=None,
        channel="api",
        seconds=0.01,
        question="how much could we claim for a care co-ordinator from July?",
    )
    observe(
        answer=_answer(intent=Intent.CALCULATION, grounded=False, citations=[], calculation={"error": "x"}),
        top_score=None,
        channel="api",
        seconds=0.01,
        question="claim for a dentist",
    )
    assert [row.clarification for row in QuestionLog(engine).rows()] == [True, False]


def test_emails_and_phone_numbers_never_reach_the_table(engine: Engine, db_path: Path) -> None:
    question = f"I'm at {EMAIL}, call me on {PHONES[0]} or {PHONES[1]} or {PHONES[2]} about ARRS"
    make_observer(engine)(answer=_answer(), top_score=0.5, channel="api", seconds=0.1, question=question)
    QuestionLog(engine).record(
        question=f"direct write {EMAIL} {PHONES[0]}",
        session_id="sess-2",
        turn=1,
        channel="slack",
        intent="faq",
        grounded=False,
        top_score=None,
        doc_ids=[],
        seconds=0.2,
    )
    rows = _raw_rows(engine)
    stored = " ".join(str(value) for row in rows for value in row.values())
    for secret in [EMAIL, *PHONES]:
        assert secret not in stored
    assert "[email]" in rows[0]["question"] and rows[0]["question"].count("[phone]") == len(PHONES)
    assert rows[0]["question"].endswith("about ARRS")
    # Nor anywhere in the database file (the WAL included).
    engine.dispose()
    raw = b"".join(path.read_bytes() for path in db_path.parent.glob(db_path.name + "*"))
    for secret in [EMAIL, *PHONES]:
        assert secret.encode() not in raw


def test_purge_deletes_only_rows_past_retention(engine: Engine) -> None:
    store = QuestionLog(engine)
    now = datetime(2026, 11, 21, 12, tzinfo=UTC)
    days = 180
    ages = {"old": days + 1, "edge": days - 1, "new": 0}
    for name, age in ages.items():
        store.record(
            question=name,
            session_id=name,
            turn=1,
            channel="api",
            intent="faq",
            grounded=True,
            top_score=0.5,
            doc_ids=[],
            seconds=0.1,
            created_at=now - timedelta(days=age),
        )
    assert store.purge_older_than(days, now=now) == sum(age > days for age in ages.values())
    assert sorted(row.question for row in store.rows()) == sorted(n for n, a in ages.items() if a <= days)
    assert store.purge_older_than(days, now=now) == 0


def test_attach_insights_purges_at_start_up_and_attaches_once(engine: Engine, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", question_log_retention_days=30, _env_file=None)
    store = QuestionLog(engine)
    for age in (31, 1):
        store.record(
            question=f"{age} days old",
            session_id="s",
            turn=age,
            channel="api",
            intent="faq",
            grounded=True,
            top_score=0.5,
            doc_ids=[],
            seconds=0.1,
            created_at=datetime.now(UTC) - timedelta(days=age),
        )
    fake = SimpleNamespace(engine=engine, settings=settings, observers=[])
    attach_insights(fake)
    assert [row.question for row in store.rows()] == ["1 days old"]
    attach_insights(fake)
    assert len(fake.observers) == 1


def test_arrs_report_purge(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.cli import app

    url = f"sqlite:///{tmp_path / 'state.db'}"
    monkeypatch.setenv("ARRS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARRS_DATABASE_URL", url)
    monkeypatch.setenv("ARRS_QUESTION_LOG_RETENTION_DAYS", "10")
    engine = make_engine(url)
    create_schema(engine)
    store = QuestionLog(engine)
    for age in (11, 12, 9):
        store.record(
            question="q",
            session_id=f"s{age}",
            turn=1,
            channel="api",
            intent="faq",
            grounded=True,
            top_score=0.5,
            doc_ids=[],
            seconds=0.1,
            created_at=datetime.now(UTC) - timedelta(days=age),
        )
    result = CliRunner().invoke(app, ["report", "--purge"])
    assert result.exit_code == 0, result.output
    assert "Deleted 2 question log row(s) older than 10 days" in result.output
    assert [row.session_id for row in store.rows()] == ["s9"]


def test_every_answer_of_a_real_assistant_is_logged_masked(assistant) -> None:
    store = attach_insights(assistant)
    first = assistant.ask(f"What does additionality mean? Reply to {EMAIL}", channel="widget")
    second = assistant.ask("hello", session_id=first.session_id, channel="widget")
    rows = store.rows()
    assert [(row.session_id, row.turn) for row in rows] == [(a.session_id, a.turn) for a in (first, second)]
    assert rows[0].intent == first.intent and rows[0].grounded == first.grounded
    assert rows[0].doc_ids == list(dict.fromkeys(c.doc_id for c in first.citations))
    assert rows[0].top_score is not None and rows[0].latency_ms > 0
    assert EMAIL not in rows[0].question and "[email]" in rows[0].question
    assert rows[1].intent == Intent.GREETING.value and rows[1].channel == "widget"
