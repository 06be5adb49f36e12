"""Lint, simulation, synthesis and equivalence on known designs, with the real tools in the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from veriloop.errors import InputError, ToolMissingError
from veriloop.tools import versions
from veriloop.tools.equiv import check_equivalence
from veriloop.tools.icarus import simulate
from veriloop.tools.verilator import lint
from veriloop.tools.yosys import cell_area, synthesize

ADD = "module TopModule(input [3:0] a, input [3:0] b, output [4:0] y);\n  assign y = a + b;\nendmodule\n"
ADD_REWRITE = (
    "module TopModule(input [3:0] a, input [3:0] b, output [4:0] y);\n"
    "  wire [4:0] s = {1'b0, b} + {1'b0, a};\n  assign y = s;\nendmodule\n"
)
ADD_OFF_BY_ONE = (
    "module TopModule(input [3:0] a, input [3:0] b, output [4:0] y);\n  assign y = a + b + 1;\nendmodule\n"
)
ADD_WIDTH_BUG = (
    "module TopModule(input [3:0] a, input [3:0] b, output [4:0] y);\n"
    "  wire [3:0] s = a + b;\n  assign y = s;\nendmodule\n"
)
MUX_A = (
    "module TopModule(input s, input [7:0] a, input [7:0] b, output [7:0] y);\n"
    "  assign y = s ? b : a;\nendmodule\n"
)
MUX_B = (
    "module TopModule(input s, input [7:0] a, input [7:0] b, output reg [7:0] y);\n"
    "  always @(*) begin if (s) y = b; else y = a; end\nendmodule\n"
)
CNT = (
    "module TopModule(input clk, input rst, input en, output reg [3:0] q);\n"
    "  always @(posedge clk) if (rst) q <= 0; else if (en) q <= q + 1;\nendmodule\n"
)
CNT_REWRITE = (
    "module TopModule(input clk, input rst, input en, output reg [3:0] q);\n"
    "  always @(posedge clk) begin if (rst) q <= 4'b0; else q <= q + {3'b0, en}; end\nendmodule\n"
)
CNT_MOD10 = (
    "module TopModule(input clk, input rst, input en, output reg [3:0] q);\n"
    "  always @(posedge clk) if (rst) q <= 0; else if (en) q <= (q == 4'd9) ? 4'd0 : q + 4'd1;\n"
    "endmodule\n"
)
CNT_NARROW = (
    "module TopModule(input clk, input rst, input en, output reg [3:0] q);\n"
    "  reg [2:0] c;\n  always @(posedge clk) if (rst) c <= 0; else if (en) c <= c + 1;\n"
    "  always @(*) q = {1'b0, c};\nendmodule\n"
)


def _src(text: str) -> dict[str, str]:
    return {"design.sv": text}


@pytest.mark.parametrize(
    ("a", "b", "status"),
    [
        (ADD, ADD_REWRITE, "proved"),
        (MUX_A, MUX_B, "proved"),
        (ADD, ADD_OFF_BY_ONE, "refuted"),
        (ADD, ADD_WIDTH_BUG, "refuted"),
        (CNT, CNT_REWRITE, "proved"),
        (CNT, CNT_MOD10, "refuted"),
        (CNT, CNT_NARROW, "refuted"),
    ],
)
def test_equivalence_on_known_pairs(a: str, b: str, status: str) -> None:
    rep = check_equivalence(_src(a), _src(b), "TopModule")
    assert rep.status == status, rep.detail + rep.log_tail
    assert rep.tool_version and rep.tool_version.startswith("Yosys")
    if status == "refuted":
        assert rep.counterexample


def test_combinational_counterexample_really_differs() -> None:
    rep = check_equivalence(_src(ADD), _src(ADD_WIDTH_BUG), "TopModule")
    vals = {v.signal: int(v.value, 2) for v in rep.counterexample}
    assert vals["a"] + vals["b"] >= 16  # the only inputs where a 4-bit sum loses the carry


def test_sequential_counterexample_needs_ten_increments() -> None:
    rep = check_equivalence(_src(CNT), _src(CNT_MOD10), "TopModule")
    assert rep.sequential and rep.status == "refuted"
    enables = [v for v in rep.counterexample if v.signal == "en" and v.value == "1"]
    assert len(enables) >= 10


def test_equivalence_with_different_ports_is_an_error() -> None:
    other = "module TopModule(input [3:0] a, output [4:0] y);\n  assign y = a;\nendmodule\n"
    rep = check_equivalence(_src(ADD), _src(other), "TopModule")
    assert rep.status == "error" and "port" in rep.detail.lower()


def test_synthesis_counts_area_and_depth() -> None:
    add = synthesize(_src(ADD), "TopModule")
    assert add.synthesizes and add.cells > 0 and add.flip_flops == 0
    assert add.area == pytest.approx(sum(cell_area(c) * n for c, n in add.cells_by_type.items()), abs=0.05)
    assert add.logic_depth is not None and add.logic_depth >= 3
    cnt = synthesize(_src(CNT), "TopModule")
    assert cnt.synthesizes and cnt.flip_flops == 4
    wide = synthesize(_src(ADD.replace("[3:0]", "[15:0]").replace("[4:0]", "[16:0]")), "TopModule")
    assert wide.area > add.area and wide.logic_depth and wide.logic_depth > add.logic_depth
    assert add.tool_version and "Yosys" in add.tool_version


def test_synthesis_failure_is_a_verdict() -> None:
    rep = synthesize(_src("module TopModule(input a, output y); assign y = ; endmodule"), "TopModule")
    assert not rep.synthesizes and rep.errors
    missing_top = synthesize(_src(ADD), "NoSuchTop")
    assert not missing_top.synthesizes


def test_lint_reports_located_diagnostics() -> None:
    bad = (
        "module TopModule(input [3:0] a, output z);\n  wire unused_w;\n  assign z = a[0] & nope;\nendmodule\n"
    )
    rep = lint(_src(bad))
    assert not rep.ok and rep.errors >= 1
    err = next(d for d in rep.diagnostics if d.severity == "error")
    assert err.file == "design.sv" and err.line == 3 and err.column is not None
    clean = lint(_src(ADD))
    assert clean.ok and clean.errors == 0
    assert clean.tool_version and "Verilator" in clean.tool_version
    warn = lint(_src("module TopModule(input [3:0] a, output [1:0] y);\n  assign y = a;\nendmodule\n"))
    assert warn.ok and any(d.code == "WIDTHTRUNC" or d.code == "WIDTH" for d in warn.diagnostics)


TB = """module tb;
  reg [3:0] a, b; wire [4:0] y; integer errors = 0, total = 0, i;
  TopModule dut(.a(a), .b(b), .y(y));
  initial begin
    for (i = 0; i < 256; i = i + 1) begin
      {a, b} = i; #1; total = total + 1;
      if (y !== a + b) errors = errors + 1;
    end
    if (errors)
      $display("Hint: Output '%s' has %0d mismatches. First mismatch occurred at time %0d.", "y", errors, 1);
    $display("Mismatches: %0d in %0d samples", errors, total);
    $finish;
  end
endmodule
"""


def test_simulate_parses_summary_and_hints() -> None:
    good = simulate({"d.sv": ADD, "tb.sv": TB})
    assert good.passed and good.mismatches == 0 and good.samples == 256
    bad = simulate({"d.sv": ADD_OFF_BY_ONE, "tb.sv": TB})
    assert bad.category == "mismatch" and bad.mismatches == 256
    assert bad.hints[0].name == "y" and bad.first_mismatch_time == 1
    broken = simulate({"d.sv": "module TopModule(; endmodule", "tb.sv": TB})
    assert broken.category == "syntax" and not broken.compiled


def test_versions_are_cached_and_real() -> None:
    v = versions()
    assert v["iverilog"] and v["yosys"] and v["verilator"]
    assert versions() == v


def test_missing_source_file_is_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError):
        lint([tmp_path / "nope.sv"])


def test_missing_tool_raises_tool_missing(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(sys, "prefix", str(tmp_path))
    with pytest.raises(ToolMissingError):
        synthesize(_src(ADD), "TopModule")


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "veriloop.cli", *args], capture_output=True, text=True, timeout=120, env=env
    )


def test_cli_tools_json(tmp_path: Path) -> None:
    (tmp_path / "a.sv").write_text(ADD)
    (tmp_path / "b.sv").write_text(ADD_OFF_BY_ONE)
    (tmp_path / "tb.sv").write_text(TB)
    eq = _cli(
        "tools", "equiv", str(tmp_path / "a.sv"), str(tmp_path / "b.sv"), "--top", "TopModule", "--json"
    )
    assert eq.returncode == 1 and json.loads(eq.stdout)["status"] == "refuted"
    syn = _cli("tools", "synth", str(tmp_path / "a.sv"), "--top", "TopModule", "--json")
    assert syn.returncode == 0 and json.loads(syn.stdout)["synthesizes"]
    sim = _cli("tools", "sim", "--tb", str(tmp_path / "tb.sv"), str(tmp_path / "a.sv"), "--json")
    assert sim.returncode == 0 and json.loads(sim.stdout)["samples"] == 256
    li = _cli("tools", "lint", str(tmp_path / "a.sv"), "--json")
    assert li.returncode == 0 and json.loads(li.stdout)["ok"]
    missing = _cli("tools", "lint", str(tmp_path / "zzz.sv"))
    assert missing.returncode == 2 and "does not exist" in missing.stderr


def test_doctor_ok_here_and_fails_without_yosys(tmp_path: Path) -> None:
    ok = _cli("doctor", "--json")
    data = json.loads(ok.stdout)
    assert ok.returncode == 0 and data["ok"], ok.stdout
    parts = {c["part"]: c for c in data["checks"]}
    assert parts["sandbox"]["ok"] and "local" in parts["sandbox"]["detail"]
    assert parts["docker engine"]["ok"] is False
    assert "backend offline" in parts
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for tool in ["iverilog", "vvp", "verilator", "bwrap", "sh", "true", "z3"]:
        found = subprocess.run(["which", tool], capture_output=True, text=True).stdout.strip()
        if found:
            (bin_dir / tool).symlink_to(found)
    env = dict(os.environ, PATH=str(bin_dir))
    bad = _cli("doctor", env=env)
    assert bad.returncode != 0
    assert "yosys" in bad.stdout and "apt-get install yosys" in bad.stdout


def _sby_ready() -> bool:
    from veriloop.tools.formal import available, cache_binding

    return available() and bool(cache_binding()[1])


@pytest.mark.skipif(not _sby_ready(), reason="yowasp SymbiYosys or its warmed wasm cache is not available")
@pytest.mark.parametrize(("a", "b", "status"), [(ADD, ADD_REWRITE, "proved"), (CNT, CNT_MOD10, "refuted")])
def test_symbiyosys_equivalence(a: str, b: str, status: str) -> None:
    rep = check_equivalence(_src(a), _src(b), "TopModule", engine="sby")
    assert rep.status == status, rep.log_tail
    assert rep.method.startswith("sby") and rep.tool_version and "Yosys" in rep.tool_version
    if status == "refuted":
        assert sum(v.signal == "en" and v.value == "1" for v in rep.counterexample) >= 10


# An output the design never drives is x to Yosys; `miter -ignore_gold_x` ignores x bits of the gold
# side. The issue 14 measurement found a design with undriven outputs reported "proved" because the
# design was passed as gold. The reference is gold now, and the design's undriven bits are free.
UNDRIVEN = """module TopModule(input [3:0] a, input [3:0] b, output [4:0] y);
    wire [4:0] t;
    assign t = a + b;
endmodule
"""
UNDRIVEN_SEQ = """module TopModule (input clk, input d, output reg q, output z);
    always @(posedge clk) q <= d;
endmodule
"""
REF_SEQ = UNDRIVEN_SEQ.replace("endmodule", "    assign z = q;\nendmodule")
# A reference's explicit x is a don't-care: any design value there is fine.
DONT_CARE_REF = """module TopModule (input a, input b, output reg y);
    always @* if (a) y = b; else y = 1'bx;
endmodule
"""
DONT_CARE_DESIGN = "module TopModule (input a, input b, output y);\n    assign y = a & b;\nendmodule\n"


@pytest.mark.parametrize("engine", ["yosys", "sby"])
def test_a_design_with_an_undriven_output_is_never_proved(engine: str) -> None:
    from veriloop.tools.equiv import check_equivalence

    comb = check_equivalence({"ref.sv": ADD}, {"d.sv": UNDRIVEN}, "TopModule", engine=engine)
    assert comb.status == "refuted"
    seq = check_equivalence({"ref.sv": REF_SEQ}, {"d.sv": UNDRIVEN_SEQ}, "TopModule", engine=engine)
    assert seq.status == "refuted"


def test_the_references_dont_cares_still_prove() -> None:
    from veriloop.tools.equiv import check_equivalence

    rep = check_equivalence({"ref.sv": DONT_CARE_REF}, {"d.sv": DONT_CARE_DESIGN}, "TopModule")
    assert rep.status == "proved"


def test_the_agents_check_the_design_against_the_reference_as_gold() -> None:
    from veriloop.agents import eda

    assert eda.equivalence(UNDRIVEN, ADD, "TopModule").status == "refuted"
    assert eda.equivalence(DONT_CARE_DESIGN, DONT_CARE_REF, "TopModule").status == "proved"
