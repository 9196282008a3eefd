"""Incremental ingest into embedded Chroma: embeds only what changed, and survives a crash."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer import Typer
from typer.testing import CliRunner

from assistant.embeddings import get_embeddings
from assistant.models import SourceType
from assistant.settings import BUNDLED_CORPUS, Settings
from assistant.store import all_chunks, get_collection
from ingest import pipeline
from ingest.chunking import chunk_document
from ingest.cli import ingest_command
from ingest.loaders import IngestError, load_file
from ingest.pipeline import ingest_paths

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def write_doc(path: Path, doc_id: str, sections: dict[str, list[str]]) -> Path:
    """A corpus-format document: each section is a list of sourced sentences."""
    lines = [
        "---",
        f"id: {doc_id}",
        f'title: "Document {doc_id}"',
        'publisher: "Test corpus"',
        'financial_years: ["2025/26"]',
        "last_reviewed: 2026-11-21",
        "sources:",
        f"  - https://example.org/{doc_id}",
        "---",
        "",
        f"# Document {doc_id}",
        "",
    ]
    for heading, sentences in sections.items():
        lines += [f"## {heading}", *[f"- {text}[^src]" for text in sentences], ""]
    lines.append(f'[^src]: https://example.org/{doc_id} "Test: {doc_id}"')
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    guidance = tmp_path / "corpus" / "guidance"
    write_doc(
        guidance / "roles.md",
        "roles",
        {
            "Clinical pharmacists": ["Clinical pharmacists have been reimbursable since 2019/20."],
            "Paramedics": ["Paramedics were added to the scheme in 2020/21."],
        },
    )
    write_doc(
        guidance / "claims.md",
        "claims",
        {"Monthly claims": ["Claims for reimbursement are made monthly through the payment platform."]},
    )
    (guidance / "notes.yaml").write_text("not: a document\n")  # unsupported types in folders are skipped
    return tmp_path / "corpus"


@pytest.fixture
def cfg(tmp_path: Path, corpus: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data", corpus_dir=corpus, chroma_url=None, _env_file=None)


def stored(cfg: Settings) -> dict[str, str]:
    return {chunk.id: chunk.text for chunk in all_chunks(get_collection(cfg))}


def expected_chunks(corpus: Path, *names: str) -> dict[str, str]:
    result: dict[str, str] = {}
    for name in names:
        doc = load_file(corpus / "guidance" / name, default_source_type=SourceType.GUIDANCE)
        result |= {chunk.id: chunk.text for chunk in chunk_document(doc, corpus_dir=corpus)}
    return result


def nearest(cfg: Settings, text: str) -> str:
    vector = get_embeddings(cfg).embed_query(text)
    return get_collection(cfg).query(query_embeddings=[vector], n_results=1)["documents"][0][0]


def test_bundled_corpus_ingest_then_second_run_embeds_nothing(cfg: Settings, corpus: Path) -> None:
    first = ingest_paths(cfg, progress=False)
    expected = expected_chunks(corpus, "roles.md", "claims.md")
    assert first.errors == []
    assert first.files == 2
    assert first.skipped == [str(corpus / "guidance" / "notes.yaml")]
    assert first.chunks_added == first.chunks_embedded == len(expected)
    assert stored(cfg) == expected
    assert all(c.metadata.source_type == "guidance" for c in all_chunks(get_collection(cfg)))

    second = ingest_paths(cfg, progress=False)
    assert second.chunks_embedded == 0
    assert (second.chunks_added, second.chunks_updated, second.chunks_removed) == (0, 0, 0)
    assert second.chunks_unchanged == len(expected)
    assert "0 chunks added" in second.summary() and "0 removed" in second.summary()


def test_edited_file_replaces_its_old_chunks(cfg: Settings, corpus: Path) -> None:
    ingest_paths(cfg, progress=False)
    before = stored(cfg)
    write_doc(
        corpus / "guidance" / "roles.md",
        "roles",
        {"Clinical pharmacists": ["Clinical pharmacists have been reimbursable since July 2019."]},
    )
    report = ingest_paths(cfg, progress=False)
    after = stored(cfg)
    assert after == expected_chunks(corpus, "roles.md", "claims.md")
    assert "Paramedics were added to the scheme in 2020/21." not in "\n".join(after.values())
    assert report.chunks_updated == 1 and report.chunks_removed == 1 and report.chunks_embedded == 1
    claims = expected_chunks(corpus, "claims.md")
    assert all(before[chunk_id] == text for chunk_id, text in claims.items())
    assert report.chunks_unchanged == len(claims)


def test_prune_removes_chunks_of_deleted_files(cfg: Settings, corpus: Path) -> None:
    ingest_paths(cfg, progress=False)
    claims = expected_chunks(corpus, "claims.md")
    (corpus / "guidance" / "claims.md").unlink()

    kept = ingest_paths(cfg, progress=False)
    assert kept.chunks_removed == 0
    assert set(claims) <= set(stored(cfg))

    pruned = ingest_paths(cfg, prune=True, progress=False)
    assert pruned.chunks_removed == len(claims)
    assert stored(cfg) == expected_chunks(corpus, "roles.md")


def test_crash_before_delete_leaves_previous_index_queryable(
    cfg: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ingest_paths(cfg, progress=False)
    before = stored(cfg)
    old_text = "- Paramedics were added to the scheme in 2020/21."
    write_doc(
        corpus / "guidance" / "roles.md",
        "roles",
        {"Clinical pharmacists": ["Clinical pharmacists have been reimbursable since 2019/20."]},
    )

    def crash(*args, **kwargs):
        raise RuntimeError("simulated crash during delete")

    monkeypatch.setattr(pipeline, "delete_chunks", crash)
    with pytest.raises(RuntimeError, match="simulated crash"):
        ingest_paths(cfg, progress=False)
    assert set(before) <= set(stored(cfg))
    assert nearest(cfg, "When were paramedics added?") == old_text

    monkeypatch.undo()
    recovered = ingest_paths(cfg, progress=False)
    assert recovered.chunks_embedded == 0 and recovered.chunks_removed == 1
    assert stored(cfg) == expected_chunks(corpus, "roles.md", "claims.md")


def test_bad_files_are_reported_and_the_rest_is_ingested(cfg: Settings, corpus: Path, tmp_path: Path) -> None:
    ingest_paths(cfg, progress=False)
    before = stored(cfg)
    user = tmp_path / "user"
    user.mkdir()
    (user / "corrupt.pdf").write_bytes((FIXTURES / "corrupt.pdf").read_bytes())
    (user / "data.txt").write_bytes((FIXTURES / "binary.txt").read_bytes())
    (user / "notes.md").write_text((FIXTURES / "notes.md").read_text())
    report = ingest_paths(cfg, [user], progress=False)
    assert sorted(Path(error.file).name for error in report.errors) == ["corrupt.pdf", "data.txt"]
    assert all(error.file in error.message for error in report.errors)
    assert report.files == 1 and report.documents == ["notes"]
    chunks = all_chunks(get_collection(cfg))
    notes = [c for c in chunks if c.metadata.doc_id == "notes"]
    assert notes and all(c.metadata.source_type == "user" for c in notes)
    assert all(c.metadata.source_path == str((user / "notes.md").resolve()) for c in notes)
    assert set(before) <= {c.id for c in chunks}


def test_missing_path_or_corpus_is_a_clear_error_and_changes_nothing(cfg: Settings, tmp_path: Path) -> None:
    ingest_paths(cfg, progress=False)
    before = stored(cfg)
    with pytest.raises(IngestError, match="No such file or folder") as caught:
        ingest_paths(cfg, [tmp_path / "nowhere"], progress=False)
    assert str(tmp_path / "nowhere") in str(caught.value)
    empty = cfg.model_copy(update={"corpus_dir": tmp_path / "no-corpus"})
    with pytest.raises(IngestError, match="Bundled corpus folder not found"):
        ingest_paths(empty, progress=False)
    assert stored(cfg) == before


def test_duplicate_document_id_is_rejected(cfg: Settings, corpus: Path) -> None:
    ingest_paths(cfg, progress=False)
    before = stored(cfg)
    copy = write_doc(
        corpus / "guidance" / "zz-copy.md", "roles", {"Other": ["A different text about roles."]}
    )
    report = ingest_paths(cfg, progress=False)
    assert [error.file for error in report.errors] == [str(copy)]
    assert "already used by guidance/roles.md" in report.errors[0].message
    assert stored(cfg) == before


def test_provider_files_get_source_type_provider(cfg: Settings, corpus: Path) -> None:
    write_doc(
        corpus / "provider" / "services.md", "provider-services", {"Services": ["We supply paramedics."]}
    )
    bundled_profile = Path(__file__).resolve().parent.parent / "corpus" / "provider" / "profile.yaml"
    (corpus / "provider" / "profile.yaml").write_text(bundled_profile.read_text(encoding="utf-8"))
    report = ingest_paths(cfg, progress=False)
    assert report.errors == [] and report.files == 4
    types = {c.metadata.doc_id: c.metadata.source_type for c in all_chunks(get_collection(cfg))}
    assert types == {
        "roles": "guidance",
        "claims": "guidance",
        "provider-services": "provider",
        "provider-profile": "provider",  # rendered from the YAML the provider edits
    }


def test_an_invalid_provider_profile_is_reported_not_ingested(cfg: Settings, corpus: Path) -> None:
    (corpus / "provider").mkdir(exist_ok=True)
    (corpus / "provider" / "profile.yaml").write_text("name: test\n")
    report = ingest_paths(cfg, progress=False)
    assert len(report.errors) == 1 and "profile" in report.errors[0].message


def test_cli_summary_and_exit_codes(cfg: Settings, corpus: Path, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("ARRS_DATA_DIR", str(cfg.data_dir))
    monkeypatch.setenv("ARRS_CORPUS_DIR", str(corpus))
    monkeypatch.delenv("ARRS_CHROMA_URL", raising=False)
    app = Typer()
    app.command("ingest")(ingest_command)
    app.command("noop")(lambda: None)  # two commands, so "ingest" is a sub-command as in `arrs`
    runner = CliRunner()

    ok = runner.invoke(app, ["ingest"])
    assert ok.exit_code == 0, ok.output
    assert "2 files: 3 chunks added, 0 updated, 0 unchanged, 0 removed" in ok.output

    again = runner.invoke(app, ["ingest"])
    assert again.exit_code == 0 and "(0 embedded)" in again.output

    missing = runner.invoke(app, ["ingest", str(tmp_path / "nowhere")])
    assert missing.exit_code == 1
    assert "No such file or folder" in missing.output

    bad = runner.invoke(app, ["ingest", str(FIXTURES / "corrupt.pdf"), "--prune"])
    assert bad.exit_code == 1
    assert "corrupt.pdf" in bad.output and "0 files" in bad.output


@pytest.mark.skipif(not (BUNDLED_CORPUS / "guidance").is_dir(), reason="bundled corpus not written yet")
def test_bundled_corpus_ingests_cleanly(tmp_path: Path) -> None:
    cfg = Settings(data_dir=tmp_path / "data", corpus_dir=BUNDLED_CORPUS, chroma_url=None, _env_file=None)
    report = ingest_paths(cfg, progress=False)
    assert report.errors == [], [error.message for error in report.errors]
    assert report.files > 0 and report.chunks_added > 0
    chunks = all_chunks(get_collection(cfg))
    assert len(chunks) == report.chunks_added
    assert all(len(chunk.text.split()) <= pipeline.MAX_WORDS for chunk in chunks)
    count_tokens, window = get_embeddings(cfg).token_counter()
    assert all(count_tokens(chunk.embedding_text()) <= window for chunk in chunks)
    guidance = [chunk for chunk in chunks if chunk.metadata.source_type == "guidance"]
    assert all(chunk.metadata.url.startswith(("https://", "http://")) for chunk in guidance)
    assert ingest_paths(cfg, progress=False).chunks_embedded == 0
