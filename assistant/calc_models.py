"""Pydantic shapes of the calculator's requests and results (see ``assistant.calculator``).

Every result has ``inputs``, ``result``, ``breakdown``, ``sources`` and ``assumptions``; in JSON
(``to_json``/``to_dict``) each money amount is a string with two decimals.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainSerializer

from assistant.rates import Area, RateStatus

Money = Annotated[Decimal, PlainSerializer(lambda v: f"{v:.2f}", return_type=str, when_used="json")]


class SourceRef(BaseModel):
    url: str
    title: str
    status: str


class RateRef(BaseModel):
    """The rate-table row behind a figure."""

    financial_year: str
    effective_from: date
    effective_to: date
    role_id: str
    band: str
    area: Area
    annual: Money
    reimbursement_share: Decimal
    status: RateStatus
    source_url: str


class CalcResult(BaseModel):
    kind: str
    formula: str
    sources: list[SourceRef] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (money as strings with two decimals), e.g. for ``Answer.calculation``."""
        return self.model_dump(mode="json")

    def to_json(self, indent: int | None = 2) -> str:
        return self.model_dump_json(indent=indent)


class MaxAmountInputs(BaseModel):
    role_id: str
    role_name: str
    on: date
    area: Area
    band: str | None


class MaxAmountFigures(BaseModel):
    annual: Money
    monthly: Money
    band: str
    effective_from: date
    effective_to: date
    reimbursement_share: Decimal
    status: RateStatus


class MaxAmountResult(CalcResult):
    kind: Literal["max_amount"] = "max_amount"
    inputs: MaxAmountInputs
    result: MaxAmountFigures
    breakdown: list[RateRef]


class ClaimRequest(BaseModel):
    """A claim to work out; give exactly one of ``wte``, ``hours_per_week`` or ``sessions_per_week``."""

    role: str = Field(description="Role id, name, synonym or abbreviation, e.g. 'pharmacy technician'.")
    start: date = Field(description="First day claimed.")
    end: date = Field(description="Last day claimed (inclusive).")
    wte: Decimal | None = Field(default=None, description="Whole-time equivalent in (0, 1].")
    hours_per_week: Decimal | None = Field(default=None, description="Contracted hours; 37.5 = 1.0 WTE.")
    sessions_per_week: Decimal | None = Field(default=None, description="GP sessions; 9 = 1.0 WTE.")
    area: Area = Area.NATIONAL
    band: str | None = Field(default=None, description="Agenda for Change band when several are held.")
    actual_annual_cost: Decimal | None = Field(
        default=None, description="Salary plus employer on-costs a year."
    )
    actual_monthly_cost: Decimal | None = Field(
        default=None, description="Salary plus employer on-costs a month."
    )


class ClaimInputs(BaseModel):
    role_id: str
    role_name: str
    start: date
    end: date
    wte: Decimal
    hours_per_week: Decimal | None
    sessions_per_week: Decimal | None
    area: Area
    band: str | None
    actual_annual_cost: Money | None
    actual_monthly_cost: Money | None


class ClaimFigures(BaseModel):
    claim: Money
    cap: Money
    actual: Money | None
    months: Decimal
    days: int


class ClaimSegment(BaseModel):
    """One rate period of a claim: consecutive months at the same rate, rounded once."""

    start: date
    end: date
    days: int
    months: Decimal = Field(description="Whole months plus days / days in the month for part months (4 dp).")
    financial_year: str
    band: str
    rate_effective_from: date = Field(description="The rate-table row's period (identifies the row).")
    rate_effective_to: date
    annual_rate: Money
    monthly_cap: Money = Field(description="Annual maximum / 12 x WTE, to the penny (for display).")
    cap: Money
    actual: Money | None
    claim: Money
    reimbursement_share: Decimal
    status: RateStatus
    source_url: str


class ClaimResult(CalcResult):
    kind: Literal["claim"] = "claim"
    inputs: ClaimInputs
    result: ClaimFigures
    breakdown: list[ClaimSegment]


class CostComponent(BaseModel):
    name: str
    base: Money
    rate: Decimal | None = None
    threshold: Money | None = None
    amount: Money
    status: str
    source_url: str | None = None


class EmploymentCostInputs(BaseModel):
    annual_salary: Money
    on: date
    tax_year: str
    include_levy: bool


class EmploymentCostFigures(BaseModel):
    salary: Money
    employer_ni: Money
    pension: Money
    levy: Money
    on_costs: Money
    total: Money


class EmploymentCost(CalcResult):
    kind: Literal["employment_cost"] = "employment_cost"
    inputs: EmploymentCostInputs
    result: EmploymentCostFigures
    breakdown: list[CostComponent]


class SumPart(BaseModel):
    part: Literal["main", "gp"]
    per_weighted_patient: Decimal
    population_date: date
    covers_from: date
    covers_to: date
    amount: Money
    source_url: str


class PcnSumInputs(BaseModel):
    weighted_population: Decimal
    financial_year: str


class PcnSumFigures(BaseModel):
    main: Money
    gp: Money | None
    total: Money


class PcnSumResult(CalcResult):
    kind: Literal["pcn_sum"] = "pcn_sum"
    inputs: PcnSumInputs
    result: PcnSumFigures
    breakdown: list[SumPart]


class PlannedPost(BaseModel):
    """A post in a workforce plan, costed at the maximum in force month by month."""

    role: str
    wte: Decimal = Decimal(1)
    count: int = Field(default=1, ge=1)
    area: Area = Area.NATIONAL
    band: str | None = None
    start: date | None = Field(default=None, description="First day in post; default the start of the year.")
    months: int | None = Field(
        default=None, description="Months in post from start; default to the year end."
    )


class PostCost(BaseModel):
    role_id: str
    role_name: str
    count: int
    wte: Decimal
    area: Area
    band: str | None
    start: date
    end: date
    part: Literal["main", "gp"]
    cost: Money
    months_costed: Decimal
    not_held: list[str]
    rates: list[RateRef]


class HeadroomInputs(BaseModel):
    weighted_population: Decimal
    financial_year: str
    posts: list[PlannedPost]


class HeadroomFigures(BaseModel):
    available_main: Money
    available_gp: Money | None
    committed_main: Money
    committed_gp: Money | None
    headroom_main: Money
    headroom_gp: Money | None
    headroom_total: Money
    complete: bool


class HeadroomResult(CalcResult):
    kind: Literal["headroom"] = "headroom"
    inputs: HeadroomInputs
    result: HeadroomFigures
    breakdown: list[PostCost]


class AffordInputs(BaseModel):
    budget: Money
    role_id: str
    role_name: str
    financial_year: str | None
    on: date | None
    area: Area
    band: str | None


class AffordFigures(BaseModel):
    wte: Decimal
    cost_per_wte: Money
    months_covered: int
    full_year: bool
    covered: list[str]
    not_held: list[str]


class AffordResult(CalcResult):
    kind: Literal["afford"] = "afford"
    inputs: AffordInputs
    result: AffordFigures
    breakdown: list[RateRef]
