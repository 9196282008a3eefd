"""The cited rate tables in corpus/rates/: loading, validation, look-ups and the generated document.

A figure that is not in the tables is not held: nothing here estimates, interpolates or carries
a rate beyond its effective period. Validation runs on load so that a bad edit to a CSV fails
loudly (file and line) instead of producing a wrong amount.

Regenerate corpus/guidance/maximum-amounts.md after editing the tables:
``python -m assistant.rates --render`` (``--check`` exits non-zero when it is stale).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from assistant import years
from assistant.calc_errors import InvalidYear, RateTableError, YearNotHeld
from assistant.roles import Role, RoleCatalogue

RATE_COLUMNS = (
    "financial_year",
    "effective_from",
    "effective_to",
    "role_id",
    "band",
    "national",
    "outer_london",
    "inner_london",
    "reimbursement_share",
    "status",
    "source_url",
    "note",
)
MULTIPLIER_COLUMNS = (
    "financial_year",
    "part",
    "per_weighted_patient",
    "population_date",
    "covers_from",
    "covers_to",
    "source_url",
    "note",
)
DOCUMENT_PATH = Path("guidance") / "maximum-amounts.md"  # relative to the corpus directory


class Area(StrEnum):
    NATIONAL = "national"
    OUTER_LONDON = "outer_london"
    INNER_LONDON = "inner_london"

    @property
    def label(self) -> str:
        return {"national": "national", "outer_london": "outer London", "inner_london": "inner London"}[
            self.value
        ]


class RateStatus(StrEnum):
    SECONDARY_SOURCE = "secondary_source"
    INFERRED_FROM_BAND = "inferred_from_band"
    UNVERIFIED = "unverified"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


class RateRow(BaseModel):
    """One maximum per 1.0 WTE per year (including employer on-costs) for a role, band and period."""

    model_config = ConfigDict(frozen=True)

    financial_year: str = Field(pattern=r"^20\d{2}/\d{2}$")
    effective_from: date
    effective_to: date
    role_id: str
    band: str
    national: Decimal | None = Field(default=None, ge=0)
    outer_london: Decimal | None = Field(default=None, ge=0)
    inner_london: Decimal | None = Field(default=None, ge=0)
    reimbursement_share: Decimal = Field(gt=0, le=1)
    status: RateStatus
    source_url: str = Field(pattern=r"^https?://")
    note: str = ""

    def amount(self, area: Area) -> Decimal | None:
        return getattr(self, area.value)

    def covers(self, day: date) -> bool:
        return self.effective_from <= day <= self.effective_to


class Multiplier(BaseModel):
    """Pounds per weighted patient for one part (main or the 2024/25 GP part) of the PCN's ARRS sum."""

    model_config = ConfigDict(frozen=True)

    financial_year: str = Field(pattern=r"^20\d{2}/\d{2}$")
    part: Literal["main", "gp"]
    per_weighted_patient: Decimal = Field(ge=0)
    population_date: date
    covers_from: date
    covers_to: date
    source_url: str = Field(pattern=r"^https?://")
    note: str = ""


class NIPeriod(BaseModel):
    model_config = ConfigDict(frozen=True)

    tax_year: str
    effective_from: date
    effective_to: date
    rate: Decimal = Field(ge=0, le=1)
    secondary_threshold_annual: Decimal = Field(ge=0)
    status: Literal["secondary_source", "unverified"]
    source_url: str
    note: str = ""


class PensionPeriod(BaseModel):
    model_config = ConfigDict(frozen=True)

    effective_from: date
    effective_to: date
    rate: Decimal = Field(ge=0, le=1)
    status: Literal["secondary_source", "unverified"]
    source_url: str
    note: str = ""


class Levy(BaseModel):
    model_config = ConfigDict(frozen=True)

    rate: Decimal = Field(ge=0, le=1)
    annual_allowance: Decimal = Field(ge=0)
    effective_from: date
    status: Literal["secondary_source", "unverified"]
    source_url: str
    note: str = ""
    arrs_note: str = ""


class OnCosts(BaseModel):
    model_config = ConfigDict(frozen=True)

    employer_ni: tuple[NIPeriod, ...]
    pension: tuple[PensionPeriod, ...]
    apprenticeship_levy: Levy

    def ni_on(self, day: date) -> NIPeriod | None:
        return next((p for p in self.employer_ni if p.effective_from <= day <= p.effective_to), None)

    def pension_on(self, day: date) -> PensionPeriod | None:
        return next((p for p in self.pension if p.effective_from <= day <= p.effective_to), None)


class DocumentText(BaseModel):
    """Editorial parts of the generated maximum-amounts document (corpus/rates/document.yaml)."""

    class Statement(BaseModel):
        text: str
        source_url: str

    id: str
    title: str
    publisher: str
    last_reviewed: date
    extra_years: list[str] = Field(default_factory=list)
    intro: Statement
    not_held: list[Statement] = Field(default_factory=list)


def band_key(band: str) -> str:
    """'Band 7–8a' -> '7-8a'; 'up to 5' -> '5' (how bands are compared)."""
    text = band.lower().replace("–", "-").replace("band", "").replace("up to", "")
    return "".join(text.split())


def band_matches(row_band: str, asked: str) -> bool:
    """A requested band matches a row's band exactly or as one end of its range (7 or 8a in 7-8a)."""
    row, want = band_key(row_band), band_key(asked)
    return want == row or want in row.split("-")


@dataclass(frozen=True, eq=False)
class RateTables:
    """Everything in corpus/rates/, validated; look-ups never fill gaps."""

    directory: Path
    roles: RoleCatalogue
    rows: tuple[RateRow, ...]
    multipliers: tuple[Multiplier, ...]
    on_costs: OnCosts
    source_titles: dict[str, str] = field(default_factory=dict)
    document: DocumentText | None = None

    @classmethod
    def load(cls, rates_dir: Path | str, roles: RoleCatalogue | None = None) -> RateTables:
        """Load and validate the tables (cached per directory and catalogue)."""
        directory = Path(rates_dir).resolve()
        if roles is None:
            roles = RoleCatalogue.load(directory.parent / "roles.yaml")
        return _load(str(directory), roles)

    # Look-ups ---------------------------------------------------------------------------------
    def years(self) -> list[str]:
        """Financial years with at least one maximum amount."""
        return sorted({row.financial_year for row in self.rows})

    def multiplier_years(self) -> list[str]:
        return sorted({m.financial_year for m in self.multipliers})

    def rows_for(self, role_id: str) -> list[RateRow]:
        return [row for row in self.rows if row.role_id == role_id]

    def rows_on(self, role_id: str, day: date) -> list[RateRow]:
        return [row for row in self.rows if row.role_id == role_id and row.covers(day)]

    def multipliers_for(self, financial_year: str) -> list[Multiplier]:
        return [m for m in self.multipliers if m.financial_year == financial_year]

    def source_title(self, url: str) -> str:
        return self.source_titles.get(url) or urlparse(url).netloc.removeprefix("www.")

    def span(self) -> tuple[date, date]:
        return min(r.effective_from for r in self.rows), max(r.effective_to for r in self.rows)


def select_rows(tables: RateTables, role: str | None = None, year: str | None = None) -> list[RateRow]:
    """Rows for a role and/or financial year, in date order; the CLI and the API list the same rows.

    Raises ``InvalidYear`` for text that is not a financial year and ``YearNotHeld`` for a year
    with no rows.
    """
    rows = list(tables.rows)
    if role:
        role_id = tables.roles.resolve(role).id
        rows = [r for r in rows if r.role_id == role_id]
    if year:
        try:
            fy = years.normalise(year)
        except ValueError:
            raise InvalidYear(f"{year!r} is not a financial year (write it like 2024/25).") from None
        if fy not in tables.years():
            raise YearNotHeld(fy, tables.years())
        rows = [r for r in rows if r.financial_year == fy]
    return sorted(rows, key=lambda r: (r.effective_from, r.role_id, r.band))


def row_json(row: RateRow) -> dict[str, Any]:
    """A rate row as JSON, money as strings with two decimals (empty = not held)."""
    data = row.model_dump(mode="json")
    for key in ("national", "outer_london", "inner_london"):
        data[key] = None if getattr(row, key) is None else f"{getattr(row, key):.2f}"
    return data


# Loading and validation --------------------------------------------------------------------------
def _read_csv(path: Path, columns: Sequence[str]) -> list[tuple[int, dict[str, str]]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if tuple(reader.fieldnames or ()) != tuple(columns):
                raise RateTableError(f"{path.name}: columns must be exactly {', '.join(columns)}")
            return [(reader.line_num, dict(row)) for row in reader]
    except OSError as exc:
        raise RateTableError(f"Cannot read {path}: {exc}") from exc


def _blank_to_none(row: dict[str, str]) -> dict[str, Any]:
    return {key: (value.strip() or None) if isinstance(value, str) else value for key, value in row.items()}


def _parse(model: type[BaseModel], data: dict[str, Any], where: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors())
        raise RateTableError(f"{where}: {problems}") from exc


def _check_in_year(fy: str, start: date, end: date, where: str) -> None:
    first, last = years.bounds(fy)
    if end < start:
        raise RateTableError(f"{where}: effective_to {end} is before effective_from {start}")
    if start < first or end > last:
        raise RateTableError(f"{where}: period {start} to {end} is outside financial year {fy}")


def _check_whole_months(start: date, end: date, where: str) -> None:
    """Rates change on the 1st of a month, which the month-by-month calculator relies on."""
    if start.day != 1 or (end + timedelta(days=1)).day != 1:
        raise RateTableError(
            f"{where}: a period must start on the 1st of a month and end on a month's last day"
        )


def _check_no_overlap(items: Iterable[tuple[str, date, date]], what: str) -> None:
    groups: dict[str, list[tuple[date, date]]] = defaultdict(list)
    for key, start, end in items:
        groups[key].append((start, end))
    for key, periods in groups.items():
        periods.sort()
        for (_, prev_end), (next_start, _) in pairwise(periods):
            if next_start <= prev_end:
                raise RateTableError(
                    f"{what}: overlapping periods for {key} ({next_start} starts before {prev_end} ends)"
                )


def _load_rates(path: Path, roles: RoleCatalogue) -> tuple[RateRow, ...]:
    rows: list[RateRow] = []
    for line, raw in _read_csv(path, RATE_COLUMNS):
        where = f"{path.name} line {line}"
        row: RateRow = _parse(RateRow, _blank_to_none(raw) | {"note": raw.get("note", "")}, where)
        if row.role_id not in roles:
            raise RateTableError(f"{where}: unknown role_id {row.role_id!r} (not in roles.yaml)")
        if row.national is None and row.outer_london is None and row.inner_london is None:
            raise RateTableError(f"{where}: no amount in any area (a figure that is not held has no row)")
        _check_in_year(row.financial_year, row.effective_from, row.effective_to, where)
        _check_whole_months(row.effective_from, row.effective_to, where)
        rows.append(row)
    _check_no_overlap(
        ((f"{r.role_id} band {band_key(r.band)}", r.effective_from, r.effective_to) for r in rows), path.name
    )
    return tuple(rows)


def _load_multipliers(path: Path) -> tuple[Multiplier, ...]:
    items: list[Multiplier] = []
    for line, raw in _read_csv(path, MULTIPLIER_COLUMNS):
        where = f"{path.name} line {line}"
        item: Multiplier = _parse(Multiplier, _blank_to_none(raw) | {"note": raw.get("note", "")}, where)
        _check_in_year(item.financial_year, item.covers_from, item.covers_to, where)
        items.append(item)
    _check_no_overlap(
        ((f"{m.financial_year} {m.part}", m.covers_from, m.covers_to) for m in items), path.name
    )
    return tuple(items)


def _read_yaml(path: Path) -> Any:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise RateTableError(f"Cannot read {path}: {exc}") from exc


def _load_on_costs(path: Path) -> OnCosts:
    on_costs: OnCosts = _parse(OnCosts, _read_yaml(path) or {}, path.name)
    for period in (*on_costs.employer_ni, *on_costs.pension):
        if period.effective_to < period.effective_from:
            raise RateTableError(f"{path.name}: a period ends before it starts ({period.effective_from})")
    _check_no_overlap(
        (("employer NI", p.effective_from, p.effective_to) for p in on_costs.employer_ni), path.name
    )
    _check_no_overlap((("pension", p.effective_from, p.effective_to) for p in on_costs.pension), path.name)
    return on_costs


@lru_cache(maxsize=8)
def _load(directory: str, roles: RoleCatalogue) -> RateTables:
    base = Path(directory)
    titles_path, document_path = base / "sources.yaml", base / "document.yaml"
    titles = _read_yaml(titles_path) if titles_path.exists() else {}
    document = (
        _parse(DocumentText, _read_yaml(document_path), document_path.name)
        if document_path.exists()
        else None
    )
    return RateTables(
        directory=base,
        roles=roles,
        rows=_load_rates(base / "max_reimbursement.csv", roles),
        multipliers=_load_multipliers(base / "pcn_sum_multipliers.csv"),
        on_costs=_load_on_costs(base / "on_costs.yaml"),
        source_titles={str(k): str(v) for k, v in (titles or {}).items()},
        document=document,
    )


# The generated document ---------------------------------------------------------------------------
def _pounds(amount: Decimal) -> str:
    return f"£{amount:,.0f}" if amount == amount.to_integral_value() else f"£{amount:,.2f}"


def _day(value: date) -> str:
    return f"{value.day} {value:%B %Y}"


def _areas_text(row: RateRow) -> str:
    held = [(area, row.amount(area)) for area in Area if row.amount(area) is not None]
    parts = [f"{_pounds(amount)} {area.label}" for area, amount in held]  # type: ignore[arg-type]
    text = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    missing = [area.label for area in Area if row.amount(area) is None]
    if missing == ["outer London", "inner London"]:
        missing_text = " (London figures not held)"
    elif missing:
        missing_text = f" ({' and '.join(missing)} not held)"
    else:
        missing_text = ""
    return text + missing_text


_STATUS_LEAD = {
    RateStatus.SECONDARY_SOURCE: "According to a secondary source quoting the DES, ",
    RateStatus.INFERRED_FROM_BAND: "Inferred from another role's figure at the same band, ",
    RateStatus.UNVERIFIED: "Unverified: ",
}


def _row_sentence(row: RateRow, role: Role) -> str:
    if row.band in ("", "n/a"):
        band = "no Agenda for Change band"
    else:
        band = f"up to band {band_key(row.band)}" if row.band.startswith("up to") else f"band {row.band}"
    name = role.name.lower()
    article = "an" if name[0] in "aeiou" else "a"
    return (
        f"{_STATUS_LEAD[row.status]}the {row.financial_year} maximum for {article} {name} ({band}) from "
        f"{_day(row.effective_from)} to {_day(row.effective_to)} is {_areas_text(row)} per 1.0 WTE per year "
        f"including employer on-costs. {row.note}".strip()
    )


def _gaps(tables: RateTables, role: Role, last: date) -> list[tuple[date, date]]:
    """Periods since the role was added (up to the table's last date) with no row for any band."""
    first = role.added_from or years.bounds(role.year_added)[0]
    covered = sorted((r.effective_from, r.effective_to) for r in tables.rows_for(role.id))
    gaps: list[tuple[date, date]] = []
    cursor = first
    for start, end in covered:
        if start > cursor:
            gaps.append((cursor, start - timedelta(days=1)))
        cursor = max(cursor, end + timedelta(days=1))
    if cursor <= last:
        gaps.append((cursor, last))
    return gaps


def render_markdown(tables: RateTables, roles: RoleCatalogue | None = None) -> str:
    """The corpus document (corpus/guidance/maximum-amounts.md) generated from the rate table."""
    roles = roles or tables.roles
    doc = tables.document
    if doc is None:
        raise RateTableError(
            "corpus/rates/document.yaml is missing: it holds the generated document's front matter"
        )
    footnotes: dict[str, str] = {}

    def cite(url: str) -> str:
        footnotes.setdefault(url, f"s{len(footnotes) + 1}")
        return f"[^{footnotes[url]}]"

    body: list[str] = [
        f"# {doc.title}",
        "",
        " ".join(doc.intro.text.split()) + cite(doc.intro.source_url),
        "",
    ]
    for fy in tables.years():
        body += [f"## Maximum amounts in {fy}", ""]
        rows = [r for r in tables.rows if r.financial_year == fy]
        heading = ""
        for row in sorted(
            rows, key=lambda r: (r.effective_from, roles.get(r.role_id).name, band_key(r.band))
        ):
            role = roles.get(row.role_id)
            title = f"### {role.name}: {fy}, {_day(row.effective_from)} to {_day(row.effective_to)}"
            if title != heading:
                heading = title
                body += [heading, ""]
            body += [f"- {_row_sentence(row, role)}{cite(row.source_url)}", ""]
    body += ["## Periods with no maximum amount held", ""]
    last = tables.span()[1]
    for role in roles.all():
        gaps = _gaps(tables, role, last)
        if not gaps:
            continue
        spans = " or ".join(f"{_day(a)} to {_day(b)}" for a, b in gaps)
        body += [
            f"### {role.name}: periods with no maximum held",
            "",
            f"- The corpus holds no {role.name.lower()} maximum amount for {spans}, so no "
            f"{role.name.lower()} claim for those dates can be calculated.{cite(role.source_urls[0])}",
            "",
        ]
    if doc.not_held:
        body += ["### Later and raised maximum amounts not held", ""]
    for statement in doc.not_held:
        body.append(f"- {' '.join(statement.text.split())}{cite(statement.source_url)}")
    body.append("")
    body += [f'[^{key}]: {url} "{tables.source_title(url)}"' for url, key in footnotes.items()]

    fys = sorted({*tables.years(), *doc.extra_years})
    front = {
        "id": doc.id,
        "title": doc.title,
        "publisher": doc.publisher,
        "source_type": "rates",
        "financial_years": fys,
        "last_reviewed": doc.last_reviewed.isoformat(),
        "sources": list(footnotes),
    }
    header = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{header}---\n\n" + "\n".join(body) + "\n"


def document_path(tables: RateTables) -> Path:
    return tables.directory.parent / DOCUMENT_PATH


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.settings import Settings

    parser = argparse.ArgumentParser(prog="python -m assistant.rates", description=__doc__.splitlines()[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--render", action="store_true", help="write corpus/guidance/maximum-amounts.md")
    action.add_argument("--check", action="store_true", help="exit 1 if the committed document is stale")
    action.add_argument("--validate", action="store_true", help="load and validate the tables only")
    parser.add_argument("--rates-dir", type=Path, default=None)
    args = parser.parse_args(argv)
    settings = Settings()
    rates_dir = args.rates_dir or settings.rates_dir
    roles = RoleCatalogue.load(rates_dir.parent / "roles.yaml")
    try:
        tables = RateTables.load(rates_dir, roles)
    except RateTableError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.validate:
        print(
            f"OK: {len(tables.rows)} rate rows, {len(tables.multipliers)} multipliers, {len(roles.all())} roles"
        )
        return 0
    target = document_path(tables)
    text = render_markdown(tables, roles)
    if args.check:
        current = target.read_text(encoding="utf-8") if target.exists() else ""
        if current != text:
            print(f"{target} is stale: run python -m assistant.rates --render", file=sys.stderr)
            return 1
        return 0
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
