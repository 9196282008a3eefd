"""The rate tables: the effective-period rule, what is (not) held, validation, and the generated document."""

from __future__ import annotations

import csv
import re
import shutil
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from assistant import rates as rates_module
from assistant.calc_errors import RateTableError
from assistant.rates import Area, RateStatus, RateTables, band_matches, render_markdown
from assistant.roles import RoleCatalogue
from assistant.settings import BUNDLED_CORPUS

RATES_DIR = BUNDLED_CORPUS / "rates"
MID_YEAR_CHANGES = {date(2022, 10, 1), date(2023, 7, 1), date(2024, 10, 1)}


def csv_rows(name: str = "max_reimbursement.csv") -> list[dict[str, str]]:
    with (RATES_DIR / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def next_change(day: date) -> date:
    """The next scheme-wide change after a date: 1 April each year or a mid-year uplift."""
    candidates = [date(day.year + (day.month >= 4), 4, 1), *[c for c in MID_YEAR_CHANGES if c > day]]
    return min(candidates)


@pytest.fixture(scope="module")
def tables() -> RateTables:
    return RateTables.load(RATES_DIR)


def test_loads_every_row(tables: RateTables) -> None:
    assert len(tables.rows) == len(csv_rows())
    assert len(tables.multipliers) == len(csv_rows("pcn_sum_multipliers.csv"))
    assert RateTables.load(RATES_DIR) is tables  # cached per directory


def test_every_role_id_is_in_the_catalogue(tables: RateTables) -> None:
    catalogue = RoleCatalogue.load(BUNDLED_CORPUS / "roles.yaml")
    assert {row["role_id"] for row in csv_rows()} <= set(catalogue.ids())


def test_rows_end_the_day_before_the_next_scheme_wide_change() -> None:
    for row in csv_rows():
        start, end = date.fromisoformat(row["effective_from"]), date.fromisoformat(row["effective_to"])
        assert end == next_change(start) - timedelta(days=1), row


def test_nothing_is_held_beyond_2025_26(tables: RateTables) -> None:
    assert max(row["financial_year"] for row in csv_rows()) == "2025/26"
    assert tables.span()[1] == date(2026, 3, 31)


def test_statuses_and_caveats() -> None:
    for row in csv_rows():
        assert row["status"] in {s.value for s in RateStatus}
        assert row["source_url"].startswith("http")
        if row["status"] == "inferred_from_band":
            assert row["note"].startswith("No source gives"), row
        if row["financial_year"] == "2025/26":
            assert "raised figures are not held" in row["note"], row


def test_rows_without_a_source_date_are_unverified_with_an_assumed_date() -> None:
    undated = {(r["role_id"], r["financial_year"]): r for r in csv_rows() if r["status"] == "unverified"}
    assert ("first_contact_physiotherapist", "2020/21") in undated
    assert ("social_prescribing_link_worker", "2022/23") in undated
    assert undated[("social_prescribing_link_worker", "2022/23")]["effective_to"] == "2022-09-30"
    assert all("assumed" in r["note"] for r in undated.values())


def test_only_2019_20_pharmacist_is_on_a_70_percent_share() -> None:
    shares = {(r["role_id"], r["financial_year"]): r["reimbursement_share"] for r in csv_rows()}
    assert shares.pop(("clinical_pharmacist", "2019/20")) == "0.70"
    assert set(shares.values()) == {"1.00"}
    cp = next(
        r for r in csv_rows() if r["role_id"] == "clinical_pharmacist" and r["financial_year"] == "2019/20"
    )
    assert "£37,810" in cp["note"] and "£37,819" in cp["note"]


def test_single_london_gp_figure_is_in_both_london_columns(tables: RateTables) -> None:
    row = next(
        r for r in tables.rows if r.role_id == "general_practitioner" and r.financial_year == "2024/25"
    )
    assert row.outer_london == row.inner_london == Decimal("95233")
    assert "not split into inner and outer London" in row.note


def test_multipliers_held(tables: RateTables) -> None:
    held = {(m.financial_year, m.part): m.per_weighted_patient for m in tables.multipliers}
    assert held == {
        ("2023/24", "main"): Decimal("22.671"),
        ("2024/25", "main"): Decimal("22.894"),
        ("2024/25", "gp"): Decimal("1.303"),
        ("2025/26", "main"): Decimal("26.631"),
    }
    gp = next(m for m in tables.multipliers if m.part == "gp")
    assert (gp.covers_from, gp.covers_to) == (date(2024, 10, 1), date(2025, 3, 31))


def test_on_costs(tables: RateTables) -> None:
    on_costs = tables.on_costs
    assert on_costs.ni_on(date(2023, 9, 1)) is None  # 2023/24 is not held
    assert on_costs.ni_on(date(2022, 11, 5)).rate == Decimal("0.1505")
    assert on_costs.ni_on(date(2022, 11, 6)).rate == Decimal("0.138")
    assert on_costs.ni_on(date(2025, 4, 5)).secondary_threshold_annual == Decimal("9100")
    assert on_costs.ni_on(date(2025, 4, 6)).secondary_threshold_annual == Decimal("5000")
    assert on_costs.ni_on(date(2019, 6, 1)).status == "unverified"
    assert on_costs.pension_on(date(2024, 6, 1)).rate == Decimal("0.1438")
    assert on_costs.apprenticeship_levy.annual_allowance == Decimal("15000")
    assert "not held" in on_costs.apprenticeship_levy.arrs_note


def test_lookups(tables: RateTables) -> None:
    rows = tables.rows_on("mental_health_practitioner", date(2025, 6, 1))
    assert sorted(r.band for r in rows) == ["5", "6", "7", "8a"]
    assert tables.rows_on("paramedic", date(2024, 10, 1)) == []
    cp = tables.rows_on("clinical_pharmacist", date(2024, 10, 1))[0]
    assert cp.amount(Area.INNER_LONDON) == Decimal("76313")
    assert band_matches("7-8a", "Band 8a") and band_matches("up to 5", "5") and not band_matches("7", "8a")


# Validation on load ----------------------------------------------------------------------------
def copy_tables(tmp_path: Path) -> Path:
    shutil.copy(BUNDLED_CORPUS / "roles.yaml", tmp_path / "roles.yaml")
    shutil.copytree(RATES_DIR, tmp_path / "rates")
    return tmp_path / "rates"


def edit_first_row(rates_dir: Path, **changes: str) -> None:
    path = rates_dir / "max_reimbursement.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        fieldnames, rows = reader.fieldnames, list(reader)
    rows[0].update(changes)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerows(rows)


def test_copied_tables_load(tmp_path: Path) -> None:
    assert len(RateTables.load(copy_tables(tmp_path)).rows) == len(csv_rows())


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"effective_to": "2019-06-30"}, "before effective_from"),
        ({"national": "-1"}, "national"),
        ({"role_id": "astronaut"}, "unknown role_id"),
        ({"status": "published_maybe"}, "status"),
        ({"effective_from": "2019-07-15"}, "1st of a month"),
        ({"effective_to": "2020-04-30"}, "outside financial year"),
        ({"national": ""}, "no amount in any area"),
        ({"reimbursement_share": "1.5"}, "reimbursement_share"),
    ],
)
def test_bad_rows_are_rejected(tmp_path: Path, changes: dict[str, str], message: str) -> None:
    rates_dir = copy_tables(tmp_path)
    edit_first_row(rates_dir, **changes)
    with pytest.raises(RateTableError, match=message) as caught:
        RateTables.load(rates_dir)
    assert "max_reimbursement.csv" in str(caught.value)


def test_overlapping_periods_are_rejected(tmp_path: Path) -> None:
    rates_dir = copy_tables(tmp_path)
    path = rates_dir / "max_reimbursement.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    duplicate = lines[1].replace("2019-07-01", "2019-10-01", 1)
    path.write_text("\n".join([*lines, duplicate]) + "\n", encoding="utf-8")
    with pytest.raises(RateTableError, match="overlapping periods for clinical_pharmacist"):
        RateTables.load(rates_dir)


def test_wrong_columns_are_rejected(tmp_path: Path) -> None:
    rates_dir = copy_tables(tmp_path)
    path = rates_dir / "pcn_sum_multipliers.csv"
    path.write_text(path.read_text(encoding="utf-8").replace("per_weighted_patient", "multiplier", 1))
    with pytest.raises(RateTableError, match="columns must be exactly"):
        RateTables.load(rates_dir)


def test_overlapping_ni_periods_are_rejected(tmp_path: Path) -> None:
    rates_dir = copy_tables(tmp_path)
    path = rates_dir / "on_costs.yaml"
    path.write_text(
        path.read_text(encoding="utf-8").replace("effective_to: 2020-04-05", "effective_to: 2020-06-05")
    )
    with pytest.raises(RateTableError, match="overlapping periods for employer NI"):
        RateTables.load(rates_dir)


# The generated document ------------------------------------------------------------------------
def test_committed_document_matches_the_table(tables: RateTables) -> None:
    committed = (BUNDLED_CORPUS / "guidance" / "maximum-amounts.md").read_text(encoding="utf-8")
    assert committed == render_markdown(tables), "run: .venv/bin/python -m assistant.rates --render"
    assert rates_module.main(["--check"]) == 0


def test_document_follows_the_corpus_format(tables: RateTables) -> None:
    text = render_markdown(tables)
    _, front_text, body = text.split("---\n", 2)
    front = yaml.safe_load(front_text)
    assert front["id"] == "maximum-amounts"
    assert front["source_type"] == "rates"
    assert "2026/27" in front["financial_years"] and "2019/20" in front["financial_years"]
    footnotes = dict(re.findall(r"^\[\^(s\d+)\]: (\S+) \"[^\"]+\"$", body, flags=re.MULTILINE))
    assert set(front["sources"]) == set(footnotes.values())
    bullets = [line for line in body.splitlines() if line.startswith("- ")]
    for bullet in bullets:
        keys = re.findall(r"\[\^(s\d+)\]$", bullet)
        assert keys and keys[0] in footnotes, bullet
    for fy in tables.years():
        assert f"## Maximum amounts in {fy}" in body


def test_document_states_every_row(tables: RateTables) -> None:
    body = render_markdown(tables)
    for row in csv_rows():
        name = tables.roles.get(row["role_id"]).name.lower()
        amount = f"£{int(row['national']):,} national"
        assert any(
            name in line and amount in line and row["financial_year"] in line for line in body.splitlines()
        ), row
    assert "The corpus holds no 2026/27 per-role maximum amounts" in body
    assert "The corpus holds no paramedic maximum amount" in body
