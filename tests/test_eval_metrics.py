"""The evaluation's metric functions on small hand-made rankings whose values can be checked by hand."""

from __future__ import annotations

import math

import pytest

from evals import metrics
from evals.run_eval import check_floors, flat_metric

RANKING = ["a", "b", "a", "c", "d"]  # passages from documents a, b, a, c, d in retrieved order


@pytest.mark.parametrize(
    ("relevant", "k", "expected"),
    [
        ({"a"}, 1, 1.0),
        ({"b"}, 1, 0.0),
        ({"b"}, 2, 1.0),
        ({"c"}, 3, 0.0),
        ({"c"}, 4, 1.0),
        ({"x"}, 5, 0.0),
        ({"x", "d"}, 5, 1.0),  # any one expected document answers the question
        (set(), 5, 0.0),
    ],
)
def test_recall_at_k_is_answer_recall(relevant, k, expected):
    assert metrics.recall_at_k(RANKING, relevant, k) == expected


def test_doc_recall_counts_each_relevant_document_once():
    assert metrics.doc_recall_at_k(RANKING, {"a", "c", "x", "y"}, 5) == 2 / 4
    assert metrics.doc_recall_at_k(RANKING, {"a", "c", "x", "y"}, 3) == 1 / 4


@pytest.mark.parametrize(
    ("relevant", "expected"),
    [({"a"}, 1.0), ({"b"}, 1 / 2), ({"c"}, 1 / 4), ({"c", "d"}, 1 / 4), ({"x"}, 0.0)],
)
def test_reciprocal_rank(relevant, expected):
    assert metrics.reciprocal_rank(RANKING, relevant) == expected


def test_mean_reciprocal_rank_over_questions():
    ranks = [metrics.reciprocal_rank(RANKING, rel) for rel in ({"a"}, {"b"}, {"x"})]
    assert metrics.mean(ranks) == pytest.approx((1 + 0.5 + 0) / 3)


def test_ndcg_perfect_and_missing():
    assert metrics.ndcg_at_k(["a", "b", "c"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert metrics.ndcg_at_k(["x", "y"], {"a"}, 10) == 0.0
    assert metrics.ndcg_at_k(["x"], set(), 10) == 0.0


def test_ndcg_by_hand():
    # One relevant document at rank 2: DCG = 1/log2(3); ideal = 1/log2(2) = 1.
    assert metrics.ndcg_at_k(["x", "a"], {"a"}, 10) == pytest.approx(1 / math.log2(3))
    # Relevant c at rank 4 and d at rank 5 of RANKING: DCG = 1/log2(5) + 1/log2(6);
    # ideal puts both first: 1/log2(2) + 1/log2(3).
    expected = (1 / math.log2(5) + 1 / math.log2(6)) / (1 + 1 / math.log2(3))
    assert metrics.ndcg_at_k(RANKING, {"c", "d"}, 10) == pytest.approx(expected)


def test_ndcg_counts_a_repeated_document_once():
    # "a" appears at ranks 1 and 3: only the first passage gains.
    with_repeat = metrics.ndcg_at_k(["a", "x", "a"], {"a", "b"}, 10)
    assert with_repeat == pytest.approx(1 / (1 + 1 / math.log2(3)))


def test_ndcg_cut_off_at_k():
    assert metrics.ndcg_at_k(["x", "y", "a"], {"a"}, 2) == 0.0
    assert metrics.ndcg_at_k(["x", "y", "a"], {"a"}, 3) == pytest.approx(1 / math.log2(4))


@pytest.mark.parametrize(
    ("text", "fact", "found"),
    [
        ("The maximum is £2,400 per WTE.", "£2400", True),
        ("The maximum is £2400 per WTE.", "£2,400", True),
        ("Band 7–8a in 2024/25", "7-8a", True),
        ("Band 7—8a", "7-8a", True),
        ("introduced in 2017", "17", False),
        ("17 roles", "17", True),
        ("£22.8941", "£22.894", False),
        ("New roles: pharmacy technicians and dietitians", "pharmacy technician", True),
        ("the BANDS", "band", True),
        ("bandwidth", "band", False),
        ("Master's degree", "Master’s", True),
        ("enquiries@example.org.", "enquiries@example.org", True),
    ],
)
def test_fact_matching(text, fact, found):
    assert metrics.contains(text, fact) is found


def test_fact_alternatives():
    assert metrics.contains_any("nine sessions a week", ["9 sessions", "nine sessions"])
    assert not metrics.contains_any("ten sessions", ["9 sessions", "nine sessions"])
    assert metrics.fact_label(["a", "b"]) == "a | b"


def test_precision_recall_of_abstention():
    predicted = [True, True, False, False, True]
    expected = [True, False, True, False, True]
    precision, recall = metrics.precision_recall(predicted, expected)
    assert precision == pytest.approx(2 / 3)
    assert recall == pytest.approx(2 / 3)
    assert metrics.precision_recall([False], [False]) == (None, None)


def test_percentile_matches_linear_interpolation():
    values = [10.0, 20.0, 30.0, 40.0]
    assert metrics.percentile(values, 50) == 25.0
    assert metrics.percentile(values, 0) == 10.0
    assert metrics.percentile(values, 100) == 40.0
    assert metrics.percentile(values, 95) == pytest.approx(38.5)
    assert metrics.percentile([], 50) == 0.0


def test_money_strings_walks_the_calculation():
    calculation = {
        "kind": "pcn_sum",
        "result": {"main": "881419.00", "gp": "50165.50", "total": "931,584.50"},
    }
    assert metrics.money_strings(calculation) == {"881419.00", "50165.50", "931584.50"}
    assert metrics.money_strings({"result": [{"claim": 12.5}], "flag": True}) == {"12.50"}


def test_floors_check():
    tree = {"answers": {"intent_accuracy": 0.9, "calculator_exact_match": 1.0}}
    assert flat_metric(tree, "answers.intent_accuracy") == 0.9
    assert flat_metric(tree, "answers.missing") is None
    assert check_floors(tree, {"answers.intent_accuracy": 0.85, "answers.calculator_exact_match": 1.0}) == []
    problems = check_floors(tree, {"answers.intent_accuracy": 0.95, "answers.missing": 0.1})
    assert len(problems) == 2
    assert "below its floor" in problems[0]
    assert "not measured" in problems[1]


def test_recorded_floors_sit_below_the_measured_values(tmp_path):
    from evals.run_eval import record_floors

    tree = {
        "retrieval": {"hybrid": {"recall@5": 0.977, "mrr": 0.886, "ndcg@10": 0.861}},
        "answers": {
            "key_fact_accuracy": 0.683,
            "citation_precision": 1.0,
            "abstention_precision": 0.329,
            "abstention_recall": 0.897,
            "intent_accuracy": 0.959,
            "calculator_exact_match": 0.744,
        },
    }
    path = tmp_path / "floors.json"
    floors = record_floors(tree, path)
    assert floors["retrieval.hybrid.recall@5"] == 0.94
    assert floors["answers.key_fact_accuracy"] == 0.65
    assert floors["answers.citation_precision"] == 0.97
    assert floors["answers.calculator_exact_match"] == 1.0  # never lowered to what was measured
    assert load_floors_from(path) == floors
    assert check_floors(tree, floors) == ["answers.calculator_exact_match: 0.744 is below its floor 1.000"]


def load_floors_from(path):
    from evals.run_eval import load_floors

    return load_floors(path)
