"""--ref: a design that passes the user's (weak) testbench but differs from the reference is caught."""

from __future__ import annotations

import json
from pathlib import Path

from veriloop.agents import run_design
from veriloop.config import load_settings
from veriloop.testing.fake_openai import write_config


def test_simulation_alone_misses_the_bug(tmp_path: Path, fake_openai, kit) -> None:
    (tmp_path / "tb.sv").write_text(kit.tb(cycles=10))
    fake_openai.responder = kit.Team(rtl=[kit.SUBTLE])
    write_config(tmp_path, fake_openai)
    result = run_design(
        kit.SPEC, load_settings(), tb=tmp_path / "tb.sv", out_dir=tmp_path / "out", max_iters=1
    )
    # Without a reference the weak testbench passes the subtly wrong design: that is why --ref exists.
    assert result.verified
    assert result.report["mode"] == "oracle-tb" and result.report["testbench_source"] == "user"
    assert not kit.requests_of(fake_openai, "verifier")  # oracle-tb: the agents write no testbench


def test_equivalence_catches_what_simulation_missed(tmp_path: Path, fake_openai, kit) -> None:
    (tmp_path / "tb.sv").write_text(kit.tb(cycles=10))
    (tmp_path / "ref.sv").write_text(kit.GOOD)
    fake_openai.responder = kit.Team(rtl=[kit.SUBTLE, kit.GOOD])
    write_config(tmp_path, fake_openai)
    result = run_design(
        kit.SPEC,
        load_settings(),
        tb=tmp_path / "tb.sv",
        ref=tmp_path / "ref.sv",
        top="counter",
        out_dir=tmp_path / "out",
        max_iters=2,
    )

    report = json.loads((tmp_path / "out" / "report.json").read_text())
    first, second = report["verdicts"]
    assert first["mismatches"] == 0  # the simulation passed ...
    assert not first["passed"] and first["category"] == "equivalence"  # ... equivalence did not
    assert first["equivalence"] == "refuted" and first["counterexample"]
    fix_prompt = kit.last_user(kit.requests_of(fake_openai, "generator")[1])
    assert "refuted" in fix_prompt and "Counterexample" in fix_prompt
    assert second["passed"] and second["equivalence"] == "proved"
    assert result.verified


def test_refuted_design_is_not_verified(tmp_path: Path, fake_openai, kit) -> None:
    (tmp_path / "tb.sv").write_text(kit.tb(cycles=10))
    (tmp_path / "ref.sv").write_text(kit.GOOD)
    fake_openai.responder = kit.Team(rtl=[kit.SUBTLE])
    write_config(tmp_path, fake_openai)
    result = run_design(
        kit.SPEC,
        load_settings(),
        tb=tmp_path / "tb.sv",
        ref=tmp_path / "ref.sv",
        out_dir=tmp_path / "out",
        max_iters=1,
    )
    assert not result.verified
    md = (tmp_path / "out" / "report.md").read_text()
    assert "NOT VERIFIED" in md and "refuted" in md
