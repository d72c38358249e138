"""The answering path with the ONNX query encoder beside the old one (sentence-transformers
and torch), measured in one run on this machine: cold `mlready ask`, its peak memory, a
replica's start to ready and its memory, warm query embedding, and the installs.

    .venv/bin/python bench/encoder.py [--skip-install]

Writes bench/out/encoder.json and prints a Markdown table for bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.run import PY, machine, peak_rss_of, timed_subprocess  # noqa: E402
from bot.knowledge_base import load_knowledge  # noqa: E402
from bot.settings import Settings  # noqa: E402
from indexer.embedding import Embedder  # noqa: E402
from indexer.store import build_index  # noqa: E402

QUESTION = "how do we pick a KPI for churn?"
QUESTION_FILES = ("devset.yaml", "heldout.yaml")
OUT = ROOT / "bench" / "out"


def build_both(work: Path) -> dict[str, Path]:
    """The same knowledge indexed twice: with the ONNX encoder (new) and without (old path)."""
    kb = load_knowledge(Settings())
    embedder = Embedder()
    paths = {"onnx": work / "index-onnx", "torch": work / "index-torch"}
    build_index(kb.docs, paths["onnx"], embedder, out_of_scope=kb.out_of_scope)
    build_index(kb.docs, paths["torch"], embedder, export_encoder=False, out_of_scope=kb.out_of_scope)
    return paths


def env_for(index_dir: Path, work: Path, name: str, slack_url: str) -> dict[str, str]:
    return dict(
        os.environ,
        MLREADY_INDEX_DIR=str(index_dir),
        MLREADY_DATABASE_URL=f"sqlite:///{work / f'{name}.db'}",
        SLACK_BOT_TOKEN="xoxb-bench",
        SLACK_SIGNING_SECRET="bench-secret",
        MLREADY_REMINDER_INTERVAL_SECONDS="0",
        MLREADY_SLACK_API_URL=slack_url,  # Bolt checks its token at start
    )


def serve_ready(env: dict[str, str], port: int, log: Path) -> dict:
    """Seconds from `mlready serve --http` to /readyz 200, and the replica's RSS then."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [PY, "-m", "bot.cli", "serve", "--http", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
    )
    try:
        while time.perf_counter() - started < 120:
            if proc.poll() is not None:
                raise RuntimeError(f"mlready serve exited: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.1)
        ready = time.perf_counter() - started
        rss = next(
            int(line.split()[1]) / 1024
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines()
            if line.startswith("VmRSS")
        )
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    return {"ready_s": round(ready, 2), "rss_mb": round(rss, 1)}


def warm(index_dir: Path, rounds: int = 3) -> dict:
    """On both question files: the bare query embedding and the whole warm answer (ms), each
    question embedded and then answered, `rounds` times over."""
    from bot.evaluation import load_questions, percentile
    from bot.intent import split_parts
    from bot.knowledge_base import open_engine

    engine = open_engine(Settings(index_dir=index_dir))
    questions = [q.q for name in QUESTION_FILES for q in load_questions(ROOT / "bench" / name)]
    engine.ask(QUESTION)
    embed, answer, multi = [], [], []
    for _ in range(rounds):
        for q in questions:
            started = time.perf_counter()
            engine.embedder.encode_query(q)
            embed.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            engine.ask(q)
            answer.append((time.perf_counter() - started) * 1000)
            multi.append(len(split_parts(q)) > 1)

    def added(kind: bool) -> float:  # answer minus embedding, median, per kind of question
        extra = [a - e for a, e, m in zip(answer, embed, multi, strict=True) if m == kind]
        return round(statistics.median(extra), 2)

    return {
        "questions": len(questions),
        "rounds": rounds,
        "embed_ms_p50": round(statistics.median(embed), 2),
        "embed_ms_p95": round(percentile(embed, 95), 2),
        "answer_ms_p50": round(statistics.median(answer), 2),
        "answer_ms_p95": round(percentile(answer, 95), 2),
        "answer_over_embed_p95": round(percentile(answer, 95) / percentile(embed, 95), 2),
        "added_ms_single_p50": added(False),
        "added_ms_multi_part_p50": added(True),
    }


def install_size(work: Path, extras: str) -> float:
    """MB of a fresh venv with `pip install .{extras}` (torch taken from where pip finds it)."""
    venv = work / f"venv{extras or '-answer'}"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    if extras:
        subprocess.run([*pip, "torch==2.13.0"], check=True)
    subprocess.run([*pip, f"{ROOT}{extras}"], check=True)
    total = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    return round(total / 1e6, 1)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--skip-install", action="store_true")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mlready-bench-encoder-"))
    results: dict = {"machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}
    from fake_slack.web_api import LocalSlackAPI

    slack = LocalSlackAPI(team_id="TBENCH").start()
    try:
        paths = build_both(work)
        for port, (name, index_dir) in enumerate(paths.items(), start=39_501):
            env = env_for(index_dir, work, name, slack.url)
            results[name] = {
                "cold_ask_s": timed_subprocess([PY, "-m", "bot.cli", "ask", QUESTION], env),
                "ask_peak_rss_mb": peak_rss_of([PY, "-m", "bot.cli", "ask", QUESTION], env),
                "serve": serve_ready(env, port, work / f"serve-{name}.log"),
                "warm": warm(index_dir),
            }
        if not args.skip_install:
            results["install_mb"] = {
                "answer_only": install_size(work, ""),
                "with_index": install_size(work, "[index]"),
            }
    finally:
        slack.stop()
        shutil.rmtree(work, ignore_errors=True)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "encoder.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))
    print(table(results))


def table(results: dict) -> str:
    old, new = results["torch"], results["onnx"]
    rows = [
        ("cold `mlready ask`, fresh process to printed answer", "cold_ask_s", " s", "<= 2.0 s"),
        ("`mlready ask` peak RSS", "ask_peak_rss_mb", " MB", "<= 250 MB"),
        ("`mlready serve --http` start to /readyz 200", ("serve", "ready_s"), " s", "<= 3 s"),
        ("replica RSS when ready", ("serve", "rss_mb"), " MB", ""),
        ("warm query embedding, p50", ("warm", "embed_ms_p50"), " ms", ""),
        ("warm query embedding, p95", ("warm", "embed_ms_p95"), " ms", ""),
        ("warm answer, p50", ("warm", "answer_ms_p50"), " ms", ""),
        ("warm answer, p95", ("warm", "answer_ms_p95"), " ms", ""),
        ("answer minus embedding, single questions, median", ("warm", "added_ms_single_p50"), " ms", ""),
        ("answer minus embedding, multi-part, median", ("warm", "added_ms_multi_part_p50"), " ms", ""),
        ("warm answer p95 / bare embedding p95", ("warm", "answer_over_embed_p95"), "x", "<= 1.2x"),
    ]

    def get(side: dict, key: str | tuple[str, str]) -> object:
        return side[key[0]][key[1]] if isinstance(key, tuple) else side[key]

    lines = ["| measure | sentence-transformers (old) | ONNX encoder (new) | target |", "|---|---|---|---|"]
    lines += [
        f"| {name} | {get(old, key)}{unit} | {get(new, key)}{unit} | {target} |"
        for name, key, unit, target in rows
    ]
    if "install_mb" in results:
        size = results["install_mb"]
        lines.append(
            f"| venv size | {size['with_index']} MB (with mlready[index]) "
            f"| {size['answer_only']} MB (answer only) | answer only <= 400 MB |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
