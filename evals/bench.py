"""`arrs bench`: how fast the assistant is, measured, with the issue's targets beside the numbers.

1. Ingest throughput of the bundled corpus into a fresh temp index, against raw
   sentence-transformers encoding of the same chunk texts in the same run (the ratio is the
   pipeline's overhead), and a re-ingest of the unchanged corpus.
2. Answer latency p50/p95/p99 and answers per second: in-process (``Assistant.ask``), and over
   HTTP at concurrency 1 and 8 against ``uvicorn server:create_app`` on a free loopback port,
   with where the in-process time goes (query embedding, hybrid search, the rest).
3. Cold start of `arrs ask` in a fresh process; peak resident memory of this process, the server
   and the cold-start process.
4. Scale: synthetic 1k, 10k and 100k chunk indexes (evals/scale.py), each in its own process.

Every loop is bounded, every server is on 127.0.0.1 and stopped at the end. Writes
evals/bench.md and evals/bench.json.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from evals import metrics, scale
from evals.schema import load_gold

REPO = Path(__file__).resolve().parent.parent
EVALS_DIR = REPO / "evals"
BENCH_TODAY = date(2026, 11, 21)

# The targets (2 cores, no LLM, the bundled corpus).
TARGETS = {
    "inprocess_p50_ms": 20.0,
    "inprocess_p95_ms": 40.0,
    "http_c8_p95_ms": 60.0,
    "http_c8_answers_per_s": 100.0,
    "ingest_vs_raw": 0.85,
    "reingest_s": 3.0,
    "scale_100k_p50_ms": 50.0,
    "server_rss_mb": 1200.0,
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _proc_status_mb(pid: int, field: str) -> float | None:
    """VmRSS (now) or VmHWM (peak) of a live process, from /proc (Linux)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _proc_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds a live process has used (all its threads), from /proc (Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def _latency(samples_s: Sequence[float], wall_s: float | None = None) -> dict[str, Any]:
    ms = [s * 1000 for s in samples_s]
    out: dict[str, Any] = {
        "n": len(ms),
        "p50_ms": round(metrics.percentile(ms, 50), 1),
        "p95_ms": round(metrics.percentile(ms, 95), 1),
        "p99_ms": round(metrics.percentile(ms, 99), 1),
        "mean_ms": round(metrics.mean(ms), 1),
    }
    if wall_s:
        out["wall_s"] = round(wall_s, 2)
        out["answers_per_s"] = round(len(ms) / wall_s, 1)
    return out


def bench_questions(limit: int) -> list[str]:
    """Stand-alone gold questions (first turns), in file order, repeated up to ``limit``."""
    questions = [case.turns[0].question for case in load_gold()]
    return [questions[i % len(questions)] for i in range(limit)]


def _settings(data_dir: Path, state_dir: Path):
    from assistant.settings import Settings

    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{state_dir / 'bench-state.db'}",
        today=BENCH_TODAY,
        _env_file=None,
    )


# 1. Ingest ------------------------------------------------------------------------------------
def bench_ingest(data_dir: Path, state_dir: Path, raw_repeats: int = 2) -> dict[str, Any]:
    from assistant.embeddings import get_embeddings
    from assistant.store import all_chunks, get_collection
    from ingest.pipeline import ingest_paths

    settings = _settings(data_dir, state_dir)
    embeddings = get_embeddings(settings)
    started = time.perf_counter()
    embeddings.encode(["warm up the model and torch"])  # import + load outside every timing
    load_s = time.perf_counter() - started

    started = time.perf_counter()
    first = ingest_paths(settings, progress=False)
    ingest_wall = time.perf_counter() - started
    if not first.ok:
        raise RuntimeError(f"ingest failed: {first.errors}")
    texts = [chunk.embedding_text() for chunk in all_chunks(get_collection(settings))]

    import torch

    cores = os.cpu_count() or 1

    def raw_encode(threads: int) -> float:
        """Plain sentence-transformers encode of the same texts, at a given torch thread count."""
        previous = torch.get_num_threads()
        torch.set_num_threads(threads)
        try:
            t0 = time.perf_counter()
            embeddings.model.encode(
                texts,
                batch_size=embeddings.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
            return time.perf_counter() - t0
        finally:
            torch.set_num_threads(previous)

    # The baseline is sentence-transformers as a user runs it (every core), at its best of the
    # runs; a one-thread run is reported beside it because shared cores can favour one thread.
    raw_runs = [raw_encode(cores) for _ in range(raw_repeats)]
    raw_s = min(raw_runs)
    one_thread_s = raw_encode(1)
    started = time.perf_counter()
    second = ingest_paths(settings, progress=False)
    reingest_wall = time.perf_counter() - started
    ingest_rate = first.chunks_embedded / ingest_wall if ingest_wall else 0.0
    raw_rate = len(texts) / raw_s if raw_s else 0.0
    return {
        "files": first.files,
        "chunks": len(texts),
        "chunks_embedded": first.chunks_embedded,
        "model_load_s": round(load_s, 2),
        "ingest_s": round(ingest_wall, 2),
        "ingest_embed_s": round(first.embed_seconds, 2),
        "ingest_chunks_per_s": round(ingest_rate, 1),
        "raw_encode_s": round(raw_s, 2),
        "raw_encode_runs_s": [round(x, 2) for x in raw_runs],
        "raw_chunks_per_s": round(raw_rate, 1),
        "raw_threads": cores,
        "raw_one_thread_s": round(one_thread_s, 2),
        "raw_one_thread_chunks_per_s": round(len(texts) / one_thread_s, 1) if one_thread_s else None,
        "ingest_vs_raw": round(ingest_rate / raw_rate, 3) if raw_rate else None,
        "reingest_s": round(reingest_wall, 2),
        "reingest_embedded": second.chunks_embedded,
    }


# 2a. In-process latency -----------------------------------------------------------------------
def bench_inprocess(
    data_dir: Path, state_dir: Path, questions: Sequence[str], warmup: int = 5
) -> dict[str, Any]:
    from assistant.chain import Assistant

    assistant = Assistant.from_settings(_settings(data_dir, state_dir))
    for question in questions[:warmup]:
        assistant.ask(question, channel="bench")
    samples: list[float] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for question in questions:
        t0 = time.perf_counter()
        assistant.ask(question, channel="bench")
        samples.append(time.perf_counter() - t0)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started

    # Where the time goes: the two fixed costs every FAQ answer pays.
    encode_s, search_s = [], []
    for question in questions[: min(60, len(questions))]:
        t0 = time.perf_counter()
        vector = assistant.encode(question)
        encode_s.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assistant.index.search(
            question,
            vector,
            k=assistant.settings.top_k,
            candidates=assistant.settings.retrieval_candidates,
            source_types=["guidance", "user", "rates"],
        )
        search_s.append(time.perf_counter() - t0)
    result = _latency(samples, wall)
    # CPU seconds this process used per answer (all threads): far below the wall time means the
    # answers waited for a core that other processes held.
    result["cpu_ms_per_answer"] = round(cpu / len(samples) * 1000, 1) if samples else None
    result["stages"] = {
        "query_embedding": _latency(encode_s),
        "hybrid_search_filtered": _latency(search_s),
    }
    result["index_chunks"] = len(assistant.index)
    return result


# 2b. HTTP latency -----------------------------------------------------------------------------
class Server:
    """`uvicorn server:create_app --factory` on a free loopback port, in its own process group."""

    def __init__(self, data_dir: Path, state_dir: Path):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = state_dir / "server.log"
        env = {
            **os.environ,
            "ARRS_DATA_DIR": str(data_dir),
            "ARRS_DATABASE_URL": f"sqlite:///{state_dir / 'server-state.db'}",
            "ARRS_TODAY": BENCH_TODAY.isoformat(),
            "ARRS_RATE_LIMIT": "1000000/minute",
            "ARRS_RATE_LIMIT_STORAGE_URI": "memory://",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
        }
        command = [
            sys.executable, "-m", "uvicorn", "server:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning", "--no-access-log",
        ]  # fmt: skip
        self.started = time.perf_counter()
        self._log_handle = self.log.open("w")
        self.process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 180.0) -> float:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"server exited with {self.process.returncode}: {self.log.read_text()[-800:]}"
                )
            try:
                if httpx.get(self.base + "/readyz", timeout=2).status_code == 200:
                    return time.perf_counter() - self.started
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout:.0f} s: {self.log.read_text()[-800:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self._log_handle.close()


async def _load(base: str, questions: Sequence[str], concurrency: int) -> tuple[list[float], float, int]:
    import httpx

    queue: asyncio.Queue[str] = asyncio.Queue()
    for question in questions:
        queue.put_nowait(question)
    samples: list[float] = []
    failures = 0

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while True:
            try:
                question = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            t0 = time.perf_counter()
            response = await client.post(base + "/api/ask", json={"question": question})
            elapsed = time.perf_counter() - t0
            if response.status_code == 200:
                samples.append(elapsed)
            else:
                failures += 1

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
        wall = time.perf_counter() - started
    return samples, wall, failures


def bench_http(
    data_dir: Path, state_dir: Path, questions_c1: Sequence[str], questions_c8: Sequence[str]
) -> dict[str, Any]:
    import importlib.util

    if importlib.util.find_spec("server") is None:
        return {"skipped": "server.py is not present yet"}
    server = Server(data_dir, state_dir)
    try:
        ready_s = server.wait_ready()
        asyncio.run(_load(server.base, questions_c1[:5], 1))  # warm-up
        out: dict[str, Any] = {"port": server.port, "ready_s": round(ready_s, 1)}
        for label, questions, concurrency in (("c1", questions_c1, 1), ("c8", questions_c8, 8)):
            cpu_before = _proc_cpu_s(server.process.pid)
            samples, wall, failures = asyncio.run(_load(server.base, questions, concurrency))
            cpu_after = _proc_cpu_s(server.process.pid)
            out[label] = _latency(samples, wall) | {"failures": failures, "concurrency": concurrency}
            if cpu_before is not None and cpu_after is not None and samples:
                # Server CPU per answer, and how many cores it kept busy: a server using well under
                # the machine's cores while latency grows is queueing, not computing.
                out[label]["server_cpu_ms_per_answer"] = round(
                    (cpu_after - cpu_before) / len(samples) * 1000, 1
                )
                out[label]["server_cores_busy"] = round((cpu_after - cpu_before) / wall, 2)
        out["server_rss_mb"] = _proc_status_mb(server.process.pid, "VmRSS")
        out["server_peak_rss_mb"] = _proc_status_mb(server.process.pid, "VmHWM")
        return out
    except RuntimeError as exc:
        return {"skipped": f"server failed: {exc}"}
    finally:
        server.stop()


# 3. Cold start --------------------------------------------------------------------------------
def bench_cold_start(data_dir: Path, state_dir: Path, runs: int) -> dict[str, Any]:
    arrs = Path(sys.executable).with_name("arrs")
    command = [str(arrs)] if arrs.exists() else [sys.executable, "-m", "assistant.cli"]
    env = {
        **os.environ,
        "ARRS_DATA_DIR": str(data_dir),
        "ARRS_DATABASE_URL": f"sqlite:///{state_dir / 'cold-state.db'}",
        "ARRS_TODAY": BENCH_TODAY.isoformat(),
    }
    samples, help_samples, peaks, failures = [], [], [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        process = subprocess.Popen(
            [*command, "ask", "What band is a clinical pharmacist under ARRS?", "--json"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO,
        )  # fmt: skip
        peak = 0.0
        deadline = time.monotonic() + 180
        while process.poll() is None and time.monotonic() < deadline:
            peak = max(peak, _proc_status_mb(process.pid, "VmHWM") or 0.0)  # VmHWM only grows
            time.sleep(0.05)
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        samples.append(time.perf_counter() - t0)
        peaks.append(peak)
        failures += process.returncode != 0
        t0 = time.perf_counter()
        subprocess.run([*command, "--help"], env=env, capture_output=True, timeout=60, check=False, cwd=REPO)
        help_samples.append(time.perf_counter() - t0)
    return {
        "runs": runs,
        "ask_median_s": round(metrics.percentile(samples, 50), 2),
        "ask_runs_s": [round(s, 2) for s in samples],
        "help_median_s": round(metrics.percentile(help_samples, 50), 2),
        "failures": failures,
        "child_peak_rss_mb": round(max(peaks), 1) if peaks else None,
    }


# Report ---------------------------------------------------------------------------------------
def _met(value: float | None, target: float, higher_is_better: bool = False) -> str:
    if value is None:
        return "not measured"
    if (value >= target) if higher_is_better else (value <= target):
        return "met"
    if higher_is_better:
        return f"missed by {target - value:.3g} ({value / target * 100:.0f}% of target)"
    return f"missed by {value - target:.3g} ({value / target:.1f}x target)"


def targets_table(results: dict[str, Any]) -> list[list[str]]:
    inproc = results.get("inprocess", {})
    http = results.get("http", {})
    c8 = http.get("c8", {}) if isinstance(http, dict) else {}
    ingest = results.get("ingest", {})
    scale_rows = {row.get("chunks"): row for row in results.get("scale", []) if "error" not in row}
    big = scale_rows.get(100_000, {})
    rows = [
        ("In-process answer p50 (ms)", inproc.get("p50_ms"), TARGETS["inprocess_p50_ms"], False),
        ("In-process answer p95 (ms)", inproc.get("p95_ms"), TARGETS["inprocess_p95_ms"], False),
        ("HTTP c=8 p95 (ms)", c8.get("p95_ms"), TARGETS["http_c8_p95_ms"], False),
        ("HTTP c=8 answers/s", c8.get("answers_per_s"), TARGETS["http_c8_answers_per_s"], True),
        ("Ingest / raw encode throughput", ingest.get("ingest_vs_raw"), TARGETS["ingest_vs_raw"], True),
        ("Re-ingest unchanged corpus (s)", ingest.get("reingest_s"), TARGETS["reingest_s"], False),
        ("100k chunks: hybrid retrieval p50 (ms)", big.get("hybrid", {}).get("p50_ms"), TARGETS["scale_100k_p50_ms"], False),
        ("100k chunks: dense retrieval p50 (ms)", big.get("dense", {}).get("p50_ms"), TARGETS["scale_100k_p50_ms"], False),
        ("Server resident memory, bundled corpus (MB)", http.get("server_peak_rss_mb") if isinstance(http, dict) else None, TARGETS["server_rss_mb"], False),
    ]  # fmt: skip
    return [[name, "n/a" if v is None else f"{v:g}", f"{t:g}", _met(v, t, hi)] for name, v, t, hi in rows]


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def render(results: dict[str, Any]) -> str:
    m = results["machine"]
    parts = [
        "# ARRS Assistant: benchmarks",
        "",
        f"Generated by `arrs bench` on {results['started']} in {results['seconds']:.0f} s. Machine: {m['cpus']} CPUs, "
        f"{m['python']}, load average {m['load_before']} before and {m['load_after']} after the run "
        "(load above the CPU count means other processes shared the cores and every timing is inflated).",
        "",
        "## Against the targets",
        "",
        _table(["Target", "Measured", "Target value", "Result"], targets_table(results)),
        "",
    ]
    ingest = results.get("ingest")
    if ingest:
        parts += [
            "## Ingest (bundled corpus into a fresh temp index)",
            "",
            _table(
                ["Measure", "Value"],
                [
                    ["Files / chunks", f"{ingest['files']} / {ingest['chunks']}"],
                    ["Model load (torch import + weights), untimed below", f"{ingest['model_load_s']} s"],
                    [
                        "Ingest wall time (load, chunk, embed, write)",
                        f"{ingest['ingest_s']} s ({ingest['ingest_embed_s']} s embedding)",
                    ],
                    ["Ingest throughput", f"{ingest['ingest_chunks_per_s']} chunks/s"],
                    [
                        f"Raw sentence-transformers encode of the same texts ({ingest.get('raw_threads', '?')} threads, best run)",
                        f"{ingest['raw_encode_s']} s, {ingest['raw_chunks_per_s']} chunks/s (runs {ingest['raw_encode_runs_s']})",
                    ],
                    [
                        "Same texts, raw encode on one torch thread",
                        f"{ingest.get('raw_one_thread_s')} s, {ingest.get('raw_one_thread_chunks_per_s')} chunks/s",
                    ],
                    ["Ingest / raw (pipeline overhead)", f"{ingest['ingest_vs_raw']}"],
                    [
                        "Re-ingest of the unchanged corpus",
                        f"{ingest['reingest_s']} s, {ingest['reingest_embedded']} chunks embedded",
                    ],
                ],
            ),
            "",
        ]
    rows = []
    inproc = results.get("inprocess")
    if inproc:
        rows.append(
            [
                "In-process `Assistant.ask`",
                1,
                inproc["n"],
                inproc["p50_ms"],
                inproc["p95_ms"],
                inproc["p99_ms"],
                inproc["answers_per_s"],
                0,
            ]
        )
    http = results.get("http", {})
    for label in ("c1", "c8"):
        if isinstance(http, dict) and label in http:
            h = http[label]
            rows.append(["HTTP POST /api/ask", h["concurrency"], h["n"], h["p50_ms"], h["p95_ms"], h["p99_ms"], h["answers_per_s"], h["failures"]])  # fmt: skip
    parts += [
        "## Answer latency",
        "",
        "Stand-alone gold questions (every category: FAQ, calculations, clinical, off-topic, booking), each in a new session.",
        "",
        _table(
            ["Path", "Concurrency", "Answers", "p50 ms", "p95 ms", "p99 ms", "Answers/s", "Failures"], rows
        ),
        "",
    ]
    if isinstance(http, dict) and "skipped" in http:
        parts += [f"HTTP part skipped: {http['skipped']}.", ""]
    for label in ("c1", "c8"):
        h = http.get(label, {}) if isinstance(http, dict) else {}
        if "server_cpu_ms_per_answer" in h:
            parts += [
                f"Server at concurrency {h['concurrency']}: {h['server_cpu_ms_per_answer']} ms of CPU per answer, "
                f"{h['server_cores_busy']} of {results['machine']['cpus']} cores busy on average.",
                "",
            ]
    if inproc:
        st = inproc["stages"]
        parts += [
            "Where the in-process time goes (p50 / p95 ms): query embedding "
            f"{st['query_embedding']['p50_ms']} / {st['query_embedding']['p95_ms']}; hybrid search with the "
            f"source-type filter the FAQ path uses {st['hybrid_search_filtered']['p50_ms']} / "
            f"{st['hybrid_search_filtered']['p95_ms']}; the rest of `ask` (intent, slots, composition, "
            f"session writes, calculator) is the remainder. CPU time used per answer: {inproc['cpu_ms_per_answer']} ms "
            f"against {inproc['mean_ms']} ms of mean wall time.",
            "",
        ]
    cold = results.get("cold_start")
    mem = results.get("memory", {})
    if cold:
        parts += [
            "## Cold start and memory",
            "",
            _table(
                ["Measure", "Value"],
                [
                    [
                        "`arrs ask --json` in a fresh process (median)",
                        f"{cold['ask_median_s']} s (runs {cold['ask_runs_s']})",
                    ],
                    ["`arrs --help` (median)", f"{cold['help_median_s']} s"],
                    [
                        "Server ready after start (HTTP part)",
                        f"{http.get('ready_s', 'n/a')} s" if isinstance(http, dict) else "n/a",
                    ],
                    [
                        "Peak RSS, server (VmHWM)",
                        f"{http.get('server_peak_rss_mb', 'n/a')} MB" if isinstance(http, dict) else "n/a",
                    ],
                    ["Peak RSS, `arrs ask` process", f"{cold['child_peak_rss_mb']} MB"],
                    ["Peak RSS, this benchmark process", f"{mem.get('bench_peak_rss_mb', 'n/a')} MB"],
                ],
            ),
            "",
        ]
    scale_rows = results.get("scale", [])
    if scale_rows:
        table = []
        for row in scale_rows:
            if "error" in row:
                table.append(
                    [f"{row['chunks']:,}", "error: " + " ".join(row["error"]), "", "", "", "", "", "", ""]
                )
                continue
            table.append([
                f"{row['chunks']:,}", row["chroma_add_s"], row["bm25_build_s"],
                f"{row['dense']['p50_ms']} / {row['dense']['p95_ms']}",
                f"{row['dense_filtered']['p50_ms']} / {row['dense_filtered']['p95_ms']}",
                f"{row['bm25']['p50_ms']} / {row['bm25']['p95_ms']}",
                f"{row['hybrid']['p50_ms']} / {row['hybrid']['p95_ms']}",
                row["rss_growth_mb"], row["peak_rss_mb"],
            ])  # fmt: skip
        parts += [
            "## Scale: synthetic corpora (random unit vectors, generated text)",
            "",
            "Each size in its own process: a temp embedded Chroma (cosine HNSW) plus the production "
            "`HybridIndex`. Latencies are top-5 searches, p50 / p95 ms; memory in MB.",
            "",
            _table(
                [
                    "Chunks",
                    "Chroma add s",
                    "BM25 build s",
                    "Dense",
                    "Dense + metadata filter",
                    "BM25",
                    "Hybrid",
                    "RSS growth",
                    "Peak RSS",
                ],
                table,
            ),
            "",
        ]
    return "\n".join(parts) + "\n"


def print_summary(results: dict[str, Any], console) -> None:
    from rich.table import Table

    table = Table(title="Benchmarks against the targets")
    for header in ("Target", "Measured", "Target value", "Result"):
        table.add_column(header, justify="left" if header in ("Target", "Result") else "right")
    for row in targets_table(results):
        table.add_row(*row)
    console.print(table)


def _load_average() -> str:
    try:
        return ", ".join(f"{x:.1f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def run_bench(
    out_dir: Path = EVALS_DIR,
    quick: bool = False,
    skip_http: bool = False,
    skip_scale: bool = False,
    console=None,
    log: Callable[[str], None] | None = None,
) -> int:
    """Run every part, write bench.md and bench.json; returns a process exit code."""
    say = log or (console.print if console else print)
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"),
        "quick": quick,
        "machine": {
            "cpus": os.cpu_count(),
            "python": f"Python {platform.python_version()}",
            "load_before": _load_average(),
        },
    }
    work = Path(tempfile.mkdtemp(prefix="arrs-bench-"))
    data_dir, state_dir = work / "data", work / "state"
    state_dir.mkdir(parents=True)
    try:
        say("[1/4] ingest: fresh index, raw encode of the same chunks, re-ingest")
        results["ingest"] = bench_ingest(data_dir, state_dir, raw_repeats=1 if quick else 2)
        say("[2/4] answer latency: in-process" + ("" if skip_http else ", then HTTP at concurrency 1 and 8"))
        results["inprocess"] = bench_inprocess(data_dir, state_dir, bench_questions(40 if quick else 150))
        if skip_http:
            results["http"] = {"skipped": "--skip-http"}
        else:
            results["http"] = bench_http(
                data_dir,
                state_dir,
                bench_questions(20 if quick else 60),
                bench_questions(40 if quick else 240),
            )
        say("[3/4] cold start of `arrs ask`")
        results["cold_start"] = bench_cold_start(data_dir, state_dir, runs=1 if quick else 3)
        results["memory"] = {
            "bench_peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        }
        if skip_scale:
            results["scale"] = []
        else:
            sizes = (1_000, 10_000) if quick else (1_000, 10_000, 100_000)
            results["scale"] = []
            for size in sizes:
                say(f"[4/4] scale: {size:,} synthetic chunks")
                queries = 12 if size >= 100_000 else 30
                results["scale"].append(scale.run_in_subprocess(size, queries=queries))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results["machine"]["load_after"] = _load_average()
    results["seconds"] = round(time.perf_counter() - started, 1)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "bench.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    (out_dir / "bench.md").write_text(render(results), encoding="utf-8")
    if console is not None:
        print_summary(results, console)
    say(f"Wrote {out_dir / 'bench.md'} and {out_dir / 'bench.json'} in {results['seconds']:.0f} s.")
    return 0
