"""A backend error mid-run keeps its reason and what was already spent (issue 14).

The overflow wording is llama.cpp's, recorded from a server started with a 1,024-token context
(ctx1k-design cassette): the planner call succeeded, the architect's request was refused.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from veriloop.agents import run_design
from veriloop.bench.generate import design_graph
from veriloop.bench.problem import BenchProblem
from veriloop.bench.spec import RunSpec
from veriloop.config import load_settings
from veriloop.errors import ContextTooLong
from veriloop.testing.fake_openai import Reply, write_config

LLAMA_CPP = "request (1047 tokens) exceeds the available context size (1024 tokens), try increasing it"


def _team(kit: Any) -> Any:
    def answer(body: dict[str, Any]) -> Reply | str:
        if kit.role(body) == "planner":
            return "```json\n" + json.dumps({"top": "counter", "modules": [{"name": "counter"}]}) + "\n```"
        return Reply(status=400, error_code="exceed_context_size_error", error_message=LLAMA_CPP)

    return answer


def test_design_aborted_by_context_overflow_writes_its_report(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = _team(kit)
    write_config(tmp_path, fake_openai)
    out = tmp_path / "out"
    with pytest.raises(ContextTooLong) as err:
        run_design(kit.SPEC, load_settings(), out_dir=out, max_iters=1)
    assert "1047 prompt tokens; the context holds 1024" in err.value.message
    assert str(out) in (err.value.hint or "")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["calls"] == 1 and report["prompt_tokens"] > 0  # the planner's call is accounted
    assert "exceeds the context window" in report["reason"] and LLAMA_CPP in report["reason"]
    assert (out / "report.md").is_file()


def test_bench_backend_error_sample_keeps_reason_and_spend(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = _team(kit)
    write_config(tmp_path, fake_openai)
    problem = BenchProblem.model_validate(
        {"id": "p1", "suite": "t", "spec": kit.SPEC, "top": "counter", "testbench": kit.tb()}
    )
    spec = RunSpec(suite="t", backends=["fake"], max_iters=1)
    cand = asyncio.run(design_graph(problem, load_settings(), "fake", "oracle-tb", spec, tmp_path / "s", 0))
    assert cand.category == "backend_error"
    assert LLAMA_CPP in cand.detail
    assert cand.calls == 1 and cand.prompt_tokens > 0
