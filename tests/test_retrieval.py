"""Hybrid retrieval pieces that need no model: the sparse BM25, fusion and the year weighting."""

from __future__ import annotations

import random

import numpy as np
from rank_bm25 import BM25Okapi

from assistant.retrieval import SparseBM25, year_weight


def test_sparse_bm25_scores_exactly_like_rank_bm25():
    rng = random.Random(7)
    words = [f"w{i}" for i in range(400)]
    corpus = [[rng.choice(words) for _ in range(rng.randint(3, 80))] for _ in range(600)]
    reference, sparse = BM25Okapi(corpus), SparseBM25(corpus)
    for query in (["w1", "w2"], ["w3", "w3", "w399"], ["unknown", "w10"], []):
        assert np.allclose(reference.get_scores(query), sparse.get_scores(query))
    assert sparse.idf == reference.idf


def test_year_weight_prefers_the_asked_year_and_demotes_other_years():
    assert year_weight(["2024/25"], ["2024/25"]) > 1.0
    assert year_weight(["2019/20"], ["2024/25"]) < 1.0
    assert year_weight([], ["2024/25"]) == 1.0
