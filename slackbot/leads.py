"""New consultation bookings and call-back requests, posted to the staff leads channel.

``SlackLeadNotifier`` is the booking service's ``LeadNotifier``. A failure raises: the service
logs it and keeps the booking, so a Slack outage never loses a lead.
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from assistant.booking.store import Booking, Callback
from assistant.settings import Settings
from slackbot.blocks import lead_message
from slackbot.client import web_client

log = logging.getLogger("arrs.slack")


def post_lead(
    client: WebClient, channel: str, lead: Booking | Callback, timezone: str = "Europe/London"
) -> str:
    """Post one lead alert; returns the message ts. Contact details go to Slack, never to logs."""
    message = lead_message(lead, timezone)
    response = client.chat_postMessage(
        channel=channel, unfurl_links=False, unfurl_media=False, **message.kwargs()
    )
    log.info("lead alert posted", extra={"lead": lead.id, "priority": lead.priority})
    return str(response.get("ts", ""))


class SlackLeadNotifier:
    def __init__(self, client: WebClient, channel: str, timezone: str = "Europe/London") -> None:
        self.client = client
        self.channel = channel
        self.timezone = timezone

    def notify_booking(self, booking: Booking) -> None:
        post_lead(self.client, self.channel, booking, self.timezone)

    def notify_callback(self, callback: Callback) -> None:
        post_lead(self.client, self.channel, callback, self.timezone)


def lead_notifier(settings: Settings) -> SlackLeadNotifier | None:
    """The notifier for ``ARRS_SLACK_LEADS_CHANNEL``, or None when Slack or the channel is not set."""
    if not (settings.slack_bot_token and settings.slack_leads_channel):
        log.info("Slack lead alerts are off (SLACK_BOT_TOKEN or ARRS_SLACK_LEADS_CHANNEL not set)")
        return None
    return SlackLeadNotifier(web_client(settings), settings.slack_leads_channel, settings.timezone)
