"""The benchmark's reporting and synthetic-data helpers (pure functions; nothing is timed here)."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.settings import BUNDLED_CORPUS
from evals import bench, scale


def _results(**overrides):
    results = {
        "started": "2026-11-21T09:00:00",
        "seconds": 200.0,
        "machine": {"cpus": 2, "python": "Python 3.11", "load_before": "0.1", "load_after": "0.2"},
        "ingest": {
            "files": 26, "chunks": 300, "chunks_embedded": 300, "model_load_s": 3.0, "ingest_s": 6.0,
            "ingest_embed_s": 5.5, "ingest_chunks_per_s": 50.0, "raw_encode_s": 5.4, "raw_encode_runs_s": [5.4, 5.6],
            "raw_chunks_per_s": 55.6, "ingest_vs_raw": 0.9, "reingest_s": 1.2, "reingest_embedded": 0,
        },
        "inprocess": {
            "n": 100, "p50_ms": 18.0, "p95_ms": 45.0, "p99_ms": 60.0, "mean_ms": 22.0, "wall_s": 2.2,
            "answers_per_s": 45.0, "cpu_ms_per_answer": 21.0,
            "stages": {"query_embedding": {"p50_ms": 5.0, "p95_ms": 7.0}, "hybrid_search_filtered": {"p50_ms": 3.0, "p95_ms": 4.0}},
        },
        "http": {
            "ready_s": 4.0, "server_peak_rss_mb": 700.0,
            "c1": {"n": 50, "p50_ms": 20.0, "p95_ms": 30.0, "p99_ms": 35.0, "answers_per_s": 40.0, "failures": 0, "concurrency": 1},
            "c8": {"n": 200, "p50_ms": 50.0, "p95_ms": 80.0, "p99_ms": 90.0, "answers_per_s": 120.0, "failures": 0, "concurrency": 8},
        },
        "cold_start": {"runs": 3, "ask_median_s": 6.0, "ask_runs_s": [6.0, 6.1, 5.9], "help_median_s": 0.4, "failures": 0, "child_peak_rss_mb": 800.0},
        "memory": {"bench_peak_rss_mb": 900.0},
        "scale": [
            {"chunks": 100_000, "chroma_add_s": 60.0, "bm25_build_s": 18.0, "dense": {"p50_ms": 2.0, "p95_ms": 3.0},
             "dense_filtered": {"p50_ms": 500.0, "p95_ms": 550.0}, "bm25": {"p50_ms": 300.0, "p95_ms": 400.0},
             "hybrid": {"p50_ms": 280.0, "p95_ms": 420.0}, "rss_growth_mb": 1000.0, "peak_rss_mb": 1100.0},
            {"chunks": 1_000, "error": ["boom"]},
        ],
    }  # fmt: skip
    results.update(overrides)
    return results


def test_targets_table_reports_met_and_missed_with_the_margin():
    rows = {row[0]: row for row in bench.targets_table(_results())}
    assert rows["In-process answer p50 (ms)"][3] == "met"
    assert rows["In-process answer p95 (ms)"][3] == "missed by 5 (1.1x target)"
    assert rows["HTTP c=8 p95 (ms)"][3].startswith("missed by 20")
    assert rows["HTTP c=8 answers/s"][3] == "met"
    assert rows["Ingest / raw encode throughput"][3] == "met"
    assert rows["100k chunks: hybrid retrieval p50 (ms)"][3].startswith("missed by 230")
    assert rows["100k chunks: dense retrieval p50 (ms)"][3] == "met"
    assert rows["Server resident memory, bundled corpus (MB)"][3] == "met"


def test_targets_table_handles_a_skipped_http_part():
    rows = {
        row[0]: row for row in bench.targets_table(_results(http={"skipped": "server.py is not present yet"}))
    }
    assert rows["HTTP c=8 p95 (ms)"][1:] == ["n/a", "60", "not measured"]


def test_missed_throughput_says_what_share_of_the_target_it_reached():
    assert bench._met(80.0, 100.0, higher_is_better=True) == "missed by 20 (80% of target)"
    assert bench._met(None, 100.0) == "not measured"


def test_render_has_every_section():
    text = bench.render(_results())
    for heading in (
        "## Against the targets",
        "## Ingest",
        "## Answer latency",
        "## Cold start and memory",
        "## Scale",
    ):
        assert heading in text
    assert "| 100,000 |" in text
    assert "error: boom" in text
    assert "HTTP part skipped" in bench.render(_results(http={"skipped": "--skip-http"}))


def test_bench_questions_cycle_through_the_gold_set():
    from evals.schema import load_gold

    cases = load_gold()
    questions = bench.bench_questions(len(cases) + 10)
    assert questions[: len(cases)] == [case.turns[0].question for case in cases]
    assert questions[len(cases) :] == questions[:10]


def test_synthetic_vectors_are_unit_length_and_deterministic():
    first = scale.unit_vectors(np.random.default_rng(3), 50)
    again = scale.unit_vectors(np.random.default_rng(3), 50)
    assert first.shape == (50, scale.DIMENSION)
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0, atol=1e-5)
    assert np.array_equal(first, again)


def test_synthetic_texts_use_the_corpus_vocabulary():
    words, probs = scale.corpus_vocabulary(BUNDLED_CORPUS)
    assert probs.sum() == pytest.approx(1.0)
    assert "reimbursement" in words
    texts = scale.synthetic_texts(np.random.default_rng(1), 5, words, probs, 30)
    assert len(texts) == 5
    assert all(len(text.split()) == 30 for text in texts)
    assert set(" ".join(texts).split()) <= set(words)
