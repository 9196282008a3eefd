"""The calculator: figures derived from the rate table (read here with csv), anchors, and every typed error."""

from __future__ import annotations

import csv
import json
import re
from datetime import date
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext
from fractions import Fraction
from typing import Any

import pytest

from assistant.calculator import (
    AmbiguousBand,
    CalculatorError,
    ClaimRequest,
    InvalidPeriod,
    InvalidWTE,
    NegativeAmount,
    PlannedPost,
    RateNotHeld,
    UnknownRole,
    YearNotHeld,
    affordable_wte,
    claim,
    employment_cost,
    headroom,
    max_amount,
    pcn_sum,
    round_money,
)
from assistant.models import AssistantError
from assistant.rates import Area, RateTables
from assistant.settings import BUNDLED_CORPUS

RATES_DIR = BUNDLED_CORPUS / "rates"
PENNY = Decimal("0.01")


def read_csv(name: str) -> list[dict[str, str]]:
    with (RATES_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


RATE_ROWS = read_csv("max_reimbursement.csv")
MULTIPLIERS = read_csv("pcn_sum_multipliers.csv")


def table_rate(role_id: str, day: date, area: str = "national", band: str | None = None) -> Decimal:
    """The annual maximum in the CSV for a role on a day (independent of assistant.rates)."""
    for row in RATE_ROWS:
        if (
            row["role_id"] == role_id
            and row["effective_from"] <= day.isoformat() <= row["effective_to"]
            and (band is None or row["band"] == band)
        ):
            return Decimal(row[area])
    raise AssertionError(f"no row for {role_id} on {day}")


def multiplier(year: str, part: str) -> Decimal:
    return next(
        Decimal(m["per_weighted_patient"])
        for m in MULTIPLIERS
        if (m["financial_year"], m["part"]) == (year, part)
    )


def pennies(value: Decimal | Fraction) -> Decimal:
    """Exact value rounded to the penny, half up (an independent re-statement of the documented rule)."""
    exact = Fraction(value)
    with localcontext() as context:
        context.prec = 60
        return (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(PENNY, ROUND_HALF_UP)


@pytest.fixture(scope="module")
def tables() -> RateTables:
    return RateTables.load(RATES_DIR)


# Anchors from the issue, derived from the table ----------------------------------------------------
def test_care_coordinator_half_time_from_july_2023(tables: RateTables) -> None:
    rate = table_rate("care_coordinator", date(2023, 7, 1))
    expected = (rate / 12 * Decimal("0.5") * 9).quantize(PENNY)
    result = claim(
        tables,
        ClaimRequest(
            role="care co-ordinator", start=date(2023, 7, 1), end=date(2024, 3, 31), wte=Decimal("0.5")
        ),
    )
    assert result.result.claim == expected == Decimal("12523.50")
    assert [s.annual_rate for s in result.breakdown] == [rate]


def test_advanced_practitioner_inner_london_from_october_2024(tables: RateTables) -> None:
    rate = table_rate("advanced_practitioner", date(2024, 10, 1), "inner_london")
    expected = (rate * 6 / 12).quantize(PENNY)
    result = claim(
        tables,
        ClaimRequest(
            role="advanced practitioner",
            start=date(2024, 10, 1),
            end=date(2025, 3, 31),
            wte=1,
            area="inner_london",
        ),
    )
    assert result.result.claim == expected == Decimal("41308.00")
    assert result.breakdown[0].source_url.startswith("https://")


def test_pcn_sum_2024_25(tables: RateTables) -> None:
    result = pcn_sum(tables, 38500, "2024/25")
    assert (
        result.result.main == (38500 * multiplier("2024/25", "main")).quantize(PENNY) == Decimal("881419.00")
    )
    assert result.result.gp == (38500 * multiplier("2024/25", "gp")).quantize(PENNY) == Decimal("50165.50")
    assert result.result.total == result.result.main + result.result.gp


def test_employment_cost_worked_example(tables: RateTables) -> None:
    result = employment_cost(tables, 52000, date(2024, 6, 1))
    assert result.result.total == Decimal("65397.80")
    assert result.result.employer_ni == ((Decimal(52000) - 9100) * Decimal("0.138")).quantize(PENNY)
    assert result.result.pension == (Decimal(52000) * Decimal("0.1438")).quantize(PENNY)


# Maximum amounts: every row and area of the table -----------------------------------------------------
@pytest.mark.parametrize("row", RATE_ROWS, ids=lambda r: f"{r['role_id']}-{r['band']}-{r['effective_from']}")
def test_max_amount_matches_every_row(tables: RateTables, row: dict[str, str]) -> None:
    day = date.fromisoformat(row["effective_to"])
    for area in Area:
        if row[area.value]:
            result = max_amount(tables, row["role_id"], day, area, band=row["band"])
            assert result.result.annual == Decimal(row[area.value])
            assert result.result.monthly == pennies(Fraction(Decimal(row[area.value])) / 12)
            assert result.breakdown[0].source_url == row["source_url"]
            assert result.sources[0].status == row["status"]
        else:
            with pytest.raises(RateNotHeld, match=area.label):
                max_amount(tables, row["role_id"], day, area, band=row["band"])


def test_max_amount_carries_the_caveats(tables: RateTables) -> None:
    inferred = max_amount(tables, "paramedic", date(2024, 6, 1))
    assert any("inferred from another role" in a for a in inferred.assumptions)
    assert any("enhanced practice nurses" in a for a in inferred.assumptions)
    later = max_amount(tables, "clinical pharmacist", date(2025, 6, 1))
    assert any("raised figures are not held" in a for a in later.assumptions)


# Claims ------------------------------------------------------------------------------------------
def test_claim_crossing_a_mid_year_uplift_uses_each_rate(tables: RateTables) -> None:
    before = table_rate("care_coordinator", date(2023, 6, 30))
    after = table_rate("care_coordinator", date(2023, 7, 1))
    assert before != after
    result = claim(tables, ClaimRequest(role="CC", start=date(2023, 4, 1), end=date(2023, 9, 30), wte=1))
    assert result.result.claim == pennies(Fraction(before * 3) / 12) + pennies(Fraction(after * 3) / 12)
    assert [s.annual_rate for s in result.breakdown] == [before, after]
    pharmacist = claim(tables, ClaimRequest(role="CP", start=date(2022, 9, 1), end=date(2022, 10, 31), wte=1))
    assert [s.annual_rate for s in pharmacist.breakdown] == [
        table_rate("clinical_pharmacist", date(2022, 9, 1)),
        table_rate("clinical_pharmacist", date(2022, 10, 1)),
    ]


def test_no_rate_is_carried_past_the_october_2024_uplift(tables: RateTables) -> None:
    table_rate("enhanced_practice_nurse", date(2024, 9, 30))
    with pytest.raises(AssertionError):
        table_rate("enhanced_practice_nurse", date(2024, 10, 1))
    with pytest.raises(RateNotHeld, match="1 October 2024 to 31 October 2024"):
        claim(tables, ClaimRequest(role="EPN", start=date(2024, 9, 1), end=date(2024, 10, 31), wte=1))


def test_claim_crossing_a_year_end(tables: RateTables) -> None:
    old = table_rate("pharmacy_technician", date(2025, 3, 1))
    new = table_rate("pharmacy_technician", date(2025, 4, 1))
    wte = Decimal("0.6")
    result = claim(
        tables,
        ClaimRequest(role="pharmacy technician", start=date(2024, 10, 1), end=date(2025, 6, 30), wte=wte),
    )
    expected = pennies(Fraction(old * wte * 6) / 12) + pennies(Fraction(new * wte * 3) / 12)
    assert result.result.claim == expected
    assert [(s.start, s.end) for s in result.breakdown] == [
        (date(2024, 10, 1), date(2025, 3, 31)),
        (date(2025, 4, 1), date(2025, 6, 30)),
    ]
    assert len(result.sources) == 2


def test_part_months_are_prorated_by_days(tables: RateTables) -> None:
    rate = table_rate("clinical_pharmacist", date(2025, 4, 15))
    result = claim(tables, ClaimRequest(role="CP", start=date(2025, 4, 16), end=date(2025, 6, 10), wte=1))
    months = Fraction(15, 30) + 1 + Fraction(10, 30)
    assert result.result.claim == pennies(Fraction(rate) * months / 12)
    assert any("part month" in a for a in result.assumptions)


def test_hours_and_sessions_become_wte(tables: RateTables) -> None:
    by_hours = claim(
        tables,
        ClaimRequest(
            role="PT", start=date(2025, 4, 1), end=date(2025, 4, 30), hours_per_week=Decimal("22.5")
        ),
    )
    by_wte = claim(
        tables, ClaimRequest(role="PT", start=date(2025, 4, 1), end=date(2025, 4, 30), wte=Decimal("0.6"))
    )
    assert by_hours.result.claim == by_wte.result.claim
    assert by_hours.inputs.wte == Decimal("0.6")
    gp_rate = table_rate("general_practitioner", date(2025, 5, 1))
    gp = claim(
        tables,
        ClaimRequest(role="GP", start=date(2025, 4, 1), end=date(2026, 3, 31), sessions_per_week=Decimal(6)),
    )
    assert gp.result.claim == pennies(Fraction(gp_rate) * Fraction(6, 9))
    assert any("9 sessions" in a for a in gp.assumptions)


def test_actual_cost_lower_than_the_cap_is_claimed(tables: RateTables) -> None:
    request = ClaimRequest(
        role="care coordinator",
        start=date(2023, 7, 1),
        end=date(2024, 3, 31),
        wte=1,
        actual_annual_cost=30000,
    )
    result = claim(tables, request)
    assert result.result.claim == result.result.actual == Decimal(30000 * 9 / 12).quantize(PENNY)
    assert result.result.cap == (table_rate("care_coordinator", date(2023, 7, 1)) * 9 / 12).quantize(PENNY)


def test_actual_monthly_cost_above_the_cap_is_capped(tables: RateTables) -> None:
    rate = table_rate("pharmacy_technician", date(2025, 5, 1))
    result = claim(
        tables,
        ClaimRequest(
            role="PT", start=date(2025, 5, 1), end=date(2025, 5, 31), wte=1, actual_monthly_cost=9000
        ),
    )
    assert result.result.claim == pennies(Fraction(rate) / 12)
    assert result.result.actual == Decimal("9000.00")


def test_2019_20_pharmacist_share_scales_actual_cost_not_the_cap(tables: RateTables) -> None:
    row = next(
        r for r in RATE_ROWS if r["role_id"] == "clinical_pharmacist" and r["financial_year"] == "2019/20"
    )
    share, cap = Decimal(row["reimbursement_share"]), Decimal(row["national"])
    low = claim(
        tables,
        ClaimRequest(
            role="CP", start=date(2019, 7, 1), end=date(2020, 3, 31), wte=1, actual_annual_cost=40000
        ),
    )
    assert low.result.claim == (Decimal(40000) * share * 9 / 12).quantize(PENNY)
    high = claim(
        tables,
        ClaimRequest(
            role="CP", start=date(2019, 7, 1), end=date(2020, 3, 31), wte=1, actual_annual_cost=90000
        ),
    )
    assert high.result.claim == (cap * 9 / 12).quantize(PENNY)
    assert any("70%" in a for a in high.assumptions)


def test_claim_json_has_money_as_two_decimal_strings(tables: RateTables) -> None:
    result = claim(
        tables,
        ClaimRequest(
            role="PT",
            start=date(2024, 10, 15),
            end=date(2025, 4, 10),
            wte=Decimal("0.6"),
            actual_annual_cost=31000,
        ),
    )
    data = json.loads(result.to_json())
    assert data == result.to_dict()
    money_keys = {"claim", "cap", "actual", "annual_rate", "monthly_cap", "actual_annual_cost"}

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in money_keys and value is not None:
                    assert isinstance(value, str) and re.fullmatch(r"-?\d+\.\d{2}", value), (key, value)
                walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    assert data["kind"] == "claim" and data["result"]["claim"] == f"{result.result.claim:.2f}"
    assert {"inputs", "result", "breakdown", "sources", "assumptions", "formula"} <= set(data)
    assert any("DES wording is not held" in a for a in data["assumptions"])


# Employment cost ---------------------------------------------------------------------------------
def test_employment_cost_uses_the_rate_in_force_on_the_date(tables: RateTables) -> None:
    during_levy = employment_cost(tables, 40000, date(2022, 7, 1))
    after = employment_cost(tables, 40000, date(2022, 12, 1))
    assert during_levy.result.employer_ni == ((Decimal(40000) - 9100) * Decimal("0.1505")).quantize(PENNY)
    assert after.result.employer_ni == ((Decimal(40000) - 9100) * Decimal("0.138")).quantize(PENNY)
    new_year = employment_cost(tables, 40000, date(2025, 6, 1), include_levy=True)
    assert new_year.result.employer_ni == ((Decimal(40000) - 5000) * Decimal("0.15")).quantize(PENNY)
    assert new_year.result.levy == Decimal("200.00")
    assert new_year.result.total == sum(
        (new_year.result.salary, new_year.result.employer_ni, new_year.result.pension, new_year.result.levy)
    )
    assert any("not held" in a and "levy" in a for a in new_year.assumptions)


def test_salary_below_the_threshold_pays_no_ni(tables: RateTables) -> None:
    assert employment_cost(tables, 8000, date(2024, 6, 1)).result.employer_ni == Decimal("0.00")


# PCN sum, headroom, affordability ------------------------------------------------------------------
def test_pcn_sum_2025_26_has_no_gp_part(tables: RateTables) -> None:
    result = pcn_sum(tables, "52000", "2025-26")
    assert result.inputs.financial_year == "2025/26"
    assert result.result.gp is None
    assert result.result.total == (52000 * multiplier("2025/26", "main")).quantize(PENNY)


def test_headroom(tables: RateTables) -> None:
    posts = [
        PlannedPost(role="CP", wte=1, count=2),
        PlannedPost(role="pharmacy technician", wte=Decimal("0.5")),
    ]
    result = headroom(tables, 40000, "2025/26", posts)
    cp, pt = (
        table_rate("clinical_pharmacist", date(2025, 6, 1)),
        table_rate("pharmacy_technician", date(2025, 6, 1)),
    )
    committed = cp * 2 + pt * Decimal("0.5")
    available = (40000 * multiplier("2025/26", "main")).quantize(PENNY)
    assert result.result.committed_main == committed
    assert result.result.headroom_total == available - committed
    assert result.result.complete


def test_headroom_2024_25_charges_gps_to_the_gp_part(tables: RateTables) -> None:
    result = headroom(
        tables, 38500, "2024/25", [PlannedPost(role="GP"), PlannedPost(role="paramedic", months=6)]
    )
    gp_rate = table_rate("general_practitioner", date(2024, 10, 1))
    para_rate = table_rate("paramedic", date(2024, 4, 1))
    assert result.result.committed_gp == (gp_rate * 6 / 12).quantize(PENNY)
    assert result.result.committed_main == (para_rate * 6 / 12).quantize(PENNY)
    assert result.result.complete  # the GP is costed from 1 October 2024, the paramedic only to September
    assert any("became reimbursable" in a for a in result.assumptions)


def test_headroom_says_when_months_are_not_costed(tables: RateTables) -> None:
    result = headroom(tables, 38500, "2024/25", [PlannedPost(role="paramedic")])
    assert not result.result.complete
    assert result.breakdown[0].not_held == ["1 October 2024 to 31 March 2025"]
    assert any("overstated" in a for a in result.assumptions)


def test_affordable_wte_full_year(tables: RateTables) -> None:
    rate = table_rate("clinical_pharmacist", date(2025, 6, 1))
    result = affordable_wte(tables, 200000, "clinical pharmacist", financial_year="2025/26")
    assert result.result.wte == (Decimal(200000) / rate).quantize(PENNY, ROUND_DOWN)
    assert result.result.full_year and result.result.months_covered == 12


def test_affordable_wte_partial_year_is_not_extrapolated(tables: RateTables) -> None:
    rate = table_rate("paramedic", date(2024, 6, 1))
    result = affordable_wte(tables, 100000, "paramedic", financial_year="2024/25")
    assert result.result.cost_per_wte == (rate * 6 / 12).quantize(PENNY)
    assert not result.result.full_year
    assert result.result.not_held == ["1 October 2024 to 31 March 2025"]
    assert any("covered months only" in a for a in result.assumptions)


def test_affordable_wte_on_a_date(tables: RateTables) -> None:
    rate = table_rate("advanced_practitioner", date(2024, 12, 1), "outer_london")
    result = affordable_wte(tables, 150000, "AP", on=date(2024, 12, 1), area="outer_london")
    assert result.result.wte == (Decimal(150000) / rate).quantize(PENNY, ROUND_DOWN)


def test_rounding_is_half_up() -> None:
    assert round_money(Fraction(1, 200)) == Decimal("0.01")
    assert round_money(Fraction(-1, 200)) == Decimal("-0.01")
    assert round_money(Decimal("2.344999")) == Decimal("2.34")


# Typed errors ------------------------------------------------------------------------------------
def test_unknown_role(tables: RateTables) -> None:
    with pytest.raises(UnknownRole, match="Did you mean: Paramedic"):
        max_amount(tables, "paramedc", date(2025, 6, 1))


def test_rate_not_held_says_what_and_how_to_add_it(tables: RateTables) -> None:
    with pytest.raises(RateNotHeld) as caught:
        claim(tables, ClaimRequest(role="paramedic", start=date(2024, 4, 1), end=date(2025, 3, 31), wte=1))
    message = str(caught.value)
    assert "Paramedic" in message and "national" in message
    assert "1 October 2024 to 31 March 2025" in message
    assert "corpus/rates/max_reimbursement.csv" in message


def test_rate_not_held_before_the_role_existed(tables: RateTables) -> None:
    with pytest.raises(RateNotHeld, match="became reimbursable under ARRS on 1 April 2025"):
        max_amount(tables, "consultant nurse", date(2024, 6, 1))


def test_rate_not_held_for_an_area(tables: RateTables) -> None:
    with pytest.raises(RateNotHeld, match="Only a national figure is held"):
        claim(
            tables,
            ClaimRequest(
                role="GP", start=date(2025, 4, 1), end=date(2025, 4, 30), wte=1, area=Area.INNER_LONDON
            ),
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"wte": Decimal(0)},
        {"wte": Decimal("1.2")},
        {"wte": Decimal("-0.5")},
        {"hours_per_week": Decimal(40)},
        {"wte": Decimal("0.5"), "hours_per_week": Decimal(20)},
        {},
        {"sessions_per_week": Decimal(4)},
    ],
)
def test_invalid_wte(tables: RateTables, kwargs: dict[str, Decimal]) -> None:
    with pytest.raises(InvalidWTE):
        claim(tables, ClaimRequest(role="PT", start=date(2025, 4, 1), end=date(2025, 4, 30), **kwargs))


def test_invalid_period(tables: RateTables) -> None:
    with pytest.raises(InvalidPeriod, match="before the start date"):
        claim(tables, ClaimRequest(role="PT", start=date(2025, 5, 1), end=date(2025, 4, 30), wte=1))
    with pytest.raises(InvalidPeriod, match="not a financial year"):
        pcn_sum(tables, 1000, "next year")
    with pytest.raises(InvalidPeriod, match="not both or neither"):
        affordable_wte(tables, 1000, "PT")
    with pytest.raises(InvalidPeriod, match="runs past the end"):
        headroom(tables, 1000, "2025/26", [PlannedPost(role="PT", start=date(2025, 10, 1), months=12)])


def test_negative_amounts(tables: RateTables) -> None:
    with pytest.raises(NegativeAmount):
        claim(
            tables,
            ClaimRequest(
                role="PT", start=date(2025, 4, 1), end=date(2025, 4, 30), wte=1, actual_annual_cost=-1
            ),
        )
    with pytest.raises(NegativeAmount):
        pcn_sum(tables, -5, "2025/26")
    with pytest.raises(NegativeAmount):
        employment_cost(tables, -100, date(2025, 6, 1))
    with pytest.raises(NegativeAmount):
        affordable_wte(tables, -1, "PT", financial_year="2025/26")


def test_year_not_held(tables: RateTables) -> None:
    with pytest.raises(YearNotHeld) as caught:
        claim(tables, ClaimRequest(role="CP", start=date(2026, 3, 1), end=date(2026, 4, 30), wte=1))
    assert caught.value.year == "2026/27"
    assert "2025/26" in str(caught.value) and "2019/20" in str(caught.value)
    with pytest.raises(YearNotHeld, match="2022/23"):
        pcn_sum(tables, 1000, "2022/23")
    with pytest.raises(YearNotHeld, match="2023/24"):
        employment_cost(tables, 30000, date(2023, 9, 1))
    with pytest.raises(YearNotHeld):
        max_amount(tables, "CP", date(2018, 6, 1))


def test_ambiguous_band(tables: RateTables) -> None:
    with pytest.raises(AmbiguousBand) as caught:
        max_amount(tables, "mental health practitioner", date(2025, 6, 1))
    assert caught.value.bands == ["5", "6", "7", "8a"]
    chosen = max_amount(tables, "MHP", date(2025, 6, 1), band="6")
    assert chosen.result.annual == table_rate("mental_health_practitioner", date(2025, 6, 1), band="6")


def test_every_error_is_an_assistant_error() -> None:
    for error in (
        UnknownRole,
        RateNotHeld,
        InvalidWTE,
        InvalidPeriod,
        NegativeAmount,
        YearNotHeld,
        AmbiguousBand,
    ):
        assert issubclass(error, CalculatorError) and issubclass(error, AssistantError)


def test_hours_are_converted_exactly(tables: RateTables) -> None:
    rate = table_rate("pharmacy_technician", date(2025, 6, 1))
    result = claim(
        tables,
        ClaimRequest(role="PT", start=date(2025, 4, 1), end=date(2026, 3, 31), hours_per_week=Decimal(20)),
    )
    assert result.result.claim == pennies(Fraction(rate) * Fraction(20) / Fraction("37.5"))
    assert result.inputs.wte == Decimal("0.5333")


def test_claim_segments_identify_their_rate_row(tables: RateTables) -> None:
    result = claim(tables, ClaimRequest(role="CC", start=date(2023, 5, 10), end=date(2023, 8, 20), wte=1))
    for segment in result.breakdown:
        (row,) = [
            r for r in RATE_ROWS
            if r["role_id"] == "care_coordinator" and r["effective_from"] == segment.rate_effective_from.isoformat()
        ]  # fmt: skip
        assert row["effective_to"] == segment.rate_effective_to.isoformat()
        assert Decimal(row["national"]) == segment.annual_rate and row["source_url"] == segment.source_url
