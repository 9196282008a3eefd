"""Deterministic ARRS arithmetic over the cited rate tables: pure functions, ``Decimal`` money.

Every figure comes from a row of corpus/rates/ (see ``assistant.rates``); a month with no row
held is an error, never an estimate. Results carry their inputs, a breakdown naming the rate
and source behind each part, the sources with their status, and the assumptions in plain words.

Rounding rule (the only place money is rounded):
    A claim is split into rate periods: runs of consecutive months claimed at the same rate-table
    row (rates change only on the 1st of a month). For each rate period, with M = its whole months
    plus, for a part month, days covered / days in that month,
    ``cap = annual maximum x WTE x M / 12`` and ``actual = monthly actual cost x share x M`` are
    computed exactly (fractions) and each is rounded once to the penny, half up; the period's claim
    is the lower of the two. The total is the sum of the rate periods.
    Hence (the property tests check it): a claim never exceeds the cap, equals the actual cost when
    that is lower, never falls when WTE rises, and a period split where the rate changes adds up
    exactly to the whole; any other split can differ from the whole by at most 1p, because one rate
    period is then rounded in two parts. Every other result rounds each figure once, half up.

Reimbursement share: in 2019/20 NHS England paid 70% of a clinical pharmacist's cost and the
published maximum capped that 70% contribution, so the share scales the actual cost, not the cap.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal
from fractions import Fraction

from assistant import years
from assistant.calc_errors import (
    AmbiguousBand,
    AmbiguousRole,
    CalculatorError,
    InvalidPeriod,
    InvalidWTE,
    NegativeAmount,
    RateNotHeld,
    RateTableError,
    UnknownRole,
    YearNotHeld,
)
from assistant.calc_models import (
    AffordFigures,
    AffordInputs,
    AffordResult,
    CalcResult,
    ClaimFigures,
    ClaimInputs,
    ClaimRequest,
    ClaimResult,
    ClaimSegment,
    CostComponent,
    EmploymentCost,
    EmploymentCostFigures,
    EmploymentCostInputs,
    HeadroomFigures,
    HeadroomInputs,
    HeadroomResult,
    MaxAmountFigures,
    MaxAmountInputs,
    MaxAmountResult,
    PcnSumFigures,
    PcnSumInputs,
    PcnSumResult,
    PlannedPost,
    PostCost,
    RateRef,
    SourceRef,
    SumPart,
)
from assistant.rates import Area, RateRow, RateStatus, RateTables, band_key, band_matches
from assistant.roles import Role

__all__ = [
    "AffordResult",
    "AmbiguousBand",
    "AmbiguousRole",
    "Area",
    "CalcResult",
    "CalculatorError",
    "ClaimRequest",
    "ClaimResult",
    "EmploymentCost",
    "HeadroomResult",
    "InvalidPeriod",
    "InvalidWTE",
    "MaxAmountResult",
    "NegativeAmount",
    "PcnSumResult",
    "PlannedPost",
    "RateNotHeld",
    "RateTableError",
    "UnknownRole",
    "YearNotHeld",
    "affordable_wte",
    "claim",
    "employment_cost",
    "headroom",
    "max_amount",
    "pcn_sum",
]

PENNY = Decimal("0.01")
FULL_TIME_HOURS = Decimal("37.5")
FULL_TIME_SESSIONS = Decimal("9")


CAP_ASSUMPTION = "Monthly cap assumed to be the annual maximum / 12 x WTE (the DES wording is not held)."
PART_MONTH_ASSUMPTION = (
    "A part month is prorated by calendar days: days covered / days in the month "
    "(how NHS England treats part months is not held)."
)
ROUNDING_ASSUMPTION = (
    "Each rate period (consecutive months at the same rate) is rounded once to the penny, half up; the total "
    "is the sum of the rate periods."
)
MAXIMUM_MEANING = (
    "A maximum is per 1.0 WTE per year including employer on-costs: a cap on what can be reclaimed for "
    "salary and on-costs actually paid, not a salary."
)
_STATUS_SENTENCE = {
    RateStatus.SECONDARY_SOURCE: "comes from a secondary source quoting the DES, not from the DES itself.",
    RateStatus.INFERRED_FROM_BAND: (
        "is inferred from another role's published figure at the same band; no source states it for this role."
    ),
    RateStatus.UNVERIFIED: "is unverified.",
}


# Helpers ----------------------------------------------------------------------------------------
def round_money(value: Fraction | Decimal | int) -> Decimal:
    """Round to the penny, half up (away from zero), exactly."""
    exact = Fraction(value) * 100
    pennies = int(abs(exact) + Fraction(1, 2))
    return (Decimal(pennies if exact >= 0 else -pennies) / 100).quantize(PENNY)


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _span(start: date, end: date) -> str:
    return _day(start) if start == end else f"{_day(start)} to {_day(end)}"


def _non_negative(value: Decimal | int | float | str, what: str) -> Decimal:
    amount = Decimal(str(value))
    if not amount.is_finite():
        raise NegativeAmount(f"The {what} must be a number, not {value!r}.")
    if amount < 0:
        raise NegativeAmount(f"The {what} cannot be negative (got {amount}).")
    return amount


def _month_segments(start: date, end: date) -> Iterator[tuple[date, date, int]]:
    """(first day, last day, days in the month) for each calendar month the period touches."""
    cursor = start
    while cursor <= end:
        days_in_month = calendar.monthrange(cursor.year, cursor.month)[1]
        segment_end = min(end, cursor.replace(day=days_in_month))
        yield cursor, segment_end, days_in_month
        cursor = segment_end + timedelta(days=1)


def _months_text(months: Fraction) -> Decimal:
    value = Decimal(months.numerator) / Decimal(months.denominator)
    return value if months.denominator == 1 else value.quantize(Decimal("0.0001"))


def _rate_periods(
    tables: RateTables, role: Role, start: date, end: date, band: str | None, area: Area
) -> tuple[list[tuple[RateRow, date, date, Fraction]], list[tuple[date, date]]]:
    """Runs of consecutive month parts at the same row: (row, first day, last day, months M); and gaps."""
    periods: list[tuple[RateRow, date, date, Fraction]] = []
    missing: list[tuple[date, date]] = []
    for seg_start, seg_end, days_in_month in _month_segments(start, end):
        row = _select_row(tables, role, seg_start, band)
        if row is None or row.amount(area) is None:
            missing.append((seg_start, seg_end))
            continue
        months = Fraction((seg_end - seg_start).days + 1, days_in_month)
        last = periods[-1] if periods else None
        if last and last[0] == row and last[2] + timedelta(days=1) == seg_start:
            periods[-1] = (row, last[1], seg_end, last[3] + months)
        else:
            periods.append((row, seg_start, seg_end, months))
    return periods, missing


def _normalise_year(financial_year: str) -> str:
    try:
        return years.normalise(financial_year)
    except ValueError:
        raise InvalidPeriod(f"{financial_year!r} is not a financial year (write it like 2024/25).") from None


def _check_years_held(tables: RateTables, start: date, end: date) -> None:
    held = tables.years()
    for fy in dict.fromkeys(years.of_date(day) for day, _, _ in _month_segments(start, end)):
        if fy not in held:
            raise YearNotHeld(fy, held)


def _select_row(tables: RateTables, role: Role, day: date, band: str | None) -> RateRow | None:
    rows = tables.rows_on(role.id, day)
    if band is not None:
        rows = [r for r in rows if band_matches(r.band, band)]
        exact = [r for r in rows if band_key(r.band) == band_key(band)]
        rows = exact or rows
    if len(rows) > 1:
        raise AmbiguousBand(role.name, [r.band for r in rows], day)
    return rows[0] if rows else None


def _not_held_detail(tables: RateTables, role: Role, start: date, band: str | None, area: Area) -> str:
    if role.added_from and start < role.added_from:
        return f"{role.name} became reimbursable under ARRS on {_day(role.added_from)}."
    rows = tables.rows_on(role.id, start)
    if band is not None and rows and not any(band_matches(r.band, band) for r in rows):
        return f"The bands held for {role.name} on {_day(start)} are: {', '.join(r.band for r in rows)}."
    if rows and area is not Area.NATIONAL:
        held = [a.label for a in Area if rows[0].amount(a) is not None]
        return f"Only a {' and '.join(held)} figure is held for those dates, not {area.label}."
    return ""


def _raise_not_held(
    tables: RateTables, role: Role, band: str | None, area: Area, missing: list[tuple[date, date]]
) -> None:
    ranges = _merge(missing)
    start, end = ranges[0][0], ranges[-1][1]
    detail = _not_held_detail(tables, role, start, band, area)
    if len(ranges) > 1:
        detail = (f"Not held: {'; '.join(_span(a, b) for a, b in ranges)}. " + detail).strip()
    raise RateNotHeld(role.name, band, start, end, area.label, detail)


def _merge(ranges: list[tuple[date, date]]) -> list[tuple[date, date]]:
    merged: list[tuple[date, date]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + timedelta(days=1):
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _rate_ref(row: RateRow, area: Area) -> RateRef:
    annual = row.amount(area)
    assert annual is not None
    return RateRef(
        financial_year=row.financial_year,
        effective_from=row.effective_from,
        effective_to=row.effective_to,
        role_id=row.role_id,
        band=row.band,
        area=area,
        annual=annual,
        reimbursement_share=row.reimbursement_share,
        status=row.status,
        source_url=row.source_url,
    )


def _sources(tables: RateTables, pairs: list[tuple[str, str]]) -> list[SourceRef]:
    unique = dict.fromkeys(pairs)
    return [SourceRef(url=url, title=tables.source_title(url), status=status) for url, status in unique]


def _row_assumptions(tables: RateTables, rows: list[RateRow]) -> list[str]:
    sentences: list[str] = []
    for row in dict.fromkeys(rows):
        role = tables.roles.get(row.role_id)
        span = _span(row.effective_from, row.effective_to)
        sentences.append(f"The {role.name.lower()} rate for {span} {_STATUS_SENTENCE[row.status]}")
        if row.note:
            sentences.append(row.note)
    return sentences


def _resolve_wte(role: Role, request: ClaimRequest) -> tuple[Fraction, Decimal, str | None]:
    """The exact WTE (used in the arithmetic), its display value (4 dp at most) and how it was derived."""
    given = [v for v in (request.wte, request.hours_per_week, request.sessions_per_week) if v is not None]
    if len(given) != 1:
        raise InvalidWTE("Give exactly one of WTE, hours a week or sessions a week.")
    if request.sessions_per_week is not None and role.wte_basis != "sessions":
        raise InvalidWTE(f"Sessions apply to GPs; give WTE or hours a week for {role.name.lower()}.")
    value = _finite(given[0])
    if request.wte is not None:
        exact, note = Fraction(value), None
    elif request.hours_per_week is not None:
        exact = Fraction(value) / Fraction(FULL_TIME_HOURS)
        note = f"WTE taken as {value} hours / 37.5 hours = {_wte_text(exact)}."
    else:
        exact = Fraction(value) / Fraction(FULL_TIME_SESSIONS)
        note = f"WTE taken as {value} sessions / 9 sessions = {_wte_text(exact)}."
    _check_wte(exact)
    return exact, (value if request.wte is not None else Decimal(_wte_text(exact))), note


def _finite(value: Decimal) -> Decimal:
    number = Decimal(value)
    if not number.is_finite():
        raise InvalidWTE(f"WTE, hours and sessions must be numbers (got {value}).")
    return number


def _wte_text(wte: Fraction) -> str:
    value = Decimal(wte.numerator) / Decimal(wte.denominator)
    return f"{value.quantize(Decimal('0.0001')).normalize():f}"


def _check_wte(wte: Fraction) -> None:
    if wte <= 0 or wte > 1:
        raise InvalidWTE(
            f"WTE must be more than 0 and at most 1 (got {_wte_text(wte)}). "
            "1.0 WTE is 37.5 hours a week (9 sessions for a GP)."
        )


# Public functions -------------------------------------------------------------------------------
def max_amount(
    tables: RateTables, role_id: str, on: date, area: Area | str = Area.NATIONAL, band: str | None = None
) -> MaxAmountResult:
    """The maximum reimbursable amount per 1.0 WTE per year in force on a date, for an area."""
    role = tables.roles.resolve(role_id)
    area = Area(area)
    _check_years_held(tables, on, on)
    row = _select_row(tables, role, on, band)
    annual = row.amount(area) if row else None
    if row is None or annual is None:
        raise RateNotHeld(role.name, band, on, on, area.label, _not_held_detail(tables, role, on, band, area))
    return MaxAmountResult(
        formula=f"The maximum in force on {_day(on)} for {area.label}, per 1.0 WTE per year; monthly = annual / 12.",
        inputs=MaxAmountInputs(role_id=role.id, role_name=role.name, on=on, area=area, band=band),
        result=MaxAmountFigures(
            annual=annual.quantize(PENNY),
            monthly=round_money(Fraction(annual) / 12),
            band=row.band,
            effective_from=row.effective_from,
            effective_to=row.effective_to,
            reimbursement_share=row.reimbursement_share,
            status=row.status,
        ),
        breakdown=[_rate_ref(row, area)],
        sources=_sources(tables, [(row.source_url, row.status.value)]),
        assumptions=[MAXIMUM_MEANING, *_row_assumptions(tables, [row])],
    )


def claim(tables: RateTables, request: ClaimRequest) -> ClaimResult:
    """The claimable amount for a role over a period, month by month (see the module's rounding rule)."""
    role = tables.roles.resolve(request.role)
    if request.end < request.start:
        raise InvalidPeriod(
            f"The end date {_day(request.end)} is before the start date {_day(request.start)}."
        )
    wte, wte_shown, wte_note = _resolve_wte(role, request)
    area = Area(request.area)
    monthly_actual: Fraction | None = None
    if request.actual_annual_cost is not None and request.actual_monthly_cost is not None:
        raise NegativeAmount("Give the actual cost as annual or monthly, not both.")
    if request.actual_annual_cost is not None:
        monthly_actual = Fraction(_non_negative(request.actual_annual_cost, "actual annual cost")) / 12
    elif request.actual_monthly_cost is not None:
        monthly_actual = Fraction(_non_negative(request.actual_monthly_cost, "actual monthly cost"))
    _check_years_held(tables, request.start, request.end)

    periods, missing = _rate_periods(tables, role, request.start, request.end, request.band, area)
    if missing:
        _raise_not_held(tables, role, request.band, area, missing)
    segments: list[ClaimSegment] = []
    used = [row for row, _, _, _ in periods]
    for row, start, end, months in periods:
        annual = row.amount(area)
        assert annual is not None
        cap = round_money(Fraction(annual) * wte * months / 12)
        actual = (
            round_money(monthly_actual * Fraction(row.reimbursement_share) * months)
            if monthly_actual is not None
            else None
        )
        segments.append(
            ClaimSegment(
                start=start,
                end=end,
                days=(end - start).days + 1,
                months=_months_text(months),
                financial_year=row.financial_year,
                band=row.band,
                rate_effective_from=row.effective_from,
                rate_effective_to=row.effective_to,
                annual_rate=annual.quantize(PENNY),
                monthly_cap=round_money(Fraction(annual) * wte / 12),
                cap=cap,
                actual=actual,
                claim=cap if actual is None else min(cap, actual),
                reimbursement_share=row.reimbursement_share,
                status=row.status,
                source_url=row.source_url,
            )
        )

    assumptions = [CAP_ASSUMPTION]
    if any(m.denominator != 1 for _, _, _, m in periods):
        assumptions.append(PART_MONTH_ASSUMPTION)
    assumptions.append(ROUNDING_ASSUMPTION)
    if wte_note:
        assumptions.append(wte_note)
    if monthly_actual is None:
        assumptions.append(
            "No actual employment cost was given, so this is the most that can be claimed; a claim can never "
            "exceed the salary and employer on-costs actually paid."
        )
    elif request.actual_annual_cost is not None:
        assumptions.append("The actual annual cost is spread evenly over the year: annual / 12 a month.")
    for share in sorted({r.reimbursement_share for r in used if r.reimbursement_share != 1}):
        assumptions.append(
            f"In this period NHS England reimbursed {_percent(share)} of actual cost, and the maximum capped that "
            f"contribution; the actual cost is multiplied by {share} before it is compared with the cap."
        )
    assumptions += _row_assumptions(tables, used)

    actual_total = sum((s.actual for s in segments if s.actual is not None), Decimal("0.00"))
    return ClaimResult(
        formula=(
            "For each rate period: the lower of the actual cost and the cap (annual maximum / 12 x WTE x months), "
            "a part month counting as days covered / days in the month; the claim is the sum of the rate periods."
        ),
        inputs=ClaimInputs(
            role_id=role.id,
            role_name=role.name,
            start=request.start,
            end=request.end,
            wte=wte_shown,
            hours_per_week=request.hours_per_week,
            sessions_per_week=request.sessions_per_week,
            area=area,
            band=request.band,
            actual_annual_cost=request.actual_annual_cost,
            actual_monthly_cost=request.actual_monthly_cost,
        ),
        result=ClaimFigures(
            claim=sum((s.claim for s in segments), Decimal("0.00")),
            cap=sum((s.cap for s in segments), Decimal("0.00")),
            actual=actual_total if monthly_actual is not None else None,
            months=_months_text(sum((m for _, _, _, m in periods), Fraction(0))),
            days=sum(s.days for s in segments),
        ),
        breakdown=segments,
        sources=_sources(tables, [(r.source_url, r.status.value) for r in used]),
        assumptions=assumptions,
    )


def _percent(rate: Decimal) -> str:
    return f"{(rate * 100).normalize():f}%"


def _tax_year(day: date) -> str:
    return years.label(day.year if (day.month, day.day) >= (4, 6) else day.year - 1)


def employment_cost(
    tables: RateTables, annual_salary: Decimal | int | str, on: date, include_levy: bool = False
) -> EmploymentCost:
    """Salary plus employer NI (above the annual secondary threshold), employer pension and optional levy."""
    salary = _non_negative(annual_salary, "annual salary")
    on_costs = tables.on_costs
    ni = on_costs.ni_on(on)
    if ni is None:
        held = list(dict.fromkeys(p.tax_year for p in on_costs.employer_ni))
        raise YearNotHeld(_tax_year(on), held, what="employer National Insurance rates and thresholds")
    pension = on_costs.pension_on(on)
    if pension is None:
        held = [f"{_span(p.effective_from, p.effective_to)}" for p in on_costs.pension]
        raise YearNotHeld(years.of_date(on), held, what="NHS Pension Scheme employer rates")
    levy = on_costs.apprenticeship_levy
    ni_base = max(Decimal(0), salary - ni.secondary_threshold_annual)
    ni_amount = round_money(Fraction(ni_base) * Fraction(ni.rate))
    pension_amount = round_money(Fraction(salary) * Fraction(pension.rate))
    levy_amount = round_money(Fraction(salary) * Fraction(levy.rate)) if include_levy else Decimal("0.00")
    salary_money = round_money(salary)
    components = [
        CostComponent(name="salary", base=salary_money, amount=salary_money, status="input"),
        CostComponent(
            name="employer_ni",
            base=round_money(ni_base),
            rate=ni.rate,
            threshold=ni.secondary_threshold_annual,
            amount=ni_amount,
            status=ni.status,
            source_url=ni.source_url,
        ),
        CostComponent(
            name="pension",
            base=salary_money,
            rate=pension.rate,
            amount=pension_amount,
            status=pension.status,
            source_url=pension.source_url,
        ),
    ]
    assumptions = [
        f"Employer NI is {_percent(ni.rate)} of the annual salary above the £{ni.secondary_threshold_annual:,} annual "
        f"secondary threshold in force on {_day(on)}, as if paid evenly; payroll works it out each pay period, "
        "which can differ by pennies.",
        "No Employment Allowance is deducted (whether it must be netted off an ARRS claim is not held), and no "
        "relief for employees under 21 or apprentices under 25 is applied.",
        f"Employer pension is {_percent(pension.rate)}, the part of the NHS Pension Scheme employer rate an "
        "employer pays; the rest is paid centrally.",
        ni.note,
        pension.note,
    ]
    pairs = [(ni.source_url, ni.status), (pension.source_url, pension.status)]
    if include_levy:
        components.append(
            CostComponent(
                name="apprenticeship_levy",
                base=salary_money,
                rate=levy.rate,
                amount=levy_amount,
                status=levy.status,
                source_url=levy.source_url,
            )
        )
        assumptions.append(
            f"The apprenticeship levy is taken as {_percent(levy.rate)} of this salary, with no share of the "
            f"£{levy.annual_allowance:,} annual allowance that offsets an employer's whole pay bill. {levy.arrs_note}"
        )
        pairs.append((levy.source_url, levy.status))
    on_cost_total = ni_amount + pension_amount + levy_amount
    return EmploymentCost(
        formula="Salary + employer NI (rate x salary above the secondary threshold) + employer pension (rate x "
        "salary)" + (" + apprenticeship levy (rate x salary)." if include_levy else "."),
        inputs=EmploymentCostInputs(
            annual_salary=salary_money, on=on, tax_year=ni.tax_year, include_levy=include_levy
        ),
        result=EmploymentCostFigures(
            salary=salary_money,
            employer_ni=ni_amount,
            pension=pension_amount,
            levy=levy_amount,
            on_costs=on_cost_total,
            total=salary_money + on_cost_total,
        ),
        breakdown=components,
        sources=_sources(tables, pairs),
        assumptions=[a for a in assumptions if a],
    )


def pcn_sum(
    tables: RateTables, weighted_population: Decimal | int | str, financial_year: str
) -> PcnSumResult:
    """The PCN's ARRS sum: weighted population x the year's multiplier(s)."""
    population = _non_negative(weighted_population, "weighted population")
    fy = _normalise_year(financial_year)
    multipliers = tables.multipliers_for(fy)
    if not multipliers:
        raise YearNotHeld(fy, tables.multiplier_years(), what="PCN ARRS sum multipliers")
    parts = [
        SumPart(
            part=m.part,
            per_weighted_patient=m.per_weighted_patient,
            population_date=m.population_date,
            covers_from=m.covers_from,
            covers_to=m.covers_to,
            amount=round_money(Fraction(population) * Fraction(m.per_weighted_patient)),
            source_url=m.source_url,
        )
        for m in sorted(multipliers, key=lambda m: m.part != "main")
    ]
    main = next((p.amount for p in parts if p.part == "main"), Decimal("0.00"))
    gp = next((p.amount for p in parts if p.part == "gp"), None)
    assumptions = [
        "The weighted population is the PCN Contractor Weighted Population at the date shown for each part.",
        *[m.note for m in multipliers if m.note],
    ]
    return PcnSumResult(
        formula="Weighted population x pounds per weighted patient, for each part of the sum.",
        inputs=PcnSumInputs(weighted_population=population, financial_year=fy),
        result=PcnSumFigures(main=main, gp=gp, total=main + (gp or Decimal(0))),
        breakdown=parts,
        sources=_sources(tables, [(m.source_url, "secondary_source") for m in multipliers]),
        assumptions=assumptions,
    )


def _from_role_start(role: Role, start: date, end: date) -> tuple[date, str | None]:
    """Move a planning window's start to the day the role became reimbursable, saying so."""
    added = role.added_from
    if added is None or added <= start:
        return start, None
    if added > end:
        raise RateNotHeld(
            role.name,
            None,
            start,
            end,
            "any area",
            f"{role.name} became reimbursable under ARRS on {_day(added)}.",
        )
    return added, f"{role.name} became reimbursable under ARRS on {_day(added)}, so it is costed from then."


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def _post_window(post: PlannedPost, fy: str) -> tuple[date, date]:
    first, last = years.bounds(fy)
    start = post.start or first
    if not first <= start <= last:
        raise InvalidPeriod(f"A planned post starting {_day(start)} is outside {fy}.")
    if post.months is None:
        return start, last
    if post.months < 1:
        raise InvalidPeriod("A planned post needs at least one month.")
    end = _add_months(start, post.months) - timedelta(days=1)
    if end > last:
        raise InvalidPeriod(
            f"{post.months} months from {_day(start)} runs past the end of {fy} ({_day(last)})."
        )
    return start, end


def headroom(
    tables: RateTables,
    weighted_population: Decimal | int | str,
    financial_year: str,
    posts: list[PlannedPost],
) -> HeadroomResult:
    """What is left of the PCN's ARRS sum after planned posts, each costed at the maxima in force."""
    total = pcn_sum(tables, weighted_population, financial_year)
    fy = total.inputs.financial_year
    has_gp_part = total.result.gp is not None
    costs: list[PostCost] = []
    used: list[RateRow] = []
    incomplete: list[str] = []
    incomplete_notes: list[str] = []
    for post in posts:
        role = tables.roles.resolve(post.role)
        wte = _finite(post.wte)
        _check_wte(Fraction(wte))
        area = Area(post.area)
        start, end = _post_window(post, fy)
        start, added_note = _from_role_start(role, start, end)
        if added_note:
            incomplete_notes.append(added_note)
        periods, missing = _rate_periods(tables, role, start, end, post.band, area)
        rows = list(dict.fromkeys(row for row, _, _, _ in periods))
        refs = [_rate_ref(row, area) for row in rows]
        cost = sum(
            (
                round_money(Fraction(row.amount(area) or 0) * Fraction(wte) * months / 12) * post.count
                for row, _, _, months in periods
            ),
            Decimal("0.00"),
        )
        months = _months_text(sum((m for _, _, _, m in periods), Fraction(0)))
        if not rows:
            _raise_not_held(tables, role, post.band, area, missing)
        not_held = [_span(a, b) for a, b in _merge(missing)]
        if not_held:
            incomplete.append(
                f"No {area.label} maximum is held for {role.name.lower()} for {'; '.join(not_held)}, so those "
                "months are not costed and the headroom is overstated by their cost."
            )
        used += rows
        costs.append(
            PostCost(
                role_id=role.id,
                role_name=role.name,
                count=post.count,
                wte=wte,
                area=area,
                band=post.band,
                start=start,
                end=end,
                part="gp" if has_gp_part and role.id == "general_practitioner" else "main",
                cost=cost,
                months_costed=months,
                not_held=not_held,
                rates=refs,
            )
        )
    committed_main = sum((c.cost for c in costs if c.part == "main"), Decimal("0.00"))
    committed_gp = sum((c.cost for c in costs if c.part == "gp"), Decimal("0.00")) if has_gp_part else None
    headroom_main = total.result.main - committed_main
    headroom_gp = (
        total.result.gp - committed_gp if total.result.gp is not None and committed_gp is not None else None
    )
    assumptions = [
        "Each post is costed at the maximum in force each month (annual maximum / 12 x WTE x number of posts), "
        "the most that could be claimed; actual costs may be lower.",
        ROUNDING_ASSUMPTION,
        *dict.fromkeys(incomplete_notes),
        *incomplete,
        *total.assumptions,
        *_row_assumptions(tables, used),
    ]
    if has_gp_part:
        assumptions.insert(
            1, f"In {fy} GP posts are charged to the ring-fenced GP part and other roles to the main sum."
        )
    return HeadroomResult(
        formula="Headroom = the PCN's ARRS sum - the cost of the planned posts at the maxima in force.",
        inputs=HeadroomInputs(
            weighted_population=total.inputs.weighted_population, financial_year=fy, posts=posts
        ),
        result=HeadroomFigures(
            available_main=total.result.main,
            available_gp=total.result.gp,
            committed_main=committed_main,
            committed_gp=committed_gp,
            headroom_main=headroom_main,
            headroom_gp=headroom_gp,
            headroom_total=headroom_main + (headroom_gp or Decimal(0)),
            complete=not incomplete,
        ),
        breakdown=costs,
        sources=_sources(
            tables,
            [(x.url, x.status) for x in total.sources] + [(r.source_url, r.status.value) for r in used],
        ),
        assumptions=assumptions,
    )


def affordable_wte(
    tables: RateTables,
    budget: Decimal | int | str,
    role: str,
    financial_year: str | None = None,
    on: date | None = None,
    area: Area | str = Area.NATIONAL,
    band: str | None = None,
) -> AffordResult:
    """How many WTE of a role a budget funds for a year at the maxima held (never extrapolated)."""
    money = _non_negative(budget, "budget")
    resolved = tables.roles.resolve(role)
    area = Area(area)
    if (financial_year is None) == (on is None):
        raise InvalidPeriod("Give either a financial year or a date, not both or neither.")
    assumptions = [
        "The cost of 1.0 WTE is taken at the maximum reimbursable amount (salary plus on-costs up to the cap); "
        "WTE is rounded down to 0.01 so the budget is never exceeded."
    ]
    if on is not None:
        result = max_amount(tables, resolved.id, on, area, band)
        row = _select_row(tables, resolved, on, band)
        assert row is not None  # max_amount has raised otherwise
        cost, refs, rows_used, fy, months = result.result.annual, result.breakdown, [row], None, 12
        covered, not_held = [_span(row.effective_from, row.effective_to)], []
        assumptions.append(
            f"A full year at the rate in force on {_day(on)}; maxima change on 1 April and sometimes mid-year, "
            "so another year may cost more."
        )
    else:
        fy = _normalise_year(financial_year or "")
        if fy not in tables.years():
            raise YearNotHeld(fy, tables.years())
        first, last = years.bounds(fy)
        first, added_note = _from_role_start(resolved, first, last)
        if added_note:
            assumptions.append(added_note)
        exact, rows_used, refs, missing, months = Fraction(0), [], [], [], 0
        for start, end, _ in _month_segments(first, last):
            row = _select_row(tables, resolved, start, band)
            annual = row.amount(area) if row else None
            if row is None or annual is None:
                missing.append((start, end))
                continue
            exact += Fraction(annual) / 12
            months += 1
            if row not in rows_used:
                rows_used.append(row)
                refs.append(_rate_ref(row, area))
        if not rows_used:
            _raise_not_held(tables, resolved, band, area, missing)
        cost = round_money(exact)
        not_held = [_span(a, b) for a, b in _merge(missing)]
        covered_ranges = _merge([(r.effective_from, r.effective_to) for r in rows_used])
        covered = [_span(a, b) for a, b in covered_ranges]
        if not_held:
            assumptions.append(
                f"No {area.label} maximum is held for {resolved.name.lower()} for {'; '.join(not_held)}: the WTE is "
                f"what the budget funds over the {months} covered months only, and nothing is assumed for the rest."
            )
        else:
            assumptions.append(f"The cost of 1.0 WTE is the sum of the 12 monthly maxima in {fy}.")
    wte = (money / cost).quantize(PENNY, rounding=ROUND_DOWN) if cost > 0 else Decimal("0.00")
    assumptions += _row_assumptions(tables, rows_used)
    return AffordResult(
        formula="WTE funded = budget / cost of 1.0 WTE at the maxima held, rounded down to 0.01.",
        inputs=AffordInputs(
            budget=round_money(money),
            role_id=resolved.id,
            role_name=resolved.name,
            financial_year=fy,
            on=on,
            area=area,
            band=band,
        ),
        result=AffordFigures(
            wte=wte,
            cost_per_wte=cost,
            months_covered=months,
            full_year=on is not None or (not not_held and months == 12),
            covered=covered,
            not_held=not_held,
        ),
        breakdown=refs,
        sources=_sources(tables, [(r.source_url, r.status.value) for r in rows_used]),
        assumptions=assumptions,
    )
