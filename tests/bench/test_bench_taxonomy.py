"""Failure taxonomy (syntax / elaboration / runtime / mismatch / mismatch-reset / timeout ...) per group
and per problem, and the HTML drill-down per sample."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from veriloop.bench.suites import load_suite
from veriloop.bench.taxonomy import failure_class

from .conftest import VEV2_FIXTURE, run_cli, run_json, wrong_design

VE = Path(os.environ.get("VERILOG_EVAL_PATH")
          or Path(__file__).resolve().parents[2].parent / "shared/benchmarks/verilog-eval-v2")


def test_classes_from_the_graders_evidence() -> None:
    assert failure_class("pass") is None
    assert failure_class("syntax", "compilation failed", "design.sv:3: syntax error\nI give up.") == "syntax"
    elab = "tb.sv:9: error: Unknown module type: helper\n1 error(s) during elaboration.\nElaboration failed"
    assert failure_class("syntax", "compilation failed", elab) == "elaboration"
    hint = "Hint: Your reset doesn't seem to be working.\nMismatches: 12 in 100 samples"
    assert failure_class("mismatch", "", hint) == "mismatch-reset"
    assert failure_class("mismatch", "", "Hint: Output 'q' has 3 mismatches.") == "mismatch"
    assert failure_class("no_summary") == "runtime" and failure_class("timeout") == "timeout"
    assert failure_class("backend_error") == "infra" and failure_class("illegal") == "illegal"


def test_taxonomy_in_reports_and_html_drilldown(tmp_path: Path) -> None:
    probs = {p.id: p for p in load_suite("verilog-eval", VEV2_FIXTURE).problems}
    and2, inv = probs["Prob001_and2"].golden, probs["Prob002_inv"].golden
    rows = [("Prob001_and2", and2), ("Prob001_and2", wrong_design(and2)),
            ("Prob001_and2", and2.replace("endmodule", "assign = ;\nendmodule")),
            ("Prob002_inv", inv.replace("endmodule", "helper h();\nendmodule")),
            ("Prob002_inv", "no code here")]
    f = tmp_path / "mixed.jsonl"
    f.write_text("".join(json.dumps({"problem": p, "completion": c}) + "\n" for p, c in rows))
    rep = run_json("bench", "grade", str(f), "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE))
    (g,) = rep["groups"]
    assert g["taxonomy"] == {"syntax": 1, "elaboration": 1, "mismatch": 1, "no_code": 1}
    assert g["problem_taxonomy"] == {"Prob001_and2": {"syntax": 1, "mismatch": 1},
                                     "Prob002_inv": {"elaboration": 1, "no_code": 1}}
    md = run_cli("bench", "report", rep["run_id"], "--format", "md").stdout
    assert "## Failure taxonomy" in md and "| Prob002_inv | elaboration 1, no_code 1 |" in md
    page = run_cli("bench", "report", rep["run_id"], "--format", "html").stdout
    assert "Failure taxonomy" in page and 'class="sortable"' in page and "<script>" in page
    assert page.count("<details>") >= 2 + len(rows) and "Prob001_and2</b>" in page
    assert "--- Prob001_and2 reference" in page  # a diff against the suite's reference
    assert "http://" not in page and "https://" not in page


@pytest.mark.skipif(not VE.is_dir(), reason="VerilogEval v2 data not on this machine")
def test_reset_related_mismatch_is_its_own_class(tmp_path: Path) -> None:
    golden = next(p for p in load_suite("verilog-eval", VE).problems if p.id == "Prob035_count1to10").golden
    no_reset = golden.replace("if (reset || q == 10)", "if (q == 10)")
    assert no_reset != golden
    f = tmp_path / "reset.jsonl"
    f.write_text(json.dumps({"problem": "Prob035_count1to10", "completion": no_reset}) + "\n")
    rep = run_json("bench", "grade", str(f), "--suite", "verilog-eval", "--path", str(VE),
                   "--problems", "Prob035_*")
    (g,) = rep["groups"]
    assert g["taxonomy"] == {"mismatch-reset": 1}
    assert "reset" in g["reasons"]["Prob035_count1to10"].lower()
