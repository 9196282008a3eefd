"""The gold question set: its schema and loader (evals/gold/*.yaml).

A case is one question, or a conversation (``turns``) whose later turns lean on earlier ones.
Every turn can say what it expects: the intent, whether the assistant should abstain, the
documents (and sections) that hold the answer, the key facts the answer must state, and for
calculations the operation, inputs and exact amount. See evals/gold/README.md.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from assistant.models import Intent

GOLD_DIR = Path(__file__).resolve().parent / "gold"
Category = Literal[
    "overview",
    "roles",
    "funding",
    "claims",
    "additionality",
    "reimbursable",
    "on_costs",
    "years",
    "not_held",
    "calculation",
    "conversation",
    "clinical",
    "off_topic",
    "booking",
    "greeting",
    "provider",
]
CATEGORY_INTENT: dict[str, Intent] = {
    **dict.fromkeys(
        ("overview", "roles", "funding", "claims", "additionality", "reimbursable", "on_costs", "years"),
        Intent.FAQ,
    ),
    "not_held": Intent.FAQ,
    "provider": Intent.FAQ,
    "calculation": Intent.CALCULATION,
    "clinical": Intent.CLINICAL,
    "off_topic": Intent.OUT_OF_SCOPE,
    "booking": Intent.BOOKING,
    "greeting": Intent.GREETING,
}
# A key fact is one string, or a list of alternatives of which one must appear.
KeyFact = str | list[str]


class CalcExpectation(BaseModel):
    """What the deterministic calculator must return; ``amount`` is checked against the rate CSVs."""

    model_config = ConfigDict(extra="forbid")

    operation: Literal["max_amount", "claim", "pcn_sum"]
    role: str | None = None
    band: str | None = None
    area: Literal["national", "outer_london", "inner_london"] = "national"
    day: date | None = Field(default=None, description="max_amount: a day the rate must cover")
    start: date | None = None
    end: date | None = None
    wte: float | None = None
    hours: float | None = None
    sessions: float | None = None
    population: int | None = None
    year: str | None = None
    amount: str | None = Field(default=None, pattern=r"^\d+\.\d{2}$", description="main result, 2 decimals")
    also: list[str] = Field(default_factory=list, description="other amounts the result must hold")


class Turn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question: str = Field(min_length=1, max_length=2000)
    intent: list[Intent] = Field(default_factory=list, description="acceptable intents; empty: from category")
    should_abstain: bool | None = Field(default=None, description="None: either is acceptable")
    expected_docs: list[str] = Field(default_factory=list)
    expected_sections: list[str] = Field(default_factory=list, description="'doc-id#Section heading'")
    key_facts: list[KeyFact] = Field(default_factory=list)
    forbidden: list[str] = Field(default_factory=list, description="strings the answer must not contain")
    calculation: CalcExpectation | None = None
    retrieval: bool = Field(default=True, description="False: the turn only makes sense in context")
    note: str = ""

    @field_validator("intent", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        return [value] if isinstance(value, str) else value

    @field_validator("expected_sections")
    @classmethod
    def _section_form(cls, value: list[str]) -> list[str]:
        for item in value:
            if "#" not in item:
                raise ValueError(f"expected_sections entries look like 'doc-id#Heading', not {item!r}")
        return value

    @model_validator(mode="after")
    def _docs_cover_sections(self) -> Turn:
        for item in self.expected_sections:
            doc = item.split("#", 1)[0]
            if doc not in self.expected_docs:
                self.expected_docs.append(doc)
        return self

    @property
    def graded_retrieval(self) -> bool:
        return self.retrieval and bool(self.expected_docs)


class Case(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    category: Category
    tags: list[str] = Field(default_factory=list)
    turns: list[Turn] = Field(min_length=1)
    source: str = Field(default="", description="file the case came from")

    @model_validator(mode="before")
    @classmethod
    def _single_turn(cls, data: object) -> object:
        """A one-question case may put the turn's fields at the top level."""
        if isinstance(data, dict) and "question" in data:
            data = dict(data)
            turn = {key: data.pop(key) for key in list(data) if key in Turn.model_fields}
            data["turns"] = [turn]
        return data

    @model_validator(mode="after")
    def _defaults(self) -> Case:
        """Fill the intent and abstention a turn leaves out from what its category implies."""
        for turn in self.turns:
            if not turn.intent and self.category in CATEGORY_INTENT:
                turn.intent = [CATEGORY_INTENT[self.category]]
            if turn.should_abstain is None and "should_abstain" not in turn.model_fields_set:
                if self.category in ("clinical", "off_topic"):
                    turn.should_abstain = True
                elif turn.key_facts or (turn.calculation and turn.calculation.amount):
                    turn.should_abstain = False
        return self

    @property
    def multi_turn(self) -> bool:
        return len(self.turns) > 1


def load_gold(directory: Path = GOLD_DIR) -> list[Case]:
    """Every case in ``directory/*.yaml``, in file then document order; ids must be unique."""
    cases: list[Case] = []
    seen: dict[str, str] = {}
    for path in sorted(directory.glob("*.yaml")):
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        if not isinstance(raw, list):
            raise ValueError(f"{path.name}: expected a list of cases")
        for number, item in enumerate(raw, start=1):
            try:
                case = Case.model_validate({**item, "source": path.name})
            except ValidationError as exc:
                name = item.get("id", f"case {number}") if isinstance(item, dict) else f"case {number}"
                raise ValueError(f"{path.name}: {name}: {exc}") from exc
            if case.id in seen:
                raise ValueError(f"duplicate case id {case.id!r} in {path.name} and {seen[case.id]}")
            seen[case.id] = path.name
            cases.append(case)
    return cases
