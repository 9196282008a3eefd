"""The `arrs` command line over the ingested bundled corpus."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from assistant.cli import app

runner = CliRunner()


@pytest.fixture
def cli_env(ingested_data_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("ARRS_DATA_DIR", str(ingested_data_dir))
    monkeypatch.setenv("ARRS_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("ARRS_TODAY", "2026-11-21")


def test_ask_json_returns_a_grounded_cited_answer(cli_env):
    result = runner.invoke(app, ["ask", "--json", "Which roles can a PCN claim for under ARRS?"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["grounded"] and answer["citations"]
    assert set(answer) >= {
        "answer",
        "citations",
        "intent",
        "grounded",
        "calculation",
        "financial_year",
        "session_id",
    }
    for citation in answer["citations"]:
        assert citation["quote"] and citation["url"].startswith("http")


def test_ask_follow_up_in_a_session(cli_env):
    first = json.loads(
        runner.invoke(app, ["ask", "--json", "max for a pharmacy technician in 2025/26"]).stdout
    )
    second = runner.invoke(app, ["ask", "--json", "--session", first["session_id"], "And in inner London?"])
    assert "£52,172" in json.loads(second.stdout)["answer"]


@pytest.mark.parametrize("question", ["", "   ", "x" * 2500])
def test_bad_questions_exit_non_zero_with_a_message(cli_env, question):
    result = runner.invoke(app, ["ask", question])
    assert result.exit_code == 1
    assert "Error" in result.output


def test_missing_index_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("ARRS_DATA_DIR", str(tmp_path / "empty"))
    result = runner.invoke(app, ["ask", "What is ARRS?"])
    assert result.exit_code == 1
    assert "arrs ingest" in result.output
