"""CI gate: the gold evaluation through the real pipeline stays at or above evals/floors.json.

Quality only: nothing here is timed (latency is measured by `arrs bench`, never asserted).
"""

from __future__ import annotations

import pytest

from evals.run_eval import check_floors, evaluate, hybrid_comparison, load_floors, write_outputs


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_gold_evaluation_meets_recorded_floors(assistant, artifacts_dir):
    floors = load_floors()
    assert floors["answers.calculator_exact_match"] == 1.0, "the calculator floor must stay at 100%"
    result = evaluate(assistant)
    write_outputs(result, artifacts_dir / "eval", floors)  # report.md and results.json for CI logs
    assert result.turns >= 150
    assert not [r for r in result.results if r.error and r.error.startswith("crashed")], "a turn crashed"
    problems = check_floors(result.metrics, floors)
    assert not problems, "metrics below their floors:\n" + "\n".join(problems)


@pytest.mark.slow
@pytest.mark.timeout(600)
def test_hybrid_retrieval_is_not_worse_than_either_retriever_alone(assistant):
    from evals.schema import load_gold

    cases = [case for case in load_gold() if any(turn.graded_retrieval for turn in case.turns)]
    # Retrieval only: score the turns' rankings without asking (cheap), using the same index.
    from evals.run_eval import TurnResult, compute_metrics, retrieve

    records = []
    for case in cases:
        for number, turn in enumerate(case.turns, start=1):
            if turn.graded_retrieval:
                records.append(
                    TurnResult(
                        case_id=case.id,
                        category=case.category,
                        turn=number,
                        question=turn.question,
                        expected_docs=list(turn.expected_docs),
                        retrieval=retrieve(assistant, turn, 10),
                    )
                )
    comparison = hybrid_comparison(compute_metrics(records))
    assert all(comparison.values()), comparison
