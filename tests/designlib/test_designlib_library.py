"""Library loading, the template language, parameter validation and rendering (no EDA tools needed)."""

from __future__ import annotations

import re

import pytest

from veriloop.designlib import get_entry, load_library, render, resolve_params
from veriloop.designlib.readme import generate_readme, readme_path
from veriloop.designlib.template import TemplateError, render_template
from veriloop.errors import InputError

REQUIRED_KINDS = [
    "up_counter",
    "updown_counter",
    "modn_counter",
    "shift_reg_sipo",
    "shift_reg_piso",
    "barrel_shifter",
    "sync_fifo",
    "async_fifo",
    "alu",
    "ripple_carry_adder",
    "prefix_adder",
    "multiplier",
    "seq_multiplier",
    "mux",
    "decoder",
    "priority_encoder",
    "seq_detector",
    "uart_tx",
    "uart_rx",
    "spi_master",
    "pwm",
    "debouncer",
    "lfsr",
    "crc",
    "gray_counter",
    "gray_converter",
    "rr_arbiter",
    "edge_detector",
    "clock_divider",
    "register_file",
    "dual_port_ram",
    "popcount",
    "comparator",
]


def test_library_has_every_required_design() -> None:
    names = [e.name for e in load_library()]
    assert len(names) >= 28
    assert sorted(names) == names
    assert not set(REQUIRED_KINDS) - set(names)


@pytest.mark.parametrize("name", [e.name for e in load_library()])
def test_entry_is_complete(name: str) -> None:
    e = get_entry(name)
    assert e.title and len(e.description) > 60 and e.keywords and e.spec
    assert (e.path / "rtl.v").is_file() and (e.path / "tb.v").is_file()
    assert e.ports and any(p.dir == "output" for p in e.ports)
    for p in e.params:
        assert p.doc, f"{name}.{p.name} has no doc"
        if p.default_from is None:
            assert resolve_params(e, {p.name: p.default})[p.name] == p.default
    r = render(e, {})
    assert f"module {e.top}" in r.rtl
    assert re.search(r"^module tb\b", r.testbench, re.M)
    assert r.testbench.count('$display("Mismatches: %0d in %0d samples", errors, total);') == 1
    assert "$finish" in r.testbench
    assert "{{" not in r.spec and "@if" not in r.rtl and "@if" not in r.testbench
    # every active port is declared in the rendered RTL
    for port in e.ports:
        if port.when is None:
            assert re.search(rf"\b{port.dir}\b[^;,]*\b{port.name}\b", r.rtl), (name, port.name)


def test_template_blocks_and_values() -> None:
    src = "\n".join(
        [
            "a {{W}}",
            "// @if EN",
            "en {{EN?yes|no}}",
            "// @elif MODE==x",
            "mode x",
            "// @else",
            "other",
            "// @endif",
            "// @if !EN",
            "  // @if MODE!=x",
            "nested",
            "  // @endif",
            "// @endif",
            "{{MODE==x?X|Y}} {{W{1'b0}}}",
        ]
    )
    assert render_template(src, {"W": "8", "EN": "1", "MODE": "x"}) == "a 8\nen yes\nX {{W{1'b0}}}\n"
    assert render_template(src, {"W": "8", "EN": "0", "MODE": "x"}) == "a 8\nmode x\nX {{W{1'b0}}}\n"
    assert render_template(src, {"W": "4", "EN": "0", "MODE": "y"}) == "a 4\nother\nnested\nY {{W{1'b0}}}\n"
    assert render_template("{{EN?w={{W}} bits|none}}", {"W": "4", "EN": "1"}) == "w=4 bits\n"
    with pytest.raises(TemplateError):
        render_template("{{NOPE}}", {})
    with pytest.raises(TemplateError):
        render_template("// @if A\nx\n", {"A": "1"})
    with pytest.raises(TemplateError):
        render_template("// @endif\n", {})


def test_reset_styles_render_differently() -> None:
    e = get_entry("up_counter")
    sync_high = render(e, {"RESET": "sync", "RESET_POLARITY": "high"}).rtl
    async_low = render(e, {"RESET": "async", "RESET_POLARITY": "low"}).rtl
    assert "always @(posedge clk)" in sync_high and "if (rst)" in sync_high
    assert "always @(posedge clk or negedge rst_n)" in async_low and "if (!rst_n)" in async_low
    no_en = render(e, {"ENABLE": False})
    assert "en" not in re.findall(r"input\s+wire\s+(\w+)", no_en.rtl)
    assert "without" not in no_en.spec and "every cycle" in no_en.spec


@pytest.mark.parametrize(
    "name,params,words",
    [
        ("up_counter", {"WIDTH": 0}, "WIDTH"),
        ("up_counter", {"WIDTH": 65}, "1..64"),
        ("up_counter", {"WIDTH": "eight"}, "integer"),
        ("up_counter", {"RESET": "sometimes"}, "sync/async"),
        ("up_counter", {"ENABLE": "maybe"}, "true or false"),
        ("up_counter", {"DEPTH": 4}, "no parameter DEPTH"),
        ("sync_fifo", {"DEPTH": 12}, "power of two"),
        ("seq_detector", {"PATTERN": "10a1"}, "0s and 1s"),
        ("seq_detector", {"PATTERN": "1"}, "2..16 bits"),
        ("lfsr", {"WIDTH": 4, "SEED": 16}, "fit in WIDTH=4 bits"),
        ("crc", {"CRC_WIDTH": "8", "POLY": 0x1021}, "fit in CRC_WIDTH=8 bits"),
    ],
)
def test_bad_params_are_one_sentence_input_errors(name: str, params: dict[str, object], words: str) -> None:
    with pytest.raises(InputError) as exc:
        render(get_entry(name), params)
    msg = exc.value.message
    assert words in msg and msg.endswith(".") and msg.count(". ") == 0


def test_unknown_design_is_an_input_error() -> None:
    with pytest.raises(InputError, match="no design called 'fft'"):
        get_entry("fft")


def test_dependent_defaults() -> None:
    crc = get_entry("crc")
    assert resolve_params(crc, {"CRC_WIDTH": "16"})["POLY"] == 0x1021
    assert resolve_params(crc, {"CRC_WIDTH": "32"})["INIT"] == 0xFFFFFFFF
    assert resolve_params(crc, {"CRC_WIDTH": "16", "POLY": 0x8005})["POLY"] == 0x8005


@pytest.mark.parametrize("width", range(3, 19))
def test_lfsr_default_taps_are_maximal_length(width: int) -> None:
    taps = int(resolve_params(get_entry("lfsr"), {"WIDTH": width})["TAPS"])
    state, period, mask = 1, 0, (1 << width) - 1
    while True:
        fb = bin(state & taps).count("1") & 1
        state = ((state << 1) | fb) & mask
        period += 1
        if state == 1 or period > mask:
            break
    assert period == mask


def test_library_copies_are_independent() -> None:
    a = load_library()
    a[0].keywords.clear()
    assert load_library()[0].keywords


def test_readme_table_is_current() -> None:
    assert readme_path().read_text() == generate_readme(), "run: python -m veriloop.designlib.readme"


def test_prompts_name_every_port_and_tb_needs_no_parameter_overrides() -> None:
    """A design written from the spec alone (e.g. by an LLM, widths hard-coded) must fit the testbench."""
    for entry in load_library():
        for params in [{}, *entry.test_params]:
            r = render(entry, params)
            assert f"`{r.top}`" in r.spec
            assert "{{" not in r.spec and "}}" not in r.spec and "@if" not in r.rtl + r.testbench
            assert r.ports
            for port in r.ports:
                assert f"`{port.name}`" in r.spec or f"`{port.name}[" in r.spec, (entry.name, port.name)
                assert re.search(rf"\.{port.name}\(", r.testbench), (entry.name, port.name)
            assert re.search(rf"^\s*{r.top}\s+dut\s*\(", r.testbench, re.M), entry.name
