"""Chunking: sections, size limit, metadata, spans and stable ids."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.models import SourceType
from ingest.chunking import chunk_document, section_label
from ingest.loaders import Block, LoadedDocument, load_file

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def sentence(n: int, words: int = 12) -> str:
    return " ".join(f"w{n}x{i}" for i in range(words - 1)) + f" end{n}."


def document(blocks: list[Block], **fields) -> LoadedDocument:
    base = {
        "doc_id": "test-doc",
        "title": "Test document",
        "publisher": "Test publisher",
        "source_type": SourceType.GUIDANCE,
        "financial_years": ["2024/25", "2025/26"],
        "url": "https://example.org/doc",
        "path": Path("/corpus/guidance/test-doc.md"),
        "blocks": blocks,
    }
    return LoadedDocument(**(base | fields))


def block(path: tuple[str, ...], text: str, url: str | None = None, page: int | None = None) -> Block:
    return Block(heading_path=path, text=text, source_urls=[url] if url else [], page=page)


def sections_doc() -> LoadedDocument:
    long_text = " ".join(sentence(i) for i in range(40))  # 480 words in one block
    return document(
        [
            block((), "Intro sentence one.", "https://example.org/a"),
            block(("Roles",), "- Clinical pharmacists are reimbursable.", "https://example.org/b"),
            block(("Roles",), "- Paramedics are reimbursable.", "https://example.org/c"),
            block(("Roles", "Changes in 2024/25"), long_text, "https://example.org/d"),
            block(("Claims",), "Claims are monthly.", None),
        ]
    )


def test_chunks_follow_headings_and_never_cross_a_section() -> None:
    doc = sections_doc()
    chunks = chunk_document(doc, max_words=180)
    for chunk in chunks:
        section_blocks = [
            b.text for b in doc.blocks if section_label(b.heading_path) == chunk.metadata.section
        ]
        joined = " ".join(section_blocks)
        for line in chunk.text.split("\n"):
            assert line in joined, f"{line!r} is not from section {chunk.metadata.section!r}"
    sections = [chunk.metadata.section for chunk in chunks]
    assert sections[:2] == ["", "Roles"]
    assert sections[-1] == "Claims"
    assert set(sections) == {section_label(b.heading_path) for b in doc.blocks}
    # the two small bullets of one section are merged into one chunk, one line each
    roles = [chunk for chunk in chunks if chunk.metadata.section == "Roles"]
    assert len(roles) == 1
    assert roles[0].text.split("\n") == [b.text for b in doc.blocks if b.heading_path == ("Roles",)]


def test_long_blocks_are_split_on_sentences_within_the_limit() -> None:
    doc = sections_doc()
    long_block = doc.blocks[3]
    chunks = [
        c for c in chunk_document(doc, max_words=180) if c.metadata.section == "Roles > Changes in 2024/25"
    ]
    total = len(long_block.text.split())
    assert len(chunks) == -(-total // 180)  # the fewest chunks that fit
    assert all(len(chunk.text.split()) <= 180 for chunk in chunks)
    assert all(chunk.text.endswith(".") for chunk in chunks)  # cut between sentences
    assert " ".join(chunk.text for chunk in chunks) == long_block.text  # nothing lost or repeated


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.integers(min_value=1, max_value=400), min_size=1, max_size=12),
    max_words=st.integers(min_value=5, max_value=200),
)
def test_no_chunk_exceeds_max_words(sizes: list[int], max_words: int) -> None:
    blocks = [block(("S",), " ".join(f"b{n}w{i}" for i in range(size))) for n, size in enumerate(sizes)]
    chunks = chunk_document(document(blocks), max_words=max_words)
    assert all(len(chunk.text.split()) <= max_words for chunk in chunks)
    assert sum(len(chunk.text.split()) for chunk in chunks) == sum(sizes)


def test_chunks_fit_the_model_window_when_a_tokenizer_is_given() -> None:
    def count(text: str) -> int:  # a stand-in tokenizer: one piece per 3 characters of each word
        return sum(-(-len(word) // 3) for word in text.split())

    doc = sections_doc()
    plain = chunk_document(doc, max_words=180)
    windowed = chunk_document(doc, max_words=180, count_tokens=count, max_tokens=120)
    assert len(windowed) > len(plain)
    assert all(count(chunk.embedding_text()) <= 120 for chunk in windowed)
    assert all(len(chunk.text.split()) <= 180 for chunk in windowed)
    by_section = {}
    for chunk in windowed:
        by_section.setdefault(chunk.metadata.section, []).append(chunk.text)
    for section, texts in by_section.items():  # nothing lost or repeated
        original = [b.text for b in doc.blocks if section_label(b.heading_path) == section]
        assert " ".join(texts).split() == " ".join(original).split()


def test_every_chunk_carries_its_metadata() -> None:
    path = FIXTURES / "guide.md"
    doc = load_file(path)
    chunks = chunk_document(doc, corpus_dir=FIXTURES.parent)
    assert chunks
    for index, chunk in enumerate(chunks):
        meta = chunk.metadata
        assert meta.doc_id == doc.doc_id
        assert meta.title == doc.title
        assert not meta.section.startswith(doc.title)
        assert meta.source_type == doc.source_type
        assert meta.publisher == doc.publisher
        assert meta.last_reviewed == doc.last_reviewed.isoformat()
        assert meta.source_path == "ingest/guide.md"
        assert meta.chunk_index == index
        assert len(meta.content_hash) == 64
        assert meta.url == meta.span_list()[0][2]
        assert meta.years()
        assert set(meta.to_chroma()) == set(type(meta).model_fields)


def test_section_years_override_document_years() -> None:
    doc = load_file(FIXTURES / "guide.md")
    by_section = {chunk.metadata.section: chunk.metadata.years() for chunk in chunk_document(doc)}
    assert by_section[""] == doc.financial_years
    assert by_section["Clinical pharmacist: band and year added"] == doc.financial_years
    assert by_section["Changes in 2024/25"] == ["2024/25"]
    assert by_section["Changes in 2024/25 > Pharmacy technician supervision in 2024/25"] == ["2024/25"]


def test_spans_map_each_block_to_its_source_url() -> None:
    doc = load_file(FIXTURES / "guide.md")
    chunks = chunk_document(doc)
    seen_blocks = []
    for chunk in chunks:
        spans = chunk.metadata.span_list()
        assert spans[0][0] == 0 and spans[-1][1] == len(chunk.text)
        for start, end, url in spans:
            text = chunk.text[start:end]
            source = next(b for b in doc.blocks if b.text == text)
            assert url == (source.source_urls[0] if source.source_urls else doc.url)
            assert chunk.metadata.url_at(start) == url
            seen_blocks.append(text)
    assert seen_blocks == [b.text for b in doc.blocks]
    # the two intro sentences cite different footnotes, so they map to different URLs
    intro = chunks[0]
    assert len({url for _, _, url in intro.metadata.span_list()}) == 2


def test_pdf_pages_stay_apart_and_keep_their_page() -> None:
    doc = document(
        [
            block((), sentence(1), "file:///x.pdf#page=1", page=1),
            block((), sentence(2), "file:///x.pdf#page=2", page=2),
        ]
    )
    chunks = chunk_document(doc)
    assert [(c.metadata.page, c.metadata.url) for c in chunks] == [
        (1, "file:///x.pdf#page=1"),
        (2, "file:///x.pdf#page=2"),
    ]
    assert len({c.id for c in chunks}) == 2


def test_ids_are_stable_across_runs_and_unaffected_by_edits_elsewhere() -> None:
    first = chunk_document(sections_doc())
    again = chunk_document(sections_doc())
    assert [c.id for c in first] == [c.id for c in again]
    assert [c.metadata.content_hash for c in first] == [c.metadata.content_hash for c in again]
    assert len({c.id for c in first}) == len(first)

    edited_blocks = list(sections_doc().blocks)
    edited_blocks[1] = block(
        ("Roles",), "- Clinical pharmacists are reimbursable (edited).", "https://example.org/b"
    )
    edited_blocks.insert(2, block(("Roles",), " ".join(sentence(100 + i) for i in range(20))))  # grows
    edited = chunk_document(document(edited_blocks))
    before = {c.id: c for c in first}
    after = {c.id: c for c in edited}
    for chunk in first:
        if chunk.metadata.section != "Roles":
            assert chunk.id in after
            assert after[chunk.id].text == chunk.text
            assert after[chunk.id].metadata.content_hash == chunk.metadata.content_hash
    edited_roles = [c for c in edited if c.metadata.section == "Roles"]
    assert len(edited_roles) > 1
    assert edited_roles[0].id in before
    assert edited_roles[0].metadata.content_hash != before[edited_roles[0].id].metadata.content_hash


def test_content_hash_follows_metadata_that_matters() -> None:
    base = chunk_document(sections_doc())
    moved = chunk_document(sections_doc().model_copy(update={"last_reviewed": None, "publisher": "Other"}))
    assert [c.id for c in base] == [c.id for c in moved]
    assert all(a.metadata.content_hash != b.metadata.content_hash for a, b in zip(base, moved, strict=True))


def test_spans_are_valid_json_for_chroma() -> None:
    for chunk in chunk_document(sections_doc()):
        spans = json.loads(chunk.metadata.spans)
        assert all(isinstance(start, int) and isinstance(end, int) for start, end, _ in spans)
