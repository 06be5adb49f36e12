"""`veriloop bench grade`: samples made elsewhere get the verdicts `bench run` gives the same text."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from veriloop import runstore
from veriloop.bench.store import ResultStore
from veriloop.bench.suites import load_suite
from veriloop.config import load_settings
from veriloop.testing.fake_openai import FakeOpenAIServer, last_user_text

from .conftest import RTLLM_FIXTURE, VEV2_FIXTURE, run_cli, run_json, wrong_design

IDS = ["Prob001_and2", "Prob002_inv", "Prob003_xor2", "Prob004_mux2"]
N = 3


def _replies() -> dict[str, list[str]]:
    """Per problem, the reply to sample i: right (in prose), wrong, unusable — rotated per problem."""
    out: dict[str, list[str]] = {}
    for j, p in enumerate(q for q in load_suite("verilog-eval", VEV2_FIXTURE).problems if q.id in IDS):
        kinds = [f"Sure, here it is:\n```verilog\n{p.golden}\n```\nDone.",
                 f"```systemverilog\n{wrong_design(p.golden)}\n```",
                 "I cannot write this module."]
        out[p.id] = [kinds[(i + j) % 3] for i in range(N)]
    return out


def _verdicts(run_id: str) -> dict[tuple[str, int], tuple[bool, str, str]]:
    rec = runstore.load_run(load_settings().data_path, run_id)
    with ResultStore.open(rec.dir) as store:
        return {(r.problem, r.idx): (r.passed, r.category, r.code) for r in store.records(with_code=True)}


def test_grade_gives_bench_run_verdicts_from_jsonl_and_trial_folders(
        tmp_path: Path, fake_openai: FakeOpenAIServer, bench_toml: Any) -> None:
    replies = _replies()
    problems = load_suite("verilog-eval", VEV2_FIXTURE).problems

    def respond(body: dict[str, Any]) -> str:
        text = last_user_text(body)
        pid = next(p.id for p in problems if p.spec in text)
        return replies[pid][int(body["seed"])]

    fake_openai.responder = respond
    bench_toml(fake=fake_openai)
    live = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE), "--problems",
                    "Prob00[1-4]_*", "--backend", "fake", "-n", str(N), "--temperature", "0.7")
    want = _verdicts(live["run_id"])
    assert len(want) == len(IDS) * N

    # (b) the replies as a JSONL file, VerilogEval style
    jsonl = tmp_path / "samples.jsonl"
    jsonl.write_text("".join(json.dumps({"problem": pid, "completion": t}) + "\n"
                             for pid, ts in replies.items() for t in ts), encoding="utf-8")
    ve = ("--suite", "verilog-eval", "--path", str(VEV2_FIXTURE))
    from_jsonl = run_json("bench", "grade", str(jsonl), *ve)
    # (a) the code the live run graded, as trial folders t1/<id>.sv ... (no file for unusable replies)
    trials = tmp_path / "trials"
    for (pid, idx), (_, _, code) in want.items():
        (trials / f"t{idx + 1}").mkdir(parents=True, exist_ok=True)
        (trials / f"t{idx + 1}" / f"{pid}.sv").write_text(code or "I cannot write this module.",
                                                          encoding="utf-8")
    from_dirs = run_json("bench", "grade", str(trials), *ve, "--name", "elsewhere")

    for graded in (from_jsonl, from_dirs):
        got = _verdicts(graded["run_id"])
        assert {k: v[:2] for k, v in got.items()} == {k: v[:2] for k, v in want.items()}
        (g,) = graded["groups"]
        (lg,) = live["groups"]
        assert g["config"] == "imported" and g["pass_at"] == lg["pass_at"]
        assert g["per_problem"] == lg["per_problem"] and g["categories"] == lg["categories"]
    assert from_dirs["groups"][0]["backend"] == "elsewhere"
    assert from_jsonl["groups"][0]["backend"] == "samples"
    # the JSONL rows went through the same extraction as the live replies: same code graded
    assert {k: v[2] for k, v in _verdicts(from_jsonl["run_id"]).items()} == {k: v[2] for k, v in want.items()}

    # a normal bench run: listed, comparable, reportable
    listed = run_cli("runs", "list", "--json")
    assert from_jsonl["run_id"] in listed.stdout
    cmp = run_json("bench", "compare", live["run_id"], from_jsonl["run_id"])
    (pair,) = cmp["groups"]  # different backends and configs: still paired, and nothing differs
    assert (pair["a"]["backend"], pair["b"]["config"]) == ("fake", "imported")
    assert pair["pass1_delta"] == 0 and pair["only_a_solved"] == pair["only_b_solved"] == []
    md = run_cli("bench", "report", from_dirs["run_id"], "--format", "md")
    assert md.exit_code == 0 and "elsewhere" in md.stdout


def test_pass_at_k_over_the_samples_given_and_resume_needs_no_original(tmp_path: Path) -> None:
    """Unequal sample counts: pass@k up to the smallest; a resumed run regrades from its own store."""
    right = (RTLLM_FIXTURE / "Arithmetic" / "Adder" / "adder_8bit" / "verified_adder_8bit.v").read_text()
    lut = "module lut_square(input [1:0] idx, output [3:0] val); assign val = {}; endmodule"
    rows = [{"problem": "adder_8bit", "completion": right},
            {"problem": "adder_8bit", "completion": "no code"},
            {"problem": "adder_8bit", "completion": right.replace("+ cin", "- cin")},
            {"problem": "lut_check", "completion": "```verilog\n" + lut.format("idx * idx") + "\n```"},
            {"problem": "lut_square", "completion": lut.format("0")}]
    f = tmp_path / "vllm-batch.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    rep = run_json("bench", "grade", str(f), "--suite", "rtllm", "--path", str(RTLLM_FIXTURE))
    (g,) = rep["groups"]
    assert g["per_problem"] == {"adder_8bit": [3, 1], "lut_check": [2, 1]}  # module name resolves too
    assert g["n_min"] == 2 and set(g["pass_at"]) == {"1", "2"}
    assert g["pass_at"]["1"] == pytest.approx((1 / 3 + 1 / 2) / 2)
    assert g["pass_at"]["2"] == pytest.approx(((1 - 1 / 3) + 1.0) / 2)

    f.unlink()
    rec = runstore.load_run(load_settings().data_path, rep["run_id"])
    con = sqlite3.connect(rec.dir / "results.sqlite")
    with con:
        con.execute("DELETE FROM samples WHERE problem = 'adder_8bit'")
    con.close()
    again = run_json("bench", "run", "--resume", rep["run_id"])
    assert again["groups"][0]["per_problem"] == g["per_problem"]


def test_bad_samples_are_one_clear_error(tmp_path: Path) -> None:
    f = tmp_path / "s.jsonl"
    f.write_text('{"problem": "adder_8bit", "completion": "x"}\n{"problem": "nope", "completion": "x"}\n')
    res = run_cli("bench", "grade", str(f), "--suite", "rtllm", "--path", str(RTLLM_FIXTURE))
    assert res.exit_code != 0 and "line 2 names problem 'nope'" in str(res.exception)
    f.write_text("{not json\n")
    res = run_cli("bench", "grade", str(f), "--suite", "rtllm", "--path", str(RTLLM_FIXTURE))
    assert res.exit_code != 0 and "line 1 is not JSON" in str(res.exception)
    d = tmp_path / "trials" / "t1"
    d.mkdir(parents=True)
    (d / "mystery.v").write_text("module mystery; endmodule\n")
    res = run_cli("bench", "grade", str(d.parent), "--suite", "rtllm", "--path", str(RTLLM_FIXTURE))
    assert res.exit_code != 0 and "t1/mystery.v names no problem" in str(res.exception)
    assert not runstore.list_runs(load_settings().data_path)  # nothing was created
