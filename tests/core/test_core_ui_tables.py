"""Small renderers of ui.py: the counterexample table."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from rich.console import Console

from veriloop import ui


def test_counterexample_is_one_row_per_step() -> None:
    vals = [SimpleNamespace(step=s, signal=n, value=v)
            for s in (1, 2, 3) for n, v in (("clk", "0"), ("en", str(s % 2)), ("rst", "0"))]
    console = Console(width=80, record=True)
    console.print(ui.counterexample_table(vals, sequential=True))
    text = console.export_text()
    rows = [ln.split() for ln in text.splitlines() if ln.strip() and ln.split()[0].isdigit()]
    assert rows == [["1", "1"], ["2", "0"], ["3", "1"]]  # clk and rst never change: not repeated
    assert "clk" not in text and ui.constant_inputs(vals) == {"clk": "0", "rst": "0"}
    assert ui.constant_inputs(vals[:3]) == {}  # one step: nothing is "held"


def test_cli_equiv_counterexample_of_a_counter_does_not_list_the_clock_per_step(tmp_path: Path) -> None:
    import subprocess
    import sys

    body = "module counter(input clk, input rst, input en, output reg [3:0] q);\n" \
           "  always @(posedge clk) if (rst) q <= 0; else if (en) q <= q + {};\nendmodule\n"
    (tmp_path / "a.v").write_text(body.format(1))
    (tmp_path / "b.v").write_text(body.format(2))
    r = subprocess.run([sys.executable, "-m", "veriloop", "tools", "equiv", "a.v", "b.v", "--top", "counter",
                        "--bound", "6"], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert r.returncode == 1, r.stderr
    header = next(ln for ln in r.stdout.splitlines() if ln.split()[:1] == ["step"])
    assert "clk" not in header.split() and "en" in header.split()
    assert "held at every step: clk = 0" in r.stdout
