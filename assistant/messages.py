"""Fixed wording for replies that must never vary: redirects, abstentions, greetings."""

from __future__ import annotations

CONSULTATION_OFFER = (
    "If you would like a person to look at your situation, I can book you a free 30-minute consultation "
    'or arrange a call back: just say "book a consultation".'
)

GREETING = (
    "Hello. I answer questions about the NHS England Additional Roles Reimbursement Scheme (ARRS) for "
    "Primary Care Networks: which roles qualify, bands, maximum reimbursable amounts by financial year, "
    "the PCN's Additional Roles Reimbursement Sum, on-costs, claims and additionality. I can also work out "
    'a claim, for example "0.6 WTE pharmacy technician from October 2024 to March 2025". Every answer '
    "cites its sources."
)

THANKS = "You're welcome. Ask me anything else about ARRS roles, funding or claims."

CLINICAL = (
    "I can't give medical advice. If it is an emergency, call 999. For urgent help that is not an "
    "emergency, contact NHS 111 (call 111 or use 111.nhs.uk). For anything else about your health or "
    "medicines, please speak to your GP practice or a pharmacist. I can only help with questions about the "
    "Additional Roles Reimbursement Scheme."
)

OUT_OF_SCOPE = (
    "That is outside what I can help with: I only answer questions about the NHS England Additional Roles "
    "Reimbursement Scheme (ARRS) for Primary Care Networks, from the guidance I hold."
)

NOT_COVERED = (
    "The guidance I hold does not cover that, so I won't guess. It may be in the Network Contract DES "
    "specification for the year, or your ICB can confirm it."
)

PROVIDER_NOT_COVERED = (
    "Our provider profile doesn't say, so I won't guess: a member of the team can answer that."
)


def year_note(financial_year: str, named: bool) -> str:
    if named:
        return f"Financial year: {financial_year}."
    return f"Financial year: {financial_year} (the current year; no year was named)."


INSTRUCTIONS_REFUSED = (
    "I can't change how I work or share my instructions. I answer questions about the NHS England "
    "Additional Roles Reimbursement Scheme (ARRS) from the guidance I hold."
)

WHICH_ROLE = (
    "Which role do you mean? For example: clinical pharmacist, pharmacy technician, social prescribing "
    "link worker, care co-ordinator, paramedic or GP."
)

CALLBACK_OFFER = "You can also leave your details for a call back instead."
