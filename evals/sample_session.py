"""A scripted session of mixed questions through a real Assistant, then the staff insights report.

Run ``python -m evals.sample_session`` to ingest the bundled corpus into a temp data directory, ask
the conversations below on several channels (FAQs, calculations, provider questions, paraphrases of
questions the corpus does not cover, a clinical and an off-topic one, a completed and an abandoned
booking), leave some thumbs-down feedback, and write evals/sample_report.md and .html.
``--data-dir`` reuses an already ingested data directory (its state database is replaced).
"""

from __future__ import annotations

import argparse
import os
import tempfile
from datetime import date
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EVALS_DIR = Path(__file__).resolve().parent
SESSION_TODAY = date(2026, 11, 21)

# (channel, turns). A turn is a question, optionally with feedback: ("down"|"up", comment or None).
Turn = str | tuple[str, tuple[str, str | None]]
CONVERSATIONS: list[tuple[str, list[Turn]]] = [
    (
        "widget",
        [
            "Hello",
            "What is ARRS?",
            ("Which roles can a PCN claim for under ARRS?", ("up", None)),
            "What does additionality mean?",
            "thanks, that's really useful!",
        ],
    ),
    (
        "slack",
        [
            "max reimbursement for a pharmacy tech in 2025/26, inner London?",
            ("how much for a 0.5 WTE care coordinator in 2026/27", ("up", None)),
            "Our weighted population is 38,500 - what is our ARRS sum for 2024/25?",
            "how much could we claim for a care co-ordinator from 1 July 2023 to 31 March 2024",
            "0.5",
        ],
    ),
    (
        "api",
        [
            "can we claim for a paramedic under arrs?",
            "what band is a first contact physio under arrs?",
            (
                "what do they need before we can employ them?",
                ("down", "Too long, I only wanted the registration."),
            ),
            "What was the ARRS per weighted patient figure in 2025/26?",
            "Are employer on-costs reimbursed?",
        ],
    ),
    (
        "widget",
        [
            (
                "Can ARRS funding pay for a dentist?",
                ("down", "Surely dental roles count? Nothing useful here."),
            ),
            "Is a dentist reimbursable under ARRS?",
        ],
    ),
    ("slack", ["can we claim for a dentist through ARRS", "Can ARRS money be used for a practice manager?"]),
    (
        "api",
        [
            "can we use ARRS to pay a practice manager's salary",
            "How do I reclaim VAT on agency staff invoices?",
        ],
    ),
    ("slack", ["is VAT reclaimable on locum invoices?", "Does ARRS apply to practices in Wales?"]),
    (
        "widget",
        [
            "What do you offer?",
            "Is the consultation free?",
            "When are you open?",
            "Can your pharmacists work remotely?",
            (
                "How much do you charge for a clinical pharmacist?",
                ("down", "I wanted a price, not a sales call."),
            ),
            "What's your price for a pharmacist per month?",
            "Who is your clinical director?",
        ],
    ),
    ("widget", ["What dose of amoxicillin should I take for a chest infection?"]),
    ("api", ["what's the weather like in Leeds tomorrow?"]),
    (
        "widget",
        [
            "I'd like to book a free consultation",
            "Sam Patel",
            "Riverside PCN",
            "skip",
            "clinical pharmacists and remote prescribing",
            "sam.patel@example.org",
            "07700 900123",
            "1",
        ],
    ),
    ("widget", ["Can someone from your team call me back?", "Jo Smith", "cancel"]),
]


def run(data_dir: Path, out_dir: Path) -> tuple[Path, Path]:
    from assistant.chain import Assistant
    from assistant.embeddings import get_embeddings
    from assistant.feedback import FeedbackIn, FeedbackStore
    from assistant.insights import attach_insights
    from assistant.report import build_report, render_html, render_markdown
    from assistant.settings import Settings
    from ingest.pipeline import ingest_paths

    state_db = data_dir / "sample_session.db"
    for stale in data_dir.glob("sample_session.db*"):
        stale.unlink()
    settings = Settings(
        data_dir=data_dir, database_url=f"sqlite:///{state_db}", today=SESSION_TODAY, _env_file=None
    )
    print(f"Ingesting the bundled corpus into {data_dir} ...", flush=True)
    report = ingest_paths(settings, progress=False)
    if not report.ok:
        raise SystemExit(f"ingest failed: {report.errors}")
    assistant = Assistant.from_settings(settings)
    attach_insights(assistant)
    feedback = FeedbackStore(assistant.engine)
    asked = 0
    for channel, turns in CONVERSATIONS:
        session_id = None
        for turn in turns:
            question, rating = (turn, None) if isinstance(turn, str) else turn
            answer = assistant.ask(question, session_id=session_id, channel=channel)
            session_id, asked = answer.session_id, asked + 1
            print(f"[{channel:6}] {answer.intent:12} grounded={answer.grounded!s:5}  {question}", flush=True)
            if rating is not None:
                feedback.record(
                    FeedbackIn(session_id=session_id, turn=answer.turn, rating=rating[0], comment=rating[1]),
                    channel=channel,
                )
    print(f"{asked} questions asked.")
    insights = build_report(assistant.engine, get_embeddings(settings).encode)
    out_dir.mkdir(parents=True, exist_ok=True)
    markdown_path, html_path = out_dir / "sample_report.md", out_dir / "sample_report.html"
    markdown_path.write_text(render_markdown(insights), encoding="utf-8")
    html_path.write_text(render_html(insights), encoding="utf-8")
    return markdown_path, html_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir", type=Path, help="An ingested data directory to reuse (default: a temp one)."
    )
    parser.add_argument("--out-dir", type=Path, default=EVALS_DIR, help="Where to write the two reports.")
    args = parser.parse_args()
    if args.data_dir:
        paths = run(args.data_dir, args.out_dir)
    else:
        with tempfile.TemporaryDirectory(prefix="arrs-sample-") as temp:
            paths = run(Path(temp) / "data", args.out_dir)
    print("Wrote", *paths)


if __name__ == "__main__":
    main()
