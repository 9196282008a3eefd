"""The HTTP API over real HTTP: uvicorn on a free port, httpx as the client.

One server over the shared ingested corpus serves the read-mostly tests; tests that need their
own state (feedback, metrics, start-up, errors) start their own app.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_support import LiveServer, live_server, wait_for
from conftest import TEST_TODAY

from assistant.feedback import FeedbackStore
from assistant.models import Answer
from assistant.settings import BUNDLED_CORPUS, Settings
from server import create_app

pytestmark = pytest.mark.integration

ROLES_QUESTION = "Which roles can a PCN claim for under ARRS?"


@pytest.fixture(scope="module")
def server(module_settings: Settings, module_assistant) -> Iterator[LiveServer]:
    with live_server(create_app(module_settings, assistant=module_assistant)) as running:
        yield running


@pytest.fixture
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def assert_clean_error(response: httpx.Response, status: int, error: str | None = None) -> dict:
    """A JSON error of the documented shape, with the request id, and no internals."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["message"]
    assert body["request_id"] == response.headers["x-request-id"]
    if error:
        assert body["error"] == error
    for leak in ("Traceback", 'File "', "site-packages", "Exception"):
        assert leak not in response.text
    return body


# Answers ----------------------------------------------------------------------------------------


def test_health_and_readiness(client: httpx.Client) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() | {"message": None} == {
        "ready": True,
        "index_loaded": True,
        "chroma_reachable": True,
        "message": None,
    }


def test_ask_returns_a_cited_answer_and_keeps_the_session(client: httpx.Client) -> None:
    first = client.post("/api/ask", json={"question": ROLES_QUESTION})
    assert first.status_code == 200, first.text
    answer = Answer.model_validate(first.json())
    assert answer.grounded and answer.citations
    assert answer.turn == 1
    for citation in answer.citations:
        assert f"[{citation.n}]" in answer.answer
        assert citation.url.startswith("https://")

    second = client.post(
        "/api/ask", json={"question": "What about pharmacy technicians?", "session_id": answer.session_id}
    )
    assert second.status_code == 200, second.text
    assert second.json()["session_id"] == answer.session_id
    assert second.json()["turn"] == 2


def parse_sse(text: str) -> list[tuple[str, dict]]:
    events = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        lines = [line for line in block.split("\n") if line]
        if not lines:
            continue
        name = next((line[6:].strip() for line in lines if line.startswith("event:")), "message")
        data = "\n".join(line[5:].removeprefix(" ") for line in lines if line.startswith("data:"))
        events.append((name, json.loads(data)))
    return events


def test_stream_sends_pieces_then_the_full_answer(server: LiveServer) -> None:
    with (
        httpx.Client(base_url=server.url, timeout=60) as http,
        http.stream("POST", "/api/ask/stream", json={"question": ROLES_QUESTION}) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        chunks = list(response.iter_text())
    events = parse_sse("".join(chunks))
    names = [name for name, _ in events]
    assert names[-1] == "final" and set(names[:-1]) == {"delta"} and len(names) > 2
    final = Answer.model_validate(events[-1][1])
    assert "".join(data["text"] for name, data in events if name == "delta") == final.answer
    assert final.citations and final.grounded


def test_stream_errors_are_json_before_any_event(client: httpx.Client) -> None:
    assert_clean_error(client.post("/api/ask/stream", json={"question": "   "}), 422, "invalid_question")


# Input errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "content_type", "status", "error", "field"),
    [
        pytest.param(b'{"question": ""}', "application/json", 422, "invalid_question", "question", id="empty"),
        pytest.param(b'{"question": " \\n\\t "}', "application/json", 422, "invalid_question", "question", id="blank"),
        pytest.param(b'{"question": "\\u0000\\u0001\\u0002"}', "application/json", 422, "invalid_question", "question", id="control-chars"),
        pytest.param(b"\xff\xfe\x00\x81\x93binary", "application/json", 422, "invalid_request", "body", id="undecodable"),
        pytest.param(b'{"question": "hi"', "application/json", 422, "invalid_request", "body", id="malformed-json"),
        pytest.param(b'{"question": 5}', "application/json", 422, "invalid_request", "question", id="number"),
        pytest.param(b'{"question": ["a"]}', "application/json", 422, "invalid_request", "question", id="list"),
        pytest.param(b'{"question": "hi", "session_id": 7}', "application/json", 422, "invalid_request", "session_id", id="session-type"),
        pytest.param(b'{"question": "hi", "session_id": "a b<c>"}', "application/json", 422, "invalid_request", "session_id", id="session-pattern"),
        pytest.param(b"{}", "application/json", 422, "invalid_request", "question", id="missing"),
        pytest.param(b'["question"]', "application/json", 422, "invalid_request", "body", id="not-object"),
        pytest.param(b'{"question": "hi", "admin": true}', "application/json", 422, "invalid_request", "admin", id="unknown-field"),
        pytest.param(b"", "application/json", 422, "invalid_request", "body", id="no-body"),
        pytest.param(b'{"question": "hi"}', "text/plain", 415, "unsupported_media_type", None, id="not-json"),
    ],
)  # fmt: skip
def test_invalid_input_is_a_clear_error(
    client: httpx.Client, content: bytes, content_type: str, status: int, error: str, field: str | None
) -> None:
    response = client.post("/api/ask", content=content, headers={"content-type": content_type})
    body = assert_clean_error(response, status, error)
    if field:
        assert field in [problem["field"] for problem in body["details"]]


def test_too_long_question_names_the_limit(client: httpx.Client, module_settings: Settings) -> None:
    limit = module_settings.max_question_chars
    body = assert_clean_error(
        client.post("/api/ask", json={"question": "a" * (limit + 1)}), 422, "invalid_question"
    )
    assert f"{limit:,}" in body["message"]


def test_body_over_the_limit_is_413(client: httpx.Client, module_settings: Settings) -> None:
    big = json.dumps({"question": "a" * (module_settings.max_body_bytes + 10)}).encode()
    body = assert_clean_error(
        client.post("/api/ask", content=big, headers={"content-type": "application/json"}),
        413,
        "body_too_large",
    )
    assert f"{module_settings.max_body_bytes:,}" in body["message"]

    def chunked():  # no Content-Length: the limit is enforced while reading
        for start in range(0, len(big), 8192):
            yield big[start : start + 8192]

    assert_clean_error(
        client.post("/api/ask", content=chunked(), headers={"content-type": "application/json"}),
        413,
        "body_too_large",
    )


def test_unknown_route_and_method(client: httpx.Client) -> None:
    body = assert_clean_error(client.get("/api/nothing-here"), 404, "not_found")
    assert "/api/nothing-here" in body["message"]
    assert_clean_error(client.delete("/api/ask"), 405, "method_not_allowed")


def test_request_id_is_echoed_when_sane(client: httpx.Client) -> None:
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"] == "abc-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "<script>"}).headers["x-request-id"]
    assert generated != "<script>" and generated.isalnum()


# Pages, headers, docs ---------------------------------------------------------------------------


def test_demo_page_embeds_the_widget_like_a_customer_site(client: httpx.Client, server: LiveServer) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    embed = f'<script src="{server.url}/widget.js" data-api="{server.url}" defer></script>'
    assert embed in page.text
    csp = page.headers["content-security-policy"]
    script_src = next(part for part in csp.split(";") if part.strip().startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "strict-origin-when-cross-origin"

    widget = client.get("/widget.js")
    assert widget.status_code == 200
    assert widget.headers["content-type"].startswith("text/javascript")
    assert "attachShadow" in widget.text and "innerHTML" not in widget.text


def test_api_responses_carry_security_headers(client: httpx.Client) -> None:
    response = client.get("/api/roles")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert response.headers["x-frame-options"] == "DENY"


def test_docs_are_served_without_a_cdn(client: httpx.Client) -> None:
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "/static/swagger/swagger-ui-bundle.js" in docs.text
    assert "cdn." not in docs.text
    assert "'sha256-" in docs.headers["content-security-policy"]
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/ask",
        "/api/ask/stream",
        "/api/feedback",
        "/api/calculate",
        "/api/roles",
        "/api/rates",
    ):
        assert path in paths


# Apps with their own state ------------------------------------------------------------------------


def test_feedback_is_stored_and_counted(assistant_settings: Settings, assistant) -> None:
    with (
        live_server(create_app(assistant_settings, assistant=assistant)) as running,
        httpx.Client(base_url=running.url, timeout=60) as http,
    ):
        answer = http.post("/api/ask", json={"question": ROLES_QUESTION}, headers={"X-ARRS-Client": "widget"})
        session, turn = answer.json()["session_id"], answer.json()["turn"]
        stored = http.post(
            "/api/feedback",
            json={"session_id": session, "turn": turn, "rating": "up"},
            headers={"X-ARRS-Client": "widget"},
        )
        assert stored.status_code == 201, stored.text
        rows = FeedbackStore(assistant.engine).all()
        assert [(r["session_id"], r["turn"], r["rating"], r["channel"]) for r in rows] == [
            (session, turn, "up", "widget")
        ]

        changed = http.post(
            "/api/feedback",
            json={"session_id": session, "turn": turn, "rating": "down", "comment": "too long"},
        )
        assert changed.status_code == 201
        rows = FeedbackStore(assistant.engine).all()
        assert [(r["rating"], r["comment"]) for r in rows] == [("down", "too long")]

        for bad in (
            {"session_id": session, "turn": turn, "rating": "meh"},
            {"session_id": session, "turn": 0, "rating": "up"},
            {"session_id": session, "rating": "up"},
        ):
            assert_clean_error(http.post("/api/feedback", json=bad), 422, "invalid_request")

        metrics = http.get("/metrics")
        assert metrics.status_code == 200
        text = metrics.text
        assert 'arrs_feedback_total{rating="up"} 1.0' in text
        assert 'arrs_feedback_total{rating="down"} 1.0' in text
        assert 'arrs_http_requests_total{method="POST",route="/api/feedback",status="201"} 2.0' in text
        assert 'arrs_http_requests_total{method="POST",route="/api/feedback",status="422"} 3.0' in text
        assert 'arrs_http_request_duration_seconds_bucket{le="+Inf",route="/api/ask"} 1.0' in text


def test_metrics_count_abstentions_by_intent(assistant_settings: Settings, assistant) -> None:
    with (
        live_server(create_app(assistant_settings, assistant=assistant)) as running,
        httpx.Client(base_url=running.url, timeout=60) as http,
    ):
        answers = [
            http.post("/api/ask", json={"question": q}).json()
            for q in (
                ROLES_QUESTION,
                "What is the best recipe for lasagne?",
                "What dose of amoxicillin for a child?",
            )
        ]
        abstained: dict[str, int] = {}
        for answer in answers:
            if not answer["grounded"]:
                abstained[answer["intent"]] = abstained.get(answer["intent"], 0) + 1
        assert abstained, "the off-topic and clinical questions should not be answered from guidance"
        text = http.get("/metrics").text
        for intent, count in abstained.items():
            assert f'arrs_abstentions_total{{intent="{intent}"}} {float(count)}' in text
        assert "arrs_abstentions_total" in text and "arrs_answers_total" in text


def test_503_until_the_index_is_ready(tmp_path: Path) -> None:
    empty = Settings(data_dir=tmp_path / "empty", corpus_dir=BUNDLED_CORPUS, today=TEST_TODAY, _env_file=None)
    app = create_app(empty)
    with live_server(app) as running, httpx.Client(base_url=running.url, timeout=30) as http:
        wait_for(lambda: app.state.runtime.load_error, timeout=60, what="the failed load")
        assert http.get("/healthz").status_code == 200
        ready = http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["ready"] is False
        for response in (
            http.post("/api/ask", json={"question": ROLES_QUESTION}),
            http.post("/api/ask/stream", json={"question": ROLES_QUESTION}),
            http.post("/api/feedback", json={"session_id": "s1", "turn": 1, "rating": "up"}),
        ):
            body = assert_clean_error(response, 503, "not_ready")
            assert str(tmp_path) not in body["message"]  # no server paths to clients
            assert int(response.headers["retry-after"]) > 0
        # The calculator needs no index: it works while the assistant is not ready.
        assert http.get("/api/roles").status_code == 200


class _Exploding:
    """An assistant whose every answer fails with an unexpected error."""

    engine = None

    def ask(self, *args, **kwargs):
        raise RuntimeError("secret internal detail /etc/passwd")

    def ready(self) -> bool:
        return True


def test_unexpected_errors_are_500_with_a_request_id_only(settings: Settings) -> None:
    with (
        live_server(create_app(settings, assistant=_Exploding())) as running,
        httpx.Client(base_url=running.url, timeout=30) as http,
    ):
        for path in ("/api/ask", "/api/ask/stream"):
            response = http.post(path, json={"question": ROLES_QUESTION})
            body = assert_clean_error(response, 500, "internal_error")
            assert "secret" not in response.text and "passwd" not in response.text
            assert body["request_id"]


def test_logs_are_json_with_request_ids_and_no_question_text(
    assistant_settings: Settings, assistant, caplog: pytest.LogCaptureFixture
) -> None:
    marker = "Zanzibar-unique-marker"
    question = f"Which roles can a PCN claim for under ARRS? {marker}"
    for log_questions in (False, True):
        caplog.clear()
        settings = assistant_settings.model_copy(update={"log_questions": log_questions})
        with caplog.at_level(logging.INFO), live_server(create_app(settings, assistant=assistant)) as running:
            response = httpx.post(f"{running.url}/api/ask", json={"question": question}, timeout=60)
            assert response.status_code == 200
        request_id = response.headers["x-request-id"]
        records = [r for r in caplog.records if r.name == "arrs.http"]
        access = [r for r in records if r.getMessage() == "request" and getattr(r, "path", "") == "/api/ask"]
        assert access and access[0].request_id == request_id and access[0].status == 200
        logged = " ".join(json.dumps(r.__dict__, default=str) for r in records)
        assert (marker in logged) is log_questions
