"""Property-based tests of the claim arithmetic over every held stretch of the rate table.

The rounding rule (assistant.calculator's docstring): each rate period is rounded once, half up,
so a split where the rate changes adds up exactly, and any other split to within 1p.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from assistant.calculator import ClaimRequest, ClaimResult, claim
from assistant.rates import Area, RateTables, band_key
from assistant.settings import BUNDLED_CORPUS

RATES_DIR = BUNDLED_CORPUS / "rates"
TABLES = RateTables.load(RATES_DIR)
PENNY = Decimal("0.01")


@dataclass(frozen=True)
class Run:
    """A stretch of consecutive rows for one role, band and area: every day in it has a rate."""

    role_id: str
    band: str
    area: Area
    start: date
    end: date
    changes: tuple[date, ...]  # first days of the second and later rows
    lowest_annual: Decimal


def held_runs() -> list[Run]:
    with (RATES_DIR / "max_reimbursement.csv").open(newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    runs: list[Run] = []
    for area in Area:
        groups: dict[tuple[str, str], list[dict[str, str]]] = {}
        for row in rows:
            if row[area.value]:
                groups.setdefault((row["role_id"], band_key(row["band"])), []).append(row)
        for (role_id, _), items in groups.items():
            items.sort(key=lambda r: r["effective_from"])
            current: list[dict[str, str]] = []
            for row in [*items, None]:
                contiguous = (
                    row is not None
                    and current
                    and date.fromisoformat(row["effective_from"])
                    == date.fromisoformat(current[-1]["effective_to"]) + timedelta(days=1)
                )
                if current and not contiguous:
                    runs.append(
                        Run(
                            role_id=role_id,
                            band=current[0]["band"],
                            area=area,
                            start=date.fromisoformat(current[0]["effective_from"]),
                            end=date.fromisoformat(current[-1]["effective_to"]),
                            changes=tuple(date.fromisoformat(r["effective_from"]) for r in current[1:]),
                            lowest_annual=min(Decimal(r[area.value]) for r in current),
                        )
                    )
                    current = []
                if row is not None:
                    current.append(row)
    return runs


RUNS = held_runs()
CHANGE_RUNS = [run for run in RUNS if run.changes]
WTES = st.integers(min_value=1, max_value=1000).map(lambda n: Decimal(n) / 1000)


@st.composite
def periods(draw: st.DrawFn, runs: list[Run] = RUNS) -> tuple[Run, date, date]:
    run = draw(st.sampled_from(runs))
    length = (run.end - run.start).days
    first = draw(st.integers(min_value=0, max_value=length))
    last = draw(st.integers(min_value=first, max_value=length))
    return run, run.start + timedelta(days=first), run.start + timedelta(days=last)


def run_claim(run: Run, start: date, end: date, wte: Decimal, **actual: Decimal) -> ClaimResult:
    request = ClaimRequest(
        role=run.role_id, start=start, end=end, wte=wte, area=run.area, band=run.band, **actual
    )
    return claim(TABLES, request)


def test_there_is_something_to_test() -> None:
    assert len(RUNS) > 50 and CHANGE_RUNS


@settings(max_examples=300, deadline=None)
@given(periods(), WTES, st.integers(min_value=0, max_value=150_000))
def test_never_above_the_cap(period: tuple[Run, date, date], wte: Decimal, annual_cost: int) -> None:
    run, start, end = period
    capped = run_claim(run, start, end, wte, actual_annual_cost=Decimal(annual_cost))
    uncapped = run_claim(run, start, end, wte)
    assert capped.result.claim <= capped.result.cap == uncapped.result.claim
    assert all(segment.claim <= segment.cap for segment in capped.breakdown)


@settings(max_examples=300, deadline=None)
@given(periods(), WTES, st.integers(min_value=0, max_value=1000))
def test_equal_to_the_actual_cost_when_lower(
    period: tuple[Run, date, date], wte: Decimal, permille: int
) -> None:
    run, start, end = period
    lowest_monthly_cap = run.lowest_annual * wte / 12
    monthly = (lowest_monthly_cap * permille / 1000).quantize(PENNY, rounding=ROUND_DOWN)
    result = run_claim(run, start, end, wte, actual_monthly_cost=monthly)
    assert result.result.claim == result.result.actual
    assert result.result.claim <= result.result.cap


@settings(max_examples=300, deadline=None)
@given(periods(), WTES, WTES, st.one_of(st.none(), st.integers(min_value=0, max_value=150_000)))
def test_monotonic_in_wte(
    period: tuple[Run, date, date], a: Decimal, b: Decimal, annual_cost: int | None
) -> None:
    run, start, end = period
    low, high = sorted((a, b))
    actual = {} if annual_cost is None else {"actual_annual_cost": Decimal(annual_cost)}
    assert (
        run_claim(run, start, end, low, **actual).result.claim
        <= run_claim(run, start, end, high, **actual).result.claim
    )


@settings(max_examples=300, deadline=None)
@given(periods(), WTES, st.data())
def test_a_split_period_adds_up_to_the_whole(
    period: tuple[Run, date, date], wte: Decimal, data: st.DataObject
) -> None:
    run, start, end = period
    if start == end:
        return
    split = start + timedelta(days=data.draw(st.integers(min_value=1, max_value=(end - start).days)))
    whole = run_claim(run, start, end, wte).result.claim
    parts = (
        run_claim(run, start, split - timedelta(days=1), wte).result.claim
        + run_claim(run, split, end, wte).result.claim
    )
    assert abs(whole - parts) <= PENNY  # one rate period is rounded in two parts
    if split in run.changes:
        assert whole == parts


@settings(max_examples=300, deadline=None)
@given(
    periods(CHANGE_RUNS), WTES, st.data(), st.one_of(st.none(), st.integers(min_value=0, max_value=150_000))
)
def test_a_period_crossing_a_rate_change_equals_its_parts(
    period: tuple[Run, date, date], wte: Decimal, data: st.DataObject, annual_cost: int | None
) -> None:
    run, _, _ = period
    change = data.draw(st.sampled_from(run.changes))
    start = change - timedelta(days=data.draw(st.integers(min_value=1, max_value=(change - run.start).days)))
    end = change + timedelta(days=data.draw(st.integers(min_value=0, max_value=(run.end - change).days)))
    actual = {} if annual_cost is None else {"actual_annual_cost": Decimal(annual_cost)}
    whole = run_claim(run, start, end, wte, **actual)
    before = run_claim(run, start, change - timedelta(days=1), wte, **actual)
    after = run_claim(run, change, end, wte, **actual)
    assert whole.result.claim == before.result.claim + after.result.claim
    assert whole.result.cap == before.result.cap + after.result.cap
    assert {s.annual_rate for s in whole.breakdown} == {
        s.annual_rate for s in before.breakdown + after.breakdown
    }
