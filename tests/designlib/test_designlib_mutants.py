"""Each library testbench catches real bugs: a deliberately broken RTL (off-by-one, wrong reset value,
swapped bits, wrong reset style...) must FAIL its testbench with mismatches under the real simulator."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor

import pytest

from veriloop.designlib import get_entry, load_library, render
from veriloop.tools.grading import GradeReport, grade_testbench

pytestmark = pytest.mark.skipif(
    not all(shutil.which(t) for t in ("iverilog", "vvp")), reason="needs iverilog and vvp"
)

# (design, params, text in the rendered RTL, its broken replacement, what the bug is)
MUTANTS: list[tuple[str, dict[str, object], str, str, str]] = [
    ("up_counter", {}, "q <= {WIDTH{1'b0}};", "q <= {{(WIDTH-1){1'b0}}, 1'b1};", "wrong reset value"),
    (
        "up_counter",
        {"RESET": "async"},
        "always @(posedge clk or posedge rst)",
        "always @(posedge clk)",
        "synchronous reset where asynchronous was asked",
    ),
    ("up_counter", {"ENABLE": True}, "end else if (en) begin", "end else begin", "enable ignored"),
    (
        "ring_counter",
        {"KIND": "johnson"},
        "q <= {q[WIDTH-2:0], ~q[WIDTH-1]};",
        "q <= {q[WIDTH-2:0], q[WIDTH-1]};",
        "ring feedback where Johnson was asked",
    ),
    (
        "parity",
        {"PARITY": "odd"},
        "assign parity = ~^data;",
        "assign parity = ^data;",
        "even parity where odd",
    ),
    ("seven_segment", {}, "4'h9: lit = 7'b1101111;", "4'h9: lit = 7'b1100111;", "9 drawn without segment d"),
    (
        "modn_counter",
        {},
        "always @(posedge clk) begin",
        "always @(posedge clk or posedge rst) begin",
        "asynchronous reset where synchronous was asked",
    ),
    (
        "lfsr",
        {"RESET": "async", "RESET_POLARITY": "low"},
        "always @(posedge clk or negedge rst_n)",
        "always @(posedge clk)",
        "synchronous reset where asynchronous was asked",
    ),
    (
        "updown_counter",
        {},
        "else    q <= q - 1'b1;",
        "else if (q != 0) q <= q - 1'b1;",
        "saturates instead of wrapping",
    ),
    (
        "modn_counter",
        {},
        "if (q == LAST) q <= {W{1'b0}};",
        "if (q == LAST - 1'b1) q <= {W{1'b0}};",
        "off by one",
    ),
    (
        "gray_counter",
        {},
        "gray <= bin_next ^ (bin_next >> 1);",
        "gray <= bin_next ^ (bin_next << 1);",
        "wrong gray",
    ),
    (
        "gray_converter",
        {},
        "assign bin_out[i] = ^(gray_in >> i);",
        "assign bin_out[i] = ^(gray_in >> (i + 1));",
        "off by one bit",
    ),
    ("shift_reg_sipo", {}, "q <= {q[WIDTH-2:0], sin};", "q <= {sin, q[WIDTH-1:1]};", "wrong direction"),
    (
        "shift_reg_piso",
        {},
        "assign sout = sreg[WIDTH-1];",
        "assign sout = sreg[WIDTH-2];",
        "wrong output bit",
    ),
    ("edge_detector", {}, "assign pulse = sig & ~prev;", "assign pulse = sig & prev;", "level not edge"),
    (
        "clock_divider",
        {"DIV": 6},
        "clk_out <= ({1'b0, cnt_next} < HIGH);",
        "clk_out <= ({1'b0, cnt_next} <= HIGH);",
        "wrong duty",
    ),
    ("pwm", {"PERIOD": 16}, "pwm_out <= (cnt < duty);", "pwm_out <= (cnt <= duty);", "off by one duty"),
    (
        "debouncer",
        {},
        "end else if (cnt == LAST) begin",
        "end else if (cnt == LAST - 1'b1) begin",
        "one cycle too early",
    ),
    (
        "ripple_carry_adder",
        {},
        "c      = (a[i] & b[i]) | (c & (a[i] ^ b[i]));",
        "c      = (a[i] & b[i]);",
        "carry not propagated",
    ),
    ("prefix_adder", {}, "if (i >= (1 << l)) begin", "if (i > (1 << l)) begin", "prefix span off by one"),
    (
        "multiplier",
        {"SIGNED": True},
        "assign p = $signed(a) * $signed(b);",
        "assign p = a * b;",
        "unsigned product",
    ),
    ("seq_multiplier", {}, "left   <= STEPS;", "left   <= STEPS - 1'b1;", "one step short"),
    ("mux", {}, "out = in[k*WIDTH +: WIDTH];", "out = in[(N-1-k)*WIDTH +: WIDTH];", "inputs swapped"),
    (
        "decoder",
        {"ENABLE": True},
        "assign out = en ? (ONE << in) : {(1<<IN_BITS){1'b0}};",
        "assign out = ONE << in;",
        "enable ignored",
    ),
    (
        "priority_encoder",
        {},
        "for (k = 0; k < WIDTH; k = k + 1)",
        "for (k = 0; k < WIDTH - 1; k = k + 1)",
        "MSB never wins",
    ),
    (
        "popcount",
        {},
        "for (k = 0; k < WIDTH; k = k + 1)",
        "for (k = 1; k < WIDTH; k = k + 1)",
        "bit 0 not counted",
    ),
    (
        "comparator",
        {"SIGNED": True},
        "assign lt = ($signed(a) < $signed(b));",
        "assign lt = (a < b);",
        "unsigned compare",
    ),
    (
        "barrel_shifter",
        {},
        "if (dir) out = out >> (1 << s);",
        "if (dir) out = $signed(out) >>> (1 << s);",
        "arithmetic instead of logical shift",
    ),
    (
        "alu",
        {},
        "OP_SLT: y = {{(WIDTH-1){1'b0}}, $signed(a) < $signed(b)};",
        "OP_SLT: y = {{(WIDTH-1){1'b0}}, a < b};",
        "unsigned set-less-than",
    ),
    ("lfsr", {}, "wire fb = ^(q & TAPS);", "wire fb = ^(q & (TAPS >> 1));", "wrong taps"),
    (
        "crc",
        {"CRC_WIDTH": "16"},
        "for (i = 7; i >= 0; i = i - 1)",
        "for (i = 0; i < 8; i = i + 1)",
        "bits absorbed LSB first",
    ),
    (
        "rr_arbiter",
        {},
        "else if (found) ptr <= (winner == LAST) ? {PW{1'b0}} : winner + 1'b1;",
        "else if (found) ptr <= winner;",
        "pointer does not rotate",
    ),
    (
        "register_file",
        {},
        "assign rdata2 = regs[raddr2];",
        "assign rdata2 = regs[raddr1];",
        "read ports crossed",
    ),
    (
        "dual_port_ram",
        {},
        "if (re) rdata <= mem[raddr];",
        "if (re) rdata <= (we && waddr == raddr) ? wdata : mem[raddr];",
        "write-first instead of read-first",
    ),
    (
        "seq_detector",
        {"OVERLAP": False},
        "if (match)             fill <= {CW{1'b0}};",
        "if (1'b0)              fill <= {CW{1'b0}};",
        "overlapping where non-overlapping was asked",
    ),
    (
        "sync_fifo",
        {},
        "assign full  = (count == DEPTH[AW:0]);",
        "assign full  = (count == DEPTH[AW:0] - 1'b1);",
        "full one entry early",
    ),
    (
        "async_fifo",
        {},
        "wire        wfull_next = (wgray_next == {~wq2_rgray[AW:AW-1], wq2_rgray[AW-2:0]});",
        "wire        wfull_next = (wgray_next == {~wq2_rgray[AW], wq2_rgray[AW-1:0]});",
        "binary full test on gray",
    ),
    (
        "uart_tx",
        {"CLKS_PER_BIT": 8, "PARITY": "even"},
        "par     <= (^tx_data) ^ PARITY_ODD[0];",
        "par     <= ~(^tx_data) ^ PARITY_ODD[0];",
        "odd parity sent as even",
    ),
    (
        "uart_tx",
        {"CLKS_PER_BIT": 8},
        "localparam [31:0] LAST32 = CLKS_PER_BIT - 1;",
        "localparam [31:0] LAST32 = CLKS_PER_BIT;",
        "bit time one clock long",
    ),
    (
        "uart_rx",
        {"CLKS_PER_BIT": 8},
        "shreg   <= {s2, shreg[DATA_BITS-1:1]};",
        "shreg   <= {shreg[DATA_BITS-2:0], s2};",
        "MSB first instead of LSB first",
    ),
    (
        "spi_master",
        {},
        "if (leading == (CPHA == 0)) begin",
        "if (leading != (CPHA == 0)) begin",
        "samples on the wrong edge",
    ),
]


@pytest.fixture(scope="module")
def graded() -> list[GradeReport]:
    def run(m: tuple[str, dict[str, object], str, str, str]) -> GradeReport:
        name, params, old, new, _ = m
        r = render(get_entry(name), params)
        assert r.rtl.count(old) == 1, f"{name}: mutation site not found once: {old}"
        return grade_testbench(r.rtl.replace(old, new), r.testbench, timeout_s=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(run, MUTANTS))


def test_mutants_cover_enough_designs() -> None:
    assert len({m[0] for m in MUTANTS}) >= 10


@pytest.mark.parametrize("index", range(len(MUTANTS)), ids=[f"{m[0]}:{m[4]}" for m in MUTANTS])
def test_mutant_fails_its_testbench(index: int, graded: list[GradeReport]) -> None:
    rep = graded[index]
    assert not rep.passed, f"mutant survived: {MUTANTS[index][4]}"
    assert rep.category == "mismatch", (rep.category, rep.log_tail)
    assert rep.mismatches and rep.mismatches > 0


def _flip_reset_style(rtl: str) -> str:
    """Synchronous reset -> asynchronous and vice versa, in every flip-flop block."""
    if " or posedge rst)" in rtl or " or negedge rst_n)" in rtl:
        return rtl.replace(" or posedge rst)", ")").replace(" or negedge rst_n)", ")")
    edge = "negedge rst_n" if "rst_n" in rtl else "posedge rst"
    return rtl.replace("always @(posedge clk)", f"always @(posedge clk or {edge})")


RESET_CASES = [
    (entry.name, {"RESET": style, "RESET_POLARITY": pol})
    for entry in load_library()
    if entry.param("RESET") is not None and "reset between edges" in render(entry, {}).testbench
    for style, pol in (("sync", "high"), ("async", "low"))
]


@pytest.fixture(scope="module")
def reset_graded() -> list[GradeReport]:
    def run(case: tuple[str, dict[str, object]]) -> GradeReport:
        r = render(get_entry(case[0]), case[1])
        flipped = _flip_reset_style(r.rtl)
        assert flipped != r.rtl
        return grade_testbench(flipped, r.testbench, timeout_s=60)

    with ThreadPoolExecutor(max_workers=4) as pool:
        return list(pool.map(run, RESET_CASES))


def test_reset_style_is_checked_by_enough_testbenches() -> None:
    assert len({c[0] for c in RESET_CASES}) >= 10


@pytest.mark.parametrize(
    "index", range(len(RESET_CASES)), ids=[f"{c[0]}-{c[1]['RESET']}" for c in RESET_CASES]
)
def test_wrong_reset_style_fails(index: int, reset_graded: list[GradeReport]) -> None:
    rep = reset_graded[index]
    assert rep.category == "mismatch", (RESET_CASES[index], rep.category, rep.log_tail)
