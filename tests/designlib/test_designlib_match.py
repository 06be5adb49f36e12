"""Matching natural-language specs to library designs and parameters; plain refusals when out of scope."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from veriloop.designlib import explain_no_match, load_library, match_spec, render

# (spec, expected design, expected parameter values (a subset))
SPECS: list[tuple[str, str, dict[str, object]]] = [
    (
        "8-bit up counter with synchronous active-high reset and enable",
        "up_counter",
        {"WIDTH": 8, "RESET": "sync", "RESET_POLARITY": "high", "ENABLE": True},
    ),
    (
        "16-bit counter with asynchronous active-low reset",
        "up_counter",
        {"WIDTH": 16, "RESET": "async", "RESET_POLARITY": "low", "ENABLE": False},
    ),
    (
        "free-running 12 bit counter, reset is asynchronous, rst_n",
        "up_counter",
        {"WIDTH": 12, "RESET": "async", "RESET_POLARITY": "low"},
    ),
    ("4-bit up/down counter with enable", "updown_counter", {"WIDTH": 4, "ENABLE": True}),
    ("a decade counter (counts 0 to 9) with asynchronous reset", "modn_counter", {"N": 10, "RESET": "async"}),
    ("mod-12 counter", "modn_counter", {"N": 12}),
    ("a counter that counts from 0 to 59", "modn_counter", {"N": 60}),
    ("6-bit gray code counter", "gray_counter", {"WIDTH": 6}),
    ("binary to gray converter, 10 bits", "gray_converter", {"WIDTH": 10}),
    (
        "serial-in parallel-out shift register, 16 bits, shift right",
        "shift_reg_sipo",
        {"WIDTH": 16, "DIRECTION": "right"},
    ),
    (
        "8-bit parallel to serial shift register, LSB first",
        "shift_reg_piso",
        {"WIDTH": 8, "ORDER": "lsb_first"},
    ),
    ("detect the falling edge of a signal", "edge_detector", {"EDGE": "falling"}),
    ("both-edge detector with active-low reset", "edge_detector", {"EDGE": "both", "RESET_POLARITY": "low"}),
    ("clock divider that divides by 10", "clock_divider", {"DIV": 10}),
    ("generate a 1 MHz clock from a 50 MHz clock", "clock_divider", {"DIV": 50}),
    ("8-bit PWM generator", "pwm", {"PERIOD": 256}),
    ("PWM with a period of 100 cycles", "pwm", {"PERIOD": 100}),
    ("button debouncer, 10 ms at 50 MHz", "debouncer", {"STABLE": 500000}),
    ("32-bit ripple carry adder", "ripple_carry_adder", {"WIDTH": 32}),
    ("16-bit carry lookahead adder", "prefix_adder", {"WIDTH": 16}),
    ("8-bit signed multiplier", "multiplier", {"WIDTH": 8, "SIGNED": True}),
    ("8:1 multiplexer, 16 bits wide", "mux", {"N": 8, "WIDTH": 16}),
    ("3-to-8 decoder with enable", "decoder", {"IN_BITS": 3, "ENABLE": True}),
    (
        "16-bit priority encoder, lowest index has priority",
        "priority_encoder",
        {"WIDTH": 16, "PRIORITY": "lsb"},
    ),
    ("population count of a 32-bit word", "popcount", {"WIDTH": 32}),
    ("12-bit signed magnitude comparator", "comparator", {"WIDTH": 12, "SIGNED": True}),
    ("32-bit barrel shifter that rotates", "barrel_shifter", {"WIDTH": 32, "ROTATE": True}),
    ("16-bit ALU with add, subtract, and, or, xor", "alu", {"WIDTH": 16}),
    ("16-bit LFSR", "lfsr", {"WIDTH": 16, "TAPS": 0xD008}),
    ("CRC-16 CCITT generator", "crc", {"CRC_WIDTH": "16", "POLY": 0x1021, "INIT": 0xFFFF}),
    ("CRC-8 with polynomial 0x31", "crc", {"CRC_WIDTH": "8", "POLY": 0x31}),
    ("round robin arbiter for 8 requesters", "rr_arbiter", {"N": 8}),
    (
        "32 x 32 register file with two read ports, register 0 is zero",
        "register_file",
        {"WIDTH": 32, "DEPTH": 32, "R0_ZERO": True},
    ),
    ("dual-port RAM with 1024 entries of 16 bits", "dual_port_ram", {"WIDTH": 16, "DEPTH": 1024}),
    ("16x16 sequential shift-and-add multiplier", "seq_multiplier", {"WIDTH": 16}),
    ("sequence detector for 1101, non-overlapping", "seq_detector", {"PATTERN": "1101", "OVERLAP": False}),
    (
        "Moore FSM that detects the sequence 10010 with overlap",
        "seq_detector",
        {"PATTERN": "10010", "OVERLAP": True},
    ),
    ("synchronous FIFO, 32 entries, 8 bits wide", "sync_fifo", {"DEPTH": 32, "WIDTH": 8}),
    (
        "synchronous FIFO with asynchronous active-low reset",
        "sync_fifo",
        {"RESET": "async", "RESET_POLARITY": "low"},
    ),
    (
        "asynchronous FIFO with 16 entries of 8 bits and gray-code pointers",
        "async_fifo",
        {"DEPTH": 16, "WIDTH": 8},
    ),
    (
        "UART transmitter, 115200 baud at 50 MHz, 8N1",
        "uart_tx",
        {"CLKS_PER_BIT": 434, "DATA_BITS": 8, "PARITY": "none", "STOP_BITS": 1},
    ),
    (
        "UART transmitter 7E2 with a baud divisor of 16",
        "uart_tx",
        {"CLKS_PER_BIT": 16, "DATA_BITS": 7, "PARITY": "even", "STOP_BITS": 2},
    ),
    (
        "UART receiver 9600 baud with a 12 MHz clock, even parity",
        "uart_rx",
        {"CLKS_PER_BIT": 1250, "PARITY": "even"},
    ),
    ("6-bit johnson counter with enable", "ring_counter", {"KIND": "johnson", "WIDTH": 6, "ENABLE": True}),
    ("one-hot ring counter, 8 bits", "ring_counter", {"KIND": "ring", "WIDTH": 8}),
    ("odd parity generator for a 16-bit word", "parity", {"PARITY": "odd", "WIDTH": 16}),
    ("hex to 7-segment decoder for a common anode display", "seven_segment", {"ACTIVE_LOW": True}),
    (
        "SPI master mode 3, 16-bit transfers, SCLK = clk/8",
        "spi_master",
        {"CPOL": True, "CPHA": True, "CLK_DIV": 4, "DATA_BITS": 16},
    ),
]

OUT_OF_SCOPE = [
    ("a RISC-V core", "RISC-V"),
    ("a 1024-point FFT", "FFT"),
    ("an Ethernet MAC with RGMII", "Ethernet"),
    ("a DDR3 memory controller", "DDR"),
    ("a 5-stage pipelined MIPS processor with a program counter", "processor"),
    ("a floating point unit", "floating-point"),
    ("a blinking LED heartbeat", "No design"),
    ("write me a poem", "No design"),
    ("   ", "empty"),
]


@pytest.mark.parametrize("spec,name,expected", SPECS, ids=[s[0][:40] for s in SPECS])
def test_spec_matches_entry_and_params(spec: str, name: str, expected: dict[str, object]) -> None:
    m = match_spec(spec)
    assert m is not None, explain_no_match(spec)
    assert m.entry.name == name, m.reasons
    for key, value in expected.items():
        assert m.params[key] == value, (key, m.params, m.reasons)
    assert m.score > 0 and m.reasons
    render(m.entry, m.params)  # the matched parameters are valid


def test_enough_matching_cases() -> None:
    assert len(SPECS) >= 30 and len({s[1] for s in SPECS}) >= 28


@pytest.mark.parametrize("spec,word", OUT_OF_SCOPE)
def test_out_of_scope_specs_are_refused_plainly(spec: str, word: str) -> None:
    assert match_spec(spec) is None
    why = explain_no_match(spec)
    assert word in why
    assert why.endswith(".") and "\n" not in why


def test_unhonoured_requests_are_reported() -> None:
    m = match_spec("8-bit up counter with parity output and overflow flag")
    assert m is not None and m.entry.name == "up_counter"
    assert any("parity" in u for u in m.unmatched) and any("overflow" in u for u in m.unmatched)
    m = match_spec("128-bit up counter")
    assert m is not None and m.params["WIDTH"] == 8
    assert any("WIDTH" in u and "128" in u for u in m.unmatched)
    m = match_spec("a 3-bit LFSR with taps 0x1F")
    assert m is not None and m.params["WIDTH"] == 3
    assert any("TAPS" in u for u in m.unmatched)
    m = match_spec("8-bit up counter with synchronous active-high reset and enable")
    assert m is not None and m.unmatched == []


def test_every_benchmark_prompt_matches_its_own_design() -> None:
    """The spec each entry renders (the built-in suite's prompt) maps back to the same design and params."""
    for entry in load_library():
        params: Mapping[str, object]
        for params in [{}, *entry.test_params]:
            r = render(entry, params)
            m = match_spec(r.spec)
            assert m is not None and m.entry.name == entry.name, r.spec
            assert m.params == r.params, (entry.name, params, m.params)


def test_matching_is_deterministic() -> None:
    spec = "UART receiver 9600 baud with a 12 MHz clock, even parity"
    first = match_spec(spec)
    second = match_spec(spec)
    assert first is not None and second is not None
    assert first.model_dump() == second.model_dump()


@pytest.mark.parametrize(
    "spec,name,word",
    [
        ("CRC-12 generator", "crc", "CRC_WIDTH"),
        ("sync fifo depth 12", "sync_fifo", "power of two"),
        ("sequence detector 1111111111111111111111", "seq_detector", "2..16 bits"),
        ("divide by 0 clock divider", "clock_divider", "DIV"),
        ("lfsr seed 0", "lfsr", "SEED"),
    ],
)
def test_values_the_library_cannot_take_are_reported(spec: str, name: str, word: str) -> None:
    m = match_spec(spec)
    assert m is not None and m.entry.name == name
    assert any(word in u for u in m.unmatched), m.unmatched
    render(m.entry, m.params)  # the defaults kept instead are valid


def test_odd_specs_never_raise() -> None:
    odd = [
        "0 baud uart transmitter at 50 MHz",
        "uart tx 9600 baud at 0 MHz",
        "clock divider from 0 Hz to 0 Hz",
        "debouncer 0 ms at 0 MHz",
        "99999999999999999999-bit counter",
        "spi master sclk = clk/0",
        "counter\x00\x01",
        "\uff23\uff32\uff23-\uff18",
        "mux " * 500,
        "3-to-0 decoder",
    ]
    for spec in odd:
        m = match_spec(spec)
        assert m is None or m.entry.name
        assert explain_no_match(spec)


def test_ambiguity_is_mentioned() -> None:
    m = match_spec("uart 115200 baud")
    assert m is not None and m.entry.name in ("uart_rx", "uart_tx")
    assert any(r.startswith("also close:") for r in m.reasons)
    assert any("assumed a 50 MHz clock" in r for r in m.reasons)
