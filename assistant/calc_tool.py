"""The calculator as LangChain tools, for the optional LLM chain.

Each tool returns ``(content, artifact)``: the content is the result's JSON (what the model
reads), the artifact is the same result as a JSON-ready dict (what the chain puts in
``Answer.calculation`` and checks the model's figures against). A calculator error becomes the
tool's text output, so the model can ask the user for what is missing instead of guessing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from langchain_core.tools import StructuredTool, ToolException
from pydantic import BaseModel, Field

from assistant.calculator import (
    CalcResult,
    CalculatorError,
    ClaimRequest,
    affordable_wte,
    claim,
    employment_cost,
    max_amount,
    pcn_sum,
)
from assistant.rates import Area, RateTables

ROLE_HELP = "Role name, id or abbreviation, e.g. 'clinical pharmacist', 'FCP', 'care co-ordinator'."


class MaxAmountArgs(BaseModel):
    role: str = Field(description=ROLE_HELP)
    on: date = Field(description="The date the maximum must be in force on (YYYY-MM-DD).")
    area: Area = Field(default=Area.NATIONAL, description="national, outer_london or inner_london.")
    band: str | None = Field(default=None, description="Agenda for Change band, only when several are held.")


class PcnSumArgs(BaseModel):
    weighted_population: Decimal = Field(description="The PCN's weighted population.")
    financial_year: str = Field(description="Financial year, e.g. 2025/26.")


class AffordArgs(BaseModel):
    budget: Decimal = Field(description="Budget in pounds.")
    role: str = Field(description=ROLE_HELP)
    financial_year: str | None = Field(
        default=None, description="Financial year, e.g. 2025/26 (or give 'on')."
    )
    on: date | None = Field(default=None, description="Use the rate in force on this date instead of a year.")
    area: Area = Field(default=Area.NATIONAL, description="national, outer_london or inner_london.")
    band: str | None = Field(default=None, description="Agenda for Change band, only when several are held.")


class EmploymentCostArgs(BaseModel):
    annual_salary: Decimal = Field(description="Annual salary in pounds.")
    on: date = Field(description="A date in the tax year whose employer NI and pension rates apply.")
    include_levy: bool = Field(default=False, description="Add the 0.5% apprenticeship levy.")


def _tool(
    name: str, description: str, schema: type[BaseModel], compute: Callable[..., CalcResult]
) -> StructuredTool:
    def run(**kwargs: Any) -> tuple[str, dict[str, Any]]:
        try:
            result = compute(**kwargs)
        except CalculatorError as exc:
            raise ToolException(str(exc)) from exc
        return result.to_json(indent=None), result.to_dict()

    return StructuredTool.from_function(
        func=run,
        name=name,
        description=description,
        args_schema=schema,
        response_format="content_and_artifact",
        handle_tool_error=True,
    )


def make_calculator_tools(tables: RateTables) -> list[StructuredTool]:
    """Claim, maximum amount, PCN sum, affordability and employment cost over the given tables."""
    return [
        _tool(
            "arrs_claim",
            "Work out the ARRS amount claimable for a role over a period (start and end dates) at a WTE, hours or "
            "GP sessions a week, in an area, optionally against the actual employment cost. Use it for any claim "
            "figure; never compute one yourself.",
            ClaimRequest,
            lambda **kw: claim(tables, ClaimRequest(**kw)),
        ),
        _tool(
            "arrs_max_amount",
            "Look up the maximum reimbursable amount per 1.0 WTE per year (including employer on-costs) for a role "
            "on a date, in an area.",
            MaxAmountArgs,
            lambda role, on, area=Area.NATIONAL, band=None: max_amount(tables, role, on, area, band),
        ),
        _tool(
            "arrs_pcn_sum",
            "Work out a PCN's Additional Roles Reimbursement Sum from its weighted population and financial year.",
            PcnSumArgs,
            lambda weighted_population, financial_year: pcn_sum(tables, weighted_population, financial_year),
        ),
        _tool(
            "arrs_affordable_wte",
            "Work out how many WTE of a role a budget funds for a year at the maximum amounts held.",
            AffordArgs,
            lambda **kw: affordable_wte(tables, **kw),
        ),
        _tool(
            "arrs_employment_cost",
            "Turn an annual salary into an employment cost: salary plus employer NI, employer pension and "
            "optionally the apprenticeship levy.",
            EmploymentCostArgs,
            lambda annual_salary, on, include_levy=False: employment_cost(
                tables, annual_salary, on, include_levy
            ),
        ),
    ]
