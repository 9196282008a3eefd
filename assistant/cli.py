"""The `arrs` command line: ingest, ask, chat, calculate, serve.

Heavy imports (torch, Chroma, FastAPI) happen inside the commands so `arrs --help` is instant.
"""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.markdown import Markdown

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

app = typer.Typer(
    name="arrs",
    help="ARRS Assistant: cited answers and reimbursement arithmetic for the Additional Roles Reimbursement Scheme.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console()
err = Console(stderr=True)


def _assistant():
    from assistant.chain import Assistant
    from assistant.settings import Settings

    return Assistant.from_settings(Settings())


def _fail(message: str, code: int = 1) -> None:
    err.print(f"[bold red]Error:[/] {message}")
    raise typer.Exit(code)


def _print_answer(answer, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
        return
    console.print(Markdown(answer.answer))
    if answer.calculation and answer.calculation.get("breakdown"):
        from rich.table import Table

        table = Table(title="Breakdown", show_lines=False)
        rows = answer.calculation["breakdown"]
        columns = [key for key in rows[0] if not isinstance(rows[0][key], dict | list)][:7]
        for column in columns:
            table.add_column(column.replace("_", " "))
        for row in rows:
            table.add_row(*(str(row.get(column, "")) for column in columns))
        console.print(table)
    for citation in answer.citations:
        where = " > ".join(part for part in (citation.title, citation.section) if part)
        console.print(f"[bold][{citation.n}][/] {where}\n    [link={citation.url}]{citation.url}[/link]")
        console.print(f"    [dim]“{citation.quote}”[/dim]")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in quotes.")],
    session: Annotated[str | None, typer.Option("--session", help="Continue a conversation.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the Answer JSON.")] = False,
) -> None:
    """Answer one question with citations."""
    from assistant.models import AssistantError

    try:
        answer = _assistant().ask(question, session_id=session, channel="cli")
    except AssistantError as exc:
        _fail(str(exc))
    _print_answer(answer, as_json)


@app.command()
def chat(session: Annotated[str | None, typer.Option("--session")] = None) -> None:
    """A multi-turn conversation in the terminal (Ctrl-D or 'exit' to leave)."""
    from assistant.models import AssistantError

    assistant = _assistant()
    console.print("[bold]ARRS Assistant[/] — ask about ARRS roles, funding and claims. Type 'exit' to leave.")
    while True:
        try:
            question = console.input("[bold cyan]you>[/] ")
        except (EOFError, KeyboardInterrupt):
            console.print()
            break
        if question.strip().lower() in {"exit", "quit", ":q"}:
            break
        try:
            answer = assistant.ask(question, session_id=session, channel="cli")
        except AssistantError as exc:
            err.print(f"[red]{exc}[/]")
            continue
        session = answer.session_id
        _print_answer(answer, as_json=False)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to bind.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, max=16, help="Worker processes (one per core; each loads its own model).")
    ] = 1,
) -> None:
    """Serve the HTTP API and the demo page with the enquiry widget."""
    import uvicorn

    console.print(f"Demo site with the widget: http://{host}:{port}/   API docs: http://{host}:{port}/docs")
    if workers > 1:
        # Separate processes answer in parallel; rate limits and state must then be shared
        # (ARRS_RATE_LIMIT_STORAGE_URI=redis://..., ARRS_DATABASE_URL) for limits to hold across them.
        uvicorn.run("server:create_app", factory=True, host=host, port=port, workers=workers, log_config=None)
        return
    from server import create_app

    uvicorn.run(create_app(), host=host, port=port, log_config=None)


@app.command()
def slack() -> None:
    """Run the Slack app in Socket Mode (needs SLACK_BOT_TOKEN and SLACK_APP_TOKEN)."""
    from assistant.models import AssistantError
    from slack_app import SlackNotConfigured, run_socket_mode

    try:
        run_socket_mode()
    except (SlackNotConfigured, AssistantError) as exc:
        _fail(str(exc))


def _mount_commands() -> None:
    """Sub-commands that live in their own modules."""
    from assistant.cli_calc import calc_app, rates_command
    from ingest.cli import ingest_command

    app.command("ingest")(ingest_command)
    app.add_typer(calc_app, name="calc")
    app.command("rates")(rates_command)


_mount_commands()


def _mount_evals() -> None:
    """`arrs eval` and `arrs bench` live in evals/cli.py (heavy imports happen inside them)."""
    try:
        from evals.cli import bench_command, eval_command
    except ImportError:  # pragma: no cover - an install without the evals package
        return
    app.command("eval")(eval_command)
    app.command("bench")(bench_command)


_mount_evals()


def _mount_report() -> None:
    """`arrs report` lives in assistant/cli_report.py."""
    from assistant.cli_report import report_command

    app.command("report")(report_command)


_mount_report()


def main() -> None:  # pragma: no cover
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
