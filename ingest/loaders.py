"""Read one file into a ``LoadedDocument``: document metadata plus ordered, sourced text blocks.

Markdown (the bundled corpus format, YAML front matter and footnote sources), HTML, PDF, DOCX and
plain text. Anything unreadable raises ``IngestError`` naming the file, so one bad file never
stops a run.
"""

from __future__ import annotations

import logging
import re
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant import years
from assistant.models import AssistantError, SourceType

SUPPORTED_SUFFIXES = (".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".txt")
_ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]*$")
_STRAY_FOOTNOTE = re.compile(r"\[\^[^\]\s]+\]")
_URL = re.compile(r"https?://[^\s<>\"')\]]+")


class IngestError(AssistantError):
    """A file that cannot be ingested; the message names the file and says why."""


class Block(BaseModel):
    """One paragraph, bullet, table row or PDF page, under its heading path."""

    model_config = ConfigDict(frozen=True)

    heading_path: tuple[str, ...] = ()
    text: str
    source_urls: list[str] = Field(default_factory=list)
    page: int | None = None


class LoadedDocument(BaseModel):
    doc_id: str
    title: str
    publisher: str = ""
    source_type: SourceType = SourceType.USER
    financial_years: list[str] = Field(default_factory=list)
    last_reviewed: date | None = None
    url: str
    path: Path
    blocks: list[Block]
    warnings: list[str] = Field(default_factory=list)


class FrontMatter(BaseModel):
    """The corpus document header (see the corpus format); unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore")

    id: str
    title: str
    publisher: str = ""
    source_type: SourceType | None = None
    financial_years: list[str] = Field(default_factory=list)
    last_reviewed: date | None = None
    sources: list[str] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _kebab(cls, value: str) -> str:
        if not _ID_PATTERN.match(value):
            raise ValueError(f"id must be lower-case kebab-case, not {value!r}")
        return value

    @field_validator("financial_years", mode="before")
    @classmethod
    def _years(cls, value: Any) -> list[str]:
        items = [value] if isinstance(value, str) else list(value or [])
        return [years.normalise(str(item)) for item in items]


# Shared helpers ------------------------------------------------------------------------------


def clean(text: str) -> str:
    """Collapse whitespace (PDF and HTML text is full of hard line breaks and runs of spaces)."""
    return " ".join(text.split())


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "document"


def _urls_in(text: str) -> list[str]:
    return [url.rstrip(".,;:") for url in _URL.findall(text)]


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path}: looks like a binary file, not text; nothing was ingested from it.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise IngestError(
            f"{path}: is not valid UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save it as UTF-8 and ingest it again."
        ) from exc


def _heading_stack(stack: list[tuple[int, str]], level: int, text: str) -> list[tuple[int, str]]:
    kept = [(lvl, name) for lvl, name in stack if lvl < level]
    return [*kept, (level, text)]


class _Builder:
    """Collects blocks under a heading stack; the first top-level heading is the document's own."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.stack: list[tuple[int, str]] = []
        self.first_heading: str | None = None
        self._seen_heading = False

    def heading(self, level: int, text: str) -> None:
        text = clean(text)
        if not text:
            return
        if not self._seen_heading:
            self._seen_heading = True
            self.first_heading = text
            if level == 1 and not self.blocks:
                return  # the document heading: the title, not a section
        self.stack = _heading_stack(self.stack, level, text)

    def add(self, text: str, urls: list[str] | None = None, page: int | None = None) -> None:
        text = clean(text)
        if text and text not in {"-", "|"}:
            path = tuple(name for _, name in self.stack)
            self.blocks.append(Block(heading_path=path, text=text, source_urls=urls or [], page=page))


def _document(path: Path, builder: _Builder, **fields: Any) -> LoadedDocument:
    if not builder.blocks:
        raise IngestError(f"{path}: contains no text to ingest.")
    title = fields.pop("title", None) or builder.first_heading or path.stem.replace("_", " ")
    fields.setdefault("doc_id", slug(path.stem))
    fields.setdefault("url", path.resolve().as_uri())
    fields.setdefault("financial_years", years.find_all(f"{title} {path.stem}"))
    return LoadedDocument(title=clean(title), path=path, blocks=builder.blocks, **fields)


# Markdown ------------------------------------------------------------------------------------


def _markdown_parser() -> Any:
    from markdown_it import MarkdownIt
    from mdit_py_plugins.footnote import footnote_plugin
    from mdit_py_plugins.front_matter import front_matter_plugin

    return MarkdownIt("commonmark").use(front_matter_plugin).use(footnote_plugin).enable("table")


class _Segment(BaseModel):
    text: str = ""
    footnote_urls: list[str] = Field(default_factory=list)
    link_urls: list[str] = Field(default_factory=list)

    def urls(self) -> list[str]:
        return list(dict.fromkeys(self.footnote_urls + self.link_urls))


def _inline(token: Any, footnotes: dict[str, str]) -> tuple[list[_Segment], list[str]]:
    """Split an inline token into sourced segments, and list the footnotes that have no definition.

    A footnote marker after a sentence closes a segment, so a paragraph whose sentences cite
    different sources gives one block per source and each sentence maps to its own URL.
    """
    segments = [_Segment()]
    missing: list[str] = []
    for child in token.children or []:
        current = segments[-1]
        if child.type in {"text", "code_inline", "html_inline"}:
            if current.footnote_urls and child.content.strip():
                current = _Segment()
                segments.append(current)
            current.text += child.content
        elif child.type in {"softbreak", "hardbreak"}:
            current.text += " "
        elif child.type == "footnote_ref":
            url = footnotes.get(child.meta["label"])
            if url is None:
                missing.append(child.meta["label"])
            elif current.text.rstrip()[-1:] in {".", "!", "?", ":", ";", ")", '"', "”", ""}:
                current.footnote_urls.append(url)
            else:  # a marker mid-sentence: keep the sentence whole, cite both sources
                current.link_urls.append(url)
        elif child.type == "link_open":
            href = str(child.attrs.get("href", ""))
            if href.startswith(("http://", "https://")):
                current.link_urls.append(href)
    for segment in segments:
        missing += [marker[2:-1] for marker in _STRAY_FOOTNOTE.findall(segment.text)]
        segment.text = clean(_STRAY_FOOTNOTE.sub("", segment.text))
    kept = [segment for segment in segments if segment.text]
    if len(kept) > 1 and not kept[-1].footnote_urls:  # unsourced tail: part of the sentence before
        tail = kept.pop()
        kept[-1].text = f"{kept[-1].text} {tail.text}"
        kept[-1].link_urls += tail.link_urls
    return kept, missing


def _footnote_urls(tokens: list[Any]) -> dict[str, str]:
    """label -> URL for every footnote definition ``[^key]: URL "Publisher: title"``."""
    found: dict[str, str] = {}
    label = None
    for token in tokens:
        if token.type == "footnote_open":
            label = token.meta["label"]
        elif token.type == "footnote_close":
            label = None
        elif label and token.type == "inline" and label not in found:
            hrefs = [c.attrs.get("href", "") for c in token.children or [] if c.type == "link_open"]
            urls = [str(h) for h in hrefs if h] or _urls_in(token.content)
            if urls:
                found[label] = urls[0]
    return found


def _front_matter(path: Path, raw: str) -> FrontMatter:
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        raise IngestError(f"{path}: the YAML front matter is not valid YAML ({exc}).") from exc
    if not isinstance(data, dict):
        raise IngestError(f"{path}: the front matter must be a YAML mapping (id, title, sources, ...).")
    try:
        return FrontMatter.model_validate(data)
    except (ValidationError, ValueError) as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'front matter'}: {err['msg']}"
            for err in (exc.errors() if isinstance(exc, ValidationError) else [{"loc": (), "msg": str(exc)}])
        )
        raise IngestError(f"{path}: invalid front matter ({problems}).") from exc


def load_markdown(path: Path, text: str | None = None) -> LoadedDocument:
    """A corpus Markdown file; ``text`` stands in for the file's content when it is generated."""
    tokens = _markdown_parser().parse(_read_text(path) if text is None else text)
    footnotes = _footnote_urls(tokens)
    builder = _Builder()
    missing: list[str] = []
    meta: FrontMatter | None = None
    depth_in_footnotes = 0
    list_depth = 0
    cell_texts: list[str] | None = None  # inside a table row
    cell_urls: list[str] = []
    pending_heading: int | None = None
    for token in tokens:
        kind = token.type
        if kind == "front_matter":
            meta = _front_matter(path, token.content)
        elif kind == "footnote_block_open":
            depth_in_footnotes += 1
        elif kind == "footnote_block_close":
            depth_in_footnotes -= 1
        elif depth_in_footnotes:
            continue
        elif kind == "heading_open":
            pending_heading = int(token.tag[1])
        elif kind in {"bullet_list_open", "ordered_list_open"}:
            list_depth += 1
        elif kind in {"bullet_list_close", "ordered_list_close"}:
            list_depth -= 1
        elif kind == "tr_open":
            cell_texts, cell_urls = [], []
        elif kind == "tr_close" and cell_texts is not None:
            builder.add(" | ".join(cell_texts), cell_urls)
            cell_texts = None
        elif kind == "inline":
            segments, lost = _inline(token, footnotes)
            missing += lost
            if pending_heading is not None:
                builder.heading(pending_heading, " ".join(segment.text for segment in segments))
                pending_heading = None
            elif cell_texts is not None:
                cell_texts.append(" ".join(segment.text for segment in segments))
                cell_urls += [url for segment in segments for url in segment.urls()]
            else:
                for number, segment in enumerate(segments):
                    bullet = "- " if list_depth and number == 0 else ""
                    builder.add(f"{bullet}{segment.text}", segment.urls())
        elif kind in {"fence", "code_block"}:
            builder.add(token.content)
        elif kind == "html_block":
            builder.add(_html_text(token.content))
    fields: dict[str, Any] = {}
    if meta is not None:
        fields = {
            "doc_id": meta.id,
            "title": meta.title,
            "publisher": meta.publisher,
            "financial_years": meta.financial_years,
            "last_reviewed": meta.last_reviewed,
        }
        if meta.source_type is not None:
            fields["source_type"] = meta.source_type
        if meta.sources:
            fields["url"] = meta.sources[0]
    warnings = [f"{path}: footnote [^{label}] has no definition" for label in dict.fromkeys(missing)]
    return _document(path, builder, warnings=warnings, **fields)


def _html_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")


# HTML ----------------------------------------------------------------------------------------

_HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4}
_DROP = ("script", "style", "noscript", "template", "svg", "iframe", "nav", "footer", "head")
_BLOCKS = {
    "p", "div", "section", "article", "main", "aside", "header", "li", "ul", "ol", "dl", "dt", "dd",
    "table", "thead", "tbody", "tfoot", "tr", "pre", "blockquote", "figure", "figcaption", "caption",
    "form", "fieldset", "details", "summary", "h5", "h6", "address", "hr", "br",
}  # fmt: skip


def _meta_content(soup: Any, *names: str) -> str:
    for name in names:
        tag = soup.find("meta", attrs={"property": name}) or soup.find("meta", attrs={"name": name})
        if tag and tag.get("content"):
            return clean(str(tag["content"]))
    return ""


class _HtmlWalker:
    def __init__(self, builder: _Builder) -> None:
        self.builder = builder
        self.buffer: list[str] = []
        self.prefix = ""

    def flush(self) -> None:
        text = clean("".join(self.buffer)).rstrip("| ")  # a table row ends with a cell separator
        if text:
            self.builder.add(f"{self.prefix}{text}")
        self.buffer = []

    def walk(self, node: Any) -> None:
        from bs4 import NavigableString, Tag
        from bs4.element import Comment

        for child in node.children:
            if isinstance(child, Comment):
                continue
            if isinstance(child, NavigableString):
                self.buffer.append(str(child))
            elif isinstance(child, Tag):
                name = child.name.lower()
                if name in _HEADINGS:
                    self.flush()
                    self.builder.heading(_HEADINGS[name], child.get_text(" "))
                elif name in {"td", "th"}:
                    self.walk(child)
                    self.buffer.append(" | ")
                elif name in _BLOCKS:
                    self.flush()
                    outer = self.prefix
                    self.prefix = "- " if name == "li" else ("" if name in {"ul", "ol"} else outer)
                    self.walk(child)
                    self.flush()
                    self.prefix = outer
                else:
                    self.walk(child)


def load_html(path: Path) -> LoadedDocument:
    from bs4 import BeautifulSoup, UnicodeDammit

    data = path.read_bytes()
    if b"\x00" in data[:8192]:
        raise IngestError(f"{path}: looks like a binary file, not HTML; nothing was ingested from it.")
    decoded = UnicodeDammit(data, is_html=True)
    if decoded.unicode_markup is None:
        raise IngestError(f"{path}: cannot decode this HTML file; save it as UTF-8 and ingest it again.")
    soup = BeautifulSoup(decoded.unicode_markup, "lxml")
    title = clean(soup.title.get_text()) if soup.title else _meta_content(soup, "og:title")
    canonical = soup.find("link", rel="canonical")
    url = str(canonical["href"]) if canonical and canonical.get("href") else _meta_content(soup, "og:url")
    publisher = _meta_content(soup, "og:site_name", "author", "DC.publisher")
    for tag in soup.find_all(_DROP):
        tag.decompose()
    root = soup.find("main") or soup.body or soup
    builder = _Builder()
    walker = _HtmlWalker(builder)
    walker.walk(root)
    walker.flush()
    fields: dict[str, Any] = {"publisher": publisher}
    if title:
        fields["title"] = title
    if url.startswith(("http://", "https://")):
        fields["url"] = url
        builder.blocks = [b.model_copy(update={"source_urls": [url]}) for b in builder.blocks]
    return _document(path, builder, **fields)


# PDF -----------------------------------------------------------------------------------------


def _pdf_outline(reader: Any) -> list[tuple[int, tuple[str, ...]]]:
    """(first page, heading path) of each bookmark: the PDF's own structure, no guessing."""
    entries: list[tuple[int, tuple[str, ...]]] = []

    def visit(items: list[Any], parents: tuple[str, ...]) -> None:
        last: tuple[str, ...] = parents
        for item in items:
            if isinstance(item, list):
                visit(item, last)
                continue
            title = clean(str(getattr(item, "title", "") or ""))
            if not title:
                continue
            last = (*parents, title)
            try:
                page = reader.get_destination_page_number(item)
            except Exception:  # a bookmark to nowhere: skip it, keep the rest
                continue
            if page is not None and page >= 0:
                entries.append((page + 1, last))

    try:
        visit(list(reader.outline), ())
    except Exception:
        return []
    return sorted(entries, key=lambda entry: entry[0])


def _page_text(text: str) -> str:
    text = re.sub(r"(\w)-\n(\w)", r"\1\2", text)  # words hyphenated across lines
    return clean(text)


def load_pdf(path: Path) -> LoadedDocument:
    from pypdf import PdfReader

    pypdf_log = logging.getLogger("pypdf")
    level = pypdf_log.level
    pypdf_log.setLevel(logging.ERROR)  # repair notes on slightly broken files are not the user's problem
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise IngestError(
                f"{path}: the PDF is password-protected; save an unprotected copy to ingest it."
            )
        pages: list[str] = []
        warnings: list[str] = []
        for number, page in enumerate(reader.pages, start=1):
            try:
                pages.append(page.extract_text() or "")
            except Exception as exc:  # one damaged page should not lose the whole document
                pages.append("")
                warnings.append(f"{path}: page {number} could not be read ({type(exc).__name__}); skipped.")
        info_title = clean(str((reader.metadata or {}).get("/Title", "") or ""))
        outline = _pdf_outline(reader)
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(
            f"{path}: cannot read this PDF ({type(exc).__name__}: {exc}); is it corrupt?"
        ) from exc
    finally:
        pypdf_log.setLevel(level)
    uri = path.resolve().as_uri()
    builder = _Builder()
    for number, raw in enumerate(pages, start=1):
        heading: tuple[str, ...] = ()
        for first_page, names in outline:
            if first_page <= number:
                heading = names
        text = _page_text(raw)
        if text:
            builder.blocks.append(
                Block(heading_path=heading, text=text, source_urls=[f"{uri}#page={number}"], page=number)
            )
    if not builder.blocks:
        raise IngestError(f"{path}: the PDF has no extractable text (a scan? run OCR on it first).")
    title = info_title if len(info_title) > 3 and not info_title.lower().startswith("microsoft") else None
    return _document(path, builder, title=title, warnings=warnings)


# DOCX ----------------------------------------------------------------------------------------


def _docx_heading_level(style_name: str) -> int | None:
    if style_name == "Title":
        return 1
    match = re.fullmatch(r"Heading (\d)", style_name)
    return int(match.group(1)) if match else None


def load_docx(path: Path) -> LoadedDocument:
    import docx
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        items = list(document.iter_inner_content())
        core_title = clean(document.core_properties.title or "")
    except Exception as exc:
        raise IngestError(f"{path}: cannot read this DOCX file ({type(exc).__name__}: {exc}).") from exc
    builder = _Builder()
    for item in items:
        if isinstance(item, Table):
            for row in item.rows:
                cells = list(dict.fromkeys(clean(cell.text) for cell in row.cells))
                builder.add(" | ".join(cell for cell in cells if cell))
            continue
        style = item.style.name if item.style is not None else ""
        level = _docx_heading_level(style or "")
        if level is not None:
            builder.heading(level, item.text)
            continue
        numbered = item._p.pPr is not None and item._p.pPr.numPr is not None
        bullet = numbered or (style or "").startswith("List")
        builder.add(f"- {item.text}" if bullet and item.text.strip() else item.text)
    return _document(path, builder, title=core_title or None)


# Plain text ----------------------------------------------------------------------------------


def load_text(path: Path) -> LoadedDocument:
    builder = _Builder()
    for paragraph in re.split(r"\n\s*\n", _read_text(path)):
        builder.add(paragraph)
    return _document(path, builder)


_LOADERS = {
    ".md": load_markdown,
    ".markdown": load_markdown,
    ".html": load_html,
    ".htm": load_html,
    ".pdf": load_pdf,
    ".docx": load_docx,
    ".txt": load_text,
}


def load_provider_profile(path: Path) -> LoadedDocument:
    """The provider profile (YAML) as the corpus document generated from it, so answers about office
    hours or services always follow the one file the provider edits."""
    from assistant.models import AssistantError as _AssistantError
    from assistant.provider import load_profile, render_profile_markdown

    try:
        markdown = render_profile_markdown(load_profile(path))
    except _AssistantError as exc:
        raise IngestError(str(exc)) from exc
    except (ValueError, OSError) as exc:
        raise IngestError(f"{path}: not a valid provider profile ({exc}).") from exc
    return load_markdown(path, text=markdown)


def load_file(path: Path, default_source_type: SourceType = SourceType.USER) -> LoadedDocument:
    """Load one supported file; ``IngestError`` (naming the file) for anything that cannot be read.

    ``default_source_type`` applies when the file does not say (Markdown front matter can).
    """
    path = Path(path)
    if not path.exists():
        raise IngestError(f"{path}: no such file.")
    if not path.is_file():
        raise IngestError(f"{path}: not a regular file.")
    loader = _LOADERS.get(path.suffix.lower())
    if (
        loader is None
        and path.suffix.lower() in {".yaml", ".yml"}
        and default_source_type == SourceType.PROVIDER
    ):
        loader = load_provider_profile
    if loader is None:
        hint = " (old Word format: save it as .docx)" if path.suffix.lower() == ".doc" else ""
        raise IngestError(
            f"{path}: unsupported file type {path.suffix or '(none)'!r}{hint}; "
            f"supported: {', '.join(SUPPORTED_SUFFIXES)}."
        )
    try:
        doc = loader(path)
    except IngestError:
        raise
    except OSError as exc:
        raise IngestError(f"{path}: cannot be read ({exc.strerror or exc}).") from exc
    if "source_type" not in doc.model_fields_set:
        doc.source_type = default_source_type
    return doc
