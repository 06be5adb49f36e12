"""Bench test helpers: fixture suite paths, a CLI runner, and per-problem scripted fake-server replies."""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from veriloop.bench.problem import BenchProblem
from veriloop.cli import app
from veriloop.testing.fake_openai import Reply, last_user_text

FIXTURES = Path(__file__).parent / "fixtures"
VEV2_FIXTURE = FIXTURES / "vev2"
RTLLM_FIXTURE = FIXTURES / "rtllm"


def run_cli(*args: str) -> Any:
    """Invoke `veriloop ...` in-process; returns the click Result (exceptions kept, not raised)."""
    return CliRunner().invoke(app, list(args), catch_exceptions=True)


def run_json(*args: str) -> dict[str, Any]:
    res = run_cli(*args, "--json")
    assert res.exit_code == 0, (res.output, res.exception)
    out = res.stdout
    return json.loads(out[out.index("{"):])


def wrong_design(golden: str) -> str:
    """The golden design with its first output assignment tied to zero (compiles, mismatches)."""
    return re.sub(r"assign\s+(\w+)\s*=[^;]*;", r"assign \1 = 1'b0;", golden, count=1)


class PerProblemScript:
    """A responder that answers request i for a problem correctly iff i < correct[problem].

    Wrong answers alternate between a compiling-but-wrong design and a reply with no code.
    Requests are matched to problems by the problem's spec inside the last user message.
    """

    def __init__(self, problems: list[BenchProblem], correct: dict[str, int],
                 answer: Callable[[BenchProblem], str] | None = None) -> None:
        self.problems = problems
        self.correct = correct
        self.answer = answer or (lambda p: p.golden)
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    def problem_of(self, body: dict[str, Any]) -> BenchProblem:
        text = last_user_text(body)
        return next(p for p in self.problems if p.spec in text)

    def __call__(self, body: dict[str, Any]) -> Reply | str:
        p = self.problem_of(body)
        with self.lock:
            i = self.seen[p.id]
            self.seen[p.id] += 1
        if i < self.correct.get(p.id, 0):
            return f"Here is the design.\n```verilog\n{self.answer(p)}\n```\n"
        if i % 2:
            return "I am not able to write this module."
        return f"```verilog\n{wrong_design(self.answer(p))}\n```"


@pytest.fixture
def bench_toml(tmp_path: Path) -> Callable[..., Path]:
    """Write veriloop.toml with named backends pointing at fake servers: bench_toml(a=srv, b=(srv, model))."""

    def write(**backends: Any) -> Path:
        lines = []
        for name, spec in backends.items():
            srv, model, extra = (spec, "fake-model", {}) if not isinstance(spec, tuple) else (
                spec + ({},) if len(spec) == 2 else spec)
            lines += [f"[backends.{name}]", 'kind = "openai"', f'base_url = "{srv.base_url}"',
                      f'model = "{model}"', 'api_key_env = "FAKE_KEY"', "timeout_s = 10.0", "retries = 1",
                      "price_in_per_mtok = 1.0", "price_out_per_mtok = 2.0"]
            lines += [f"{k} = {json.dumps(v)}" for k, v in extra.items()]
            lines.append("")
        path = tmp_path / "veriloop.toml"
        path.write_text("\n".join(lines), encoding="utf-8")
        return path

    return write
