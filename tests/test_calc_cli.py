"""`arrs calc ...` and `arrs rates`: JSON identical to the calculator's, errors on stderr with a non-zero exit."""

from __future__ import annotations

import csv
import json
from datetime import date
from decimal import Decimal

import pytest
import typer
from typer.testing import CliRunner

from assistant.calc_tool import make_calculator_tools
from assistant.calculator import (
    ClaimRequest,
    PlannedPost,
    affordable_wte,
    claim,
    employment_cost,
    headroom,
    max_amount,
    pcn_sum,
)
from assistant.cli_calc import calc_app, rates_command
from assistant.rates import RateTables
from assistant.settings import BUNDLED_CORPUS

RATES_DIR = BUNDLED_CORPUS / "rates"
runner = CliRunner()
rates_app = typer.Typer()
rates_app.command("rates")(rates_command)
rates_app.command("noop", hidden=True)(lambda: None)  # two commands, so "rates" is a sub-command


@pytest.fixture(scope="module")
def tables() -> RateTables:
    return RateTables.load(RATES_DIR)


def run(*args: str):
    return runner.invoke(calc_app, list(args))


def test_claim_json_is_the_calculator_json(tables: RateTables) -> None:
    result = run(
        "claim", "--role", "pharmacy technician", "--from", "2024-10-01", "--to", "2025-03-31", "--wte", "0.6",
        "--actual-annual-cost", "31000", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    expected = claim(
        tables,
        ClaimRequest(
            role="pharmacy technician",
            start=date(2024, 10, 1),
            end=date(2025, 3, 31),
            wte=Decimal("0.6"),
            actual_annual_cost=Decimal(31000),
        ),
    )
    assert json.loads(result.stdout) == expected.to_dict()


def test_claim_anchor_human_output() -> None:
    result = run(
        "claim", "--role", "care co-ordinator", "--from", "2023-07-01", "--to", "2024-03-31", "--wte", "0.5"
    )
    assert result.exit_code == 0, result.output
    assert "Claimable: £12,523.50" in result.stdout
    assert "Assumptions" in result.stdout


def test_claim_by_hours(tables: RateTables) -> None:
    result = run(
        "claim", "--role", "PT", "--from", "2025-04-01", "--to", "2025-09-30", "--hours", "22.5", "--json"
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["inputs"]["wte"] == "0.6"


def test_sum_json(tables: RateTables) -> None:
    result = run("sum", "--population", "38500", "--year", "2024/25", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data == pcn_sum(tables, 38500, "2024/25").to_dict()
    assert (data["result"]["main"], data["result"]["gp"]) == ("881419.00", "50165.50")


def test_afford_json(tables: RateTables) -> None:
    result = run(
        "afford", "--budget", "200,000", "--role", "clinical pharmacist", "--year", "2025/26", "--json"
    )
    assert result.exit_code == 0, result.output
    assert (
        json.loads(result.stdout)
        == affordable_wte(tables, 200000, "clinical pharmacist", "2025/26").to_dict()
    )


def test_cost_max_and_headroom_json(tables: RateTables) -> None:
    cost = run("cost", "--salary", "52000", "--on", "2024-06-01", "--json")
    assert json.loads(cost.stdout) == employment_cost(tables, 52000, date(2024, 6, 1)).to_dict()
    assert json.loads(cost.stdout)["result"]["total"] == "65397.80"
    top = run("max", "--role", "AP", "--on", "2024-12-01", "--area", "inner_london", "--json")
    assert json.loads(top.stdout) == max_amount(tables, "AP", date(2024, 12, 1), "inner_london").to_dict()
    room = run(
        "headroom",
        "--population",
        "40000",
        "--year",
        "2025/26",
        "--post",
        "CP:1:2",
        "--post",
        "PT:0.5",
        "--json",
    )
    assert room.exit_code == 0, room.output
    expected = headroom(
        tables,
        40000,
        "2025/26",
        [PlannedPost(role="CP", wte=1, count=2), PlannedPost(role="PT", wte=Decimal("0.5"))],
    )
    assert json.loads(room.stdout) == expected.to_dict()


def test_tool_and_cli_agree(tables: RateTables) -> None:
    tool = next(t for t in make_calculator_tools(tables) if t.name == "arrs_pcn_sum")
    content = tool.invoke({"weighted_population": 38500, "financial_year": "2024/25"})
    cli = run("sum", "--population", "38500", "--year", "2024/25", "--json")
    assert json.loads(content) == json.loads(cli.stdout)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["claim", "--role", "PT", "--from", "2025-04-01", "--to", "2025-04-30", "--wte", "1.5"],
            "WTE must be",
        ),
        (
            [
                "claim",
                "--role",
                "pharmacy techician",
                "--from",
                "2025-04-01",
                "--to",
                "2025-04-30",
                "--wte",
                "1",
            ],
            "Did you mean",
        ),
        (
            ["claim", "--role", "PT", "--from", "2025-05-01", "--to", "2025-04-30", "--wte", "1"],
            "before the start",
        ),
        (
            ["claim", "--role", "paramedic", "--from", "2024-10-01", "--to", "2024-12-31", "--wte", "1"],
            "corpus/rates/max_reimbursement.csv",
        ),
        (["sum", "--population", "38500", "--year", "2026/27"], "Years held"),
        (["afford", "--budget", "-5", "--role", "PT", "--year", "2025/26"], "cannot be negative"),
        (["max", "--role", "MHP", "--on", "2025-06-01"], "More than one band"),
    ],
)
def test_bad_input_exits_non_zero_with_the_message_on_stderr(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.exit_code == 1
    assert message in result.stderr
    assert result.stdout == ""


def test_unparseable_number_is_a_usage_error() -> None:
    result = run("claim", "--role", "PT", "--from", "2025-04-01", "--to", "2025-04-30", "--wte", "half")
    assert result.exit_code == 2
    assert "not a number" in result.stderr


def test_rates_json_lists_the_rows(tables: RateTables) -> None:
    result = runner.invoke(rates_app, ["rates", "--role", "care co-ordinator", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    with (RATES_DIR / "max_reimbursement.csv").open(newline="", encoding="utf-8") as handle:
        expected = [row for row in csv.DictReader(handle) if row["role_id"] == "care_coordinator"]
    assert len(data) == len(expected)
    assert {row["national"] for row in data} == {f"{Decimal(row['national']):.2f}" for row in expected}


def test_rates_table_for_a_year() -> None:
    result = runner.invoke(rates_app, ["rates", "--year", "2025/26"])
    assert result.exit_code == 0, result.output
    assert (
        "01 Apr 2025 to 31 Mar 2026" in result.stdout
        and "£102,683" in result.stdout
        and "Empty = not held" in result.stdout
    )


def test_rates_for_a_year_not_held() -> None:
    result = runner.invoke(rates_app, ["rates", "--year", "2026/27"])
    assert result.exit_code == 1
    assert "Years held" in result.stderr
