"""Text between the assistant and Slack: Markdown to mrkdwn, Slack markup to plain text, and
splitting long text to Slack's limits.

Slack's mrkdwn is not Markdown (``*bold*``, ``_italic_``, ``<url|label>`` links, no headings or
lists), so answers are parsed with markdown-it-py and re-rendered rather than patched with regexes.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence

from markdown_it import MarkdownIt
from markdown_it.token import Token

SECTION_LIMIT = 3000  # characters in one section block's text
BLOCKS_LIMIT = 50  # blocks in one message
TEXT_LIMIT = 40_000  # characters in a message's top-level text
ELLIPSIS = "…"

_MARKER = re.compile(r"\[(\d{1,3})\]")
_FENCE = "```"
_md = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def escape(text: str) -> str:
    """Slack's three control characters; everything else is shown as typed."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: max(limit - len(ELLIPSIS), 0)].rstrip() + ELLIPSIS


def link(url: str, label: str) -> str:
    """A mrkdwn link; ``|`` and ``>`` cannot appear inside one, so the label loses them."""
    label = escape(label.replace("|", "/"))
    return f"<{_safe_url(url)}|{label}>" if url else label


def _safe_url(url: str) -> str:
    return url.replace("|", "%7C").replace(">", "%3E").replace("<", "%3C")


# Markdown -> mrkdwn ---------------------------------------------------------------------------


def to_mrkdwn(markdown: str, links: Mapping[int, str] | None = None) -> str:
    """Render Markdown as Slack mrkdwn; ``[n]`` markers become links when ``links`` has n's URL."""
    renderer = _Renderer(links or {})
    return renderer.render(_md.parse(markdown)).strip()


class _Renderer:
    def __init__(self, links: Mapping[int, str]) -> None:
        self.links = links

    def render(self, tokens: Sequence[Token]) -> str:
        out: list[str] = []
        lists: list[list[int]] = []  # per open list: [next number] or [] for bullets
        quote = 0
        i = 0
        while i < len(tokens):
            token = tokens[i]
            kind = token.type
            prefix = "> " * quote
            if kind in ("bullet_list_open", "ordered_list_open"):
                lists.append([int(token.attrs.get("start", 1) or 1)] if kind == "ordered_list_open" else [])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                lists.pop()
                if not lists:
                    out.append("\n")
            elif kind == "list_item_open":
                indent = "    " * (len(lists) - 1)
                current = lists[-1]
                if current:
                    bullet = f"{current[0]}. "
                    current[0] += 1
                else:
                    bullet = "• "
                out.append(f"{prefix}{indent}{bullet}")
            elif kind == "blockquote_open":
                quote += 1
            elif kind == "blockquote_close":
                quote -= 1
            elif kind == "heading_open":
                inline = tokens[i + 1]
                out.append(f"{prefix}*{self.inline(inline.children or [])}*\n\n")
                i += 3
                continue
            elif kind == "paragraph_open":
                inline = tokens[i + 1]
                text = self.inline(inline.children or [])
                if quote:
                    text = text.replace("\n", "\n" + prefix)
                tight = bool(lists) and token.hidden
                out.append(f"{'' if lists else prefix}{text}\n" + ("" if tight else "\n"))
                i += 3
                continue
            elif kind in ("fence", "code_block"):
                body = escape(token.content.rstrip("\n"))
                out.append(f"{_FENCE}\n{body}\n{_FENCE}\n\n")
            elif kind == "hr":
                out.append("──────────\n\n")
            elif kind == "table_open":
                end = next(j for j in range(i, len(tokens)) if tokens[j].type == "table_close")
                out.append(self.table(tokens[i:end]) + "\n\n")
                i = end + 1
                continue
            elif kind in ("html_block",):
                out.append(escape(token.content) + "\n")
            elif kind == "inline":
                out.append(self.inline(token.children or []))
            i += 1
        return re.sub(r"\n{3,}", "\n\n", "".join(out))

    def inline(self, children: Sequence[Token]) -> str:
        parts: list[str] = []
        href: list[str] = []
        label_start: list[int] = []
        for child in children:
            kind = child.type
            if kind == "text":
                parts.append(self.text(child.content))
            elif kind in ("strong_open", "strong_close"):
                parts.append("*")
            elif kind in ("em_open", "em_close"):
                parts.append("_")
            elif kind in ("s_open", "s_close"):
                parts.append("~")
            elif kind == "code_inline":
                parts.append(f"`{escape(child.content)}`")
            elif kind == "softbreak":
                parts.append(" ")
            elif kind == "hardbreak":
                parts.append("\n")
            elif kind == "link_open":
                href.append(str(child.attrs.get("href", "")))
                label_start.append(len(parts))
            elif kind == "link_close":
                url = href.pop()
                start = label_start.pop()
                label = "".join(parts[start:]).replace("|", "/")
                del parts[start:]
                parts.append(f"<{_safe_url(url)}|{label}>" if url else label)
            elif kind == "image":
                parts.append(link(str(child.attrs.get("src", "")), child.content or "image"))
            elif kind in ("html_inline",):
                parts.append(escape(child.content))
        return "".join(parts)

    def text(self, content: str) -> str:
        escaped = escape(content)
        if not self.links:
            return escaped

        def marker(match: re.Match[str]) -> str:
            url = self.links.get(int(match.group(1)))
            return f"<{url}|[{match.group(1)}]>" if url else match.group(0)

        return _MARKER.sub(marker, escaped)

    def table(self, tokens: Sequence[Token]) -> str:
        rows: list[list[str]] = []
        for token in tokens:
            if token.type == "tr_open":
                rows.append([])
            elif token.type == "inline" and rows:
                rows[-1].append("".join(c.content for c in token.children or [] if c.type != "softbreak"))
        widths = [
            max(len(row[c]) for row in rows if c < len(row)) for c in range(max(map(len, rows), default=0))
        ]
        lines = ["  ".join(cell.ljust(widths[c]) for c, cell in enumerate(row)).rstrip() for row in rows]
        if len(lines) > 1:
            lines.insert(1, "  ".join("-" * w for w in widths))
        return f"{_FENCE}\n{escape(chr(10).join(lines))}\n{_FENCE}"


# Slack markup -> plain text -------------------------------------------------------------------

_USER = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
_CHANNEL = re.compile(r"<#[CG][A-Z0-9]+\|([^>]*)>")
_SPECIAL = re.compile(r"<![^>]*>")
_LINK = re.compile(r"<((?:https?|mailto):[^|>]+)(?:\|([^>]*))?>")


def slack_to_plain(text: str, bot_user_id: str | None = None) -> str:
    """What a person typed, without the app's own mention and with Slack's markup undone."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    text = _USER.sub("someone", text)
    text = _CHANNEL.sub(r"#\1", text)
    text = _SPECIAL.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = html.unescape(text)
    return re.sub(r"\s+", " ", text).strip()


# Splitting -------------------------------------------------------------------------------------

_SEPARATORS = (
    re.compile(r"(?<=\n\n)"),  # paragraphs
    re.compile(r"(?<=\n)"),  # lines
    re.compile(r"(?<=[.!?;:])(?= )"),  # sentences
    re.compile(r"(?= )(?![^<]*>)"),  # words, never inside a <url|label> link
)


def split_text(text: str, limit: int = SECTION_LIMIT) -> list[str]:
    """Pieces of at most ``limit`` characters, cut at the largest boundary that fits.

    Paragraphs first, then lines, sentences, words; a code fence cut in two is closed and
    reopened so both halves still render as code.
    """
    text = text.strip()
    if not text:
        return []
    budget = max(limit - 2 * (len(_FENCE) + 1), 1)
    pieces = _pack(_split(text, budget, 0), budget)
    return _balance_fences([piece.strip() for piece in pieces if piece.strip()], limit)


def _split(text: str, limit: int, level: int) -> list[str]:
    if len(text) <= limit:
        return [text]
    if level >= len(_SEPARATORS):
        return [text[i : i + limit] for i in range(0, len(text), limit)]
    parts = [part for part in _SEPARATORS[level].split(text) if part]
    out: list[str] = []
    for part in parts:
        out.extend(_split(part, limit, level + 1) if len(part) > limit else [part])
    return out


def _pack(parts: list[str], limit: int) -> list[str]:
    pieces: list[str] = []
    current = ""
    for part in parts:
        if current and len(current) + len(part) > limit:
            pieces.append(current)
            current = part.lstrip(" ")
        else:
            current += part
    if current:
        pieces.append(current)
    return pieces


def _balance_fences(pieces: list[str], limit: int) -> list[str]:
    out: list[str] = []
    inside = False  # is the original text inside a code fence where this piece starts?
    for piece in pieces:
        ends_inside = inside != bool(piece.count(_FENCE) % 2)
        if inside:
            piece = f"{_FENCE}\n{piece}"
        if ends_inside:
            piece = f"{piece}\n{_FENCE}"
        inside = ends_inside
        out.append(truncate(piece, limit))
    return out
