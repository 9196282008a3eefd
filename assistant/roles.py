"""The ARRS role catalogue (corpus/roles.yaml): resolving a role from a name, and spotting roles in text.

Synonyms are lower-case phrases matched case-insensitively; abbreviations are matched
case-sensitively as whole upper-case tokens, because several of them ("PA", "NA", "OT", "CC")
are ordinary words in lower case. In free text the longest phrase wins, so "apprentice physician
associate" is one role, not two.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from assistant.calc_errors import AmbiguousRole, RateTableError, UnknownRole

# Phrases that contain a role abbreviation but are not about the role ("GP practice" is a practice).
_NOT_ROLES = (
    "gp practice",
    "gp practices",
    "gp surgery",
    "gp surgeries",
    "gp contract",
    "gp contracts",
    "gp federation",
    "gp federations",
    "gp at scale",
)


class Role(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str
    synonyms: tuple[str, ...] = ()
    abbreviations: tuple[str, ...] = ()
    bands: str
    band_note: str
    year_added: str = Field(pattern=r"^20\d{2}/\d{2}$")
    added_from: date | None = None
    wte_basis: Literal["hours", "sessions"]
    source_urls: tuple[str, ...] = ()

    @field_validator("synonyms")
    @classmethod
    def _lower(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [s for s in value if s != s.lower()]
        if bad:
            raise ValueError(f"synonyms must be lower case: {bad}")
        return value

    @field_validator("abbreviations")
    @classmethod
    def _upper(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        bad = [a for a in value if not re.fullmatch(r"[A-Z]{2,6}", a)]
        if bad:
            raise ValueError(f"abbreviations must be 2-6 upper-case letters: {bad}")
        return value

    @property
    def full_time_units(self) -> str:
        return "9 sessions" if self.wte_basis == "sessions" else "37.5 hours"


@dataclass(frozen=True)
class _Pattern:
    regex: re.Pattern[str]
    role_ids: tuple[str, ...]  # empty for a phrase that is known not to be a role


def _phrase_regex(phrase: str) -> str:
    words = [re.escape(word) for word in phrase.split()]
    return r"(?<![A-Za-z0-9])" + r"\s+".join(words) + r"(?![A-Za-z0-9])"


def _key(text: str) -> str:
    return " ".join(text.replace("_", " ").replace("’", "'").split()).lower()


class RoleCatalogue:
    """All roles, with lookup by id, name, synonym or abbreviation."""

    def __init__(self, roles: Iterable[Role]) -> None:
        self._roles: dict[str, Role] = {}
        for role in roles:
            if role.id in self._roles:
                raise RateTableError(f"corpus/roles.yaml: duplicate role id {role.id!r}")
            self._roles[role.id] = role
        self._terms: dict[str, list[str]] = {}  # lower-case term -> role ids
        for role in self._roles.values():
            for term in (role.id, role.name, *role.synonyms, *role.abbreviations):
                ids = self._terms.setdefault(_key(term), [])
                if role.id not in ids:
                    ids.append(role.id)
        self._patterns = self._compile()

    @classmethod
    def load(cls, path: Path | str) -> RoleCatalogue:
        """Load and cache (per resolved path) the catalogue from a YAML file."""
        return _load(str(Path(path).resolve()))

    def _compile(self) -> list[_Pattern]:
        by_phrase: dict[str, list[str]] = {}
        by_abbreviation: dict[str, list[str]] = {}
        for role in self._roles.values():
            for phrase in (role.name.lower(), *role.synonyms):
                ids = by_phrase.setdefault(phrase, [])
                if role.id not in ids:
                    ids.append(role.id)
            for abbreviation in role.abbreviations:
                by_abbreviation.setdefault(abbreviation, []).append(role.id)
        patterns = [
            _Pattern(re.compile(_phrase_regex(phrase), re.IGNORECASE), tuple(ids))
            for phrase, ids in by_phrase.items()
        ]
        patterns += [_Pattern(re.compile(_phrase_regex(phrase), re.IGNORECASE), ()) for phrase in _NOT_ROLES]
        # Abbreviations of three or more letters are not English words, so "fcp" or "splw" typed in
        # lower case still count; two-letter ones ("pa", "na", "ot") only in capitals.
        patterns += [
            _Pattern(
                re.compile(
                    rf"(?<![A-Za-z0-9]){re.escape(abbr)}(?:s|'s)?(?![A-Za-z0-9])",
                    re.IGNORECASE if len(abbr) >= 3 else 0,
                ),
                tuple(ids),
            )
            for abbr, ids in by_abbreviation.items()
        ]
        return patterns

    def all(self) -> list[Role]:
        return list(self._roles.values())

    def ids(self) -> list[str]:
        return list(self._roles)

    def get(self, role_id: str) -> Role:
        try:
            return self._roles[role_id]
        except KeyError:
            raise UnknownRole(role_id, self.suggest(role_id)) from None

    def __contains__(self, role_id: object) -> bool:
        return role_id in self._roles

    def resolve(self, name: str) -> Role:
        """The role a user means by an id, name, synonym or abbreviation (any case)."""
        key = _key(name)
        ids = self._terms.get(key) or self._terms.get(key.removesuffix("s"))
        if not ids:
            raise UnknownRole(name.strip(), self.suggest(name))
        if len(ids) > 1:
            raise AmbiguousRole(name.strip(), [self._roles[i].name for i in ids])
        return self._roles[ids[0]]

    def suggest(self, name: str, limit: int = 3) -> list[str]:
        """Up to ``limit`` role names close to what was typed (difflib), best first."""
        key = _key(name)
        close = difflib.get_close_matches(key, list(self._terms), n=20, cutoff=0.6)
        names: list[str] = []
        for term in close:
            for role_id in self._terms[term]:
                role_name = self._roles[role_id].name
                if role_name not in names:
                    names.append(role_name)
        return names[:limit]

    def find_in_text(self, text: str) -> list[Role]:
        """Every role mentioned in free text, in order of appearance, longest phrase first.

        A term shared by several roles (e.g. "practice nurse", GPN) yields all of them.
        """
        candidates: list[tuple[int, int, tuple[str, ...]]] = []
        for pattern in self._patterns:
            for match in pattern.regex.finditer(text):
                candidates.append((match.start(), match.end(), pattern.role_ids))
        candidates.sort(key=lambda c: (-(c[1] - c[0]), c[0]))
        taken: list[tuple[int, int, tuple[str, ...]]] = []
        for start, end, ids in candidates:
            if all(end <= a or start >= b for a, b, _ in taken):
                taken.append((start, end, ids))
        found: list[Role] = []
        for _, _, ids in sorted(taken):
            for role_id in ids:
                role = self._roles[role_id]
                if role not in found:
                    found.append(role)
        return found


@lru_cache(maxsize=8)
def _load(path: str) -> RoleCatalogue:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RateTableError(f"Cannot read the role catalogue {path}: {exc}") from exc
    entries = (data or {}).get("roles")
    if not isinstance(entries, list):
        raise RateTableError(f"{path}: expected a top-level 'roles:' list")
    roles: list[Role] = []
    for index, entry in enumerate(entries, start=1):
        try:
            roles.append(Role.model_validate(entry))
        except ValidationError as exc:
            raise RateTableError(f"{path}: role #{index} is invalid: {exc}") from exc
    return RoleCatalogue(roles)
