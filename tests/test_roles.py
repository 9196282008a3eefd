"""The role catalogue: schema, resolving names, and spotting roles in free text."""

from __future__ import annotations

import pytest
import yaml

from assistant.calc_errors import AmbiguousRole, CalculatorError, RateTableError, UnknownRole
from assistant.models import AssistantError
from assistant.roles import RoleCatalogue
from assistant.settings import BUNDLED_CORPUS

ROLES_FILE = BUNDLED_CORPUS / "roles.yaml"
EXPECTED_IDS = {
    "clinical_pharmacist",
    "pharmacy_technician",
    "social_prescribing_link_worker",
    "health_and_wellbeing_coach",
    "care_coordinator",
    "physician_associate",
    "apprentice_physician_associate",
    "first_contact_physiotherapist",
    "dietitian",
    "podiatrist",
    "occupational_therapist",
    "paramedic",
    "advanced_practitioner",
    "mental_health_practitioner",
    "nursing_associate",
    "trainee_nursing_associate",
    "general_practice_assistant",
    "digital_transformation_lead",
    "enhanced_practice_nurse",
    "new_to_gp_nurse",
    "experienced_gp_nurse",
    "consultant_nurse",
    "healthcare_support_worker",
    "general_practitioner",
}


@pytest.fixture(scope="module")
def roles() -> RoleCatalogue:
    return RoleCatalogue.load(ROLES_FILE)


def test_catalogue_holds_exactly_the_agreed_roles(roles: RoleCatalogue) -> None:
    assert {role.id for role in roles.all()} == EXPECTED_IDS


def test_every_role_is_complete(roles: RoleCatalogue) -> None:
    raw = yaml.safe_load(ROLES_FILE.read_text(encoding="utf-8"))["roles"]
    for entry in raw:
        assert set(entry) == {
            "id",
            "name",
            "synonyms",
            "abbreviations",
            "bands",
            "band_note",
            "year_added",
            "added_from",
            "wte_basis",
            "source_urls",
        }, entry["id"]
    for role in roles.all():
        assert role.name.lower() in role.synonyms, role.id
        assert role.source_urls and all(url.startswith("http") for url in role.source_urls)
        assert role.band_note
        assert role.added_from is None or role.added_from.year >= 2019
    assert roles.get("general_practitioner").wte_basis == "sessions"
    assert {r.wte_basis for r in roles.all() if r.id != "general_practitioner"} == {"hours"}


def test_catalogue_is_cached_per_path(roles: RoleCatalogue) -> None:
    assert RoleCatalogue.load(ROLES_FILE) is roles
    assert RoleCatalogue.load(str(ROLES_FILE)) is roles


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("clinical_pharmacist", "clinical_pharmacist"),
        ("Clinical pharmacist", "clinical_pharmacist"),
        ("PCN pharmacists", "clinical_pharmacist"),
        ("fcp", "first_contact_physiotherapist"),
        ("FCPs", "first_contact_physiotherapist"),
        ("  care   coordinator ", "care_coordinator"),
        ("care co-ordinators", "care_coordinator"),
        ("social prescriber", "social_prescribing_link_worker"),
        ("SPLW", "social_prescribing_link_worker"),
        ("physio", "first_contact_physiotherapist"),
        ("ACP", "advanced_practitioner"),
        ("advanced practitioner paramedic", "advanced_practitioner"),
        ("TNA", "trainee_nursing_associate"),
        ("GPs", "general_practitioner"),
        ("HCSW", "healthcare_support_worker"),
        ("digital & transformation lead", "digital_transformation_lead"),
    ],
)
def test_resolve(roles: RoleCatalogue, name: str, expected: str) -> None:
    assert roles.resolve(name).id == expected


def test_unknown_role_suggests_up_to_three(roles: RoleCatalogue) -> None:
    with pytest.raises(UnknownRole) as caught:
        roles.resolve("pharmacy techician")
    assert caught.value.suggestions[0] == "Pharmacy technician"
    assert len(caught.value.suggestions) <= 3
    assert "Did you mean: Pharmacy technician" in str(caught.value)
    assert isinstance(caught.value, CalculatorError) and isinstance(caught.value, AssistantError)


def test_unknown_role_without_close_match(roles: RoleCatalogue) -> None:
    with pytest.raises(UnknownRole) as caught:
        roles.resolve("astronaut")
    assert "astronaut" in str(caught.value)
    assert len(caught.value.suggestions) <= 3


def test_get_unknown_id(roles: RoleCatalogue) -> None:
    with pytest.raises(UnknownRole):
        roles.get("pharmacist_tech")


def test_shared_term_is_ambiguous(roles: RoleCatalogue) -> None:
    with pytest.raises(AmbiguousRole) as caught:
        roles.resolve("GPN")
    assert set(caught.value.suggestions) == {
        "New to general practice nurse",
        "Experienced general practice nurse",
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("How much for an apprentice physician associate?", ["apprentice_physician_associate"]),
        ("an apprentice PA and a PA", ["apprentice_physician_associate", "physician_associate"]),
        ("We want an advanced practitioner paramedic at 0.8 WTE", ["advanced_practitioner"]),
        ("a paramedic and an advanced paramedic practitioner", ["paramedic", "advanced_practitioner"]),
        ("trainee nursing associate", ["trainee_nursing_associate"]),
        (
            "a nursing associate, then a trainee nursing associate",
            ["nursing_associate", "trainee_nursing_associate"],
        ),
        ("Our CP and two SPLWs", ["clinical_pharmacist", "social_prescribing_link_worker"]),
        ("FCPs, physios and first contact physiotherapists", ["first_contact_physiotherapist"]),
        ("GP assistant or GPA", ["general_practice_assistant"]),
        ("Can our GP practice claim for GPs?", ["general_practitioner"]),
        ("the GP contract for 2025/26", []),
        ("pa na ot cc pt ap: ordinary words", []),
        (
            "an enhanced practice nurse, not a practice nurse",
            ["enhanced_practice_nurse", "new_to_gp_nurse", "experienced_gp_nurse"],
        ),
        ("new to GP nurse vs experienced GP nurse", ["new_to_gp_nurse", "experienced_gp_nurse"]),
        ("advanced nurse practitioner (ANP)", ["advanced_practitioner"]),
        ("MHPs for children", ["mental_health_practitioner"]),
        (
            "health & wellbeing coaches and care co-ordinators",
            ["health_and_wellbeing_coach", "care_coordinator"],
        ),
        ("pharmacy technicians, pharmacists", ["pharmacy_technician", "clinical_pharmacist"]),
        ("Pharmacy Technician", ["pharmacy_technician"]),
        (
            "consultant nurses and healthcare support workers",
            ["consultant_nurse", "healthcare_support_worker"],
        ),
        ("DTL", ["digital_transformation_lead"]),
        ("PCN ARRS budget", []),
    ],
)
def test_find_in_text(roles: RoleCatalogue, text: str, expected: list[str]) -> None:
    assert [role.id for role in roles.find_in_text(text)] == expected


def test_malformed_catalogue_is_reported(tmp_path) -> None:
    bad = tmp_path / "roles.yaml"
    bad.write_text("roles:\n  - id: Bad Id\n    name: x\n", encoding="utf-8")
    with pytest.raises(RateTableError, match="role #1"):
        RoleCatalogue.load(bad)


def test_longer_abbreviations_match_in_lower_case_short_ones_only_in_capitals():
    catalogue = RoleCatalogue.load(ROLES_FILE)
    assert [r.id for r in catalogue.find_in_text("fcp max after the uplift")] == [
        "first_contact_physiotherapist"
    ]
    assert [r.id for r in catalogue.find_in_text("our splw")] == ["social_prescribing_link_worker"]
    assert catalogue.find_in_text("pa and na") == []
