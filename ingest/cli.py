"""`arrs ingest [PATH...] [--prune]`: the command function, mounted on the main Typer app."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.markup import escape

from assistant.models import AssistantError
from assistant.settings import Settings

PATHS_HELP = "Files or folders to ingest (Markdown, HTML, PDF, DOCX, TXT). Default: the bundled corpus."
PRUNE_HELP = "Also delete the chunks of files that no longer exist."


def ingest_command(
    paths: list[Path] | None = typer.Argument(None, help=PATHS_HELP, show_default=False),
    prune: bool = typer.Option(False, "--prune", help=PRUNE_HELP),
) -> None:
    """Index documents into the assistant's search index; unchanged chunks are not re-embedded."""
    from ingest.pipeline import ingest_paths

    console = Console(stderr=True)
    try:
        report = ingest_paths(Settings(), paths or None, prune=prune, progress=True)
    except AssistantError as exc:
        console.print(f"[red]Error:[/red] {escape(str(exc))}")
        raise typer.Exit(1) from exc
    for warning in report.warnings:
        console.print(f"[yellow]Warning:[/yellow] {escape(warning)}")
    if paths:  # the bundled corpus also holds data files (YAML, CSV) that are not documents
        for skipped in report.skipped:
            console.print(f"Skipped (unsupported file type): {escape(skipped)}")
    for error in report.errors:
        console.print(f"[red]Error:[/red] {escape(error.message)}")
    typer.echo(report.summary())
    if report.errors:
        raise typer.Exit(1)
    _warm(console)


def _warm(console: Console) -> None:
    """Build the answer-time caches (sentence and intent vectors) now, so the first question is fast."""
    from assistant.chain import Assistant

    with console.status("Preparing answer caches"):
        try:
            Assistant.from_settings(Settings())
        except (AssistantError, OSError, ValueError) as exc:  # the index itself is fine: say so, go on
            console.print(f"[yellow]Warning:[/yellow] answer caches not prepared: {escape(str(exc))}")
