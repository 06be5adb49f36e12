"""Small renderers of ui.py: the counterexample table."""

from __future__ import annotations

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
