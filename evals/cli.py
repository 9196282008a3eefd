"""The `arrs eval` and `arrs bench` commands (mounted by assistant/cli.py).

Only typer and rich are imported here; the pipeline, torch and matplotlib load inside the
commands so that `arrs --help` stays instant.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
err = Console(stderr=True)
EVALS_DIR = Path(__file__).resolve().parent


def eval_command(
    check: Annotated[
        bool, typer.Option("--check", help="Exit 1 when a metric is below evals/floors.json.")
    ] = False,
    fresh: Annotated[
        bool,
        typer.Option(
            "--fresh", help="Ingest the bundled corpus into a temp index first (no data dir needed)."
        ),
    ] = False,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only these categories or case ids (repeatable).")
    ] = None,
    out: Annotated[
        Path, typer.Option("--out", help="Where report.md, results.json and the PNGs go.")
    ] = EVALS_DIR,
    floors_path: Annotated[Path, typer.Option("--floors", help="Floors file.")] = EVALS_DIR / "floors.json",
    record_floors: Annotated[
        bool, typer.Option("--record-floors", help="Write the floors file from this run (slightly below it).")
    ] = False,
) -> None:
    """Run the gold question set through the real pipeline and report retrieval and answer metrics."""
    from rich.progress import Progress

    from assistant.chain import Assistant
    from assistant.models import AssistantError
    from evals import run_eval
    from evals.schema import load_gold

    cases = run_eval.select_cases(load_gold(), only or [])
    if not cases:
        err.print("[red]No gold cases match --only.[/]")
        raise typer.Exit(2)
    work = Path(tempfile.mkdtemp(prefix="arrs-eval-"))
    try:
        settings = run_eval.fresh_settings(work) if fresh else run_eval.eval_settings(state_dir=work)
        assistant = Assistant.from_settings(settings)
    except AssistantError as exc:
        err.print(f"[bold red]Error:[/] {exc}")
        raise typer.Exit(1) from exc
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("Gold cases", total=len(cases))
        result = run_eval.evaluate(
            assistant, cases, progress=lambda i, n, case_id: bar.update(task, completed=i)
        )
    if record_floors:
        if only:
            err.print("[red]--record-floors needs the whole gold set (no --only).[/]")
            raise typer.Exit(2)
        run_eval.record_floors(result.metrics, floors_path)
        console.print(f"Recorded floors in {floors_path}.")
    floors = run_eval.load_floors(floors_path) if floors_path.exists() else {}
    run_eval.print_tables(result, console)
    written = run_eval.write_outputs(result, out, floors)
    failing = [r for r in result.results if not r.passed]
    console.print(
        f"{result.turns} turns in {result.seconds:.0f} s; {len(failing)} failing turns listed in "
        f"{written[1]}. Wrote {', '.join(str(p) for p in written)}."
    )
    if check:
        problems = run_eval.check_floors(result.metrics, floors)
        if only:
            err.print("[yellow]--check with --only compares a subset with whole-set floors.[/]")
        if problems:
            for problem in problems:
                err.print(f"[bold red]Below floor:[/] {problem}")
            raise typer.Exit(1)
        console.print(f"[green]All {len(floors)} metrics are at or above their floors.[/]")


def bench_command(
    quick: Annotated[
        bool, typer.Option("--quick", help="Fewer repetitions and no 100k scale step (smoke test).")
    ] = False,
    out: Annotated[Path, typer.Option("--out", help="Where bench.md and bench.json go.")] = EVALS_DIR,
    skip_http: Annotated[bool, typer.Option("--skip-http", help="Skip the HTTP latency part.")] = False,
    skip_scale: Annotated[
        bool, typer.Option("--skip-scale", help="Skip the synthetic 1k/10k/100k scale test.")
    ] = False,
) -> None:
    """Benchmark ingest throughput, answer latency (in-process and HTTP), cold start, memory and scale."""
    from evals.bench import run_bench

    code = run_bench(out_dir=out, quick=quick, skip_http=skip_http, skip_scale=skip_scale, console=console)
    sys.exit(code)
