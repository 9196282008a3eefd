"""`arrs eval`: run the gold set through the real pipeline and score retrieval and answers.

Retrieval is scored for dense only, BM25 only and the hybrid on the same questions in one run
(the same index, the same query vector, the same year preference); answers are scored on key
facts, citations, abstention, intent and the calculator's exact amounts. Writes
evals/results.json, evals/report.md and two PNGs, and prints a Rich table. ``check_floors``
compares the metrics with evals/floors.json (CI fails when one falls below its floor).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from evals import metrics
from evals.schema import Case, Turn, load_gold

if TYPE_CHECKING:
    from assistant.chain import Assistant
    from assistant.settings import Settings

EVALS_DIR = Path(__file__).resolve().parent
FLOORS_PATH = EVALS_DIR / "floors.json"
EVAL_TODAY = date(2026, 11, 21)
MODES = ("dense", "bm25", "hybrid")
KS = (1, 3, 5, 10)


# Per-turn records ----------------------------------------------------------------------------
class RetrievalRecord(BaseModel):
    mode: str
    ranking: list[str]
    sections: list[str]
    seconds: float


class TurnResult(BaseModel):
    case_id: str
    category: str
    turn: int
    question: str
    answer: str = ""
    intent: str | None = None
    expected_intent: list[str] = Field(default_factory=list)
    grounded: bool | None = None
    should_abstain: bool | None = None
    seconds: float = 0.0
    error: str | None = None
    citations: list[dict[str, Any]] = Field(default_factory=list)
    facts_expected: list[str] = Field(default_factory=list)
    facts_found: list[str] = Field(default_factory=list)
    facts_cited: list[str] = Field(default_factory=list)
    forbidden_found: list[str] = Field(default_factory=list)
    calc_expected: list[str] = Field(default_factory=list)
    calc_found: list[str] = Field(default_factory=list)
    calc_operation: str | None = None
    calc_ok: bool | None = None
    expected_docs: list[str] = Field(default_factory=list)
    expected_sections: list[str] = Field(default_factory=list)
    retrieval: list[RetrievalRecord] = Field(default_factory=list)
    failures: list[str] = Field(default_factory=list)

    @property
    def abstained(self) -> bool:
        return self.grounded is False

    @property
    def passed(self) -> bool:
        return not self.failures


class EvalResult(BaseModel):
    started: str
    seconds: float
    today: str
    cases: int
    turns: int
    metrics: dict[str, Any]
    results: list[TurnResult]


# Running -------------------------------------------------------------------------------------
def _section_matches(chunk_doc: str, chunk_section: str, wanted: str) -> bool:
    doc, _, heading = wanted.partition("#")
    return chunk_doc == doc and (chunk_section == heading or chunk_section.startswith(heading + " > "))


def retrieve(assistant: Assistant, turn: Turn, k: int) -> list[RetrievalRecord]:
    from assistant import years

    vector = assistant.encode(turn.question)
    asked_years = years.find_all(turn.question)
    candidates = max(assistant.settings.retrieval_candidates, k)
    records = []
    for mode in MODES:
        started = time.perf_counter()
        hits = assistant.index.search(
            turn.question,
            vector,
            k=k,
            candidates=candidates,
            mode=mode,
            years=asked_years,  # type: ignore[arg-type]
        )
        elapsed = time.perf_counter() - started
        records.append(
            RetrievalRecord(
                mode=mode,
                ranking=[hit.chunk.metadata.doc_id for hit in hits],
                sections=[f"{hit.chunk.metadata.doc_id}#{hit.chunk.metadata.section}" for hit in hits],
                seconds=elapsed,
            )
        )
    return records


def _grade(record: TurnResult, turn: Turn, answer) -> None:
    """Fill the fact, citation, calculation and pass/fail fields of one answered turn."""
    quotes = " \n ".join(citation.quote for citation in answer.citations)
    for fact in turn.key_facts:
        label = metrics.fact_label(fact)
        record.facts_expected.append(label)
        if metrics.contains_any(answer.answer, fact):
            record.facts_found.append(label)
            if metrics.contains_any(quotes, fact):
                record.facts_cited.append(label)
    record.forbidden_found = [item for item in turn.forbidden if metrics.contains(answer.answer, item)]
    spec = turn.calculation
    if spec is not None and spec.amount is not None:
        record.calc_expected = [spec.amount, *spec.also]
        calculation = answer.calculation or {}
        record.calc_operation = calculation.get("operation") or calculation.get("kind")
        record.calc_found = sorted(metrics.money_strings(calculation.get("result", calculation)))
        operation_ok = record.calc_operation in (None, spec.operation)
        record.calc_ok = (
            bool(calculation) and operation_ok and set(record.calc_expected) <= set(record.calc_found)
        )

    if record.expected_intent and record.intent not in record.expected_intent:
        record.failures.append(f"intent {record.intent}, expected {'/'.join(record.expected_intent)}")
    if turn.should_abstain is True and not record.abstained:
        record.failures.append("answered, should have abstained")
    if turn.should_abstain is False and record.abstained:
        record.failures.append("abstained, should have answered")
    missing = [fact for fact in record.facts_expected if fact not in record.facts_found]
    if missing:
        record.failures.append("missing key facts: " + "; ".join(missing))
    if record.forbidden_found:
        record.failures.append("stated forbidden: " + "; ".join(record.forbidden_found))
    if record.calc_ok is False:
        if not answer.calculation:
            in_text = metrics.contains(answer.answer, f"£{float(spec.amount):,.2f}".removesuffix(".00"))  # type: ignore[union-attr]
            record.failures.append(
                f"no calculation object (expected {spec.operation} = {spec.amount}"  # type: ignore[union-attr]
                + ("; the figure is in the text, from the guidance)" if in_text else ")")
            )
        else:
            record.failures.append(
                f"calculation {record.calc_operation} gave {', '.join(record.calc_found) or 'no amounts'}; "
                f"expected {', '.join(record.calc_expected)}"
            )


def evaluate(
    assistant: Assistant,
    cases: Sequence[Case] | None = None,
    *,
    k: int = 10,
    progress: Callable[[int, int, str], None] | None = None,
) -> EvalResult:
    """Ask every turn of every case through ``assistant.ask`` and score the results."""
    from assistant.models import AssistantError

    cases = list(cases if cases is not None else load_gold())
    assistant.ask("hello", channel="eval")  # untimed: lazy loads (rate tables, caches) happen here
    started_at = time.strftime("%Y-%m-%dT%H:%M:%S")
    started = time.perf_counter()
    results: list[TurnResult] = []
    for index, case in enumerate(cases, start=1):
        if progress:
            progress(index, len(cases), case.id)
        session_id: str | None = None
        for number, turn in enumerate(case.turns, start=1):
            record = TurnResult(
                case_id=case.id,
                category=case.category,
                turn=number,
                question=turn.question,
                expected_intent=[intent.value for intent in turn.intent],
                should_abstain=turn.should_abstain,
                expected_docs=list(turn.expected_docs),
                expected_sections=list(turn.expected_sections),
            )
            asked = time.perf_counter()
            try:
                answer = assistant.ask(turn.question, session_id=session_id, channel="eval")
            except Exception as exc:  # a crash is a finding: record it and go on with the next case
                record.seconds = time.perf_counter() - asked
                kind = "refused" if isinstance(exc, AssistantError) else "crashed"
                record.error = (
                    f"{kind}: {type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}"
                )
                record.failures.append(record.error)
                results.append(record)
                break  # later turns of a conversation depend on this one
            record.seconds = time.perf_counter() - asked
            session_id = answer.session_id
            record.answer = answer.answer
            record.intent = str(answer.intent)
            record.grounded = answer.grounded
            record.citations = [
                {"n": c.n, "doc_id": c.doc_id, "section": c.section, "quote": c.quote}
                for c in answer.citations
            ]
            _grade(record, turn, answer)
            if turn.graded_retrieval:
                record.retrieval = retrieve(assistant, turn, k)
            results.append(record)
    return EvalResult(
        started=started_at,
        seconds=round(time.perf_counter() - started, 2),
        today=str(assistant.settings.current_date()),
        cases=len(cases),
        turns=len(results),
        metrics=compute_metrics(results),
        results=results,
    )


# Metrics -------------------------------------------------------------------------------------
def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def retrieval_metrics(results: Sequence[TurnResult]) -> dict[str, dict[str, Any]]:
    by_mode: dict[str, dict[str, list[float]]] = {mode: defaultdict(list) for mode in MODES}
    for record in results:
        for item in record.retrieval:
            values = by_mode[item.mode]
            for k in KS:
                values[f"recall@{k}"].append(metrics.recall_at_k(item.ranking, record.expected_docs, k))
            values["mrr"].append(metrics.reciprocal_rank(item.ranking, record.expected_docs))
            values["ndcg@10"].append(metrics.ndcg_at_k(item.ranking, record.expected_docs, 10))
            values["doc_recall@10"].append(metrics.doc_recall_at_k(item.ranking, record.expected_docs, 10))
            values["latency_ms"].append(item.seconds * 1000)
            if record.expected_sections:
                hit = any(
                    _section_matches(*section.split("#", 1), wanted)
                    for section in item.sections[:5]
                    for wanted in record.expected_sections
                )
                values["section_hit@5"].append(1.0 if hit else 0.0)
    out: dict[str, dict[str, Any]] = {}
    for mode, values in by_mode.items():
        latency = values.pop("latency_ms", [])
        out[mode] = {name: _round(metrics.mean(series)) for name, series in values.items()}
        out[mode]["questions"] = len(values.get("mrr", []))
        out[mode]["section_questions"] = len(values.get("section_hit@5", []))
        out[mode]["latency_p50_ms"] = _round(metrics.percentile(latency, 50))
        out[mode]["recall_curve"] = [
            _round(
                metrics.mean(
                    metrics.recall_at_k(item.ranking, record.expected_docs, k)
                    for record in results
                    for item in record.retrieval
                    if item.mode == mode
                )
            )
            for k in range(1, 11)
        ]
    return out


def answer_metrics(results: Sequence[TurnResult]) -> dict[str, Any]:
    answered = [r for r in results if r.error is None]
    fact_turns = [r for r in answered if r.facts_expected]
    facts_expected = sum(len(r.facts_expected) for r in fact_turns)
    facts_found = sum(len(r.facts_found) for r in fact_turns)
    cite_turns = [r for r in fact_turns if not r.calc_expected and r.grounded]
    stated = sum(len(r.facts_found) for r in cite_turns)
    cited = sum(len(r.facts_cited) for r in cite_turns)
    doc_turns = [r for r in answered if r.expected_docs and r.citations and not r.calc_expected]
    cite_total = sum(len(r.citations) for r in doc_turns)
    cite_on_doc = sum(1 for r in doc_turns for c in r.citations if c["doc_id"] in r.expected_docs)
    abstain_turns = [r for r in results if r.should_abstain is not None]
    precision, recall = metrics.precision_recall(
        [r.abstained for r in abstain_turns], [bool(r.should_abstain) for r in abstain_turns]
    )
    intent_turns = [r for r in results if r.expected_intent]
    calc_turns = [r for r in results if r.calc_expected]
    latencies = [r.seconds * 1000 for r in answered]
    return {
        "key_fact_accuracy": _round(metrics.ratio(facts_found, facts_expected)),
        "key_fact_turn_accuracy": _round(
            metrics.ratio(
                sum(1 for r in fact_turns if len(r.facts_found) == len(r.facts_expected)), len(fact_turns)
            )
        ),
        "citation_precision": _round(metrics.ratio(cited, stated)),
        "citation_doc_precision": _round(metrics.ratio(cite_on_doc, cite_total)),
        "abstention_precision": _round(precision),
        "abstention_recall": _round(recall),
        "intent_accuracy": _round(
            metrics.ratio(sum(1 for r in intent_turns if r.intent in r.expected_intent), len(intent_turns))
        ),
        "calculator_exact_match": _round(
            metrics.ratio(sum(1 for r in calc_turns if r.calc_ok), len(calc_turns))
        ),
        "forbidden_violations": sum(1 for r in results if r.forbidden_found),
        "errors": sum(1 for r in results if r.error),
        "turn_pass_rate": _round(metrics.ratio(sum(1 for r in results if r.passed), len(results))),
        "counts": {
            "turns": len(results),
            "key_fact_turns": len(fact_turns),
            "key_facts": facts_expected,
            "citation_facts": stated,
            "abstention_turns": len(abstain_turns),
            "should_abstain": sum(1 for r in abstain_turns if r.should_abstain),
            "intent_turns": len(intent_turns),
            "calculation_turns": len(calc_turns),
        },
        "latency_ms": {
            "p50": _round(metrics.percentile(latencies, 50)),
            "p95": _round(metrics.percentile(latencies, 95)),
            "p99": _round(metrics.percentile(latencies, 99)),
            "mean": _round(metrics.mean(latencies)),
        },
    }


def compute_metrics(results: Sequence[TurnResult]) -> dict[str, Any]:
    by_category: dict[str, list[TurnResult]] = defaultdict(list)
    for record in results:
        by_category[record.category].append(record)
    intents = Counter(
        (r.expected_intent[0] if r.expected_intent else "-", r.intent or "error") for r in results
    )
    return {
        "retrieval": retrieval_metrics(results),
        "answers": answer_metrics(results),
        "categories": {
            name: {"turns": len(items), "passed": sum(1 for r in items if r.passed)}
            for name, items in sorted(by_category.items())
        },
        "intent_confusion": [{"expected": e, "got": g, "n": n} for (e, g), n in sorted(intents.items())],
    }


# Floors ------------------------------------------------------------------------------------
def flat_metric(metrics_tree: dict[str, Any], dotted: str) -> float | None:
    node: Any = metrics_tree
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node if isinstance(node, int | float) else None


def load_floors(path: Path = FLOORS_PATH) -> dict[str, float]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: float(value) for key, value in data["floors"].items()}


def check_floors(metrics_tree: dict[str, Any], floors: dict[str, float]) -> list[str]:
    """Human-readable failures: each metric below its floor (or not measured)."""
    problems = []
    for name, floor in floors.items():
        value = flat_metric(metrics_tree, name)
        if value is None:
            problems.append(f"{name}: not measured (floor {floor:.3f})")
        elif value + 1e-9 < floor:
            problems.append(f"{name}: {value:.3f} is below its floor {floor:.3f}")
    return problems


# The metrics CI guards, and how far below a measured value a recorded floor sits (run-to-run
# noise is nil for a fixed index, so the margin only absorbs small corpus and wording edits).
FLOOR_METRICS = (
    "retrieval.hybrid.recall@5",
    "retrieval.hybrid.mrr",
    "retrieval.hybrid.ndcg@10",
    "answers.key_fact_accuracy",
    "answers.citation_precision",
    "answers.abstention_precision",
    "answers.abstention_recall",
    "answers.intent_accuracy",
    "answers.calculator_exact_match",
)
FLOOR_MARGIN = 0.03


def record_floors(metrics_tree: dict[str, Any], path: Path = FLOORS_PATH, note: str = "") -> dict[str, float]:
    """Write floors slightly below the measured values; calculator exact match is always 1.0."""
    import math

    floors: dict[str, float] = {}
    for name in FLOOR_METRICS:
        value = flat_metric(metrics_tree, name)
        if name == "answers.calculator_exact_match":
            floors[name] = 1.0
        elif value is not None:
            floors[name] = max(0.0, math.floor((value - FLOOR_MARGIN) * 100) / 100)
    measured = {name: flat_metric(metrics_tree, name) for name in FLOOR_METRICS}
    data = {
        "note": note
        or f"Recorded by `arrs eval --record-floors`: each floor is {FLOOR_MARGIN} below the measured value, "
        "rounded down; calculator exact match must stay at 1.0.",
        "floors": floors,
        "measured": measured,
    }
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return floors


def hybrid_comparison(metrics_tree: dict[str, Any]) -> dict[str, bool]:
    """Whether the hybrid is at least as good as each single retriever (the issue's bar)."""
    retrieval = metrics_tree["retrieval"]
    return {
        f"{name} >= {mode}": (retrieval["hybrid"].get(name) or 0) + 1e-9 >= (retrieval[mode].get(name) or 0)
        for name in ("recall@5", "mrr")
        for mode in ("dense", "bm25")
    }


# Outputs -----------------------------------------------------------------------------------
def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def _num(value: float | None, digits: int = 3) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def retrieval_rows(metrics_tree: dict[str, Any]) -> list[list[str]]:
    rows = []
    for mode in MODES:
        m = metrics_tree["retrieval"][mode]
        rows.append(
            [
                {"dense": "Dense only", "bm25": "BM25 only", "hybrid": "Hybrid (RRF)"}[mode],
                *(_pct(m.get(f"recall@{k}")) for k in KS),
                _num(m.get("mrr")),
                _num(m.get("ndcg@10")),
                _pct(m.get("section_hit@5")),
                _num(m.get("latency_p50_ms"), 1),
            ]
        )
    return rows


RETRIEVAL_HEADERS = ["Retriever", "R@1", "R@3", "R@5", "R@10", "MRR", "nDCG@10", "Section hit@5", "p50 ms"]


def answer_rows(metrics_tree: dict[str, Any]) -> list[list[str]]:
    a = metrics_tree["answers"]
    c = a["counts"]
    lat = a["latency_ms"]
    return [
        [
            "Key-fact accuracy (facts stated / expected)",
            _pct(a["key_fact_accuracy"]),
            f"{c['key_facts']} facts",
        ],
        ["Turns with every key fact", _pct(a["key_fact_turn_accuracy"]), f"{c['key_fact_turns']} turns"],
        [
            "Citation precision (stated facts inside a cited quote)",
            _pct(a["citation_precision"]),
            f"{c['citation_facts']} facts",
        ],
        ["Citations on an expected document", _pct(a["citation_doc_precision"]), ""],
        ["Abstention precision", _pct(a["abstention_precision"]), f"{c['abstention_turns']} turns"],
        ["Abstention recall", _pct(a["abstention_recall"]), f"{c['should_abstain']} should abstain"],
        ["Intent accuracy", _pct(a["intent_accuracy"]), f"{c['intent_turns']} turns"],
        ["Calculator exact match", _pct(a["calculator_exact_match"]), f"{c['calculation_turns']} turns"],
        ["Forbidden statements", str(a["forbidden_violations"]), ""],
        ["Turns passing every check", _pct(a["turn_pass_rate"]), f"{c['turns']} turns"],
        [
            "Answer latency p50 / p95 / p99 (in-process)",
            f"{_num(lat['p50'], 0)} / {_num(lat['p95'], 0)} / {_num(lat['p99'], 0)} ms",
            "",
        ],
    ]


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def render_report(result: EvalResult, floors: dict[str, float] | None = None) -> str:
    m = result.metrics
    parts = [
        "# ARRS Assistant: gold-set evaluation",
        "",
        f"Run {result.started} over {result.cases} cases ({result.turns} turns) in {result.seconds:.0f} s; "
        f"'today' pinned to {result.today}. Generated by `arrs eval`; the gold set is evals/gold/ "
        "(see evals/gold/README.md for how cases and metrics are defined).",
        "",
        "## Retrieval: the same questions, three retrievers",
        "",
        f"{m['retrieval']['hybrid']['questions']} stand-alone questions with expected documents; recall@k is "
        "the share whose top k passages include an expected document; section hit@5 counts the "
        f"{m['retrieval']['hybrid']['section_questions']} questions that name exact sections.",
        "",
        _md_table(RETRIEVAL_HEADERS, retrieval_rows(m)),
        "",
        "Hybrid at least as good as each single retriever: "
        + ", ".join(f"{name}: {'yes' if ok else '**no**'}" for name, ok in hybrid_comparison(m).items()),
        "",
        "![recall@k per retriever](recall_at_k.png)",
        "",
        "## Answers",
        "",
        _md_table(["Metric", "Value", "Measured on"], answer_rows(m)),
        "",
        "![answer latency](latency.png)",
        "",
    ]
    if floors:
        problems = check_floors(m, floors)
        rows = [[name, _num(flat_metric(m, name)), _num(floor)] for name, floor in floors.items()]
        parts += [
            "## Floors (evals/floors.json, checked by `arrs eval --check` in CI)",
            "",
            _md_table(["Metric", "Measured", "Floor"], rows),
            "",
            (
                "All metrics are at or above their floors."
                if not problems
                else "Below floor: " + "; ".join(problems)
            ),
            "",
        ]
    parts += [
        "## By category",
        "",
        _md_table(
            ["Category", "Turns", "Passed"],
            [
                [name, str(v["turns"]), f"{v['passed']} ({v['passed'] / v['turns'] * 100:.0f}%)"]
                for name, v in m["categories"].items()
            ],
        ),
        "",
        "## Failing turns",
        "",
    ]
    failing = [r for r in result.results if not r.passed]
    if not failing:
        parts.append("None.")
    else:
        rows = []
        for r in failing:
            hybrid = next((item for item in r.retrieval if item.mode == "hybrid"), None)
            top = ", ".join(dict.fromkeys(hybrid.ranking[:3])) if hybrid else ""
            rows.append(
                [
                    f"{r.case_id}#{r.turn}",
                    r.question,
                    "; ".join(r.failures),
                    top,
                ]
            )
        parts.append(_md_table(["Case", "Question", "Why it failed", "Hybrid top documents"], rows))
    parts.append("")
    return "\n".join(parts)


def write_plots(result: EvalResult, out_dir: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    for mode, style in zip(MODES, ("--", ":", "-"), strict=True):
        curve = result.metrics["retrieval"][mode]["recall_curve"]
        ax.plot(range(1, 11), [(v or 0) * 100 for v in curve], style, marker="o", label=mode)
    ax.set_xlabel("k (passages retrieved)")
    ax.set_ylabel("recall@k (%)")
    ax.set_title("Answer recall@k by retriever (gold set)")
    ax.set_xticks(range(1, 11))
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    paths.append(out_dir / "recall_at_k.png")
    fig.savefig(paths[-1])
    plt.close(fig)

    latencies = [r.seconds * 1000 for r in result.results if r.error is None]
    fig, ax = plt.subplots(figsize=(6.4, 4.0), dpi=110)
    ax.hist(latencies, bins=40, color="#4c72b0")
    for q, color in ((50, "green"), (95, "orange"), (99, "red")):
        value = metrics.percentile(latencies, q)
        ax.axvline(value, color=color, linestyle="--", label=f"p{q} {value:.0f} ms")
    ax.set_xlabel("answer latency, in-process (ms)")
    ax.set_ylabel("turns")
    ax.set_title(f"Answer latency over {len(latencies)} gold turns")
    ax.legend()
    fig.tight_layout()
    paths.append(out_dir / "latency.png")
    fig.savefig(paths[-1])
    plt.close(fig)
    return paths


def write_outputs(
    result: EvalResult, out_dir: Path = EVALS_DIR, floors: dict[str, float] | None = None
) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    results_path = out_dir / "results.json"
    # Per-passage section labels are only needed to compute section hit@5; leave them out.
    compact = result.model_dump_json(
        indent=1, exclude={"results": {"__all__": {"retrieval": {"__all__": {"sections"}}}}}
    )
    results_path.write_text(compact + "\n", encoding="utf-8")
    report_path = out_dir / "report.md"
    report_path.write_text(render_report(result, floors), encoding="utf-8")
    return [results_path, report_path, *write_plots(result, out_dir)]


def print_tables(result: EvalResult, console) -> None:
    from rich.table import Table

    table = Table(title="Retrieval (same questions, one run)")
    for header in RETRIEVAL_HEADERS:
        table.add_column(header, justify="left" if header == "Retriever" else "right")
    for row in retrieval_rows(result.metrics):
        table.add_row(*row)
    console.print(table)
    table = Table(title="Answers")
    table.add_column("Metric")
    table.add_column("Value", justify="right")
    table.add_column("Measured on", justify="right")
    for row in answer_rows(result.metrics):
        table.add_row(*row)
    console.print(table)


# Set-up for the CLI --------------------------------------------------------------------------
def eval_settings(base: Settings | None = None, state_dir: Path | None = None) -> Settings:
    """The configured index, a throwaway state database, and 'today' pinned (unless ARRS_TODAY is set)."""
    from assistant.settings import Settings

    base = base or Settings()
    state_dir = state_dir or Path(tempfile.mkdtemp(prefix="arrs-eval-"))
    update: dict[str, Any] = {"database_url": f"sqlite:///{state_dir / 'eval-state.db'}"}
    if not os.environ.get("ARRS_TODAY"):
        update["today"] = EVAL_TODAY
    # A new object, not model_copy: cached paths (resolved_database_url) must be recomputed.
    return Settings(**{**base.model_dump(), **update}, _env_file=None)


def fresh_settings(work_dir: Path) -> Settings:
    """A temp index of the bundled corpus (``arrs eval --fresh``)."""
    from assistant.settings import Settings
    from ingest.pipeline import ingest_paths

    settings = Settings(data_dir=work_dir / "data", today=EVAL_TODAY, _env_file=None)
    report = ingest_paths(settings, progress=True)
    if not report.ok:
        raise RuntimeError(f"ingest failed: {report.errors}")
    return eval_settings(settings, work_dir)


def select_cases(cases: Sequence[Case], only: Sequence[str]) -> list[Case]:
    if not only:
        return list(cases)
    return [c for c in cases if c.category in only or c.id in only or any(c.id.startswith(o) for o in only)]
