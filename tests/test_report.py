"""The staff insights report over hand-inserted rows: grouping by meaning with the real embedding
model, negative feedback, intents by channel, booking conversion, latency, rendering."""

from __future__ import annotations

import json
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from assistant.booking.store import BookingStore
from assistant.db import create_schema, make_engine
from assistant.embeddings import get_embeddings
from assistant.feedback import FeedbackIn, FeedbackStore
from assistant.insights import LoggedQuestion, QuestionLog
from assistant.memory import SessionState, SessionStore
from assistant.provider import PROFILE_DOC_ID
from assistant.report import (
    InsightsReport,
    InvalidReportFormat,
    build_report,
    needs_attention,
    render_html,
    render_markdown,
    report_response,
)
from assistant.settings import Settings

NOW = datetime(2026, 11, 21, 12, tzinfo=UTC)
DENTIST = [
    "Can ARRS funding pay for a dentist?",
    "Is a dentist reimbursable under ARRS?",
    "can we claim for a dentist through ARRS",
]
WEEKEND = [
    "Do you offer out-of-hours cover at weekends?",
    "do you provide weekend cover",
]
VAT = "How do I reclaim VAT on agency staff invoices?"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'report.db'}")
    create_schema(engine)
    return engine


@pytest.fixture
def encode(settings: Settings):
    return get_embeddings(settings).encode


class Log:
    """Writes question-log rows one second apart, so their order is the order written."""

    def __init__(self, engine: Engine) -> None:
        self.store = QuestionLog(engine)
        self.rows: list[LoggedQuestion] = []

    def add(self, question: str, *, session: str = "s", turn: int | None = None, **fields) -> LoggedQuestion:
        values = {
            "channel": "api",
            "intent": "faq",
            "grounded": False,
            "top_score": None,
            "doc_ids": [],
            "seconds": 0.05,
            **fields,
        }
        row = self.store.record(
            question=question,
            session_id=session,
            turn=turn if turn is not None else len(self.rows) + 1,
            created_at=NOW - timedelta(hours=1) + timedelta(seconds=len(self.rows)),
            **values,
        )
        self.rows.append(row)
        return row


def _group_of(report: InsightsReport, text: str):
    [group] = [g for g in report.groups if text == g.example or text in g.variants]
    return group


def test_paraphrases_of_one_unanswered_question_form_one_group(engine: Engine, encode) -> None:
    log = Log(engine)
    for text in (DENTIST[0], VAT, DENTIST[1], WEEKEND[0], DENTIST[2], WEEKEND[1]):
        log.add(text, channel="widget" if text in WEEKEND else "api")
    report = build_report(engine, encode, now=NOW)
    dentist = _group_of(report, DENTIST[0])
    assert dentist.count == len(DENTIST) and {dentist.example, *dentist.variants} == set(DENTIST)
    assert dentist.abstained == len(DENTIST)
    weekend = _group_of(report, WEEKEND[0])
    assert {weekend.example, *weekend.variants} == set(WEEKEND) and weekend.channels == {"widget": 2}
    vat = _group_of(report, VAT)
    assert vat.count == 1 and vat is not dentist and vat is not weekend
    assert len(report.groups) == 3 and report.needs_attention == len(log.rows)
    # Biggest group first; the same log gives the same report.
    assert report.groups[0] is dentist
    assert build_report(engine, encode, now=NOW).groups == report.groups


def test_only_unanswered_or_weak_answers_where_an_answer_was_expected_need_attention(
    engine: Engine, encode
) -> None:
    log = Log(engine)
    weak = log.add("what is the arrs wte rounding rule", grounded=True, top_score=0.31)
    log.add("What does additionality mean?", grounded=True, top_score=0.72)
    # One short profile scores low against anything; the chain checks provider answers its own way.
    log.add("When are you open?", grounded=True, top_score=0.32, doc_ids=[PROFILE_DOC_ID])
    log.add("hello there", intent="greeting")
    log.add("what dose of amoxicillin for a child", intent="clinical")
    log.add("I'd like to book a consultation", intent="booking")
    log.add("how much for a care coordinator from July?", intent="calculation", clarification=True)
    unanswered = log.add("Can ARRS pay for a practice manager?")
    expected = [row for row in log.rows if needs_attention(row)]
    assert [row.question for row in expected] == [weak.question, unanswered.question]
    report = build_report(engine, encode, now=NOW)
    grouped = {text for group in report.groups for text in [group.example, *group.variants]}
    assert grouped == {row.question for row in expected}
    assert _group_of(report, weak.question).best_score == pytest.approx(weak.top_score)


def test_negative_feedback_is_listed_with_its_comment_and_question(engine: Engine, encode) -> None:
    log = Log(engine)
    liked = log.add(
        "What is ARRS?", session="a", turn=1, grounded=True, top_score=0.8, doc_ids=["scheme-overview"]
    )
    disliked = log.add(
        "What is the on-cost for a paramedic?",
        session="a",
        turn=2,
        grounded=True,
        top_score=0.5,
        doc_ids=["scheme-on-costs"],
    )
    sessions = SessionStore(engine)
    for row, answer in ((liked, "ARRS is ..."), (disliked, "Employer on-costs are ...")):
        turn = sessions.save_turn(
            "a", SessionState(), question=row.question, answer=answer, intent="faq", grounded=True,
            financial_year="2026/27",
        )  # fmt: skip
        assert turn == row.turn
    feedback = FeedbackStore(engine)
    feedback.record(FeedbackIn(session_id="a", turn=liked.turn, rating="up"), channel="widget")
    comment = "It gave the 2024/25 figure, I asked for this year. Call 07700 900123"
    feedback.record(
        FeedbackIn(session_id="a", turn=disliked.turn, rating="down", comment=comment), channel="widget"
    )
    report = build_report(engine, encode, now=NOW)
    assert (report.feedback_up, report.feedback_down) == (1, 1)
    [item] = report.negative_feedback
    assert item.question == disliked.question and item.turn == disliked.turn
    assert item.comment is not None and item.comment.startswith(comment.split(" Call")[0])
    assert "07700 900123" not in item.comment  # the feedback store masks comments too
    assert item.doc_ids == disliked.doc_ids and item.intent == "faq" and item.grounded is True
    assert item.answer_excerpt == "Employer on-costs are ..."
    markdown = render_markdown(report)
    assert "It gave the 2024/25 figure" in markdown and "on-cost for a paramedic" in markdown


def test_intents_by_channel_booking_conversion_and_latency(engine: Engine, encode) -> None:
    log = Log(engine)
    plan = [
        ("widget", "faq", "b1"),
        ("widget", "booking", "b1"),
        ("widget", "booking", "b1"),
        ("widget", "booking", "b2"),
        ("slack", "faq", "c1"),
        ("slack", "calculation", "c1"),
        ("api", "greeting", "d1"),
        ("api", "booking", "d2"),
        ("api", "faq", "d3"),
    ]
    for index, (channel, intent, session) in enumerate(plan):
        log.add(
            f"question {index}",
            channel=channel,
            intent=intent,
            session=session,
            grounded=intent in ("faq", "calculation"),
            top_score=0.9 if intent == "faq" else None,
            seconds=(index + 1) / 100,
        )
    store = BookingStore(engine)
    slot = datetime(2026, 11, 24, 10, tzinfo=UTC)
    store.create_booking(
        slot_start=slot, slot_end=slot + timedelta(minutes=30), name="A Person", email="a@example.org",
        organisation="Riverside PCN", interest="pharmacists", session_id="b1",
    )  # fmt: skip
    store.create_callback(name="B Person", phone="+447700900123", question="q", session_id="b2")
    store.create_callback(name="C Person", phone="+447700900124", question="q", session_id="never-started")

    report = build_report(engine, encode, now=NOW)
    expected: dict[str, Counter] = {}
    for channel, intent, _ in plan:
        expected.setdefault(channel, Counter())[intent] += 1
    assert report.intents_by_channel == {channel: dict(counts) for channel, counts in expected.items()}
    started = {session for _, intent, session in plan if intent == "booking"}
    assert report.conversion.started == len(started)
    assert report.conversion.booked == 1 and report.conversion.callbacks == 1
    assert report.conversion.rate == pytest.approx(1 / len(started))
    latencies = [row.latency_ms for row in log.rows]
    assert report.latency is not None and report.latency.count == len(plan)
    assert report.latency.p50_ms == pytest.approx(statistics.median(latencies))
    assert (
        min(latencies)
        <= report.latency.p50_ms
        <= report.latency.p95_ms
        <= report.latency.p99_ms
        <= max(latencies)
    )
    assert set(report.latency_by_channel) == set(expected)
    assert report.sessions == len({session for *_, session in plan})


def test_since_leaves_out_older_questions_and_feedback(engine: Engine, encode) -> None:
    store = QuestionLog(engine)
    for question, when in (("old question about dentists", NOW - timedelta(days=40)), ("new question", NOW)):
        store.record(
            question=question, session_id=question, turn=1, channel="api", intent="faq", grounded=False,
            top_score=None, doc_ids=[], seconds=0.1, created_at=when,
        )  # fmt: skip
    report = build_report(engine, encode, (NOW - timedelta(days=7)).date(), now=NOW)
    assert report.questions == 1 and [g.example for g in report.groups] == ["new question"]
    assert report.since == (NOW - timedelta(days=7)).date()


def test_an_empty_database_gives_an_empty_report(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.db'}")

    def never(texts):  # nothing to group, so the model is never needed
        raise AssertionError("encode called")

    report = build_report(engine, never, now=NOW)
    assert report.questions == 0 and report.groups == [] and report.latency is None
    assert "None in this period." in render_markdown(report)
    assert "<h1>" in render_html(report)


def test_renders_markdown_html_with_charts_and_json(engine: Engine, encode) -> None:
    log = Log(engine)
    hostile = "<script>alert(1)</script> what about | pipes and ![img](https://evil.example/x.png)"
    for text in (*DENTIST, hostile):
        log.add(text, channel="widget")
    log.add("book", intent="booking", session="b")
    log.add("What is ARRS?", grounded=True, top_score=0.8, channel="slack")

    markdown, media = report_response(engine, encode, None, "md")
    assert media.startswith("text/markdown")
    for heading in (
        "Unanswered or weakly grounded",
        "negative feedback",
        "Intents by channel",
        "Booking conversion",
        "Latency",
    ):
        assert heading in markdown
    assert DENTIST[0] in markdown.replace("\\", "")

    page, media = report_response(engine, encode, None, "html")
    assert media.startswith("text/html")
    assert page.count('<img src="data:image/png;base64,') >= 3
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert 'evil.example/x.png"' not in page and '<img src="https://' not in page
    assert "<table>" in page

    body, media = report_response(engine, encode, date(2020, 1, 1), "json")
    assert media == "application/json"
    parsed = InsightsReport.model_validate(json.loads(body))
    assert parsed.questions == len(log.rows) and json.loads(body)["conversion"]["rate"] == 0.0

    with pytest.raises(InvalidReportFormat):
        report_response(engine, encode, None, "pdf")


def test_arrs_report_writes_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, engine: Engine) -> None:
    from assistant.cli import app

    url = str(engine.url)
    monkeypatch.setenv("ARRS_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("ARRS_DATABASE_URL", url)
    Log(engine).add(DENTIST[0])
    target = tmp_path / "out" / "report.html"
    result = CliRunner().invoke(
        app, ["report", "--since", "2020-01-01", "--format", "html", "--output", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert "data:image/png;base64," in target.read_text(encoding="utf-8")
    result = CliRunner().invoke(app, ["report"])
    assert result.exit_code == 0 and DENTIST[0] in result.output.replace("\\", "")
