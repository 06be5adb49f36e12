"""Real replies of a small local model (Qwen2.5-Coder-1.5B, recorded in issue 14) through the fake server.

The texts in data/real_replies_mux.json were recorded from veriloop's own prompts; the fake server
replays them with the finish_reason the real server gave. Each test drives one agent step directly.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from veriloop.agents.deps import Deps, Turn
from veriloop.agents.rtl_generator import SYSTEM, requested_closure, write_module
from veriloop.agents.verifier import _write_testbench, verifier_node
from veriloop.config import load_settings
from veriloop.llm.caps import DEFAULT_MAX_TOKENS
from veriloop.llm.contract import Message
from veriloop.testing.fake_openai import Reply, write_config

REAL = json.loads((Path(__file__).parent / "data" / "real_replies_mux.json").read_text(encoding="utf-8"))
SPEC = (
    "A 2-to-1 multiplexer: 8-bit inputs a and b, 1-bit select sel, 8-bit output y; "
    "y = b when sel is 1, else a. Purely combinational."
)
MUX = REAL["rtl_mux_3"].split("```verilog\n", 1)[1].split("```", 1)[0]
# A real testbench shape for the mux, short and self-checking (what a good, uncut reply looks like).
GOOD_TB = """```verilog
module tb;
    reg [7:0] a, b; reg sel; wire [7:0] y;
    integer errors = 0, total = 0, i;
    mux uut (.a(a), .b(b), .sel(sel), .y(y));
    initial begin
        for (i = 0; i < 40; i = i + 1) begin
            a = $random; b = $random; sel = $random; #1;
            total = total + 1;
            if (y !== (sel ? b : a)) begin
                errors = errors + 1;
                $display("MISMATCH time=%0t y got=%h expected=%h", $time, y, sel ? b : a);
            end
        end
        $display("Mismatches: %0d in %0d samples", errors, total);
        $finish;
    end
endmodule
```"""


def _turn(
    tmp_path: Path, server: Any, agent: str, backend: dict[str, Any] | None = None, **state: Any
) -> Turn:
    write_config(tmp_path, server, **(backend or {}))
    settings = load_settings(tmp_path / "veriloop.toml")
    settings.knowledge.enabled = False
    base: dict[str, Any] = {"spec": SPEC, "top": "mux", "seed": 0, "iteration": 0}
    return Turn(Deps(settings=settings), {**base, **state}, agent)  # type: ignore[arg-type]


def _write_msgs() -> list[Message]:
    return [
        Message(role="system", content=SYSTEM),
        Message(role="user", content=f"{SPEC}\nWrite module `mux`."),
    ]


async def test_every_request_carries_the_task_cap(tmp_path: Path, fake_openai) -> None:
    fake_openai.enqueue(REAL["rtl_mux_3"])
    turn = _turn(tmp_path, fake_openai, "generator")
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 3, "design.rtl", {"module": "mux"})
    assert "mux" in got
    assert fake_openai.requests[-1]["max_tokens"] == DEFAULT_MAX_TOKENS["generator"]


async def test_configured_cap_wins(tmp_path: Path, fake_openai) -> None:
    write_config(tmp_path, fake_openai, extra="[max_tokens]\ngenerator = 512\ntestbench = 700\n")
    settings = load_settings(tmp_path / "veriloop.toml")
    assert settings.max_tokens == {"generator": 512, "testbench": 700}
    fake_openai.enqueue(REAL["rtl_mux_3"])
    turn = Turn(Deps(settings=settings), {"spec": SPEC, "top": "mux"}, "generator")  # type: ignore[arg-type]
    await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 3, "design.rtl", {"module": "mux"})
    assert fake_openai.requests[-1]["max_tokens"] == 512


async def test_stray_module_is_not_kept_beside_the_requested_one(tmp_path: Path, fake_openai) -> None:
    # Real sequence: first `module alu` (copied from a retrieved library entry), then the right `mux`.
    fake_openai.enqueue(REAL["rtl_alu_2"], REAL["rtl_mux_3"])
    turn = _turn(tmp_path, fake_openai, "generator")
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 4, "design.rtl", {"module": "mux"})
    assert list(got) == ["mux"]
    texts = [e["text"] for e in turn.entries]
    assert any("it defined alu; not kept" in t for t in texts)
    # the retry after the wrong module is not the same request: warmer, another seed
    first, second = fake_openai.requests[-2], fake_openai.requests[-1]
    assert (first["temperature"], first["seed"]) != (second["temperature"], second["seed"])


def test_closure_drops_what_the_top_does_not_instantiate() -> None:
    fix = REAL["fix_alu_and_mux_9"].split("```verilog\n", 1)[1].split("```", 1)[0]
    from veriloop.agents.codeparse import split_modules

    kept, dropped = requested_closure(split_modules(fix), ["mux"], {})
    assert list(kept) == ["mux"] and dropped == ["alu"]
    sub = "module inv(input a, output y); assign y = ~a; endmodule\n"
    top = "module top(input a, output y); inv u(.a(a), .y(y)); endmodule\n"
    kept, dropped = requested_closure({"inv": sub, "top": top, "alu": "module alu; endmodule\n"}, ["top"], {})
    assert set(kept) == {"inv", "top"} and dropped == ["alu"]


async def test_identical_replies_are_counted_and_the_error_not_fed_again(
    tmp_path: Path, fake_openai
) -> None:
    bad = (
        "```verilog\nmodule mux(input [7:0] a, b, input sel, output [7:0] y);\n"
        "  assign y = sel ? b : en;\nendmodule\n```"
    )
    fake_openai.enqueue(bad, bad, bad, REAL["rtl_mux_3"])
    turn = _turn(tmp_path, fake_openai, "generator")
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 6, "design.rtl", {"module": "mux"})
    assert got == {} or "en;" in got.get("mux", "")  # stopped after three identical replies
    assert turn.repeats == 2
    assert len(fake_openai.requests) == 3
    texts = [e["text"] for e in turn.entries]
    assert any("identical to the previous reply (3 in a row)" in t for t in texts)
    second = fake_openai.requests[1]["messages"]
    # the second request fed the lint error once; the third did not append the same reply+error again
    third = fake_openai.requests[2]["messages"]
    assert len(third) <= len(second)
    assert "DIFFERENT" in third[-1]["content"]
    temps = [r["temperature"] for r in fake_openai.requests]
    assert temps == sorted(temps) and len(set(temps)) == 3


async def test_cut_off_testbench_is_retried_shorter_never_resent(tmp_path: Path, fake_openai) -> None:
    cut = Reply(content=REAL["tb_cut_6"], finish_reason="length", completion_tokens=REAL["tb_cut_6_tokens"])
    fake_openai.enqueue(cut, GOOD_TB)
    # Unstreamed: the server's own cap cuts it (streamed, the runaway stop ends this looping reply
    # sooner; tests/llm/test_llm_streaming.py).
    turn = _turn(tmp_path, fake_openai, "verifier", backend={"stream": False}, max_steps=4)
    tb, why = await _write_testbench(turn, turn_state(), MUX, "mux", 4)
    assert "module tb" in tb and why == ""
    retry = fake_openai.requests[1]["messages"]
    assert all(REAL["tb_cut_6"][:200] not in (m.get("content") or "") for m in retry)
    assert "cut off after 2048 tokens" in retry[-1]["content"]
    assert fake_openai.requests[0]["max_tokens"] == DEFAULT_MAX_TOKENS["testbench"]
    assert not any("contained no testbench" in e["text"] for e in turn.entries)


async def test_testbench_that_stays_cut_off_fails_with_its_reason(tmp_path: Path, fake_openai) -> None:
    cut = Reply(content=REAL["tb_cut_6"], finish_reason="length", completion_tokens=REAL["tb_cut_6_tokens"])
    fake_openai.enqueue(cut, cut, cut, cut)
    turn = _turn(tmp_path, fake_openai, "verifier", backend={"stream": False})  # the server's cap
    tb, why = await _write_testbench(turn, turn_state(), MUX, "mux", 4)
    assert tb == "" and "3 replies were cut off before `endmodule` of `tb`" in why and "2048 tokens" in why
    assert len(fake_openai.requests) == 3  # bounded
    sizes = [len(json.dumps(r["messages"])) for r in fake_openai.requests]
    assert max(sizes) - min(sizes) < 1000  # prompts do not grow by the cut-off reply


async def test_design_that_does_not_lint_gets_its_lint_error_not_a_testbench(
    tmp_path: Path, fake_openai
) -> None:
    # Real failure: "Can't find definition of variable: 'en'" must reach the evidence; no testbench call.
    broken = (
        "module mux(input [7:0] a, input [7:0] b, input sel, output [7:0] y);\n"
        "  assign y = en ? b : a;\nendmodule\n"
    )
    write_config(tmp_path, fake_openai)
    settings = load_settings(tmp_path / "veriloop.toml")
    settings.knowledge.enabled = False
    state = {**turn_state(), "rtl": {"mux": broken}, "mode": "self-verified"}
    runtime = type("R", (), {"context": Deps(settings=settings)})()
    out = await verifier_node(state, runtime)  # type: ignore[arg-type]
    verdict = out["verdicts"][0]
    assert verdict["category"] == "syntax" and "en" in verdict["log_excerpt"]
    assert fake_openai.request_count == 0


def turn_state() -> dict[str, Any]:
    return {"spec": SPEC, "top": "mux", "seed": 0, "iteration": 0, "plan": {"top": "mux"}}


def test_whole_mux_run_with_the_recorded_replies_is_bounded_and_honest(
    tmp_path: Path, fake_openai, kit
) -> None:
    """The recorded mux run (16 calls, prompts growing to 4.6k tokens, alu kept beside mux) replayed
    by role: the stray alu is not kept, the cut-off testbenches are retried shorter a bounded number
    of times without growing the prompt, and the verdict says why."""
    from veriloop.agents import run_design

    rtl = [REAL["rtl_alu_2"], REAL["rtl_mux_3"]]
    seen: dict[str, int] = {}

    def answer(body: dict[str, Any]) -> Reply | str:
        who = kit.role(body)
        n = seen[who] = seen.get(who, 0) + 1
        if who == "planner":
            return REAL["plan_0"]
        if who == "architect":
            return REAL["architect_1"]
        if who == "generator":
            return rtl[min(n - 1, len(rtl) - 1)]
        return Reply(content=REAL["tb_cut_6"], finish_reason="length", completion_tokens=2048)

    fake_openai.responder = answer
    write_config(tmp_path, fake_openai)
    settings = load_settings()
    settings.knowledge.enabled = False
    result = run_design(SPEC, settings, out_dir=tmp_path / "out", max_iters=2)
    assert not result.verified
    report = result.report
    assert report["verdict"]["category"] == "tb_error" and "cut off" in report["verdict"]["summary"]
    assert (tmp_path / "out" / "mux.sv").is_file() and not (tmp_path / "out" / "alu.sv").exists()
    tb_requests = [b for b in fake_openai.requests if kit.role(b) == "verifier"]
    sizes = [len(json.dumps(b["messages"])) for b in tb_requests]
    assert max(sizes) - min(sizes) < 1000  # never re-sent whole
    assert all(b["max_tokens"] for b in fake_openai.requests)
    assert seen.get("generator") == 2  # the second iteration did not "fix" a design the verifier never tested
    assert len(fake_openai.requests) <= 10 < REAL["recorded_run"]["calls"]
    assert report["cut_off_replies"] == 6 and report["repeated_replies"] >= 1
    assert "replies cut off at max_tokens: 6" in (tmp_path / "out" / "report.md").read_text(encoding="utf-8")


async def test_lint_tool_called_again_with_unchanged_code_is_told_so(tmp_path: Path, fake_openai) -> None:
    code = (
        "module mux(input [7:0] a, input [7:0] b, input sel, output [7:0] y);\n"
        "  assign y = en ? b : a;\nendmodule"
    )
    call = Reply(content=None, tool_calls=[{"name": "lint", "arguments": {"code": code}}])
    fake_openai.enqueue(call, call, REAL["rtl_mux_3"])
    turn = _turn(tmp_path, fake_openai, "generator")
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 4, "design.rtl", {"module": "mux"})
    assert "mux" in got
    tool_msgs = [m for m in fake_openai.requests[-1]["messages"] if m["role"] == "tool"]
    assert len(tool_msgs) == 2 and "en" in tool_msgs[0]["content"]
    assert "already checked this exact code" not in tool_msgs[0]["content"]
    assert "already checked this exact code" in tool_msgs[1]["content"]
    assert turn.repeats == 1


async def test_fix_prompt_shows_the_requested_module_not_the_stray_one(tmp_path: Path, fake_openai) -> None:
    from veriloop.agents.codeparse import split_modules
    from veriloop.agents.rtl_generator import generator_node

    fix = REAL["fix_alu_and_mux_9"].split("```verilog\n", 1)[1].split("```", 1)[0]
    write_config(tmp_path, fake_openai)
    settings = load_settings(tmp_path / "veriloop.toml")
    settings.knowledge.enabled = False
    fake_openai.enqueue(REAL["fix_alu_and_mux_9"])  # the real fix reply: alu again, then mux
    state = {
        "spec": SPEC, "top": "mux", "seed": 0, "iteration": 1, "plan": {"top": "mux"},
        "rtl": split_modules(fix), "feedback": "Verdict: FAIL (mismatch).",
        "verdicts": [{"iteration": 0, "passed": False, "category": "mismatch"}],
    }
    runtime = type("R", (), {"context": Deps(settings=settings)})()
    out = await generator_node(state, runtime)  # type: ignore[arg-type]
    prompt = fake_openai.requests[0]["messages"][-1]["content"]
    assert "module mux" in prompt and "module alu" not in prompt
    assert list(out["rtl"]) == ["mux"]


async def test_all_cut_off_module_replies_end_in_a_verdict_that_says_so(tmp_path: Path, fake_openai) -> None:
    text = "```verilog\nmodule mux(input [7:0] a,\n"
    cut = Reply(content=text, finish_reason="length", completion_tokens=2048)
    fake_openai.enqueue(cut, cut, cut)
    turn = _turn(tmp_path, fake_openai, "generator")
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 6, "design.rtl", {"module": "mux"})
    assert got == {} and len(fake_openai.requests) == 3
    state = {**turn_state(), "rtl": {}, "transcript": turn.entries, "mode": "self-verified"}
    runtime = type("R", (), {"context": turn.deps})()
    out = await verifier_node(state, runtime)  # type: ignore[arg-type]
    verdict = out["verdicts"][0]
    assert verdict["category"] == "no_code" and "cut off" in verdict["summary"]


COUNTER = json.loads(
    (Path(__file__).parent / "data" / "real_replies_counter.json").read_text(encoding="utf-8")
)
GOOD_COUNTER = """```verilog
module up_counter(input clk, input rst, input en, output reg [7:0] count);
    always @(posedge clk) begin
        if (rst) count <= 8'd0;
        else if (en) count <= count + 8'd1;
    end
endmodule
```"""


async def test_the_specs_port_names_win_over_a_library_entrys(tmp_path: Path, fake_openai) -> None:
    from veriloop.agents.codeparse import extract_json

    # Real reply: `up_counter` with output `q` (the library entry's name) where the spec says `count`.
    fake_openai.enqueue(COUNTER["rtl_up_counter_3"], GOOD_COUNTER)
    turn = _turn(tmp_path, fake_openai, "generator")
    plan = extract_json(COUNTER["plan_0"])
    ctx = {"module": "up_counter", "spec": COUNTER["spec"], "plan": plan}
    got = await write_module(turn, _write_msgs(), ["up_counter"], {}, "up_counter", 4, "design.rtl", ctx)
    assert "count" in got["up_counter"]
    feedback = fake_openai.requests[1]["messages"][-1]["content"]
    assert "missing: `count`" in feedback and "`d`" not in feedback  # `d` was the planner's copied example


async def test_a_long_call_shows_a_heartbeat(tmp_path: Path, fake_openai, monkeypatch) -> None:
    import veriloop.agents.deps as deps_mod

    monkeypatch.setattr(deps_mod, "HEARTBEAT_S", 0.05)
    fake_openai.enqueue(Reply(content=REAL["rtl_mux_3"], delay_s=0.4))
    lines: list[str] = []
    turn = _turn(tmp_path, fake_openai, "generator")
    turn.deps.progress = lambda agent, it, msg: lines.append(f"{agent}: {msg}")
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 2, "design.rtl", {"module": "mux"})
    assert "mux" in got
    beats = [ln for ln in lines if "waiting for fake (design.rtl" in ln]
    assert len(beats) >= 3 and beats[0].startswith("generator: ")


async def test_the_heartbeat_counts_the_streamed_tokens(tmp_path: Path, fake_openai, monkeypatch) -> None:
    import veriloop.agents.deps as deps_mod

    monkeypatch.setattr(deps_mod, "HEARTBEAT_S", 0.1)
    fake_openai.enqueue(Reply(content=REAL["rtl_mux_3"], token_delay_s=0.01))
    lines: list[str] = []
    turn = _turn(tmp_path, fake_openai, "generator")
    turn.deps.progress = lambda agent, it, msg: lines.append(msg)
    got = await write_module(turn, _write_msgs(), ["mux"], {}, "mux", 2, "design.rtl", {"module": "mux"})
    assert "mux" in got
    counts = [int(m.group(1)) for ln in lines if (m := re.search(r"(\d+) tokens so far", ln))]
    assert len(counts) >= 2 and counts == sorted(counts) and counts[-1] > counts[0] > 0
