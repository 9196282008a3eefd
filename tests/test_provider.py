"""The provider profile: loading, validation errors, caching, and the generated corpus document."""

from __future__ import annotations

import os
import re
from datetime import time
from pathlib import Path

import pytest
import yaml

from assistant.provider import (
    PROFILE_DOC_ID,
    ProfileError,
    ProviderProfile,
    Weekday,
    load_profile,
    render_profile_markdown,
)
from assistant.settings import BUNDLED_CORPUS

PROFILE = BUNDLED_CORPUS / "provider" / "profile.yaml"


@pytest.fixture
def profile() -> ProviderProfile:
    return load_profile(PROFILE)


@pytest.fixture
def profile_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "profile.yaml"
    copy.write_text(PROFILE.read_text(encoding="utf-8"), encoding="utf-8")
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))  # a later mtime, for the cache


def _split_front_matter(markdown: str) -> tuple[dict, str]:
    match = re.match(r"^---\n(.*?)\n---\n(.*)$", markdown, re.S)
    assert match, "front matter missing"
    return yaml.safe_load(match.group(1)), match.group(2)


def test_bundled_profile_is_the_fictional_example(profile: ProviderProfile) -> None:
    raw = yaml.safe_load(PROFILE.read_text(encoding="utf-8"))
    assert "fictional" in profile.name.lower()
    assert profile.website.startswith("https://example.org/")
    assert profile.contact.email.endswith("@example.org")
    assert profile.booking_link and profile.booking_link.startswith("https://example.org/")
    assert profile.consultation.free and profile.consultation.duration_minutes == 30
    assert set(profile.consultation.formats) == {"video", "phone"}
    assert [s.name for s in profile.services] == [s["name"] for s in raw["services"]]
    assert any(s.can_work_remotely for s in profile.services)
    # No prices beyond the free consultation.
    assert "£" not in PROFILE.read_text(encoding="utf-8")


def test_office_hours_default_weekdays(profile: ProviderProfile) -> None:
    hours = profile.office_hours
    assert hours.timezone == "Europe/London"
    assert hours.closed_on_bank_holidays
    weekdays = list(Weekday)[:5]
    assert sorted(hours.days, key=list(Weekday).index) == weekdays
    assert {(t.open, t.close) for t in hours.days.values()} == {(time(8, 30), time(17, 30))}


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"not found.*nope\.yaml"):
        load_profile(tmp_path / "nope.yaml")


def test_invalid_hours_name_the_field(profile_copy: Path) -> None:
    _edit(profile_copy, 'monday: {open: "08:30", close: "17:30"}', 'monday: {open: "17:30", close: "08:30"}')
    with pytest.raises(ProfileError, match=r"office_hours\.days\.monday.*close .* must be after open"):
        load_profile(profile_copy)


def test_unquoted_yaml_time_is_rejected_not_misread(profile_copy: Path) -> None:
    # YAML 1.1 reads 17:30 as the number 1050; it must not become 00:17:30.
    _edit(profile_copy, 'friday: {open: "08:30", close: "17:30"}', 'friday: {open: "08:30", close: 17:30}')
    with pytest.raises(ProfileError, match="quoted"):
        load_profile(profile_copy)


def test_not_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(ProfileError, match="mapping"):
        load_profile(path)


def test_cache_follows_the_file(profile_copy: Path) -> None:
    first = load_profile(profile_copy)
    assert load_profile(profile_copy) is first
    _edit(profile_copy, 'friday: {open: "08:30", close: "17:30"}', 'friday: {open: "08:30", close: "12:30"}')
    second = load_profile(profile_copy)
    assert second is not first
    assert second.office_hours.days[Weekday.FRIDAY].close == time(12, 30)


def test_rendered_front_matter(profile: ProviderProfile) -> None:
    front, _ = _split_front_matter(render_profile_markdown(profile))
    assert front["id"] == PROFILE_DOC_ID == "provider-profile"
    assert front["source_type"] == "provider"
    assert front["publisher"] == profile.name
    assert front["financial_years"] == []
    assert front["sources"] == [profile.website]
    assert front["last_reviewed"] == profile.last_reviewed
    assert profile.name in front["title"]


def _sections(body: str) -> dict[str, str]:
    parts = re.split(r"^## (.+)$", body, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts), 2)}


def test_rendered_sections_and_citations(profile: ProviderProfile) -> None:
    _, body = _split_front_matter(render_profile_markdown(profile))
    sections = _sections(body)
    topics = ["About", "Services", "Office hours", "Free consultation", "Contact"]
    assert [next(t for t in topics if h.startswith(t)) for h in sections] == topics
    services = next(text for h, text in sections.items() if h.startswith("Services"))
    bullets = [line for line in services.splitlines() if line.startswith("- ")]
    assert len(bullets) == len(profile.services)
    for service, bullet in zip(profile.services, bullets, strict=True):
        assert service.name in bullet and service.description in bullet
    assert f'[^site]: {profile.website} "' in body
    for heading, text in sections.items():
        words = len(re.sub(r"\[\^\w+\]", "", text).split())
        assert 40 <= words <= 170, (heading, words)


def test_every_sentence_names_the_provider(profile: ProviderProfile) -> None:
    _, body = _split_front_matter(render_profile_markdown(profile))
    blocks = [
        line.removeprefix("- ").strip()
        for line in body.splitlines()
        if line.strip() and not line.startswith(("#", "[^"))
    ]
    for block in blocks:
        assert block.endswith("[^site]"), block
        text = block.removesuffix("[^site]")
        # Split after a full stop followed by a space and a capital (URLs and "Ltd (fictional)" survive).
        for sentence in re.split(r"(?<=\.)\s+(?=[A-Z])", text):
            assert profile.name in sentence, sentence


def test_rendered_office_hours_follow_the_yaml(profile: ProviderProfile, profile_copy: Path) -> None:
    before = render_profile_markdown(profile)
    times = profile.office_hours.days[Weekday.MONDAY]
    assert f"Monday to Friday, from {times.open:%H:%M} to {times.close:%H:%M}" in before
    assert "closed on Saturdays and Sundays" in before
    text = profile_copy.read_text(encoding="utf-8")
    text = text.replace('open: "08:30", close: "17:30"', 'open: "09:00", close: "16:00"')
    text = text.replace('    friday: {open: "09:00", close: "16:00"}\n', "")
    profile_copy.write_text(text, encoding="utf-8")
    after = render_profile_markdown(load_profile(profile_copy))
    assert "Monday to Thursday, from 09:00 to 16:00" in after
    assert "closed on Fridays, Saturdays and Sundays" in after
    assert "08:30" not in after
