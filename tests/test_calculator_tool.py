"""The calculator as LangChain StructuredTools: pydantic schemas, JSON content, result artifact, errors as text."""

from __future__ import annotations

import json
from datetime import date

import pytest
from langchain_core.messages import ToolMessage
from langchain_core.tools import StructuredTool

from assistant.calc_tool import make_calculator_tools
from assistant.calculator import ClaimRequest, affordable_wte, claim, employment_cost, max_amount
from assistant.rates import RateTables
from assistant.settings import BUNDLED_CORPUS


@pytest.fixture(scope="module")
def tools() -> dict[str, StructuredTool]:
    return {tool.name: tool for tool in make_calculator_tools(RateTables.load(BUNDLED_CORPUS / "rates"))}


@pytest.fixture(scope="module")
def tables() -> RateTables:
    return RateTables.load(BUNDLED_CORPUS / "rates")


def call(tool: StructuredTool, args: dict) -> ToolMessage:
    return tool.invoke({"type": "tool_call", "id": "call-1", "name": tool.name, "args": args})


def test_the_tools_and_their_schemas(tools: dict[str, StructuredTool]) -> None:
    assert set(tools) == {
        "arrs_claim",
        "arrs_max_amount",
        "arrs_pcn_sum",
        "arrs_affordable_wte",
        "arrs_employment_cost",
    }
    claim_schema = tools["arrs_claim"].args_schema.model_json_schema()
    assert {"role", "start", "end", "wte", "hours_per_week", "area"} <= set(claim_schema["properties"])
    assert set(claim_schema["required"]) == {"role", "start", "end"}
    assert all(tool.description for tool in tools.values())


def test_claim_tool_returns_json_content_and_the_result_as_artifact(tools, tables) -> None:
    message = call(
        tools["arrs_claim"],
        {"role": "care co-ordinator", "start": "2023-07-01", "end": "2024-03-31", "wte": 0.5},
    )
    expected = claim(
        tables,
        ClaimRequest(role="care co-ordinator", start=date(2023, 7, 1), end=date(2024, 3, 31), wte="0.5"),
    ).to_dict()
    assert json.loads(message.content) == expected == message.artifact
    assert message.artifact["result"]["claim"] == "12523.50"


def test_other_tools_match_the_calculator(tools, tables) -> None:
    top = call(tools["arrs_max_amount"], {"role": "AP", "on": "2024-12-01", "area": "inner_london"})
    assert top.artifact == max_amount(tables, "AP", date(2024, 12, 1), "inner_london").to_dict()
    afford = call(
        tools["arrs_affordable_wte"], {"budget": 100000, "role": "paramedic", "financial_year": "2025/26"}
    )
    assert afford.artifact == affordable_wte(tables, 100000, "paramedic", "2025/26").to_dict()
    cost = call(tools["arrs_employment_cost"], {"annual_salary": 52000, "on": "2024-06-01"})
    assert cost.artifact == employment_cost(tables, 52000, date(2024, 6, 1)).to_dict()


def test_a_calculator_error_is_returned_as_text_not_a_figure(tools) -> None:
    message = call(
        tools["arrs_claim"], {"role": "paramedic", "start": "2024-10-01", "end": "2025-03-31", "wte": 1}
    )
    assert message.status == "error"
    assert "No maximum reimbursable amount is held for Paramedic" in message.content
    assert message.artifact is None
    wte = call(tools["arrs_claim"], {"role": "PT", "start": "2025-04-01", "end": "2025-04-30", "wte": 2})
    assert wte.status == "error" and "WTE must be" in wte.content
