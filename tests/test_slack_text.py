"""Markdown to Slack mrkdwn, Slack markup to plain text, and splitting to Slack's limits."""

from __future__ import annotations

import re

import pytest

from slackbot.text import SECTION_LIMIT, escape, slack_to_plain, split_text, to_mrkdwn, truncate


def test_markdown_becomes_mrkdwn() -> None:
    markdown = (
        "# Funding\n\nThe **sum** is *weighted* by population: see [the guidance](https://example.org/g).\n\n"
        "- first\n- second\n\n1. one\n2. two\n\n`code` and ~~old~~\n"
    )
    text = to_mrkdwn(markdown)
    assert text.startswith("*Funding*")
    assert "The *sum* is _weighted_ by population: see <https://example.org/g|the guidance>." in text
    assert "• first\n• second" in text
    assert "1. one\n2. two" in text
    assert "`code` and ~old~" in text
    assert "**" not in text and "#" not in text


def test_slack_control_characters_are_escaped() -> None:
    text = to_mrkdwn("Band 5 < band 6 & <b>bold</b> > none")
    assert "<" not in text.replace("&lt;", "") and ">" not in text.replace("&gt;", "")
    assert "&amp;" in text
    assert escape("a<b>&c") == "a&lt;b&gt;&amp;c"


def test_citation_markers_become_links_to_their_sources() -> None:
    text = to_mrkdwn(
        "Care co-ordinators are band 4 [1]. Added in 2020/21 [2]. Unknown [3].",
        {1: "https://a.example/1", 2: "https://b.example/2"},
    )
    assert "<https://a.example/1|[1]>" in text
    assert "<https://b.example/2|[2]>" in text
    assert "Unknown [3]" in text  # no URL: the marker stays as typed


def test_markdown_table_becomes_an_aligned_code_block() -> None:
    text = to_mrkdwn("| Role | Band |\n|---|---|\n| Care co-ordinator | 4 |\n")
    assert text.startswith("```") and text.endswith("```")
    lines = text.strip("`\n").splitlines()
    assert lines[0].split() == ["Role", "Band"]
    assert lines[2].startswith("Care co-ordinator") and lines[2].endswith("4")


def test_slack_markup_becomes_what_the_person_typed() -> None:
    raw = "<@U0BOT> What&apos;s the band for <https://example.org|this role> in <#C123|general>? <!here> <@U999>"
    assert slack_to_plain(raw, "U0BOT") == "What's the band for this role in #general? someone"
    assert slack_to_plain("&lt;b&gt; &amp; co") == "<b> & co"


@pytest.mark.parametrize("limit", [50, 200, SECTION_LIMIT])
def test_split_keeps_every_word_and_respects_the_limit(limit: int) -> None:
    paragraph = " ".join(f"word{i}" for i in range(120)) + "."
    text = "\n\n".join([paragraph] * 12)
    pieces = split_text(text, limit)
    assert all(0 < len(piece) <= limit for piece in pieces)
    assert " ".join(" ".join(pieces).split()) == " ".join(text.split())


def test_split_prefers_paragraph_boundaries() -> None:
    paragraphs = [f"Paragraph {n}. " + "text " * 100 for n in range(10)]
    pieces = split_text("\n\n".join(paragraphs), 1200)
    assert all(piece.startswith("Paragraph") for piece in pieces)


def test_split_never_cuts_inside_a_link() -> None:
    links = " ".join(f"<https://example.org/{n}|source number {n}>" for n in range(200))
    for piece in split_text(links, 300):
        assert piece.count("<") == piece.count(">")
        assert all(
            re.fullmatch(r"<https://example\.org/\d+\|source number \d+>", part)
            for part in re.findall(r"<[^>]*>", piece)
        )


def test_split_code_fence_is_closed_and_reopened() -> None:
    text = "Before\n\n```\n" + "\n".join(f"row {n}" for n in range(300)) + "\n```\nAfter"
    pieces = split_text(text, 500)
    assert len(pieces) > 1
    assert all(piece.count("```") % 2 == 0 for piece in pieces)
    assert all(len(piece) <= 500 for piece in pieces)


def test_a_single_huge_word_is_cut_hard() -> None:
    pieces = split_text("x" * 7000, 3000)
    assert "".join(pieces) == "x" * 7000
    assert all(len(piece) <= 3000 for piece in pieces)


def test_truncate() -> None:
    assert truncate("short", 10) == "short"
    assert truncate("a" * 20, 10) == "a" * 9 + "…"
