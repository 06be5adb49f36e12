"""Self-verified mode's referee: at a mismatch between the design and the agents' reference model, it
decides which one departs from the spec before the design is "fixed". Real Icarus, scripted server.

The attacks: a referee that always blames the reference model must not turn a buggy design into a
pass against a correct model, nor loop rewriting models; a garbled ruling changes nothing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from veriloop.agents import referee, run_design
from veriloop.config import load_settings
from veriloop.testing.fake_openai import write_config


@pytest.fixture(autouse=True)
def _scaffold_and_referee(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VERILOOP_AGENTS__TESTBENCH", "scaffold")
    monkeypatch.setenv("VERILOOP_AGENTS__REFEREE", "true")


def _is_referee(body: dict[str, Any]) -> bool:
    return any("You are the referee" in (m.get("content") or "") for m in body.get("messages", [])
               if m.get("role") == "system")


class RefereedTeam:
    """The scripted team of conftest, plus a referee answering from `rulings` (the last repeats)."""

    def __init__(self, kit: Any, rtl: list[str], references: list[str], rulings: list[str]) -> None:
        self.team = kit.Team(rtl=rtl, references=references)
        self.rulings = rulings
        self.referee_calls = 0

    def __call__(self, body: dict[str, Any]) -> str:
        if _is_referee(body):
            self.referee_calls += 1
            return self.rulings[min(self.referee_calls, len(self.rulings)) - 1]
        return self.team(body)


def _run(tmp_path: Path, server: Any, kit: Any, team: RefereedTeam, max_iters: int = 3) -> Any:
    server.responder = team
    write_config(tmp_path, server)
    return run_design(kit.SPEC, load_settings(), out_dir=tmp_path / "out", max_iters=max_iters)


def _report(tmp_path: Path) -> dict[str, Any]:
    return json.loads((tmp_path / "out" / "report.json").read_text())


def test_a_wrong_reference_model_is_rewritten_and_the_correct_design_is_left_alone(
    tmp_path: Path, fake_openai: Any, kit: Any
) -> None:
    team = RefereedTeam(
        kit, [kit.GOOD], [kit.as_reference(kit.BUGGY), kit.as_reference(kit.GOOD)],
        ["WRONG: model\nThe spec counts up by one; the model adds two."],
    )
    result = _run(tmp_path, fake_openai, kit, team)

    assert result.verified, result.reason
    assert team.team.calls["generator"] == 1, "the correct design was never 'fixed'"
    assert team.team.calls["reference"] == 2 and team.referee_calls == 1
    (ask,) = [b for b in fake_openai.requests if _is_referee(b)]
    prompt = kit.last_user(ask)
    # The referee sees the spec, both modules and the signals where they disagree.
    assert kit.SPEC in prompt and "module counter " in prompt and "module counter_expected" in prompt
    assert "q + 4'd2" in prompt and "q (yours)" in prompt and "<- differs" in prompt
    # The rewrite is told what was wrong with the earlier model, and where.
    rewrite = kit.last_user([b for b in fake_openai.requests if kit.asks_for_reference_model(b)][1])
    assert "ruled wrong: The spec counts up by one; the model adds two" in rewrite and "q (yours)" in rewrite
    (verdict,) = _report(tmp_path)["verdicts"]
    assert verdict["passed"] and "referee ruled the previous one wrong" in verdict["summary"]


def test_a_ruling_against_the_design_reaches_the_fix(tmp_path: Path, fake_openai: Any, kit: Any) -> None:
    team = RefereedTeam(kit, [kit.BUGGY, kit.GOOD], [kit.as_reference(kit.GOOD)],
                        ["**WRONG:** design. It adds 2 where the spec says 1."])
    result = _run(tmp_path, fake_openai, kit, team)

    assert result.verified, result.reason
    assert team.team.calls["generator"] == 2 and team.team.calls["reference"] == 1 and team.referee_calls == 1
    fix = kit.last_user(kit.requests_of(fake_openai, "generator")[1])
    assert "ruled against the design: It adds 2 where the spec says 1" in fix
    # With the referee the verdict also carries the signals around the first mismatch.
    assert "Signal values around the first mismatch" in fix and "q (expected)" in fix and "<- differs" in fix


def test_a_referee_that_always_blames_the_model_cannot_pass_a_buggy_design(
    tmp_path: Path, fake_openai: Any, kit: Any
) -> None:
    """The reference model stays correct however often it is rewritten: the buggy design never passes,
    and the rewrites stop at the cap."""
    team = RefereedTeam(kit, [kit.BUGGY], [kit.as_reference(kit.GOOD)], ["WRONG: model\nTrust the design."])
    result = _run(tmp_path, fake_openai, kit, team, max_iters=4)

    assert not result.verified
    report = _report(tmp_path)
    assert not any(v["passed"] for v in report["verdicts"])
    rewrites = [b for b in fake_openai.requests
                if kit.asks_for_reference_model(b) and "ruled wrong" in kit.last_user(b)]
    assert len(rewrites) == referee.MAX_MODEL_REWRITES
    assert team.referee_calls == len(report["verdicts"])  # one ruling per mismatch, no more


def test_no_clear_ruling_changes_nothing(tmp_path: Path, fake_openai: Any, kit: Any) -> None:
    team = RefereedTeam(kit, [kit.BUGGY, kit.GOOD], [kit.as_reference(kit.GOOD)],
                        ["Both could be wrong. WRONG: design? or WRONG: model?"])
    result = _run(tmp_path, fake_openai, kit, team)

    assert result.verified and team.team.calls["reference"] == 1 and team.team.calls["generator"] == 2
    fix = kit.last_user(kit.requests_of(fake_openai, "generator")[1])
    assert "referee" not in fix


def test_off_by_default(tmp_path: Path, fake_openai: Any, kit: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VERILOOP_AGENTS__REFEREE")
    team = RefereedTeam(kit, [kit.BUGGY, kit.GOOD], [kit.as_reference(kit.GOOD)], ["WRONG: model"])
    assert _run(tmp_path, fake_openai, kit, team).verified
    assert team.referee_calls == 0 and team.team.calls["reference"] == 1


@pytest.mark.parametrize(("reply", "wrong", "why"), [
    ("WRONG: model\nIt wraps at 8.", "model", "It wraps at 8"),
    ("**WRONG:** design - the reset is asynchronous.", "design", "the reset is asynchronous"),
    ("wrong: reference\nbecause", "model", "because"),
    ("WRONG: design\nWRONG: model", None, ""),  # both named: no ruling
    ("The design looks right to me.", None, ""),
    ("", None, ""),
])
def test_rulings_are_read_strictly(reply: str, wrong: str | None, why: str) -> None:
    ruling = referee.parse_ruling(reply)
    assert (ruling.wrong, ruling.why) == (wrong, why)
