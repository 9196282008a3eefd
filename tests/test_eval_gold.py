"""The gold question set is well formed and grounded in the corpus it tests.

No pipeline runs here: these checks read evals/gold/*.yaml, corpus/ and the rate CSVs only.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import get_args

import pytest
import yaml

from assistant import years
from assistant.settings import BUNDLED_CORPUS
from evals import amounts, metrics
from evals.schema import Category, load_gold

GUIDANCE = BUNDLED_CORPUS / "guidance"
ROLES = yaml.safe_load((BUNDLED_CORPUS / "roles.yaml").read_text(encoding="utf-8"))["roles"]
HEADING = re.compile(r"^#{2,3} (.+?)\s*$", re.M)


def _special_ids() -> set[str]:
    """Documents that are not guidance files: the provider profile and the rate table."""
    ids = {"provider-profile", "rate-table"}
    try:
        from assistant.provider import PROFILE_DOC_ID

        ids.add(PROFILE_DOC_ID)
    except ImportError:  # pragma: no cover - module under construction
        pass
    return ids


@pytest.fixture(scope="module")
def cases():
    return load_gold()


@pytest.fixture(scope="module")
def documents() -> dict[str, str]:
    return {path.stem: path.read_text(encoding="utf-8") for path in GUIDANCE.glob("*.md")}


def test_gold_set_size_and_unique_ids(cases):
    assert len(cases) >= 150
    assert len({case.id for case in cases}) == len(cases)


def test_every_category_and_kind_of_question_is_covered(cases):
    counts = Counter(case.category for case in cases)
    for category in (c for c in get_args(Category) if c != "overview"):
        assert counts[category] >= 3, category
    assert sum(1 for case in cases if case.multi_turn) >= 10
    assert sum(1 for case in cases for turn in case.turns if turn.should_abstain) >= 20


def test_every_role_in_the_catalogue_is_asked_about(cases):
    asked = {tag for case in cases for tag in case.tags}
    asked |= {turn.calculation.role for case in cases for turn in case.turns if turn.calculation}
    missing = [role["id"] for role in ROLES if role["id"] not in asked]
    assert not missing, f"roles without a gold question: {missing}"


def test_every_financial_year_held_is_asked_about(cases, documents):
    held = {fy for text in documents.values() for fy in re.findall(r"^financial_years:.*$", text, re.M)}
    held_years = {fy for line in held for fy in years.find_all(line)}
    asked = {fy for case in cases for turn in case.turns for fy in years.find_all(turn.question)}
    asked |= {tag for case in cases for tag in case.tags if re.fullmatch(r"20\d\d/\d\d", tag)}
    assert held_years, "no financial years found in the corpus front matter"
    assert held_years <= asked, f"years never asked about: {sorted(held_years - asked)}"


def test_expected_documents_and_sections_exist(cases, documents):
    known = set(documents) | _special_ids()
    headings = {doc: set(HEADING.findall(text)) for doc, text in documents.items()}
    for case in cases:
        for turn in case.turns:
            unknown = [doc for doc in turn.expected_docs if doc not in known]
            assert not unknown, f"{case.id}: unknown document ids {unknown}"
            for item in turn.expected_sections:
                doc, heading = item.split("#", 1)
                assert heading in headings.get(doc, set()), f"{case.id}: no heading {heading!r} in {doc}"


def test_key_facts_of_answerable_questions_are_in_an_expected_document(cases, documents):
    """Each key fact must be written in one of the documents the case says holds the answer, so
    the gold set tests the corpus, not the gold author's memory."""
    problems = []
    for case in cases:
        if case.category in ("not_held", "provider", "clinical", "off_topic", "booking", "greeting"):
            continue
        for number, turn in enumerate(case.turns, start=1):
            if turn.calculation is not None or turn.should_abstain is not False or not turn.expected_docs:
                continue
            text = "\n".join(documents.get(doc, "") for doc in turn.expected_docs)
            for fact in turn.key_facts:
                if not metrics.contains_any(text, fact):
                    problems.append(f"{case.id}#{number}: {metrics.fact_label(fact)!r}")
    assert not problems, "key facts not found in the expected documents:\n" + "\n".join(problems)


def test_calculation_amounts_come_from_the_rate_table(cases):
    rows, multipliers = amounts.load_rows(), amounts.load_multipliers()
    role_ids = {role["id"] for role in ROLES}
    checked = 0
    for case in cases:
        for turn in case.turns:
            spec = turn.calculation
            if spec is None:
                continue
            assert spec.role is None or spec.role in role_ids, f"{case.id}: unknown role {spec.role}"
            if spec.amount is None:
                continue
            expected = amounts.expected_amounts(spec, rows, multipliers)
            assert spec.amount == expected[0], f"{case.id}: recorded {spec.amount}, table gives {expected[0]}"
            assert set(spec.also) <= set(expected), f"{case.id}: {spec.also} not in {expected}"
            checked += 1
    assert checked >= 25


def test_calculation_amounts_use_the_table_rows(tmp_path: Path):
    """The helper reads the CSV itself: a changed row changes the expected amount."""
    rates = tmp_path / "rates"
    rates.mkdir()
    source = amounts.RATES / "max_reimbursement.csv"
    text = source.read_text(encoding="utf-8").replace(
        "2023-07-01,2024-03-31,care_coordinator,4,33396", "2023-07-01,2024-03-31,care_coordinator,4,33600"
    )
    (rates / "max_reimbursement.csv").write_text(text, encoding="utf-8")
    rows = amounts.load_rows(rates)
    from evals.schema import CalcExpectation

    spec = CalcExpectation(
        operation="claim", role="care_coordinator", start="2023-07-01", end="2024-03-31", wte=0.5
    )
    assert amounts.expected_amounts(spec, rows, {}) == ["12600.00"]  # 33,600 / 12 x 0.5 x 9


def test_rounding_sensitive_claims_are_refused():
    rows = amounts.load_rows()
    from evals.schema import CalcExpectation

    # 0.3 WTE pharmacy technician, April to July 2023: April-June at £38,187 is £2,864.025 and July
    # at £40,159 is £1,003.975; rounded per rate period they total £3,868.01, rounded once £3,868.00.
    # Such a case has no single right answer, so the gold set may not use it.
    spec = CalcExpectation(
        operation="claim", role="pharmacy_technician", start="2023-04-01", end="2023-07-31", wte=0.3
    )
    with pytest.raises(amounts.AmountError, match="rounding-sensitive"):
        amounts.expected_amounts(spec, rows, {})


def test_gold_readme_documents_the_schema():
    readme = (Path(amounts.__file__).parent / "gold" / "README.md").read_text(encoding="utf-8")
    for field in (
        "key_facts",
        "expected_docs",
        "expected_sections",
        "should_abstain",
        "calculation",
        "turns",
    ):
        assert field in readme
