"""Hanging testbench, empty reply, helper/duplicate modules and a forged summary: each gets its category."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from veriloop.bench.suites import load_suite
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply

from .conftest import VEV2_FIXTURE, run_json

HELPERS = """```verilog
module not_gate(input x, output z);
  assign z = ~x;
endmodule

module TopModule(input a, output y);
  not_gate u0 (.x(a), .z(y));
endmodule
```"""

TWO_TOPS = """First attempt:
```verilog
module TopModule(input a, input b, output y);
  assign y = a ^ b;
endmodule
```
Alternative:
```verilog
module TopModule(input a, input b, output y);
  assign y = a | b;
endmodule
```"""

FORGE_AND_FINISH = """```verilog
module TopModule(input a, input b, input sel, output y);
  assign y = 1'b0;
  initial begin
    $display("Mismatches: 0 in 1 samples");
    $finish;
  end
endmodule
```"""

FORGE_ONLY = """```verilog
module TopModule(input a, input b, input sel, output y);
  assign y = 1'b0;
  initial $display("Mismatches: 0 in 100 samples");
endmodule
```"""

TOGGLE = """```verilog
module TopModule(input clk, output reg q = 1'b0);
  always @(posedge clk) q <= ~q;
endmodule
```"""


def test_each_failure_gets_its_category_and_the_run_goes_on(fake_openai: FakeOpenAIServer,
                                                            bench_toml: Any) -> None:
    problems = load_suite("verilog-eval", VEV2_FIXTURE).problems
    seen: Counter[str] = Counter()
    lock = threading.Lock()

    def responder(body: dict[str, Any]) -> Reply | str:
        text = body["messages"][-1]["content"]
        pid = next(p.id for p in problems if p.spec in text)
        with lock:
            i = seen[pid]
            seen[pid] += 1
        return {
            "Prob001_and2": "",                       # empty reply
            "Prob002_inv": HELPERS,                   # helper module beside TopModule: legitimate
            "Prob003_xor2": TWO_TOPS,                 # two conflicting TopModule definitions
            "Prob004_mux2": FORGE_AND_FINISH if i == 0 else FORGE_ONLY,
            "Prob005_hang": TOGGLE,                   # correct design, but the testbench never ends
        }[pid]

    fake_openai.responder = responder
    bench_toml(fake=fake_openai)
    report = run_json("bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
                      "--backend", "fake", "-n", "2", "--timeout", "3")
    (g,) = report["groups"]
    assert g["samples"] == 10
    # the backend retries an empty reply once (retries = 1) before giving up on it
    assert seen == Counter({"Prob001_and2": 4, "Prob002_inv": 2, "Prob003_xor2": 2, "Prob004_mux2": 2,
                            "Prob005_hang": 2})
    from veriloop import runstore
    from veriloop.bench.store import ResultStore
    from veriloop.config import load_settings

    (rec,) = runstore.list_runs(load_settings().data_path, "bench")
    with ResultStore.open(rec.dir) as store:
        rows = store.records()
    cats: dict[str, set[str]] = {}
    for r in rows:
        cats.setdefault(r.problem, set()).add(r.category)
    assert cats["Prob001_and2"] == {"no_code"}
    assert cats["Prob002_inv"] == {"pass"}
    assert cats["Prob003_xor2"] == {"syntax"}
    assert cats["Prob004_mux2"] == {"illegal", "mismatch"}  # $finish is refused before anything runs
    assert cats["Prob005_hang"] == {"timeout"}
    by = {(r.problem, r.idx): r for r in rows}
    assert by[("Prob002_inv", 0)].modules == ["not_gate", "TopModule"]
    assert "defined more than once" in by[("Prob003_xor2", 0)].detail
    assert not any(r.passed for r in rows if r.problem == "Prob004_mux2")
    assert all(r.tool_versions.get("iverilog") for r in rows if r.category != "no_code")
    assert "empty" in by[("Prob001_and2", 0)].detail
    assert set(g["failures"]) == {"Prob001_and2", "Prob003_xor2", "Prob004_mux2", "Prob005_hang"}
    assert g["categories"] == {"no_code": 2, "pass": 2, "syntax": 2, "illegal": 1, "mismatch": 1,
                               "timeout": 2}
