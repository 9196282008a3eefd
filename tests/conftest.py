"""Shared fixtures. Area-specific fixtures live beside their tests; cross-cutting ones here."""

from __future__ import annotations

import os
import socket
from datetime import date
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

from assistant.settings import BUNDLED_CORPUS, Settings

# A fixed "today" so answers that default to the current financial year are reproducible.
TEST_TODAY = date(2026, 11, 21)
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
POSTGRES_URL = os.environ.get("ARRS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("ARRS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings isolated in a temp data directory, over the bundled corpus."""
    return Settings(data_dir=tmp_path / "data", corpus_dir=BUNDLED_CORPUS, today=TEST_TODAY, _env_file=None)


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def ingested_data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus ingested once per test session into a temp data directory."""
    from ingest.pipeline import ingest_paths

    data_dir = tmp_path_factory.mktemp("ingested") / "data"
    report = ingest_paths(Settings(data_dir=data_dir, today=TEST_TODAY, _env_file=None), progress=False)
    assert report.ok, report.errors
    return data_dir


@pytest.fixture
def assistant_settings(ingested_data_dir: Path, tmp_path: Path) -> Settings:
    """Settings over the shared ingested index, with a fresh state database per test."""
    return Settings(
        data_dir=ingested_data_dir,
        database_url=f"sqlite:///{tmp_path / 'state.db'}",
        today=TEST_TODAY,
        _env_file=None,
    )


@pytest.fixture
def assistant(assistant_settings: Settings):
    from assistant.chain import Assistant

    return Assistant.from_settings(assistant_settings)


GUIDE_TEMPLATE = """---
id: {doc_id}
title: "{title}"
publisher: "Test corpus"
source_type: guidance
financial_years: ["2024/25", "2025/26"]
last_reviewed: 2026-11-21
sources:
  - https://example.org/{doc_id}
---

# {title}

{body}

[^src]: https://example.org/{doc_id} "Test: {title}"
"""


@pytest.fixture
def small_corpus(tmp_path: Path):
    """Build a small corpus (the bundled roles, rates, intents and profile, plus the guidance given)
    and return Settings over it, ingested. Fast: a handful of chunks instead of the whole corpus."""
    import shutil

    from ingest.pipeline import ingest_paths

    def build(documents: dict[str, tuple[str, str]], profile_text: str | None = None) -> Settings:
        corpus = tmp_path / "corpus"
        (corpus / "guidance").mkdir(parents=True)
        for name in ("roles.yaml", "intents.yaml"):
            shutil.copy(BUNDLED_CORPUS / name, corpus / name)
        shutil.copytree(BUNDLED_CORPUS / "rates", corpus / "rates")
        (corpus / "provider").mkdir()
        profile = (BUNDLED_CORPUS / "provider" / "profile.yaml").read_text(encoding="utf-8")
        (corpus / "provider" / "profile.yaml").write_text(profile_text or profile, encoding="utf-8")
        for doc_id, (title, body) in documents.items():
            text = GUIDE_TEMPLATE.format(doc_id=doc_id, title=title, body=body)
            (corpus / "guidance" / f"{doc_id}.md").write_text(text, encoding="utf-8")
        settings = Settings(
            data_dir=tmp_path / "data",
            corpus_dir=corpus,
            database_url=f"sqlite:///{tmp_path / 'state.db'}",
            today=TEST_TODAY,
            _env_file=None,
        )
        report = ingest_paths(settings, progress=False)
        assert report.ok, report.errors
        return settings

    return build


@pytest.fixture(scope="module")
def module_settings(ingested_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for one test module that serves the app: the shared index, its own state database,
    and a rate limit out of the way (the limit has its own tests)."""
    state = tmp_path_factory.mktemp("module-state")
    return Settings(
        data_dir=ingested_data_dir,
        database_url=f"sqlite:///{state / 'state.db'}",
        today=TEST_TODAY,
        rate_limit="10000/minute",
        _env_file=None,
    )


@pytest.fixture(scope="module")
def module_assistant(module_settings: Settings):
    from assistant.chain import Assistant

    return Assistant.from_settings(module_settings)
