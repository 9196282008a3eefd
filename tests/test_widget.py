"""The embeddable widget in Debian's Chromium (Playwright for Python), against a real server.

The demo page at / embeds the widget with the one-line script tag, as a customer site would.
Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from api_support import LiveServer, live_server, wait_for

from assistant.calc_models import ClaimRequest
from assistant.calculator import claim
from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation, Intent
from assistant.rates import RateTables
from assistant.roles import RoleCatalogue
from assistant.settings import BUNDLED_CORPUS, Settings
from server import create_app

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]
ROLES_QUESTION = "Which roles can a PCN claim for under ARRS?"
CALC_QUESTION = "How much can we claim for a pharmacy technician at 0.6 WTE from April to September 2025?"
XSS = "<img src=x onerror=alert(1)>"
WIDGET = "#arrs-assistant-widget"


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    if not CHROMIUM.exists():
        pytest.skip(
            f"browser tests skipped: {CHROMIUM} is missing (install Debian's chromium: apt-get install chromium)"
        )
    from playwright.sync_api import sync_playwright

    home = tmp_path_factory.mktemp("chromium-home")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={**os.environ, "HOME": str(home)}
        )
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def server(module_settings: Settings, module_assistant) -> Iterator[LiveServer]:
    with live_server(create_app(module_settings, assistant=module_assistant)) as running:
        yield running


class PageProbe:
    """A page plus everything that must never happen on it: dialogs, page errors, console errors."""

    def __init__(self, page) -> None:
        self.page = page
        self.dialogs: list[str] = []
        self.errors: list[str] = []
        page.on("dialog", self._dialog)
        page.on("pageerror", lambda error: self.errors.append(f"pageerror: {error}"))
        page.on("console", lambda message: message.type == "error" and self.errors.append(message.text))

    def _dialog(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def assert_clean(self) -> None:
        assert self.dialogs == [], f"a dialog opened: script from content ran: {self.dialogs}"
        assert self.errors == [], self.errors


def open_page(browser, url: str, width: int = 1280, height: int = 860) -> Iterator[PageProbe]:
    context = browser.new_context(viewport={"width": width, "height": height})
    probe = PageProbe(context.new_page())
    probe.page.goto(url)
    try:
        yield probe
    finally:
        context.close()


@pytest.fixture
def probe(browser, server: LiveServer) -> Iterator[PageProbe]:
    yield from open_page(browser, server.url)


def open_widget(page) -> None:
    page.get_by_role("button", name="Ask about ARRS").click()
    page.get_by_role("dialog", name="ARRS Assistant").wait_for()


def ask(page, question: str):
    """Type a question, send it with Enter, and wait for the final rendered answer."""
    answers = page.locator(".msg.bot[data-intent]")
    before = answers.count()
    box = page.get_by_label("Your question")
    box.fill(question)
    box.press("Enter")
    page.wait_for_function(
        """([selector, n]) => {
            const root = document.querySelector(selector).shadowRoot;
            return root.querySelectorAll('.msg.bot[data-intent]').length > n;
        }""",
        arg=[WIDGET, before],
        timeout=90_000,
    )
    return answers.nth(before)


def session_id(page) -> str:
    return page.evaluate("sessionStorage.getItem('arrs-assistant-session')")


# ----------------------------------------------------------------------------------------------


def test_streamed_answer_with_citation_links(probe: PageProbe, artifacts_dir: Path) -> None:
    page = probe.page
    launcher = page.get_by_role("button", name="Ask about ARRS")
    assert launcher.get_attribute("aria-expanded") == "false"
    # The demo page styles every button hot pink: the Shadow DOM keeps that out of the widget.
    assert launcher.evaluate("e => getComputedStyle(e).backgroundColor") == "rgb(0, 94, 184)"
    open_widget(page)
    assert page.evaluate(f"document.querySelector('{WIDGET}').shadowRoot.activeElement.id") == "arrs-input"
    with page.expect_response(lambda r: r.url.endswith("/api/ask/stream")) as streamed:
        answer = ask(page, ROLES_QUESTION)
    assert streamed.value.headers["content-type"].startswith("text/event-stream")
    assert int(answer.get_attribute("data-deltas")) > 1  # the text came as several delta events

    assert page.get_by_role("log").get_attribute("aria-live") == "polite"
    cites = answer.locator("a.cite")
    assert cites.count() >= 1
    first = cites.first
    href = first.get_attribute("href")
    assert href and href.startswith("https://")
    assert first.get_attribute("target") == "_blank"
    assert "noopener" in first.get_attribute("rel")
    assert re.fullmatch(r"\[\d+\]", first.inner_text())
    assert first.get_attribute("title")  # the document and section title
    # The same source is listed under the answer with its title.
    number = int(first.inner_text().strip("[]"))
    assert answer.locator(f".sources li[value='{number}'] a").get_attribute("href") == href
    assert session_id(page)
    page.screenshot(path=str(artifacts_dir / "widget-answer-desktop.png"))
    probe.assert_clean()


def test_thumbs_up_is_stored(probe: PageProbe, module_assistant) -> None:
    page = probe.page
    open_widget(page)
    answer = ask(page, ROLES_QUESTION)
    answer.get_by_role("button", name="Helpful", exact=True).click()
    answer.get_by_text("Thanks for the feedback.").wait_for()
    assert answer.get_by_role("button", name="Helpful", exact=True).get_attribute("aria-pressed") == "true"
    session = session_id(page)
    store = FeedbackStore(module_assistant.engine)
    row = wait_for(
        lambda: next((r for r in store.all() if r["session_id"] == session), None), what="the stored rating"
    )
    assert (row["turn"], row["rating"], row["channel"]) == (1, "up", "widget")
    probe.assert_clean()


def _expected_claim() -> str:
    tables = RateTables.load(BUNDLED_CORPUS / "rates", RoleCatalogue.load(BUNDLED_CORPUS / "roles.yaml"))
    request = ClaimRequest(
        role="pharmacy technician", start=date(2025, 4, 1), end=date(2025, 9, 30), wte=Decimal("0.6")
    )
    return f"£{claim(tables, request).result.claim:,.2f}"


def test_calculation_breakdown_table(probe: PageProbe, artifacts_dir: Path) -> None:
    page = probe.page
    open_widget(page)
    page.get_by_role("button", name=CALC_QUESTION).click()  # a suggested starter question
    table = page.locator(".calc table")
    table.wait_for(timeout=90_000)
    headers = table.locator("thead th").all_inner_texts()
    assert "Claim" in headers and "Annual max" in headers
    expected = _expected_claim()
    assert table.locator("tfoot td").inner_text() == expected
    assert expected in table.locator("tbody").inner_text()
    table.scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "widget-calculation-desktop.png"))
    probe.assert_clean()


def test_layout_at_360px(browser, server: LiveServer, artifacts_dir: Path) -> None:
    for probe in open_page(browser, server.url, width=360, height=740):
        page = probe.page
        assert page.evaluate("document.documentElement.scrollWidth") <= 360
        open_widget(page)
        ask(page, CALC_QUESTION)
        page.locator(".calc table").wait_for()
        box = page.get_by_role("dialog", name="ARRS Assistant").bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 360
        overflow = page.evaluate(
            """(selector) => {
                const root = document.querySelector(selector).shadowRoot;
                const log = root.querySelector('.log');
                const wide = [...root.querySelectorAll('.msg')].filter(m => m.getBoundingClientRect().right > 360.5);
                return {page: document.documentElement.scrollWidth, log: log.scrollWidth - log.clientWidth,
                        wide: wide.length};
            }""",
            WIDGET,
        )
        assert overflow == {"page": 360, "log": 0, "wide": 0}
        send = page.get_by_role("button", name="Send question").bounding_box()
        assert send is not None and send["x"] + send["width"] <= 360
        page.screenshot(path=str(artifacts_dir / "widget-360px.png"))
        probe.assert_clean()


def test_keyboard_only_use(probe: PageProbe) -> None:
    page = probe.page
    launcher = page.get_by_role("button", name="Ask about ARRS")
    launcher.focus()
    page.keyboard.press("Enter")
    dialog = page.get_by_role("dialog", name="ARRS Assistant")
    dialog.wait_for()
    page.keyboard.type("Hello")
    page.keyboard.press("Enter")
    page.locator(".msg.bot[data-intent]").first.wait_for(timeout=60_000)
    page.keyboard.press("Escape")
    assert dialog.is_hidden()
    assert (
        page.evaluate(f"document.querySelector('{WIDGET}').shadowRoot.activeElement.className") == "launcher"
    )
    probe.assert_clean()


def test_session_survives_a_page_load(probe: PageProbe) -> None:
    page = probe.page
    open_widget(page)
    ask(page, ROLES_QUESTION)
    first_session = session_id(page)
    page.reload()
    page.get_by_role("dialog", name="ARRS Assistant").wait_for()  # it stays open across pages
    assert page.locator(".msg.user").first.inner_text() == ROLES_QUESTION  # history restored
    answer = ask(page, "And which of them were added in 2020/21?")
    assert session_id(page) == first_session
    assert answer.get_by_role("button", name="Helpful", exact=True).count() == 1
    probe.assert_clean()


# Hostile content: nothing from a question, an answer or a document may run ----------------------


class HostileAssistant:
    """Answers with markup in every field that reaches the screen, as a poisoned document would."""

    def __init__(self, engine) -> None:
        self.engine = engine

    def ready(self) -> bool:
        return True

    def ask(self, question: str, session_id: str | None = None, channel: str = "api") -> Answer:
        return Answer(
            answer=(
                f"You asked: {question}\n\nThe guidance says {XSS} and <script>alert(2)</script> [1] [2]\n\n"
                f"- **{XSS}** item\n- [a link](javascript:alert(3))"
            ),
            citations=[
                Citation(n=1, doc_id="evil", title=f"Title {XSS}", section=f"<b onclick=alert(4)>{XSS}</b>",
                         url="https://example.org/doc", quote=XSS),
                Citation(n=2, doc_id="evil2", title="Bad link", url="javascript:alert(5)", quote="x"),
            ],
            intent=Intent.FAQ,
            grounded=True,
            calculation={"kind": "claim", "result": {"claim": XSS},
                         "breakdown": [{"start": XSS, "end": "2025-05-01", "claim": "1.00"}]},
            session_id=session_id or "hostile-session",
            turn=1,
            booking={"active": True, "status": "ask", "pending_field": "slot",
                     "slot_options": [{"n": 1, "start": "2026-11-24T09:00:00+00:00", "label": XSS}]},
        )  # fmt: skip


def test_markup_in_questions_and_documents_renders_as_text(
    browser, settings: Settings, assistant, artifacts_dir: Path
) -> None:
    with live_server(create_app(settings, assistant=HostileAssistant(assistant.engine))) as running:
        for probe in open_page(browser, running.url):
            page = probe.page
            open_widget(page)
            question = f"What does {XSS} mean? <script>alert(6)</script>"
            answer = ask(page, question)
            assert page.locator(".msg.user").last.inner_text() == question
            text = answer.inner_text()
            assert XSS in text and "<script>alert(2)</script>" in text
            elements = page.evaluate(
                """(selector) => {
                    const root = document.querySelector(selector).shadowRoot;
                    return {
                        img: root.querySelectorAll('img').length + document.querySelectorAll('img').length,
                        script: root.querySelectorAll('script').length,
                        b: root.querySelectorAll('b').length,
                        js: [...root.querySelectorAll('a')].filter(a => !/^https?:/.test(a.href)).length,
                    };
                }""",
                WIDGET,
            )
            assert elements == {"img": 0, "script": 0, "b": 0, "js": 0}
            assert answer.locator(".cite").nth(1).evaluate("e => e.tagName") == "SPAN"  # javascript: URL
            assert XSS in answer.locator("a.cite").first.get_attribute("title")
            assert XSS in answer.locator(".calc").inner_text()
            assert answer.get_by_role("button", name=f"Book {XSS} UK time").count() == 1
            page.screenshot(path=str(artifacts_dir / "widget-hostile-content.png"))
            probe.assert_clean()


def test_api_docs_render_offline(browser, server: LiveServer) -> None:
    for probe in open_page(browser, f"{server.url}/docs"):
        probe.page.get_by_text("/api/ask/stream").first.wait_for(timeout=30_000)
        probe.assert_clean()  # the strict CSP admits Swagger UI's own files and init script only


# Booking through the widget -----------------------------------------------------------------------


def test_booking_through_the_widget(
    probe: PageProbe, server: LiveServer, module_assistant, artifacts_dir: Path
) -> None:
    from assistant.booking_dialogue import service

    page = probe.page
    open_widget(page)

    def reply(label: str):
        """Click a quick reply or starter button and wait for the next answer."""
        answers = page.locator(".msg.bot[data-intent]")
        before = answers.count()
        page.get_by_role("button", name=label, exact=True).last.click()
        page.wait_for_function(
            """([selector, n]) => document.querySelector(selector).shadowRoot
                .querySelectorAll('.msg.bot[data-intent]').length > n""",
            arg=[WIDGET, before],
            timeout=60_000,
        )
        return answers.nth(before)

    answer = reply("Can I book a free consultation?")
    assert answer.get_attribute("data-intent") == "booking"
    for text in ("Priya Shah", "Harbourside PCN"):
        answer = ask(page, text)
    answer = reply("Skip")  # the optional ODS code
    answer = ask(page, "Clinical pharmacists and training for ARRS staff")
    answer = ask(page, "priya.shah@harbourside.nhs.net")
    answer = reply("Skip")  # the optional phone number

    picker = answer.get_by_role("group", name="Available consultation times (UK time)")
    slots = picker.locator("button[data-slot]")
    assert slots.count() >= 1
    chosen_start = slots.first.get_attribute("data-slot")
    chosen_label = slots.first.inner_text()
    page.screenshot(path=str(artifacts_dir / "widget-slot-picker.png"))
    with page.expect_response(lambda r: r.url.endswith("/api/ask/stream")) as sent:
        slots.first.click()
    assert json.loads(sent.value.request.post_data)["question"] == chosen_start
    confirmation = page.locator(".confirm").last
    confirmation.wait_for(timeout=60_000)
    assert page.locator(".msg.user").last.inner_text() == chosen_label  # shown as a time, sent as ISO

    link = confirmation.get_by_role("link", name="Add to your calendar (.ics)")
    href = link.get_attribute("href")
    assert href.startswith(f"{server.url}/api/bookings/") and href.endswith(".ics")
    invite = httpx.get(href)
    assert invite.status_code == 200 and invite.headers["content-type"].startswith("text/calendar")

    booked = [
        b for b in service(module_assistant).list_bookings() if b.email == "priya.shah@harbourside.nhs.net"
    ]
    assert len(booked) == 1
    assert booked[0].slot_start == datetime.fromisoformat(chosen_start)
    assert booked[0].id in href
    page.screenshot(path=str(artifacts_dir / "widget-booking-confirmed.png"))
    probe.assert_clean()
