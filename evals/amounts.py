"""Expected calculator amounts for the gold set, computed straight from the rate CSVs.

This is deliberately independent of ``assistant.rates`` and ``assistant.calculator``: the gold
amounts must come from the published table rows, not from the code under test. Only cases whose
answer does not depend on a rounding convention are allowed: whole months, a monthly cap of
annual maximum / 12 x WTE, and the same total whether rounded per rate segment or at the end.

    python -m evals.amounts            # print every calculation case with its recomputed amount
    python -m evals.amounts --check    # exit 1 if a recorded amount differs from the table
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from evals.schema import CalcExpectation, load_gold

REPO = Path(__file__).resolve().parent.parent
RATES = REPO / "corpus" / "rates"
PENNY = Decimal("0.01")
HOURS_PER_WTE = Decimal("37.5")
SESSIONS_PER_WTE = Decimal("9")


class AmountError(ValueError):
    """The table does not give one unambiguous amount for this case."""


@dataclass(frozen=True)
class Row:
    role_id: str
    band: str
    start: date
    end: date
    amounts: dict[str, Decimal | None]
    share: Decimal


def _band_key(band: str) -> str:
    return "".join(band.lower().replace("–", "-").replace("band", "").replace("up to", "").split())


def _money(value: Decimal) -> str:
    return str(value.quantize(PENNY, rounding=ROUND_HALF_UP))


def load_rows(rates_dir: Path = RATES) -> list[Row]:
    with (rates_dir / "max_reimbursement.csv").open(newline="", encoding="utf-8") as handle:
        return [
            Row(
                role_id=raw["role_id"],
                band=raw["band"],
                start=date.fromisoformat(raw["effective_from"]),
                end=date.fromisoformat(raw["effective_to"]),
                amounts={
                    area: Decimal(raw[area]) if raw[area].strip() else None
                    for area in ("national", "outer_london", "inner_london")
                },
                share=Decimal(raw["reimbursement_share"]),
            )
            for raw in csv.DictReader(handle)
        ]


def load_multipliers(rates_dir: Path = RATES) -> dict[tuple[str, str], Decimal]:
    with (rates_dir / "pcn_sum_multipliers.csv").open(newline="", encoding="utf-8") as handle:
        return {
            (raw["financial_year"], raw["part"]): Decimal(raw["per_weighted_patient"])
            for raw in csv.DictReader(handle)
        }


def rate_on(rows: list[Row], role_id: str, day: date, area: str, band: str | None = None) -> Decimal:
    found = [r for r in rows if r.role_id == role_id and r.start <= day <= r.end]
    if band:
        found = [r for r in found if _band_key(band) in (_band_key(r.band), *_band_key(r.band).split("-"))]
    if len(found) != 1:
        raise AmountError(f"{len(found)} rows for {role_id} band {band} on {day}")
    amount = found[0].amounts[area]
    if amount is None:
        raise AmountError(f"no {area} amount for {role_id} on {day}")
    if found[0].share != 1:
        raise AmountError(f"{role_id} on {day} has a reimbursement share of {found[0].share}: ambiguous")
    return amount


def _months(start: date, end: date) -> list[date]:
    if start.day != 1:
        raise AmountError("gold claims start on the first of a month (no part months)")
    months, cursor = [], start
    while cursor <= end:
        months.append(cursor)
        cursor = date(cursor.year + (cursor.month == 12), cursor.month % 12 + 1, 1)
    last = months[-1]
    next_month = date(last.year + (last.month == 12), last.month % 12 + 1, 1)
    if (next_month - end).days != 1:
        raise AmountError("gold claims end on the last day of a month (no part months)")
    return months


def wte_of(spec: CalcExpectation) -> Decimal:
    if spec.hours is not None:
        return Decimal(str(spec.hours)) / HOURS_PER_WTE
    if spec.sessions is not None:
        return Decimal(str(spec.sessions)) / SESSIONS_PER_WTE
    return Decimal(str(spec.wte if spec.wte is not None else 1))


def expected_amounts(
    spec: CalcExpectation, rows: list[Row], multipliers: dict[tuple[str, str], Decimal]
) -> list[str]:
    """The amounts (two-decimal strings) the calculator must produce for this case, main first."""
    if spec.operation == "max_amount":
        assert spec.role and spec.day
        return [_money(rate_on(rows, spec.role, spec.day, spec.area, spec.band))]
    if spec.operation == "claim":
        assert spec.role and spec.start and spec.end
        wte = wte_of(spec)
        rates = [
            rate_on(rows, spec.role, month, spec.area, spec.band) for month in _months(spec.start, spec.end)
        ]
        # One segment per run of months at the same rate (issue 3: 1.0 WTE inner London AP for
        # October 2024 to March 2025 is £41,308.00, so the calculator does not round each month).
        segments: list[Decimal] = []
        for index, rate in enumerate(rates):
            if index and rate == rates[index - 1]:
                segments[-1] += rate * wte / 12
            else:
                segments.append(rate * wte / 12)
        per_segment = sum((seg.quantize(PENNY, rounding=ROUND_HALF_UP) for seg in segments), Decimal(0))
        at_end = sum(segments, Decimal(0)).quantize(PENNY, rounding=ROUND_HALF_UP)
        if per_segment != at_end:
            raise AmountError(f"rounding-sensitive: {per_segment} per segment vs {at_end} at the end")
        return [_money(at_end)]
    if spec.operation == "pcn_sum":
        assert spec.population and spec.year
        parts = [part for part in ("main", "gp") if (spec.year, part) in multipliers]
        if not parts:
            raise AmountError(f"no multiplier for {spec.year}")
        return [_money(multipliers[(spec.year, part)] * spec.population) for part in parts]
    raise AmountError(f"operation {spec.operation!r} has no independent check")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals.amounts", description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when a recorded amount is wrong")
    args = parser.parse_args(argv)
    rows, multipliers = load_rows(), load_multipliers()
    problems = 0
    for case in load_gold():
        for index, turn in enumerate(case.turns, start=1):
            spec = turn.calculation
            if spec is None or spec.amount is None:
                continue
            try:
                amounts = expected_amounts(spec, rows, multipliers)
            except AmountError as exc:
                print(f"{case.id} turn {index}: {exc}")
                problems += 1
                continue
            ok = amounts[0] == spec.amount
            problems += not ok
            if not args.check or not ok:
                print(
                    f"{'ok ' if ok else 'BAD'} {case.id} turn {index}: recorded {spec.amount}, table {amounts}"
                )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
