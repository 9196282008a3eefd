"""Chroma server mode: a real `chroma run` on a free loopback port, and a clear error when it is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import TEST_TODAY, free_port
from typer import Typer
from typer.testing import CliRunner

from assistant.embeddings import get_embeddings
from assistant.models import IndexUnavailable
from assistant.settings import BUNDLED_CORPUS, Settings
from assistant.store import all_chunks, get_client, get_collection
from ingest.cli import ingest_command
from ingest.pipeline import ingest_paths

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"
CHROMA = Path(sys.executable).parent / "chroma"


def unreachable_url() -> str:
    return f"http://127.0.0.1:{free_port()}"  # bound then released: nothing listens there


@pytest.mark.parametrize("action", ["client", "collection", "ingest"])
def test_unreachable_server_gives_index_unavailable(tmp_path: Path, action: str) -> None:
    url = unreachable_url()
    cfg = Settings(data_dir=tmp_path / "data", chroma_url=url, _env_file=None)
    with pytest.raises(IndexUnavailable) as caught:
        if action == "client":
            get_client(cfg)
        elif action == "collection":
            get_collection(cfg)
        else:
            ingest_paths(cfg, [FIXTURES / "notes.md"], progress=False)
    message = str(caught.value)
    assert f"Cannot reach the Chroma server at {url}" in message
    assert "ARRS_CHROMA_URL" in message
    assert not (tmp_path / "data").exists()  # nothing was written anywhere


def test_cli_exits_non_zero_when_server_unreachable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = unreachable_url()
    monkeypatch.setenv("ARRS_CHROMA_URL", url)
    monkeypatch.setenv("ARRS_DATA_DIR", str(tmp_path / "data"))
    app = Typer()
    app.command("ingest")(ingest_command)
    result = CliRunner().invoke(app, [str(FIXTURES / "notes.md")])
    assert result.exit_code == 1
    assert "Cannot reach the Chroma server" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize("url", ["ftp://example.org", "http://", "http://127.0.0.1:notaport"])
def test_malformed_server_url_is_a_clear_error(tmp_path: Path, url: str) -> None:
    with pytest.raises(IndexUnavailable, match="ARRS_CHROMA_URL"):
        get_client(Settings(data_dir=tmp_path, chroma_url=url, _env_file=None))


def test_all_chunks_pages_through_the_collection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant import store

    cfg = Settings(data_dir=tmp_path / "data", chroma_url=None, _env_file=None)
    report = ingest_paths(cfg, [FIXTURES / "guide.md", FIXTURES / "notes.md"], progress=False)
    monkeypatch.setattr(store, "PAGE_SIZE", 2)
    chunks = all_chunks(get_collection(cfg))
    assert len(chunks) == report.chunks_added == len({chunk.id for chunk in chunks})
    assert len(store.chunk_states(get_collection(cfg))) == len(chunks)


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if not CHROMA.exists():
        pytest.skip(f"the chroma command is not installed beside {sys.executable}")
    data = tmp_path_factory.mktemp("chroma-server")
    port = free_port()
    log = (data / "server.log").open("wb")
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False"}
    command = [str(CHROMA), "run", "--path", str(data / "db"), "--port", str(port), "--host", "127.0.0.1"]
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"chroma server did not answer within 60 s:\n{(data / 'server.log').read_text()}")
            try:  # poll the process itself: returns at once if it died
                process.wait(timeout=0.1)
                pytest.fail(
                    f"chroma server exited with {process.returncode}:\n{(data / 'server.log').read_text()}"
                )
            except subprocess.TimeoutExpired:
                pass
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


@pytest.mark.integration
def test_ingest_and_query_through_a_chroma_server(
    chroma_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARRS_CHROMA_URL", chroma_server)
    # the bundled corpus folder only supplies the intent examples and role catalogue for `ask`
    cfg = Settings(data_dir=tmp_path / "data", corpus_dir=BUNDLED_CORPUS, today=TEST_TODAY, _env_file=None)
    assert cfg.chroma_url == chroma_server

    paths = [FIXTURES / "guide.md", FIXTURES / "page.html", FIXTURES / "notes.md"]
    first = ingest_paths(cfg, paths, progress=False)
    assert first.errors == [] and first.files == 3 and first.chunks_added > 0
    second = ingest_paths(cfg, paths, progress=False)
    assert second.chunks_embedded == 0 and second.chunks_unchanged == first.chunks_added
    assert not cfg.resolved_chroma_path.exists()  # the embedded index was never touched

    collection = get_collection(cfg)
    assert collection.count() == first.chunks_added
    chunks = {chunk.id: chunk for chunk in all_chunks(collection)}
    vector = get_embeddings(cfg).embed_query("Since when are clinical pharmacists reimbursable?")
    result = collection.query(query_embeddings=[vector], n_results=3, include=["documents", "metadatas"])
    best = chunks[result["ids"][0][0]]
    assert best.metadata.doc_id == "test-pharmacy-guide"
    assert "Clinical pharmacists have been reimbursable under ARRS since 2019/20" in best.text
    assert best.metadata.section == "Clinical pharmacist: band and year added"
    assert best.metadata.url_at(0) == "https://example.org/arrs/pharmacy"

    guidance_only = collection.query(
        query_embeddings=[vector], n_results=5, where={"source_type": "guidance"}, include=["metadatas"]
    )
    assert {meta["doc_id"] for meta in guidance_only["metadatas"][0]} == {"test-pharmacy-guide"}

    # ask: the assistant answers from the server's index and cites the fixture passage
    from assistant.chain import Assistant

    answer = Assistant.from_settings(cfg).ask("Since when are clinical pharmacists reimbursable under ARRS?")
    assert answer.grounded
    assert answer.citations, answer.answer
    cited = answer.citations[0]
    assert cited.doc_id == "test-pharmacy-guide"
    assert cited.quote in chunks[result["ids"][0][0]].text
    assert cited.url == best.metadata.url_at(best.text.index(cited.quote))
