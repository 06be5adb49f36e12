"""pass@k from a real run against the fake OpenAI server, scripted per problem, equals hand values."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from veriloop.bench.suites import load_suite
from veriloop.testing.fake_openai import FakeOpenAIServer, last_user_text

from .conftest import VEV2_FIXTURE, PerProblemScript, run_json

CORRECT = {"Prob001_and2": 0, "Prob002_inv": 1, "Prob003_xor2": 3, "Prob004_mux2": 5}


def test_pass_at_1_and_5_equal_hand_computed_values(fake_openai: FakeOpenAIServer, bench_toml: Any) -> None:
    problems = [p for p in load_suite("verilog-eval", VEV2_FIXTURE).problems if p.id in CORRECT]
    script = PerProblemScript(problems, CORRECT)
    fake_openai.responder = script
    bench_toml(fake=fake_openai)
    report = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
                      "--problems", "Prob00[1-4]_*", "--backend", "fake", "-n", "5", "--temperature", "0.7")
    (g,) = report["groups"]
    # by hand: pass@1 = mean(c/n) = (0 + 1/5 + 3/5 + 5/5) / 4; pass@5 = share of problems with c > 0
    assert g["pass_at"]["1"] == pytest.approx((0 + 0.2 + 0.6 + 1.0) / 4)
    assert g["pass_at"]["5"] == pytest.approx(3 / 4)
    # pass@2: c=1 → 1 - C(4,2)/C(5,2) = 0.4; c=3 → 1 - C(2,2)/C(5,2) = 0.9
    assert g["pass_at"]["2"] == pytest.approx((0 + 0.4 + 0.9 + 1.0) / 4)
    assert g["solved"] == 3 and g["samples"] == 20
    assert g["categories"]["pass"] == 9
    assert g["categories"]["mismatch"] + g["categories"]["no_code"] == 11
    # every sample asked exactly once, with its own seed and the chosen temperature
    assert fake_openai.request_count == 20
    per_prompt = Counter(last_user_text(b) for b in fake_openai.requests)
    assert sorted(per_prompt.values()) == [5, 5, 5, 5]
    assert {b["seed"] for b in fake_openai.requests} == {0, 1, 2, 3, 4}
    assert {b["temperature"] for b in fake_openai.requests} == {0.7}
    # tokens and dollars are the fake server's counts priced by the config
    assert g["prompt_tokens"] > 0 and g["completion_tokens"] > 0
    want_cost = (g["prompt_tokens"] * 1.0 + g["completion_tokens"] * 2.0) / 1e6
    assert g["cost_usd"] == pytest.approx(want_cost, rel=1e-6)
    assert g["model"] == "fake-model" and g["mode"] == "single-shot"
