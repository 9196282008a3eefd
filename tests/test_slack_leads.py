"""Lead alerts: a new booking or call-back request reaches the staff leads channel."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fake_slack import BOT_TOKEN, FakeSlack
from pydantic import SecretStr

from assistant.booking.service import BookingService, LeadNotifier
from assistant.booking.validation import BookingRequest, CallbackRequest
from assistant.db import make_engine
from assistant.settings import Settings
from slackbot.client import web_client
from slackbot.leads import SlackLeadNotifier, lead_notifier, post_lead

LEADS = "C0LEADS"


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    with FakeSlack() as server:
        yield server


@pytest.fixture
def slack_settings(settings: Settings, fake: FakeSlack) -> Settings:
    return settings.model_copy(
        update={
            "slack_bot_token": SecretStr(BOT_TOKEN),
            "slack_api_url": fake.api_url,
            "slack_leads_channel": LEADS,
        }
    )


@pytest.fixture
def service(slack_settings: Settings) -> BookingService:
    notifier = lead_notifier(slack_settings)
    assert isinstance(notifier, SlackLeadNotifier) and isinstance(notifier, LeadNotifier)
    engine = make_engine(f"sqlite:///{slack_settings.data_dir / 'leads.db'}")
    return BookingService(slack_settings, engine, notifier=notifier)


def test_a_new_booking_is_posted_to_the_leads_channel(service: BookingService, fake: FakeSlack) -> None:
    slot = service.next_slots(limit=1)[0]
    booking = service.book(
        BookingRequest(
            name="Ada Lovelace",
            email="ada@example.org",
            organisation="Riverside PCN",
            interest="Recruiting two pharmacy technicians before 31 March",
            slot_start=slot.start,
        )
    )
    [post] = fake.wait_for("chat.postMessage")
    assert post.params["channel"] == LEADS
    shown = post.block_text()
    assert "New consultation booking" in shown
    for value in (booking.name, booking.organisation, booking.email, booking.id):
        assert value in shown
    assert f"<!date^{int(booking.slot_start.timestamp())}^" in shown
    assert booking.priority in post.params["text"]
    assert all(reason in shown for reason in booking.priority_reasons)


def test_a_call_back_request_is_posted_to_the_leads_channel(service: BookingService, fake: FakeSlack) -> None:
    callback = service.request_callback(
        CallbackRequest(
            name="Sam Patel",
            phone="07700 900456",
            question="Can we claim for a paramedic?",
            reason="ungrounded",
        )
    )
    [post] = fake.wait_for("chat.postMessage")
    assert post.params["channel"] == LEADS
    assert "Call-back request" in post.block_text()
    assert callback.name in post.block_text() and callback.id in post.block_text()


def test_a_slack_failure_keeps_the_lead(service: BookingService, fake: FakeSlack) -> None:
    fake.failures["chat.postMessage"] = "channel_not_found"
    callback = service.request_callback(
        CallbackRequest(name="Sam Patel", email="sam@example.org", question="Help?")
    )
    assert [c.id for c in service.list_callbacks()] == [callback.id]
    assert fake.calls_to("chat.postMessage")[0].response["ok"] is False


def test_post_lead_returns_the_message_ts(
    slack_settings: Settings, service: BookingService, fake: FakeSlack
) -> None:
    service.notifier = None
    callback = service.request_callback(
        CallbackRequest(name="Sam Patel", email="sam@example.org", question="Help?")
    )
    ts = post_lead(web_client(slack_settings), "C0OTHER", callback)
    [post] = fake.wait_for("chat.postMessage")
    assert post.response["ts"] == ts and post.params["channel"] == "C0OTHER"


def test_lead_alerts_are_off_without_a_channel_or_token(settings: Settings) -> None:
    assert lead_notifier(settings) is None
    assert lead_notifier(settings.model_copy(update={"slack_leads_channel": LEADS})) is None
    assert lead_notifier(settings.model_copy(update={"slack_bot_token": SecretStr(BOT_TOKEN)})) is None
