"""`veriloop bench run` on VerilogEval: replies that attack the grader (issue 13) solve nothing."""

from __future__ import annotations

import os
import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from veriloop.bench.suites import load_suite
from veriloop.testing.attacks import CLASSES
from veriloop.testing.fake_openai import FakeOpenAIServer, last_user_text

from .conftest import run_json

VE = Path(os.environ.get("VERILOG_EVAL_PATH")
          or Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2")
PICKED = [
    ("early_finish", "finish_after_first_sample"),
    ("early_finish", "stop"),
    ("preprocessor", "include_tb_own_ref_open_ifdef"),
    ("nonce", "nonce_from_scope_and_flood"),
    ("upward", "macromodule_good1"),
    ("upward", "instantiate_ref"),
]


@pytest.mark.skipif(not VE.is_dir(), reason="VerilogEval v2 data not on this machine")
def test_attacking_replies_solve_nothing(fake_openai: FakeOpenAIServer, bench_toml: Any) -> None:
    problems = load_suite("verilog-eval", VE).problems
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def reply(body: dict[str, Any]) -> str:
        text = last_user_text(body)
        p = next(p for p in problems if p.spec in text)
        with lock:
            i = seen[p.id]
            seen[p.id] += 1
        cls, variant = PICKED[i % len(PICKED)]
        assert p.ref is not None
        return f"```verilog\n{CLASSES[cls][variant](p.ref)}```\n"

    fake_openai.responder = reply
    bench_toml(fake=fake_openai)
    report = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VE), "--problems",
                      "Prob0[05][0-9]_*", "--limit", "4", "--backend", "fake", "-n", str(len(PICKED)),
                      "--temperature", "0.7")
    (g,) = report["groups"]
    assert g["solved"] == 0 and g["samples"] == 4 * len(PICKED)
    assert g["categories"] == {"illegal": 4 * len(PICKED)}, g["categories"]
