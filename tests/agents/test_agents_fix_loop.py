"""The verifier's evidence reaches the generator; a never-fixed bug ends honestly at the budget."""

from __future__ import annotations

import json
from pathlib import Path

from veriloop.agents import run_design
from veriloop.config import load_settings
from veriloop.runstore import load_run
from veriloop.testing.fake_openai import write_config


def test_mismatch_evidence_reaches_generator_and_second_attempt_passes(
    tmp_path: Path, fake_openai, kit
) -> None:
    team = kit.Team(rtl=[kit.BUGGY, kit.GOOD])
    fake_openai.responder = team
    write_config(tmp_path, fake_openai)
    settings = load_settings()
    result = run_design(kit.SPEC, settings, out_dir=tmp_path / "out", max_iters=3)

    assert result.verified, result.reason
    gen = kit.requests_of(fake_openai, "generator")
    assert len(gen) == 2
    fix_prompt = kit.last_user(gen[1])
    # The evidence of the first verdict is in the second generator prompt, not a bare "failed".
    assert "Mismatches: " in fix_prompt and " samples" in fix_prompt
    assert "MISMATCH time=" in fix_prompt  # the testbench's first mismatch line
    assert "q + 4'd2" in fix_prompt  # the current (buggy) RTL is shown
    assert team.calls == {"planner": 1, "architect": 1, "verifier": 1, "generator": 2}

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "verified"
    assert [v["passed"] for v in report["verdicts"]] == [False, True]
    assert report["verdicts"][0]["category"] == "mismatch"
    assert report["verdicts"][0]["mismatches"] > 0
    assert report["mode"] == "self-verified" and report["testbench_source"] == "agents"
    assert report["calls"] == 5 and report["prompt_tokens"] > 0
    assert report["ppa"]["synthesized"] and report["ppa"]["cells"] > 0
    assert (tmp_path / "out" / "counter.sv").read_text().count("4'd1") >= 1
    assert (tmp_path / "out" / "tb.sv").is_file()
    md = (tmp_path / "out" / "report.md").read_text()
    assert "VERIFIED" in md and "Mismatches: 0 in" in md
    lines = (tmp_path / "out" / "transcript.jsonl").read_text().splitlines()
    agents = {json.loads(line)["agent"] for line in lines}
    assert {"planner", "architect", "generator", "verifier", "evaluator"} <= agents
    rec = load_run(settings.data_path, result.run_id)
    assert rec.kind == "design" and rec.status == "done"


def test_bug_never_fixed_stops_at_budget_not_verified(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.BUGGY])
    write_config(tmp_path, fake_openai)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=3)

    assert not result.verified and result.status == "not verified"
    assert "iteration budget" in result.reason
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["status"] == "not verified"
    assert [v["passed"] for v in report["verdicts"]] == [False, False, False]
    assert all(v["category"] == "mismatch" for v in report["verdicts"])
    assert not report["ppa"]["synthesized"]
    md = (tmp_path / "out" / "report.md").read_text()
    assert "NOT VERIFIED" in md and "Mismatches:" in md and "iteration budget (3) is spent" in md
    assert len(kit.requests_of(fake_openai, "generator")) == 3
    # After two failures in a row the verifier re-derived its own testbench once (it might have been wrong).
    assert len(kit.requests_of(fake_openai, "verifier")) == 2
    assert "re-derives its testbench" in (tmp_path / "out" / "transcript.md").read_text()


def test_dollar_budget_stops_the_run(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.BUGGY])
    # Each call costs well over a cent at this price, so a 1-cent budget is spent after the first few calls.
    write_config(tmp_path, fake_openai, price_in_per_mtok=20000.0, price_out_per_mtok=20000.0)
    result = run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=10, budget_usd=0.01)
    assert not result.verified
    assert "budget" in result.reason
    report = json.loads((tmp_path / "out" / "report.json").read_text())
    assert report["usd"] >= 0.01
    assert len(fake_openai.requests) < 10


def test_lessons_from_one_run_are_retrieved_and_cited_by_the_next(tmp_path: Path, fake_openai, kit) -> None:
    fake_openai.responder = kit.Team(rtl=[kit.BUGGY, kit.GOOD])
    write_config(tmp_path, fake_openai)
    settings = load_settings()
    first = run_design(kit.SPEC, settings, out_dir=tmp_path / "one", max_iters=3)
    assert first.verified and first.report["lessons_stored"] == 1

    fake_openai.reset()
    fake_openai.responder = kit.Team(rtl=[kit.GOOD])
    second = run_design(kit.SPEC, settings, out_dir=tmp_path / "two", max_iters=1)
    assert second.verified
    cited = [c for c in second.report["citations"] if c["kind"] == "lesson"]
    assert cited and cited[0]["source"] == f"lesson/{first.run_id}"
    gen_prompt = kit.last_user(kit.requests_of(fake_openai, "generator")[0])
    assert f"Lesson [lesson/{first.run_id}]" in gen_prompt and "Mismatches:" in gen_prompt
    transcript = (tmp_path / "two" / "transcript.jsonl").read_text()
    assert f"lesson/{first.run_id}" in transcript
