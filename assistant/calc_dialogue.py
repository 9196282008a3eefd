"""Routing money questions to the deterministic calculator and saying the result with its sources.

Reads the operation and its inputs from the question and the conversation; when a required input
is missing it asks one short question and finishes on the next turn. Every figure in the reply is
formatted from a calculator result; every rate is cited to its rate-table row and source URL.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from assistant import messages, years
from assistant.calc_errors import CalculatorError
from assistant.calc_models import CalcResult, ClaimRequest, PlannedPost
from assistant.calculator import affordable_wte, claim, employment_cost, headroom, pcn_sum
from assistant.models import Citation, Intent, SourceType
from assistant.query import _NUMBER_WORDS, QuerySlots
from assistant.rates import Area, RateRow, RateTables

if TYPE_CHECKING:
    from assistant.chain import Assistant, Draft
    from assistant.memory import SessionState

RATE_TABLE_ID = "rate-table"
RATE_TABLE_TITLE = "Maximum reimbursable amounts (rate table)"
_RATE_WORDS = re.compile(
    r"\b(max(?:imum)?s?|rates?|how much|amounts?|worth|figures?|reimburs\w* (?:amount|rate|up to)|"
    r"how much (?:can|could|do|does|will) (?:we|i|a pcn|you) (?:claim|get|reclaim)|paid up to|£|"
    r"the most (?:we|i|a pcn|you) (?:can|could) (?:claim|get|reclaim)|get back|claim back|reclaim)",
    re.I,
)
_MAX_WORDS = re.compile(r"\b(max(?:imum)?s?|rates?|cap|ceiling|the most (?:we|i|you) can)\b", re.I)
_NOT_RATE = re.compile(
    r"\b(cap on (?:the )?number|how many (?:roles|staff|posts)|band (?:is|are|for)\b(?!.*£))", re.I
)
_SUM_WORDS = re.compile(
    r"\b(sum|allocation|entitlement|envelope|pot|budget for the year|arrs funding)\b", re.I
)
_HEADROOM_WORDS = re.compile(
    r"\b(headroom|left (?:over )?after|remaining after|room (?:left|for)|spare after)\b", re.I
)
_AFFORD_WORDS = re.compile(r"\b(afford|how many|fund(?:s)? how many|buy|pay for)\b", re.I)
_COST_WORDS = re.compile(
    r"\b(cost|costs|on-?costs?|employer (?:ni|national insurance|pension)|total)\b", re.I
)
_COUNT = re.compile(
    r"\b(\d+(?:\.\d+)?|a|an|one|two|three|four|five|six|seven|eight|nine|ten)\s+(?:x\s+)?(?:(?:full[- ]time|wte|fte)\s+)?$",
    re.I,
)


def tables_for(assistant: Assistant) -> RateTables:
    if assistant._calculator is None:
        assistant._calculator = RateTables.load(assistant.settings.rates_dir, assistant.roles)
    return assistant._calculator


def decide(text: str, slots: QuerySlots, lookup_only: bool = False) -> str | None:
    """Which calculation a message asks for, or None when it is not a calculation."""
    if lookup_only:
        if slots.role_ids and _RATE_WORDS.search(text) and not _NOT_RATE.search(text):
            return "max_amount"
        return None
    if slots.population is not None:
        return (
            "headroom"
            if (
                _HEADROOM_WORDS.search(text)
                or (
                    len(slots.role_ids)
                    and slots.budget is None
                    and re.search(r"\b(after|plan|planned|posts?)\b", text, re.I)
                )
            )
            else "pcn_sum"
        )
    if slots.budget is not None and slots.role_ids:
        return "afford"
    if slots.salary is not None and (
        not slots.role_ids
        or (_COST_WORDS.search(text) and not (slots.wte or slots.hours_per_week or slots.start))
    ):
        return "employment_cost"
    workload = slots.wte or slots.hours_per_week or slots.sessions_per_week
    money = slots.salary or slots.actual_annual_cost or slots.actual_monthly_cost
    if slots.role_ids and not workload and not money and _MAX_WORDS.search(text):
        return "max_amount"  # "max for an EPN in April 2024": a look-up on that date, not a claim
    if slots.role_ids and (workload or money or slots.start):
        return "claim"
    if slots.role_ids and _RATE_WORDS.search(text):
        return "max_amount"
    if _SUM_WORDS.search(text) and re.search(r"\b(our|my|the pcn'?s?)\b", text, re.I):
        return "pcn_sum"
    if slots.budget is not None and _AFFORD_WORDS.search(text):
        return "afford"
    return None


def _missing(operation: str, slots: QuerySlots) -> tuple[str, str] | None:
    """(slot, one short question) for the first required input not yet known."""
    if operation in {"claim", "max_amount", "afford"} and not slots.role_ids:
        return "role", "Which role is this for (for example pharmacy technician or paramedic)?"
    if operation == "claim" and not (slots.wte or slots.hours_per_week or slots.sessions_per_week):
        return "wte", "What whole-time equivalent is the post (for example 0.6 WTE, or 22.5 hours a week)?"
    if operation == "claim" and not (slots.start or slots.financial_year):
        return (
            "period",
            "For which period: a financial year such as 2024/25, or dates such as October 2024 to March 2025?",
        )
    if operation in {"pcn_sum", "headroom"} and slots.population is None:
        return "population", "What is the PCN's weighted population (for example 52,000)?"
    if operation in {"pcn_sum", "headroom", "afford"} and not slots.financial_year:
        return "year", "For which financial year (for example 2025/26)?"
    if operation == "afford" and slots.budget is None:
        return "budget", "What budget do you have in mind (for example £200,000)?"
    if slots.area == "london" and operation in {"claim", "afford", "max_amount"}:
        return "area", "Inner London or outer London?"
    return None


def respond(
    assistant: Assistant,
    text: str,
    slots: QuerySlots,
    state: SessionState,
    *,
    operation: str | None = None,
    lookup_only: bool = False,
) -> Draft | None:
    from assistant.chain import Draft

    operation = operation or decide(text, slots, lookup_only)
    if operation is None:
        return None
    if len(slots.role_ids) > 1 and operation in {"claim", "afford"}:
        return _ask(
            state,
            operation,
            slots,
            "role",
            "Which one role should I calculate for? One at a time, please.",
        )
    missing = _missing(operation, slots)
    if missing is not None:
        return _ask(state, operation, slots, *missing)
    tables = tables_for(assistant)
    today = assistant.settings.current_date()
    intent = Intent.FAQ if operation == "max_amount" else Intent.CALCULATION
    state.pending = None
    state.last_question, state.last_operation, state.last_intent = text, operation, intent.value
    state.slots = slots.model_dump(mode="json")
    try:
        if operation == "max_amount":
            return _max_amounts(tables, slots, today, intent)
        result = _run(operation, tables, slots, today, text)
    except CalculatorError as exc:
        return Draft(
            f"{exc}\n\n{messages.CONSULTATION_OFFER}",
            intent,
            grounded=False,
            calculation={"kind": operation, "error": str(exc)},
            financial_year=slots.financial_year,
        )
    return _explain(result, tables, intent)


def _ask(state: SessionState, operation: str, slots: QuerySlots, slot: str, question: str) -> Draft:
    from assistant.chain import Draft

    state.pending = {
        "kind": "calculation",
        "operation": operation,
        "missing": slot,
        "slots": slots.model_dump(mode="json"),
    }
    state.last_intent = Intent.CALCULATION.value
    return Draft(question, Intent.CALCULATION, grounded=False, financial_year=slots.financial_year)


def _area(slots: QuerySlots) -> Area:
    if slots.area in (None, "national"):
        return Area.NATIONAL
    if slots.area == "london":
        return Area.INNER_LONDON
    return Area(slots.area)


def _period(slots: QuerySlots) -> tuple[date, date]:
    if slots.start:
        end = slots.end or years.bounds(years.of_date(slots.start))[1]
        return slots.start, end
    assert slots.financial_year
    return years.bounds(slots.financial_year)


def _run(operation: str, tables: RateTables, slots: QuerySlots, today: date, text: str = "") -> CalcResult:
    if operation == "pcn_sum":
        return pcn_sum(tables, slots.population, slots.financial_year)
    if operation == "headroom":
        return headroom(tables, slots.population, slots.financial_year, _posts(slots, text, tables))
    if operation == "afford":
        return affordable_wte(
            tables,
            slots.budget,
            slots.role_ids[0],
            financial_year=slots.financial_year,
            area=_area(slots),
            band=slots.band,
        )
    if operation == "employment_cost":
        on = years.bounds(slots.financial_year)[0].replace(day=6) if slots.financial_year else today
        return employment_cost(tables, slots.salary, on, include_levy=slots.include_levy)
    start, end = _period(slots)
    annual_cost = slots.actual_annual_cost
    if slots.salary is not None and annual_cost is None and slots.actual_monthly_cost is None:
        annual_cost = employment_cost(
            tables, slots.salary, start, include_levy=slots.include_levy
        ).result.total
    request = ClaimRequest(
        role=slots.role_ids[0],
        start=start,
        end=end,
        wte=slots.wte,
        hours_per_week=None if slots.wte else slots.hours_per_week,
        sessions_per_week=None if (slots.wte or slots.hours_per_week) else slots.sessions_per_week,
        area=_area(slots),
        band=slots.band,
        actual_annual_cost=annual_cost,
        actual_monthly_cost=slots.actual_monthly_cost,
    )
    return claim(tables, request)


def _posts(slots: QuerySlots, text: str, tables: RateTables) -> list[PlannedPost]:
    posts = parse_posts(text, slots.role_ids, tables) if text else []
    if posts:
        return [
            PlannedPost(role=p["role_id"], count=p["count"], wte=p["wte"], area=_area(slots)) for p in posts
        ]
    return [PlannedPost(role=role_id, area=_area(slots)) for role_id in slots.role_ids]


def _first_mention(text: str, role) -> int | None:
    phrases = [role.name.lower(), *role.synonyms]
    positions = [
        m.start() for phrase in phrases for m in re.finditer(rf"(?<![a-z]){re.escape(phrase)}", text, re.I)
    ]
    positions += [
        m.start() for abbr in role.abbreviations for m in re.finditer(rf"(?<![A-Za-z]){abbr}s?\b", text)
    ]
    return min(positions) if positions else None


def parse_posts(text: str, role_ids: list[str], tables: RateTables) -> list[dict[str, Any]]:
    """'two pharmacists and a 0.5 WTE paramedic' -> posts with counts and WTE."""
    posts = []
    for role_id in role_ids:
        start = _first_mention(text, tables.roles.get(role_id))
        if start is None:
            continue
        count, wte = 1, Decimal(1)
        before = text[max(0, start - 30) : start]
        count, wte = 1, Decimal(1)
        if match := re.search(r"(\d*\.?\d+)\s*(?:wte|fte)\s+$", before, re.I):
            wte = Decimal(match.group(1))
            before = before[: match.start()]
        if match := _COUNT.search(before):
            token = match.group(1).lower()
            count = _NUMBER_WORDS.get(token) or int(Decimal(token))
        posts.append({"role_id": role_id, "count": max(count, 1), "wte": wte})
    return posts


# Saying the result ---------------------------------------------------------------------------------------
def _money(value: Decimal | str, pence: bool = False) -> str:
    """Rates print as published (whole pounds); computed amounts always show pence."""
    amount = Decimal(str(value))
    if pence or amount != amount.to_integral_value():
        return f"£{amount:,.2f}"
    return f"£{amount:,.0f}"


def _article(noun: str) -> str:
    return f"an {noun}" if noun[:1].lower() in "aeiou" else f"a {noun}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _row_quote(row: RateRow, role_name: str) -> str:
    parts = [f"national {_money(row.national)}" if row.national is not None else "national not held"]
    parts.append(
        f"outer London {_money(row.outer_london)}"
        if row.outer_london is not None
        else "outer London not held"
    )
    parts.append(
        f"inner London {_money(row.inner_london)}"
        if row.inner_london is not None
        else "inner London not held"
    )
    share = f"; reimburses {row.reimbursement_share:.0%} of cost" if row.reimbursement_share != 1 else ""
    return (
        f"{row.financial_year}, {role_name}, band {row.band}, {_day(row.effective_from)} to {_day(row.effective_to)}: "
        f"{'; '.join(parts)} per 1.0 WTE per year{share} ({row.status.value.replace('_', ' ')})."
    )


class _Citations:
    def __init__(self) -> None:
        self.items: list[Citation] = []
        self._keys: dict[str, int] = {}

    def cite(
        self,
        key: str,
        *,
        url: str,
        quote: str,
        section: str,
        title: str = RATE_TABLE_TITLE,
        doc_id: str = RATE_TABLE_ID,
    ) -> int:
        if key in self._keys:
            return self._keys[key]
        number = len(self.items) + 1
        self._keys[key] = number
        self.items.append(
            Citation(
                n=number,
                doc_id=doc_id,
                title=title,
                section=section,
                url=url,
                quote=quote,
                source_type=SourceType.RATES,
            )
        )
        return number

    def row(self, tables: RateTables, row: RateRow) -> int:
        role_name = tables.roles.get(row.role_id).name
        key = f"{row.role_id}|{row.band}|{row.effective_from}"
        section = f"{row.financial_year}: {role_name.lower()}"
        return self.cite(key, url=row.source_url, quote=_row_quote(row, role_name), section=section)


def _find_row(tables: RateTables, role_id: str, band: str, effective_from: date) -> RateRow | None:
    return next(
        (r for r in tables.rows_for(role_id) if r.band == band and r.effective_from == effective_from), None
    )


def _caveats(rows: list[RateRow]) -> list[str]:
    notes = []
    for row in rows:
        if row.status.value == "inferred_from_band":
            notes.append(
                f"The {row.financial_year} figure from {_day(row.effective_from)} is inferred from another role's "
                f"published figure at band {row.band}; no source states it for this role."
            )
        elif row.status.value == "unverified":
            notes.append(
                f"The figure from {_day(row.effective_from)} is unverified: {row.note}".rstrip(". ") + "."
            )
        if row.financial_year == "2025/26":
            notes.append(
                "2025/26 figures are those published in March 2025; NHS England later raised all 2025/26 maxima for "
                "the pay award, backdated to 1 April 2025, and the raised figures are not held."
            )
    return list(dict.fromkeys(notes))


def _max_amounts(tables: RateTables, slots: QuerySlots, today: date, intent: Intent) -> Draft:
    """Every period held for the role in the year asked, or the latest year held when none is held.
    Figures are the rate-table rows themselves, the same rows ``calculator.max_amount`` reads."""
    from assistant.chain import Draft

    role = tables.roles.get(slots.role_ids[0])
    named = slots.financial_year or (years.of_date(slots.start) if slots.start else None)
    fy = named or years.of_date(today)
    rows = [r for r in tables.rows_for(role.id) if r.financial_year == fy]
    if slots.start and not slots.end and rows:
        on_day = [r for r in rows if r.covers(slots.start)]
        rows = on_day or rows
    if slots.band:
        rows = [r for r in rows if r.band.replace(" ", "") == slots.band or slots.band in r.band]
    lead = ""
    if not rows:
        held = sorted({r.financial_year for r in tables.rows_for(role.id)})
        if not held:
            return Draft(
                f"No maximum reimbursable amount is held for {role.name.lower()} in any year. "
                f"{messages.CONSULTATION_OFFER}",
                intent,
                grounded=False,
                financial_year=fy,
            )
        lead = (
            f"No maximum reimbursable amount for {role.name.lower()} is held for {fy}"
            f"{'' if named else ' (the current financial year)'}; figures are never estimated. "
        )
        if named:
            lead += f"Years held for this role: {', '.join(held)}. "
        fy = held[-1]
        rows = [r for r in tables.rows_for(role.id) if r.financial_year == fy]
        lead += f"The latest held are for {fy}: "
    book = _Citations()
    area = _area(slots)
    sentences = []
    for row in sorted(rows, key=lambda r: (r.effective_from, r.band)):
        number = book.row(tables, row)
        period = f"from {_day(row.effective_from)} to {_day(row.effective_to)}"
        figures = _area_figures(row, area if slots.area else None)
        sentences.append(
            f"The maximum reimbursable amount for {_article(role.name.lower())} (band {row.band}) {period} is {figures} "
            f"per 1.0 WTE per year, including employer on-costs [{number}]."
        )
    gaps = _gaps(rows, fy)
    if gaps:
        sentences.append(f"No figure is held for {gaps}; figures are never estimated.")
    caveats = [f"{note} [{book.row(tables, row)}]" for row in rows for note in _caveats([row])]
    caveats = list(dict.fromkeys(caveats))
    text = lead + " ".join(sentences)
    if caveats:
        text += "\n\n" + " ".join(caveats)
    text += "\n\n" + messages.year_note(fy, named=bool(named))
    calculation = {
        "kind": "max_amount",
        "inputs": {"role_id": role.id, "role_name": role.name, "financial_year": fy, "area": area.value},
        "result": [
            {
                "band": r.band,
                "effective_from": r.effective_from.isoformat(),
                "effective_to": r.effective_to.isoformat(),
                "national": _str(r.national),
                "outer_london": _str(r.outer_london),
                "inner_london": _str(r.inner_london),
                "status": r.status.value,
                "source_url": r.source_url,
            }
            for r in rows
        ],
        "breakdown": [],
        "sources": sorted({r.source_url for r in rows}),
    }
    return Draft(
        text, intent, grounded=True, citations=book.items, calculation=calculation, financial_year=fy
    )


def _gaps(rows: list[RateRow], fy: str) -> str:
    """The parts of the financial year no held row covers, as words."""
    start, end = years.bounds(fy)
    covered = sorted((r.effective_from, r.effective_to) for r in rows)
    gaps, cursor = [], start
    for first, last in covered:
        if first > cursor:
            gaps.append((cursor, first - timedelta(days=1)))
        cursor = max(cursor, last + timedelta(days=1))
    if cursor <= end:
        gaps.append((cursor, end))
    return " and ".join(f"{_day(a)} to {_day(b)}" for a, b in gaps)


def _str(value: Decimal | None) -> str | None:
    return f"{value:.2f}" if value is not None else None


def _area_figures(row: RateRow, area: Area | None) -> str:
    if area is not None and area is not Area.NATIONAL:
        amount = row.amount(area)
        if amount is None:
            return (
                f"not held for {area.label} (national {_money(row.national)})" if row.national else "not held"
            )
        return f"{_money(amount)} in {area.label}"
    parts = [f"{_money(row.national)} nationally"] if row.national is not None else []
    if row.outer_london is not None and row.inner_london is not None and row.outer_london == row.inner_london:
        parts.append(f"{_money(row.outer_london)} in London (a single London figure)")
    else:
        if row.outer_london is not None:
            parts.append(f"{_money(row.outer_london)} in outer London")
        if row.inner_london is not None:
            parts.append(f"{_money(row.inner_london)} in inner London")
    if len(parts) == 1:
        return parts[0] + " (London figures not held)"
    return ", ".join(parts[:-1]) + " and " + parts[-1]


def _explain(result: CalcResult, tables: RateTables, intent: Intent) -> Draft:
    from assistant.chain import Draft

    book = _Citations()
    kind = result.kind
    if kind == "claim":
        text, fy = _explain_claim(result, tables, book)
    elif kind == "pcn_sum":
        text, fy = _explain_sum(result, book)
    elif kind == "headroom":
        text, fy = _explain_headroom(result, tables, book)
    elif kind == "afford":
        text, fy = _explain_afford(result, tables, book)
    else:
        text, fy = _explain_cost(result, book)
    if result.assumptions:
        text += "\n\nAssumptions: " + " ".join(result.assumptions)
    if fy:
        text += "\n\n" + messages.year_note(fy, named=True)
    return Draft(
        text, intent, grounded=True, citations=book.items, calculation=result.to_dict(), financial_year=fy
    )


def _explain_claim(result, tables: RateTables, book: _Citations) -> tuple[str, str]:
    inputs, figures = result.inputs, result.result
    rows = [
        _find_row(tables, inputs.role_id, seg.band, _segment_row_start(tables, inputs.role_id, seg))
        for seg in result.breakdown
    ]
    markers = []
    for row in rows:
        if row is not None:
            markers.append(book.row(tables, row))
    cite = "".join(f"[{n}]" for n in dict.fromkeys(markers))
    area = inputs.area.label if hasattr(inputs.area, "label") else str(inputs.area)
    text = (
        f"For {_article(inputs.role_name.lower())} at {inputs.wte.normalize():f} WTE from {_day(inputs.start)} to "
        f"{_day(inputs.end)} ({area}), the most you can claim is **{_money(figures.claim, pence=True)}** {cite}."
    )
    if figures.actual is not None:
        lower = "the actual cost" if figures.actual <= figures.cap else "the cap"
        text += (
            f" The cap over the period is {_money(figures.cap, True)} and the actual cost {_money(figures.actual, True)}, "
            f"so the claim is limited by {lower}."
        )
    rates = "; ".join(
        f"{_money(seg.annual_rate)} a year from {_day(seg.start)} to {_day(seg.end)} [{book.row(tables, row)}]"
        for seg, row in zip(result.breakdown, rows, strict=True)
        if row is not None
    )
    text += f"\n\nFormula: {result.formula}\n\nRates used: {rates}."
    caveats = _caveats([row for row in rows if row is not None])
    if caveats:
        text += "\n\n" + " ".join(caveats)
    return text, years.of_date(inputs.start)


def _segment_row_start(tables: RateTables, role_id: str, segment) -> date:
    row = next(
        (r for r in tables.rows_for(role_id) if r.band == segment.band and r.covers(segment.start)), None
    )
    return row.effective_from if row else segment.start


def _explain_sum(result, book: _Citations) -> tuple[str, str]:
    inputs, figures = result.inputs, result.result
    pop = f"{inputs.weighted_population:,.0f}"
    parts = []
    for part in result.breakdown:
        number = book.cite(
            f"sum|{inputs.financial_year}|{part.part}",
            url=part.source_url,
            section=f"{inputs.financial_year}: {'GP part' if part.part == 'gp' else 'main sum'}",
            title="PCN ARRS sum multipliers (rate table)",
            quote=(
                f"{inputs.financial_year} {'GP part' if part.part == 'gp' else 'main sum'}: "
                f"£{part.per_weighted_patient} per weighted patient, population at {_day(part.population_date)}, "
                f"covering {_day(part.covers_from)} to {_day(part.covers_to)}."
            ),
        )
        label = "The GP part (ring-fenced)" if part.part == "gp" else "The main ARRS sum"
        parts.append(
            f"{label} is {pop} × £{part.per_weighted_patient} = **{_money(part.amount, True)}** [{number}]."
        )
    text = f"For a PCN with a weighted population of {pop} in {inputs.financial_year}: " + " ".join(parts)
    if figures.gp is not None:
        text += f" Together: {_money(figures.total, True)}."
    return text, inputs.financial_year


def _explain_headroom(result, tables: RateTables, book: _Citations) -> tuple[str, str]:
    inputs, figures = result.inputs, result.result
    lines = []
    for post in result.breakdown:
        markers = []
        for ref in post.rates:
            row = _find_row(tables, ref.role_id, ref.band, ref.effective_from)
            if row is not None:
                markers.append(book.row(tables, row))
        cite = "".join(f"[{n}]" for n in dict.fromkeys(markers))
        gap = f" (no rate held for: {', '.join(post.not_held)})" if post.not_held else ""
        lines.append(
            f"- {post.count} × {post.wte.normalize():f} WTE {post.role_name.lower()}: {_money(post.cost, True)} {cite}{gap}"
        )
    text = (
        f"For {inputs.financial_year}, the main ARRS sum is {_money(figures.available_main, True)}; the planned "
        f"posts, costed at the maximum amounts held, use {_money(figures.committed_main, True)}, leaving "
        f"**{_money(figures.headroom_main, True)}**."
    )
    if figures.available_gp is not None:
        text += f" GP part: {_money(figures.available_gp, True)} available, {_money(figures.headroom_gp, True)} left."
    if not figures.complete:
        text += " Some months have no rate held, so the cost is incomplete and the headroom overstated."
    return text + "\n" + "\n".join(lines), inputs.financial_year


def _explain_afford(result, tables: RateTables, book: _Citations) -> tuple[str, str]:
    inputs, figures = result.inputs, result.result
    markers = []
    for ref in result.breakdown:
        row = _find_row(tables, ref.role_id, ref.band, ref.effective_from)
        if row is not None:
            markers.append(book.row(tables, row))
    cite = "".join(f"[{n}]" for n in dict.fromkeys(markers))
    fy = inputs.financial_year or years.of_date(inputs.on)
    text = (
        f"A budget of {_money(inputs.budget, True)} funds **{figures.wte:f} WTE** of {inputs.role_name.lower()} in "
        f"{fy}, at {_money(figures.cost_per_wte, True)} per 1.0 WTE at the maximum reimbursable amounts held {cite}."
    )
    if not figures.full_year:
        text += (
            f" Rates are held for {figures.months_covered} month(s) of the year only ({', '.join(figures.covered)}); "
            f"not held: {', '.join(figures.not_held)}."
        )
    return text, fy


_COMPONENT_NAMES = {
    "salary": "salary",
    "employer_ni": "employer National Insurance",
    "pension": "employer pension",
    "levy": "apprenticeship levy",
}


def _explain_cost(result, book: _Citations) -> tuple[str, str]:
    inputs, figures = result.inputs, result.result
    parts = []
    for component in result.breakdown:
        if component.amount == 0 and component.name.lower().startswith("apprenticeship"):
            continue
        number = None
        if component.source_url:
            number = book.cite(
                f"cost|{component.name}",
                url=component.source_url,
                doc_id="on-costs-table",
                title="Employer on-cost parameters (rate table)",
                section=f"{component.name}, tax year {inputs.tax_year}",
                quote=(
                    f"{component.name}: rate {component.rate:.2%}"
                    + (
                        f" above {_money(component.threshold)} a year"
                        if component.threshold is not None
                        else ""
                    )
                    + f" (tax year {inputs.tax_year}, {component.status.replace('_', ' ')})."
                    if component.rate is not None
                    else f"{component.name} ({component.status})."
                ),
            )
        marker = f" [{number}]" if number else ""
        name = _COMPONENT_NAMES.get(component.name, component.name.replace("_", " "))
        parts.append(f"{name} {_money(component.amount, True)}{marker}")
    text = (
        f"A salary of {_money(figures.salary, True)} costs the employer **{_money(figures.total, True)}** a year "
        f"(tax year {inputs.tax_year}): " + "; ".join(parts) + "."
    )
    return text, years.of_date(inputs.on)
