from datetime import date
from decimal import Decimal

import pytest

from assistant.query import QuerySlots, parse

TODAY = date(2026, 11, 21)


def slots(text: str) -> QuerySlots:
    return parse(text, TODAY)


def test_explicit_period_and_wte():
    s = slots("0.5 WTE care co-ordinator from 1 July 2023 to 31 March 2024")
    assert (s.wte, s.start, s.end, s.financial_year) == (
        Decimal("0.5"),
        date(2023, 7, 1),
        date(2024, 3, 31),
        "2023/24",
    )


def test_months_are_read_inside_the_named_financial_year():
    s = slots("How much for a 0.6 WTE pharmacy technician from October to March 2024/25?")
    assert (s.start, s.end) == (date(2024, 10, 1), date(2025, 3, 31))


def test_months_without_a_year_follow_the_written_year():
    s = slots("january to march 2025")
    assert (s.start, s.end) == (date(2025, 1, 1), date(2025, 3, 31))


def test_duration_from_a_start_date():
    s = slots("22.5 hours a week for six months from 1 April 2025")
    assert s.hours_per_week == Decimal("22.5")
    assert (s.start, s.end) == (date(2025, 4, 1), date(2025, 9, 30))


@pytest.mark.parametrize(
    ("text", "population"),
    [
        ("our weighted population is 52,000", 52000),
        ("population 38500", 38500),
        ("a 45k weighted list", None),
    ],
)
def test_population(text, population):
    assert slots(text).population == population


def test_money_slots():
    assert slots("we pay a salary of £45,000").salary == Decimal("45000")
    assert slots("with a budget of £200k").budget == Decimal("200000")
    assert slots("we have £150,000 left").budget == Decimal("150000")


@pytest.mark.parametrize(
    ("text", "area"),
    [
        ("in inner London", "inner_london"),
        ("outer-London rate", "outer_london"),
        ("in London", "london"),
        ("nationally", "national"),
        ("outside London", "national"),
    ],
)
def test_area(text, area):
    assert slots(text).area == area


def test_relative_years_use_today():
    assert slots("this financial year").financial_year == "2026/27"
    assert slots("last year").financial_year == "2025/26"


def test_gp_sessions_and_band():
    s = slots("a GP doing 6 sessions a week, band 8a")
    assert s.sessions_per_week == Decimal("6")
    assert s.band == "8a"


def test_follow_up_merge_keeps_context_and_overrides_what_is_new():
    first = slots("0.6 WTE pharmacy technician from October 2024 to March 2025")
    second = slots("And in inner London?").merged_over(first)
    assert second.area == "inner_london"
    assert (second.wte, second.start, second.end) == (first.wte, first.start, first.end)
    third = slots("what about 0.5 WTE?").merged_over(second)
    assert third.wte == Decimal("0.5") and third.area == "inner_london"
    fourth = slots("and for 2025/26").merged_over(third)
    assert fourth.financial_year == "2025/26" and fourth.start is None


def test_days_a_week_become_wte():
    assert slots("2 days a week of a pharmacy technician").wte == Decimal("0.40")


def test_a_financial_year_is_never_read_as_money():
    s = slots("what would that cost us in ARRS terms for 2025/26")
    assert s.actual_annual_cost is None and s.salary is None and s.budget is None


def test_salary_after_on_in_an_employer_cost_question():
    assert slots("what's the employer cost of a band 6 nurse on £40,000").salary == Decimal("40000")


def test_budget_from_a_fund_question():
    assert slots("how many pharmacists can £250,000 fund in 2025/26").budget == Decimal("250000")


def test_per_patient_is_not_a_population():
    assert slots("How much do we get per patient for ARRS in 2023/24?").population is None


def test_carrying_into_next_year_is_not_a_question_about_next_year():
    assert slots("Can we carry over underspend into next year?").financial_year is None
    assert slots("what are the rates next year").financial_year == "2027/28"
