"""Loaders: every supported format, and every kind of bad file, gives blocks or a clear IngestError."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from assistant.models import SourceType
from ingest.loaders import IngestError, load_file

FIXTURES = Path(__file__).parent / "fixtures" / "ingest"


def _front_matter(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8").split("---")[1])


def _footnotes(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    return dict(re.findall(r"^\[\^([^\]]+)\]:\s*(\S+)", text, flags=re.MULTILINE))


def make_pdf(path: Path, pages: list[tuple[str | None, str]], title: str = "") -> Path:
    """A real text PDF: one (bookmark or None, text) per page."""
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    pdf.set_font("helvetica", size=11)
    for bookmark, text in pages:
        pdf.add_page()
        if bookmark:
            pdf.start_section(bookmark)
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.core_properties.title = "Workforce planning (test DOCX)"
    document.add_heading("Workforce planning", level=1)
    document.add_paragraph("Each PCN submits a workforce plan for ARRS roles.")
    document.add_heading("Plans for 2025/26", level=2)
    document.add_paragraph("List every planned role.", style="List Bullet")
    document.add_paragraph("Say when each role starts.", style="List Bullet")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [("Role", "WTE"), ("Paramedic", "1.0")], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("Sign-off", level=3)
    document.add_paragraph("The clinical director signs the plan.")
    document.save(str(path))
    return path


# Markdown -----------------------------------------------------------------------------------


def test_markdown_front_matter_becomes_document_metadata() -> None:
    path = FIXTURES / "guide.md"
    meta = _front_matter(path)
    doc = load_file(path)
    assert doc.doc_id == meta["id"]
    assert doc.title == meta["title"]
    assert doc.publisher == meta["publisher"]
    assert doc.source_type == SourceType(meta["source_type"])
    assert doc.financial_years == meta["financial_years"]
    assert doc.last_reviewed == meta["last_reviewed"] == date(2026, 11, 21)
    assert doc.url == meta["sources"][0]
    assert doc.warnings == []


def test_markdown_footnotes_are_removed_and_resolved_per_sentence() -> None:
    path = FIXTURES / "guide.md"
    footnotes = _footnotes(path)
    doc = load_file(path)
    assert all("[^" not in block.text for block in doc.blocks)
    # The intro paragraph cites two sources, one per sentence: it becomes two blocks.
    intro = [block for block in doc.blocks if block.heading_path == ()]
    assert [block.source_urls for block in intro] == [[footnotes["overview"]], [footnotes["pharmacy"]]]
    # Every block of the fixture is sourced by one of its footnotes.
    assert {url for block in doc.blocks for url in block.source_urls} <= set(footnotes.values())


def test_markdown_headings_become_paths_without_the_document_heading() -> None:
    doc = load_file(FIXTURES / "guide.md")
    paths = list(dict.fromkeys(block.heading_path for block in doc.blocks))
    assert paths == [
        (),
        ("Clinical pharmacist: band and year added",),
        ("Changes in 2024/25",),
        ("Changes in 2024/25", "Pharmacy technician supervision in 2024/25"),
    ]
    bullets = [block.text for block in doc.blocks if block.heading_path == paths[1]]
    assert len(bullets) == 2 and all(text.startswith("- ") for text in bullets)
    table = [block.text for block in doc.blocks if block.heading_path == paths[3]]
    assert table == ["Role | Band", "Pharmacy technician | 5–6"]


def test_markdown_without_front_matter_uses_stem_and_first_heading(tmp_path: Path) -> None:
    doc = load_file(FIXTURES / "notes.md")
    assert doc.doc_id == "notes"
    assert doc.title == "Practice notes on reimbursement claims"
    assert doc.url == (FIXTURES / "notes.md").resolve().as_uri()
    assert doc.source_type == SourceType.USER
    assert [block.heading_path for block in doc.blocks] == [(), ("Workforce plans",), ("Workforce plans",)]
    assert load_file(FIXTURES / "notes.md", default_source_type=SourceType.GUIDANCE).source_type == "guidance"


def test_markdown_missing_footnote_definition_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "Odd Name.md"
    path.write_text("Sentence one.[^a] Sentence two.[^missing]\n\n[^a]: https://example.org/a\n")
    doc = load_file(path)
    assert doc.doc_id == "odd-name"
    assert [block.text for block in doc.blocks] == ["Sentence one. Sentence two."]
    assert doc.blocks[0].source_urls == ["https://example.org/a"]
    assert any("missing" in warning and str(path) in warning for warning in doc.warnings)


@pytest.mark.parametrize(
    ("front_matter", "problem"),
    [
        ("title: no id\n", "id"),
        ("id: Not Kebab\ntitle: x\n", "kebab"),
        ("id: ok-id\ntitle: x\nfinancial_years: ['twenty twenty']\n", "financial year"),
        ("id: [unclosed\n", "YAML"),
        ("- just\n- a list\n", "mapping"),
    ],
)
def test_markdown_invalid_front_matter_is_a_clear_error(
    tmp_path: Path, front_matter: str, problem: str
) -> None:
    path = tmp_path / "bad.md"
    path.write_text(f"---\n{front_matter}---\n\n# Heading\n\nSome text.\n")
    with pytest.raises(IngestError) as caught:
        load_file(path)
    assert str(path) in str(caught.value)
    assert problem.lower() in str(caught.value).lower()


# HTML ---------------------------------------------------------------------------------------


def test_html_keeps_headings_and_text_and_drops_scripts_and_styles() -> None:
    doc = load_file(FIXTURES / "page.html")
    assert doc.title == "ARRS guidance page (test)"
    assert doc.url == "https://example.org/arrs/guidance-page"
    assert doc.publisher == "Example Publisher"
    assert doc.financial_years == []
    text = "\n".join(block.text for block in doc.blocks)
    for absent in ("script text", "inline script", "color: red", "Menu text", "Footer text"):
        assert absent not in text
    by_path: dict[tuple[str, ...], list[str]] = {}
    for block in doc.blocks:
        by_path.setdefault(block.heading_path, []).append(block.text)
    assert by_path[("Eligible roles",)] == ["- Clinical pharmacist", "- Social prescribing link worker"]
    assert by_path[("Eligible roles", "Funding in 2025/26")] == ["Funding is paid monthly in arrears."]
    claims = ("Eligible roles", "Funding in 2025/26", "Claims")
    assert by_path[claims][0] == "Claims are made through the payment platform."
    assert by_path[claims][1:] == ["Role | Band", "Paramedic | 7–8a"]
    assert all(block.source_urls == [doc.url] for block in doc.blocks)


# PDF ----------------------------------------------------------------------------------------


def test_pdf_one_block_per_page_with_page_numbers_and_bookmark_headings(tmp_path: Path) -> None:
    pages = [
        ("1. Introduction", "The Additional Roles Reimbursement Scheme reimburses salaries of new roles."),
        (None, "Clinical pharmacists were among the first roles, added in 2019/20."),
        ("2. Funding in 2024/25", "The reimbursement sum is paid to the nominated payee practice."),
    ]
    path = make_pdf(tmp_path / "contract.pdf", pages, title="Network Contract DES 2024/25 (test)")
    doc = load_file(path)
    assert doc.title == "Network Contract DES 2024/25 (test)"
    assert doc.doc_id == "contract"
    assert doc.financial_years == ["2024/25"]
    assert [block.page for block in doc.blocks] == [1, 2, 3]
    assert [block.heading_path for block in doc.blocks] == [
        ("1. Introduction",),
        ("1. Introduction",),  # page 2 has no bookmark: still inside section 1
        ("2. Funding in 2024/25",),
    ]
    for block, (_, text) in zip(doc.blocks, pages, strict=True):
        assert block.text == text
        assert block.source_urls == [f"{path.resolve().as_uri()}#page={block.page}"]


def test_pdf_without_text_is_a_clear_error(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", [(None, "")])
    with pytest.raises(IngestError, match="no extractable text") as caught:
        load_file(path)
    assert str(path) in str(caught.value)


# DOCX ---------------------------------------------------------------------------------------


def test_docx_heading_styles_become_headings(tmp_path: Path) -> None:
    doc = load_file(make_docx(tmp_path / "plan.docx"))
    assert doc.title == "Workforce planning (test DOCX)"
    assert [(block.heading_path, block.text) for block in doc.blocks] == [
        ((), "Each PCN submits a workforce plan for ARRS roles."),
        (("Plans for 2025/26",), "- List every planned role."),
        (("Plans for 2025/26",), "- Say when each role starts."),
        (("Plans for 2025/26",), "Role | WTE"),
        (("Plans for 2025/26",), "Paramedic | 1.0"),
        (("Plans for 2025/26", "Sign-off"), "The clinical director signs the plan."),
    ]


# Plain text ---------------------------------------------------------------------------------


def test_text_paragraphs_become_blocks(tmp_path: Path) -> None:
    path = tmp_path / "memo.txt"
    path.write_text("First paragraph\nwraps here.\n\n\nSecond paragraph.\n", encoding="utf-8")
    doc = load_file(path)
    assert [block.text for block in doc.blocks] == ["First paragraph wraps here.", "Second paragraph."]
    assert doc.title == "memo"


# Bad input ----------------------------------------------------------------------------------


def _undecodable(tmp_path: Path) -> Path:
    path = tmp_path / "latin1.txt"
    path.write_bytes("Reimbursement for the café team: £100".encode("latin-1"))
    return path


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.md"
    path.write_text("")
    return path


def _blank(tmp_path: Path) -> Path:
    path = tmp_path / "blank.md"
    path.write_text("   \n\n\t\n")
    return path


def _front_matter_only(tmp_path: Path) -> Path:
    path = tmp_path / "header-only.md"
    path.write_text("---\nid: header-only\ntitle: Header only\n---\n")
    return path


def _broken_docx(tmp_path: Path) -> Path:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip archive")
    return path


def _unsupported(tmp_path: Path) -> Path:
    path = tmp_path / "rates.xlsx"
    path.write_bytes(b"PK\x03\x04")
    return path


def _old_word(tmp_path: Path) -> Path:
    path = tmp_path / "letter.doc"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    return path


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda tmp: FIXTURES / "corrupt.pdf", "cannot read this PDF"),
        (lambda tmp: FIXTURES / "binary.txt", "binary"),
        (_undecodable, "not valid UTF-8"),
        (_empty, "no text"),
        (_blank, "no text"),
        (_front_matter_only, "no text"),
        (_broken_docx, "cannot read this DOCX"),
        (_unsupported, "unsupported file type"),
        (_old_word, "save it as .docx"),
        (lambda tmp: tmp / "does-not-exist.md", "no such file"),
        (lambda tmp: tmp, "not a regular file"),
    ],
)
def test_bad_files_raise_a_clear_error_naming_the_file(tmp_path: Path, make, message: str) -> None:
    path = make(tmp_path)
    with pytest.raises(IngestError) as caught:
        load_file(path)
    assert str(path) in str(caught.value)
    assert message.lower() in str(caught.value).lower()


def test_binary_file_with_markdown_suffix(tmp_path: Path) -> None:
    path = tmp_path / "image.md"
    path.write_bytes((FIXTURES / "binary.txt").read_bytes())
    with pytest.raises(IngestError, match="binary"):
        load_file(path)
