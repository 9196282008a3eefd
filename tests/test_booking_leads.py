"""Lead qualification from explicit signals, and masked summaries for staff."""

from __future__ import annotations

from decimal import Decimal

from assistant.booking.leads import LARGE_PCN_POPULATION, LARGE_PCN_PRACTICES, qualify, summarise
from assistant.roles import RoleCatalogue
from assistant.settings import BUNDLED_CORPUS


def test_no_signals_is_low() -> None:
    lead = qualify(["Hello, can I book a chat?"])
    assert lead.priority == "low"
    assert lead.reasons == ["No roles, WTE, deadline or PCN size mentioned"]


def test_roles_alone_is_medium_and_named_from_the_catalogue() -> None:
    catalogue = RoleCatalogue.load(BUNDLED_CORPUS / "roles.yaml")
    expected = [role.name for role in catalogue.find_in_text("paramedics and care coordinators")]
    lead = qualify(["We are thinking about paramedics and care coordinators"])
    assert lead.priority == "medium"
    assert lead.roles == expected and expected
    assert lead.reasons == [f"Roles mentioned: {', '.join(expected)}"]


def test_roles_wte_deadline_and_size_is_high() -> None:
    lead = qualify(
        [
            "We need 2 WTE clinical pharmacists and 0.5 FTE pharmacy technician before the year end.",
            f"Our PCN has {LARGE_PCN_PRACTICES + 1} practices and a weighted population of 62,000.",
        ]
    )
    assert lead.priority == "high"
    assert lead.wte == Decimal("2.5")
    assert lead.deadline == "the year end"
    assert lead.practices == LARGE_PCN_PRACTICES + 1 and lead.population == 62_000
    assert any(r.startswith("Large PCN") for r in lead.reasons)
    assert any(r.startswith("Deadline mentioned") for r in lead.reasons)


def test_deadline_phrases() -> None:
    for text, label in [
        ("we must spend it by 31 March", "31 March"),
        ("we need someone this month", "this month"),
        ("it's urgent", "urgent"),
        ("we don't want to leave it unclaimed", "unclaimed funding at risk"),
    ]:
        assert qualify([text]).deadline == label, text


def test_small_pcn_is_reported_but_not_scored() -> None:
    lead = qualify([f"We have 3 practices and {LARGE_PCN_POPULATION // 2:,} patients"])
    assert lead.priority == "low"
    assert any(r.startswith("PCN size given") for r in lead.reasons)


def test_form_fields_count_once() -> None:
    lead = qualify(["2 WTE pharmacists"], {"interest": "2 WTE pharmacists", "notes": None})
    assert lead.wte == Decimal(2)


def test_summary_masks_contacts_and_keeps_the_substance() -> None:
    summary = summarise(
        [
            "Jane",
            "How much can we claim for a clinical pharmacist? Email me at jane@nhs.net",
            "skip",
            "Call 07700 900123 if easier, we have 40,000 patients",
        ]
    )
    assert "jane@nhs.net" not in summary and "07700" not in summary
    assert "[email]" in summary and "[phone]" in summary
    assert "clinical pharmacist" in summary
    assert summary.startswith("4 messages")
    assert len(summarise(["word " * 400])) <= 600
    assert summarise([]) == "No conversation recorded."
