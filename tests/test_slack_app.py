"""The Slack app through Bolt's own dispatch, against the fake Slack Web API, over the real
assistant and the bundled corpus.

Each test builds the app with its own listener executor: shutting it down waits for every
answer in flight, so "nothing was posted" is checked without sleeping.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

import pytest
from fake_slack import (
    BOT_ID,
    BOT_TOKEN,
    BOT_USER_ID,
    SIGNING_SECRET,
    TEAM_ID,
    USER_ID,
    FakeSlack,
    SpyAssistant,
    action_body,
    button,
    command_body,
    direct_message,
    event_body,
    mention,
    signed_headers,
)
from pydantic import SecretStr
from slack_bolt import BoltRequest, BoltResponse

from assistant.feedback import FeedbackStore
from assistant.models import Answer, Citation, Intent
from assistant.rates import RateTables
from assistant.settings import Settings
from slack_app import build_app
from slackbot.blocks import (
    ACTION_FEEDBACK_DOWN,
    ACTION_FEEDBACK_UP,
    ACTION_SHARE,
    APOLOGY,
    FEEDBACK_BLOCK_ID,
    FEEDBACK_NOTE_BLOCK_ID,
)
from slackbot.refs import command_session, dm_session, thread_session
from slackbot.text import BLOCKS_LIMIT, SECTION_LIMIT

CHANNEL = "C0GENERAL"
RATE_QUESTION = "What is the maximum reimbursement for a clinical pharmacist in 2025/26?"
FORM = "application/x-www-form-urlencoded"


class Slack:
    """The Bolt app wired to the fake Web API; ``send`` signs and dispatches like Slack."""

    def __init__(self, app: Any, fake: FakeSlack, executor: ThreadPoolExecutor, assistant: Any) -> None:
        self.app, self.fake, self.executor, self.assistant = app, fake, executor, assistant

    def send(self, body: str, *, content_type: str = "application/json", **signing: Any) -> BoltResponse:
        headers = signed_headers(body, content_type=content_type, **signing)
        return self.app.dispatch(BoltRequest(body=body, headers=headers))

    def mention(self, text: str, ts: str, thread_ts: str | None = None, **options: Any) -> BoltResponse:
        return self.send(event_body(mention(text, channel=CHANNEL, ts=ts, thread_ts=thread_ts)), **options)

    def settle(self) -> None:
        """Wait for every lazy listener started so far to finish."""
        self.executor.shutdown(wait=True)

    def posts_in(self, thread_ts: str) -> list[Any]:
        return [c for c in self.fake.calls_to("chat.postMessage") if c.params.get("thread_ts") == thread_ts]


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


def slack_settings(base: Settings, fake: FakeSlack) -> Settings:
    return base.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_signing_secret": SecretStr(SIGNING_SECRET),
            "slack_api_url": fake.api_url,
        }
    )


@pytest.fixture
def make_slack(assistant, assistant_settings: Settings, fake: FakeSlack) -> Iterator[Callable[..., Slack]]:
    executors: list[ThreadPoolExecutor] = []

    def make(**spy: Any) -> Slack:
        target = SpyAssistant(assistant, **spy)
        executor = ThreadPoolExecutor(max_workers=4)
        executors.append(executor)
        settings = slack_settings(assistant_settings, fake)
        app = build_app(target, settings, process_before_response=True, listener_executor=executor)
        return Slack(app, fake, executor, target)

    yield make
    for executor in executors:
        executor.shutdown(wait=True)


@pytest.fixture
def slack(make_slack: Callable[..., Slack]) -> Slack:
    return make_slack()


def _links(call: Any) -> str:
    return call.block_text()


# Mentions, threads and DMs ---------------------------------------------------------------------


def test_mention_is_answered_in_its_thread_with_citations(slack: Slack, assistant) -> None:
    expected = assistant.ask(RATE_QUESTION, session_id="control-mention")
    assert expected.grounded and expected.citations

    response = slack.mention(RATE_QUESTION, ts="1800000001.000100")
    assert response.status == 200 and response.body == ""

    [post] = slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == CHANNEL
    assert post.params["thread_ts"] == "1800000001.000100"  # a new thread under the question
    shown = post.block_text()
    for citation in expected.citations:
        assert f"*[{citation.n}]* <{citation.url}|" in shown
    assert slack.assistant.questions == [RATE_QUESTION]  # the mention itself is not in the question
    turns = assistant.sessions.turns(thread_session(TEAM_ID, CHANNEL, "1800000001.000100"))
    assert [t["question"] for t in turns] == [RATE_QUESTION]


def test_follow_up_in_the_same_thread_uses_the_earlier_turn(
    slack: Slack, assistant, assistant_settings
) -> None:
    role = assistant.roles.get("clinical_pharmacist").name.lower()
    [row] = RateTables.load(assistant_settings.rates_dir).rows_on("clinical_pharmacist", date(2025, 4, 1))
    parent = "1800000002.000100"

    slack.mention(RATE_QUESTION, ts=parent)
    slack.fake.wait_for("chat.postMessage", lambda c: c.params.get("thread_ts") == parent)
    slack.mention("And in inner London?", ts="1800000002.000200", thread_ts=parent)
    _, follow_up = slack.fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == parent, count=2
    )

    text = follow_up.block_text().lower()
    assert role in text  # the role came from the first turn only
    assert f"{row.inner_london:,.0f}" in text  # and the inner London maximum for that year is given
    assert len(assistant.sessions.turns(thread_session(TEAM_ID, CHANNEL, parent))) == 2

    # The same words in a fresh thread have no earlier turn to build on.
    slack.mention("And in inner London?", ts="1800000003.000100")
    [fresh] = slack.fake.wait_for(
        "chat.postMessage", lambda c: c.params.get("thread_ts") == "1800000003.000100"
    )
    assert role not in fresh.block_text().lower()


def test_direct_message_is_answered_in_the_dm_as_one_conversation(slack: Slack, assistant) -> None:
    slack.send(event_body(direct_message(RATE_QUESTION, ts="1800000004.000100")))
    [post] = slack.fake.wait_for("chat.postMessage")
    assert post.params["channel"] == "D0STAFF1"
    assert post.params.get("thread_ts") is None  # in the DM itself, not a thread
    assert "*Sources*" in post.block_text()

    slack.send(event_body(direct_message("And in inner London?", ts="1800000004.000200")))
    slack.fake.wait_for("chat.postMessage", count=2)
    assert len(assistant.sessions.turns(dm_session(TEAM_ID, "D0STAFF1"))) == 2


def test_empty_mention_gets_the_help_text(slack: Slack) -> None:
    slack.mention("", ts="1800000005.000100")
    [post] = slack.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1800000005.000100"
    assert "/arrs QUESTION" in post.block_text()
    assert slack.assistant.questions == []


# The slash command and sharing -----------------------------------------------------------------


def test_slash_command_gives_an_ephemeral_answer_that_share_posts(slack: Slack, assistant) -> None:
    fake = slack.fake
    response = slack.send(
        command_body(RATE_QUESTION, response_url=fake.response_url("command")), content_type=FORM
    )
    assert response.status == 200 and response.body == ""  # acknowledged at once, answer to follow

    [private] = fake.wait_for("response_url", lambda c: c.params["_url"].endswith("/command"))
    assert private.params["response_type"] == "ephemeral"
    assert f"<@{USER_ID}> asked: _{RATE_QUESTION}_" in private.block_text()
    assert "*Sources*" in private.block_text()
    assert fake.calls_to("chat.postMessage") == []  # nobody else has seen it

    share = button(private, ACTION_SHARE)
    slack.send(action_body(share, response_url=fake.response_url("share")), content_type=FORM)
    [shared] = fake.wait_for("chat.postMessage")
    assert shared.params["channel"] == CHANNEL and shared.params.get("thread_ts") is None
    assert f"Shared by <@{USER_ID}>" in shared.block_text()
    assert RATE_QUESTION in shared.block_text()
    assert _answer_part(shared) == _answer_part(private)  # the same answer, with its sources
    assert ACTION_SHARE not in json.dumps(shared.blocks)
    [cleanup] = fake.wait_for("response_url", lambda c: c.params["_url"].endswith("/share"))
    assert cleanup.params.get("delete_original") is True
    assert slack.assistant.questions == [RATE_QUESTION]  # sharing did not ask again
    assert assistant.sessions.turns(command_session(TEAM_ID, CHANNEL, USER_ID))


def _answer_part(call: Any) -> list[dict]:
    return [b for b in call.blocks if b["type"] in ("section", "divider")]


def test_share_falls_back_to_the_response_url_outside_the_apps_channels(slack: Slack) -> None:
    fake = slack.fake
    slack.send(command_body(RATE_QUESTION, response_url=fake.response_url("command")), content_type=FORM)
    [private] = fake.wait_for("response_url")
    fake.failures["chat.postMessage"] = "not_in_channel"
    slack.send(
        action_body(button(private, ACTION_SHARE), response_url=fake.response_url("share")), content_type=FORM
    )
    [public] = fake.wait_for("response_url", lambda c: c.params.get("response_type") == "in_channel")
    assert _answer_part(public) == _answer_part(private)


@pytest.mark.parametrize("text", ["help", "", "  HELP  "])
def test_slash_help_explains_usage_without_asking(slack: Slack, text: str) -> None:
    response = slack.send(command_body(text, response_url=slack.fake.response_url("help")), content_type=FORM)
    body = json.loads(response.body)
    assert response.status == 200 and body["response_type"] == "ephemeral"
    assert "/arrs QUESTION" in json.dumps(body["blocks"])
    slack.settle()
    assert slack.assistant.questions == []
    assert slack.fake.calls_to("response_url") == []


# Feedback --------------------------------------------------------------------------------------


def test_feedback_click_is_stored_and_the_message_updated(slack: Slack, assistant) -> None:
    slack.mention(RATE_QUESTION, ts="1800000006.000100")
    [post] = slack.fake.wait_for("chat.postMessage")
    message = post.response["message"]

    down = button(post, ACTION_FEEDBACK_DOWN)
    response = slack.send(
        action_body(down, response_url=slack.fake.response_url("fb"), message=message), content_type=FORM
    )
    assert response.status == 200

    [update] = slack.fake.wait_for("chat.update")
    assert update.params["channel"] == CHANNEL and update.params["ts"] == message["ts"]
    assert any(b.get("block_id") == FEEDBACK_NOTE_BLOCK_ID for b in update.blocks)
    assert f"<@{USER_ID}> rated this answer not helpful" in update.block_text()
    assert _answer_part(update) == _answer_part(post)  # the answer itself is unchanged
    [stored] = FeedbackStore(assistant.engine).all()
    session = thread_session(TEAM_ID, CHANNEL, "1800000006.000100")
    assert (stored["session_id"], stored["turn"], stored["rating"], stored["channel"]) == (
        session,
        1,
        "down",
        "slack",
    )


def test_feedback_on_an_ephemeral_answer_replaces_it_with_the_rating(slack: Slack, assistant) -> None:
    fake = slack.fake
    slack.send(command_body(RATE_QUESTION, response_url=fake.response_url("command")), content_type=FORM)
    [private] = fake.wait_for("response_url")
    slack.send(
        action_body(button(private, ACTION_FEEDBACK_UP), response_url=fake.response_url("fb")),
        content_type=FORM,
    )
    [replaced] = fake.wait_for("response_url", lambda c: c.params["_url"].endswith("/fb"))
    assert replaced.params["replace_original"] is True
    assert f"<@{USER_ID}> rated this answer helpful" in replaced.block_text()
    assert _answer_part(replaced) == _answer_part(private)
    [stored] = FeedbackStore(assistant.engine).all()
    assert (stored["session_id"], stored["rating"]) == (command_session(TEAM_ID, CHANNEL, USER_ID), "up")


# Security, retries and noise -------------------------------------------------------------------


def test_forged_signature_is_refused_and_nothing_posted(slack: Slack) -> None:
    response = slack.mention(RATE_QUESTION, ts="1800000007.000100", secret="not-the-secret")
    assert response.status == 401
    slack.settle()
    assert slack.assistant.questions == []
    assert not [m for m in slack.fake.methods() if m.startswith("chat.")]


def test_timestamp_older_than_five_minutes_is_refused(slack: Slack) -> None:
    import time

    response = slack.mention(RATE_QUESTION, ts="1800000008.000100", timestamp=int(time.time()) - 5 * 60 - 30)
    assert response.status == 401
    slack.settle()
    assert slack.assistant.questions == []
    assert slack.fake.calls_to("chat.postMessage") == []


def test_retried_delivery_is_answered_once(slack: Slack) -> None:
    body = event_body(mention(RATE_QUESTION, channel=CHANNEL, ts="1800000009.000100"), event_id="EvRETRIED")
    assert slack.send(body).status == 200
    assert slack.send(body, retry=1).status == 200  # Slack's retry after a slow acknowledgement
    assert slack.send(body, retry=2).status == 200
    assert slack.send(body).status == 200  # the same event id delivered again without the header
    slack.settle()
    assert slack.assistant.questions == [RATE_QUESTION]
    assert len(slack.posts_in("1800000009.000100")) == 1


def test_bot_messages_and_the_apps_own_are_ignored(slack: Slack) -> None:
    events = [
        direct_message("I am another bot", ts="1800000010.000100", bot_id="B0OTHER", subtype="bot_message"),
        direct_message("I am this app", ts="1800000010.000200", user=BOT_USER_ID, bot_id=BOT_ID),
        direct_message("edited", ts="1800000010.000300", subtype="message_changed"),
        mention("from a bot", channel=CHANNEL, ts="1800000010.000400") | {"bot_id": "B0OTHER"},
        direct_message("a channel message, not a DM", ts="1800000010.000500", channel_type="channel"),
    ]
    for event in events:
        assert slack.send(event_body(event)).status == 200
    slack.settle()
    assert slack.assistant.questions == []
    assert slack.fake.calls_to("chat.postMessage") == []


# Failures and long answers ---------------------------------------------------------------------


def test_an_assistant_failure_gives_an_apology_in_the_thread(make_slack: Callable[..., Slack]) -> None:
    slack = make_slack(error=RuntimeError("index exploded"))
    slack.mention(RATE_QUESTION, ts="1800000011.000100")
    [post] = slack.fake.wait_for("chat.postMessage")
    assert post.params["thread_ts"] == "1800000011.000100"
    assert post.params["text"] == APOLOGY
    assert "index exploded" not in json.dumps(post.params)  # internals never reach Slack


def test_a_user_facing_error_is_shown_as_is(slack: Slack, assistant_settings: Settings) -> None:
    limit = assistant_settings.max_question_chars
    slack.mention("ARRS " * (limit // 5 + 10), ts="1800000012.000100")
    [post] = slack.fake.wait_for("chat.postMessage")
    assert f"the limit is {limit:,}" in post.params["text"]


def test_a_long_answer_is_split_across_messages_in_the_thread(make_slack: Callable[..., Slack]) -> None:
    paragraphs = [
        f"Paragraph {n}: " + "the Additional Roles Reimbursement Scheme pays PCNs back. " * 40 + "[1]"
        for n in range(120)
    ]
    long = Answer(
        answer="\n\n".join(paragraphs),
        citations=[
            Citation(
                n=1, doc_id="d", title="Guide", url="https://example.org/guide", quote="It pays PCNs back."
            )
        ],
        intent=Intent.FAQ,
        grounded=True,
        session_id="x",
        turn=1,
    )
    slack = make_slack(answer=long)
    slack.mention("Tell me everything", ts="1800000013.000100")
    slack.fake.wait_for("chat.postMessage")
    slack.settle()
    posts = slack.posts_in("1800000013.000100")
    assert len(posts) > 1
    assert all(len(p.blocks) <= BLOCKS_LIMIT for p in posts)
    assert all(
        len(b["text"]["text"]) <= SECTION_LIMIT
        for p in posts
        for b in p.blocks
        if b["type"] == "section" and "text" in b
    )
    shown = "\n".join(p.block_text() for p in posts)
    assert all(f"Paragraph {n}:" in shown for n in range(120))
    assert [any(b.get("block_id") == FEEDBACK_BLOCK_ID for b in p.blocks) for p in posts][-1]
    assert not any(b.get("block_id") == FEEDBACK_BLOCK_ID for p in posts[:-1] for b in p.blocks)
    assert ACTION_FEEDBACK_UP in json.dumps(posts[-1].blocks)
