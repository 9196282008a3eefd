"""The calculator on the command line: ``arrs calc claim|sum|afford|cost|max|headroom`` and ``arrs rates``.

``--json`` prints exactly the result's ``to_json()`` (what ``POST /api/calculate`` returns); a bad
input exits non-zero with the error message on stderr.
"""

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import typer
from rich import box
from rich.console import Console
from rich.table import Table

from assistant.calculator import (
    CalcResult,
    CalculatorError,
    ClaimRequest,
    PlannedPost,
    affordable_wte,
    claim,
    employment_cost,
    headroom,
    max_amount,
    pcn_sum,
)
from assistant.rates import Area, RateTables, row_json, select_rows
from assistant.roles import RoleCatalogue
from assistant.settings import Settings

calc_app = typer.Typer(
    help="Deterministic ARRS arithmetic over the cited rate tables (corpus/rates/).", no_args_is_help=True
)
DATE_FORMATS = ["%Y-%m-%d"]
JSON_HELP = "Print the result as JSON (money as strings with two decimals)."


def load_tables() -> RateTables:
    settings = Settings()
    return RateTables.load(settings.rates_dir, RoleCatalogue.load(settings.roles_file))


@contextmanager
def _errors() -> Iterator[None]:
    """Calculator errors become a message on stderr and exit code 1."""
    try:
        yield
    except CalculatorError as exc:
        typer.echo(f"Error: {exc}", err=True)
        raise typer.Exit(1) from None


def _decimal(value: str | None, name: str) -> Decimal | None:
    if value is None:
        return None
    try:
        number = Decimal(value.replace(",", "").replace("£", "").strip())
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not a number", param_hint=name) from None
    if not number.is_finite():
        raise typer.BadParameter(f"{value!r} is not a number", param_hint=name)
    return number


def _day(value: datetime | None) -> date | None:
    return value.date() if value else None


def _pounds(value: Decimal | None) -> str:
    """Whole pounds without pence (the published maxima); pence only when there are some."""
    if value is None:
        return ""
    return f"£{value:,.0f}" if value == value.to_integral_value() else f"£{value:,.2f}"


def _money(value: Any) -> str:
    return "" if value is None else f"£{Decimal(value):,.2f}"


def _emit(result: CalcResult, as_json: bool, headline: str, columns: list[tuple[str, str]]) -> None:
    if as_json:
        typer.echo(result.to_json())
        return
    console = Console()
    console.print(f"[bold]{headline}[/bold]", highlight=False)
    console.print(result.formula, style="dim", highlight=False)
    rows = [item.model_dump() for item in getattr(result, "breakdown", [])]
    if rows and columns:
        _print_rows(
            console,
            [title for _, title in columns],
            [[_cell(k, row.get(k)) for k, _ in columns] for row in rows],
        )
    if result.assumptions:
        console.print("[bold]Assumptions[/bold]")
        for sentence in result.assumptions:
            console.print(f"- {sentence}", highlight=False, markup=False)
    if result.sources:
        console.print("[bold]Sources[/bold]")
        for source in result.sources:
            console.print(f"- {source.title} ({source.status.replace('_', ' ')}): {source.url}", markup=False)


def _print_rows(console: Console, titles: list[str], rows: list[list[str]], title: str | None = None) -> None:
    """A table when it fits the terminal; otherwise one line per row, so no figure is ever cut short."""
    widths = [max(len(t), *(len(r[i]) for r in rows)) for i, t in enumerate(titles)]
    if sum(widths) + 3 * len(widths) <= console.width:
        table = Table(*titles, title=title, box=box.SIMPLE_HEAD, pad_edge=False)
        for column in table.columns:
            column.no_wrap = True
        for row in rows:
            table.add_row(*row)
        console.print(table)
        return
    if title:
        console.print(f"[bold]{title}[/bold]", highlight=False)
    for row in rows:
        console.print(
            "- " + "; ".join(f"{t}: {v}" for t, v in zip(titles, row, strict=True) if v), highlight=False
        )


_MONEY_KEYS = {
    "annual",
    "annual_rate",
    "monthly_cap",
    "cap",
    "actual",
    "claim",
    "amount",
    "base",
    "cost",
    "threshold",
}


def _cell(key: str, value: Any) -> str:
    if key in _MONEY_KEYS:
        return _money(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value)
    if value is None:
        return ""
    return str(getattr(value, "value", value))


def _run(
    as_json: bool, compute: Callable[[], CalcResult], headline: Callable[[Any], str], columns: list
) -> None:
    with _errors():
        result = compute()
    _emit(result, as_json, headline(result), columns)


@calc_app.command("claim")
def claim_command(
    role: str = typer.Option(
        ..., "--role", help="Role name, id or abbreviation, e.g. 'pharmacy technician'."
    ),
    start: datetime = typer.Option(
        ..., "--from", formats=DATE_FORMATS, help="First day claimed (YYYY-MM-DD)."
    ),
    end: datetime = typer.Option(..., "--to", formats=DATE_FORMATS, help="Last day claimed (YYYY-MM-DD)."),
    wte: str | None = typer.Option(None, "--wte", help="Whole-time equivalent in (0, 1]."),
    hours: str | None = typer.Option(None, "--hours", help="Hours a week (37.5 = 1.0 WTE)."),
    sessions: str | None = typer.Option(None, "--sessions", help="GP sessions a week (9 = 1.0 WTE)."),
    area: Area = typer.Option(Area.NATIONAL, "--area", help="national, outer_london or inner_london."),
    band: str | None = typer.Option(None, "--band", help="Band, when more than one is held (e.g. 6)."),
    actual_annual_cost: str | None = typer.Option(
        None, "--actual-annual-cost", help="Salary + on-costs a year."
    ),
    actual_monthly_cost: str | None = typer.Option(
        None, "--actual-monthly-cost", help="Salary + on-costs a month."
    ),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The claimable amount for a role over a period, month by month."""
    request = ClaimRequest(
        role=role,
        start=start.date(),
        end=end.date(),
        wte=_decimal(wte, "--wte"),
        hours_per_week=_decimal(hours, "--hours"),
        sessions_per_week=_decimal(sessions, "--sessions"),
        area=area,
        band=band,
        actual_annual_cost=_decimal(actual_annual_cost, "--actual-annual-cost"),
        actual_monthly_cost=_decimal(actual_monthly_cost, "--actual-monthly-cost"),
    )
    _run(
        as_json,
        lambda: claim(load_tables(), request),
        lambda r: (
            f"Claimable: {_money(r.result.claim)} for {r.inputs.role_name.lower()} at {r.inputs.wte.normalize():f}"
            f" WTE ({r.inputs.area.label}), {r.inputs.start} to {r.inputs.end}"
        ),
        [
            ("start", "From"),
            ("end", "To"),
            ("months", "Months"),
            ("annual_rate", "Annual max"),
            ("cap", "Cap"),
            ("actual", "Actual"),
            ("claim", "Claim"),
        ],
    )


@calc_app.command("sum")
def sum_command(
    population: str = typer.Option(..., "--population", help="PCN weighted population."),
    year: str = typer.Option(..., "--year", help="Financial year, e.g. 2025/26."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The PCN's Additional Roles Reimbursement Sum for a year."""
    number = _decimal(population, "--population")
    _run(
        as_json,
        lambda: pcn_sum(load_tables(), number or Decimal(0), year),
        lambda r: f"ARRS sum {r.inputs.financial_year}: {_money(r.result.total)}",
        [
            ("part", "Part"),
            ("per_weighted_patient", "£ per weighted patient"),
            ("covers_from", "From"),
            ("covers_to", "To"),
            ("amount", "Amount"),
        ],
    )


@calc_app.command("afford")
def afford_command(
    budget: str = typer.Option(..., "--budget", help="Budget in pounds."),
    role: str = typer.Option(..., "--role", help="Role name, id or abbreviation."),
    year: str | None = typer.Option(None, "--year", help="Financial year, e.g. 2025/26."),
    on: datetime | None = typer.Option(
        None, "--on", formats=DATE_FORMATS, help="Use the rate in force on a date."
    ),
    area: Area = typer.Option(Area.NATIONAL, "--area"),
    band: str | None = typer.Option(None, "--band"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """How many WTE of a role a budget funds for a year."""
    money = _decimal(budget, "--budget") or Decimal(0)
    _run(
        as_json,
        lambda: affordable_wte(
            load_tables(), money, role, financial_year=year, on=_day(on), area=area, band=band
        ),
        lambda r: (
            f"{_money(r.inputs.budget)} funds {r.result.wte} WTE of {r.inputs.role_name.lower()} "
            f"({_money(r.result.cost_per_wte)} per 1.0 WTE"
            + ("" if r.result.full_year else f", {r.result.months_covered} months held")
            + ")"
        ),
        [
            ("effective_from", "From"),
            ("effective_to", "To"),
            ("band", "Band"),
            ("annual", "Annual max"),
            ("status", "Status"),
        ],
    )


@calc_app.command("cost")
def cost_command(
    salary: str = typer.Option(..., "--salary", help="Annual salary in pounds."),
    on: datetime = typer.Option(
        ..., "--on", formats=DATE_FORMATS, help="Date whose NI and pension rates apply."
    ),
    levy: bool = typer.Option(False, "--levy", help="Add the 0.5% apprenticeship levy."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The employment cost of a salary: employer NI, employer pension and optionally the levy."""
    money = _decimal(salary, "--salary") or Decimal(0)
    _run(
        as_json,
        lambda: employment_cost(load_tables(), money, on.date(), include_levy=levy),
        lambda r: f"Employment cost: {_money(r.result.total)} a year ({r.inputs.tax_year} rates)",
        [
            ("name", "Part"),
            ("base", "On"),
            ("rate", "Rate"),
            ("threshold", "Threshold"),
            ("amount", "Amount"),
        ],
    )


@calc_app.command("max")
def max_command(
    role: str = typer.Option(..., "--role", help="Role name, id or abbreviation."),
    on: datetime = typer.Option(..., "--on", formats=DATE_FORMATS, help="Date (YYYY-MM-DD)."),
    area: Area = typer.Option(Area.NATIONAL, "--area"),
    band: str | None = typer.Option(None, "--band"),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """The maximum reimbursable amount per 1.0 WTE per year in force on a date."""
    _run(
        as_json,
        lambda: max_amount(load_tables(), role, on.date(), area, band),
        lambda r: (
            f"Maximum for {r.inputs.role_name.lower()} (band {r.result.band}, {r.inputs.area.label}) on "
            f"{r.inputs.on}: {_money(r.result.annual)} a year per 1.0 WTE"
        ),
        [("effective_from", "From"), ("effective_to", "To"), ("annual", "Annual max"), ("status", "Status")],
    )


def _post(spec: str) -> PlannedPost:
    """'ROLE[:WTE[:COUNT[:AREA]]]', e.g. 'pharmacy technician:0.6:2:inner_london'."""
    parts = [p.strip() for p in spec.split(":")]
    try:
        return PlannedPost(
            role=parts[0],
            wte=_decimal(parts[1], "--post") if len(parts) > 1 and parts[1] else Decimal(1),
            count=int(parts[2]) if len(parts) > 2 and parts[2] else 1,
            area=Area(parts[3]) if len(parts) > 3 and parts[3] else Area.NATIONAL,
        )
    except ValueError as exc:
        raise typer.BadParameter(
            f"{spec!r}: expected ROLE[:WTE[:COUNT[:AREA]]] ({exc})", param_hint="--post"
        ) from None


@calc_app.command("headroom")
def headroom_command(
    population: str = typer.Option(..., "--population", help="PCN weighted population."),
    year: str = typer.Option(..., "--year", help="Financial year, e.g. 2025/26."),
    post: list[str] = typer.Option([], "--post", help="ROLE[:WTE[:COUNT[:AREA]]], repeatable."),
    as_json: bool = typer.Option(False, "--json", help=JSON_HELP),
) -> None:
    """What is left of the PCN's ARRS sum after planned posts at the maxima in force."""
    number = _decimal(population, "--population") or Decimal(0)
    posts = [_post(spec) for spec in post]
    _run(
        as_json,
        lambda: headroom(load_tables(), number, year, posts),
        lambda r: (
            f"Headroom {r.inputs.financial_year}: {_money(r.result.headroom_total)}"
            + ("" if r.result.complete else " (some months not costed: see assumptions)")
        ),
        [
            ("role_name", "Role"),
            ("count", "Posts"),
            ("wte", "WTE"),
            ("part", "Part"),
            ("months_costed", "Months"),
            ("cost", "Cost"),
            ("not_held", "Not held"),
        ],
    )


def rates_command(
    role: str | None = typer.Option(None, "--role", help="Only this role (name, id or abbreviation)."),
    year: str | None = typer.Option(None, "--year", help="Only this financial year, e.g. 2024/25."),
    as_json: bool = typer.Option(False, "--json", help="Print the rows as JSON."),
) -> None:
    """List the maximum reimbursable amounts held, with status and source."""
    with _errors():
        tables = load_tables()
        rows = select_rows(tables, role, year)
    if as_json:
        typer.echo(json.dumps([row_json(r) for r in rows], indent=2))
        return
    console = Console()
    _print_rows(
        console,
        ["Period", "Role", "Band", "National", "Outer London", "Inner London", "Status"],
        [
            [
                f"{r.effective_from:%d %b %Y} to {r.effective_to:%d %b %Y}",
                tables.roles.get(r.role_id).name,
                r.band,
                _pounds(r.national),
                _pounds(r.outer_london),
                _pounds(r.inner_london),
                r.status.label,
            ]
            for r in rows
        ],
        title="ARRS maximum reimbursable amounts per 1.0 WTE per year, including employer on-costs",
    )
    console.print(
        "Empty = not held. Sources and notes: `arrs rates --json` or corpus/rates/max_reimbursement.csv."
    )
