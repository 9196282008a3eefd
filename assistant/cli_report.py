"""`arrs report`: the staff insights report on the terminal or into a file; `--purge` applies retention."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

err = Console(stderr=True)


class OutputFormat(StrEnum):
    md = "md"
    html = "html"
    json = "json"


def report_command(
    since: Annotated[
        datetime | None,
        typer.Option(
            "--since", formats=["%Y-%m-%d"], help="Only questions asked on or after this day (UTC)."
        ),
    ] = None,
    format: Annotated[OutputFormat, typer.Option("--format", help="md, html (with charts) or json.")] = (
        OutputFormat.md
    ),
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
    purge: Annotated[
        bool,
        typer.Option(
            "--purge",
            help="Only delete question logs older than ARRS_QUESTION_LOG_RETENTION_DAYS, then exit.",
        ),
    ] = False,
) -> None:
    """Insights for staff: unanswered questions grouped by meaning, thumbs-down answers, intents by
    channel, booking conversion and latency."""
    from assistant.db import make_engine
    from assistant.embeddings import get_embeddings
    from assistant.insights import QuestionLog
    from assistant.models import AssistantError
    from assistant.report import report_response
    from assistant.settings import Settings

    settings = Settings()
    engine = make_engine(settings.resolved_database_url)
    if purge:
        from assistant.db import create_schema

        create_schema(engine)
        days = settings.question_log_retention_days
        deleted = QuestionLog(engine).purge_older_than(days)
        err.print(f"Deleted {deleted} question log row(s) older than {days} days.")
        return
    try:
        body, _ = report_response(
            engine,
            get_embeddings(settings).encode,
            since.date() if since else None,
            format.value,
        )
    except AssistantError as exc:
        err.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(1) from None
    if output is None:
        typer.echo(body, nl=False)
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(body, encoding="utf-8")
    err.print(f"Report written to {output}")
