"""Generating veriloop/designlib/README.md (design table with parameters) from the library itself.

Run `python -m veriloop.designlib.readme` after changing a design.toml.
"""

from __future__ import annotations

from pathlib import Path

from veriloop.designlib.library import load_library
from veriloop.designlib.models import DesignEntry, ParamSpec

_INTRO = """# Built-in design library

Parameterisable RTL blocks written for veriloop. The offline backend answers design requests from
this library (`match_spec` -> `render`), and `veriloop bench` uses it as the built-in RTL suite: each
entry's rendered `spec` is the prompt and its self-checking `tb.v` grades the answer.

Each design is a directory `designs/<name>/` holding:

- `design.toml`: name, title, description, `keywords` (phrase -> weight; `#` matches any number),
  `exclude` (phrases that point to another design), `params` (type, default, range, the words and
  regexes that set each one from a spec), `ports` (direction, width expression, `when` condition),
  `spec` (a prompt usable as a benchmark task) and `test_params` (non-default sets CI verifies).
- `rtl.v`: the synthesizable Verilog-2005 template. Numeric parameters stay Verilog `parameter`s.
- `tb.v`: the self-checking testbench, top module `tb`, with its own behavioural model, a fixed
  random seed, and exactly one summary line `Mismatches: N in M samples` before `$finish`.

## Template language (`template.py`)

- `// @if COND`, `// @elif COND`, `// @else`, `// @endif` on lines of their own keep or drop the lines
  between them; blocks nest. `COND` is `NAME` (bool true), `!NAME`, `NAME==value` or `NAME!=value`.
- `{{NAME}}` is replaced by the parameter value (bools as 1/0); `{{NAME?text|other}}` picks a text.
  Verilog replications such as `{{W{1'b0}}}` are left alone; an unknown name is an error.
- Derived values: `NAME_HEX` (hex params), `NAME_POW2` (2^value), `NAME_LEN`/`NAME_VLOG` (bit
  strings), and reset helpers from `RESET` (sync/async) and `RESET_POLARITY` (high/low):
  `{{RST}}` (rst or rst_n), `{{RST_ON}}` (the asserted condition), `{{ALWAYS_FF}}` (the flip-flop
  sensitivity list), `{{RST_ASSERT}}`/`{{RST_DEASSERT}}` (tb drive values), `{{RESET_DESC}}` (prose).

## Matching (`match.py`, `extract.py`)

Deterministic: each design scores the weights of its keyword phrases found in the normalised spec,
minus a penalty for `exclude` phrases; the best design at or above the threshold wins. Parameters
are read by each parameter's own regexes, then its option words, then built-in extractors (width,
depth, reset style and polarity, enable, baud divisor from "115200 baud at 50 MHz", clock ratio,
debounce time, PWM bits, count ranges, decoder sizes, SPI mode/divider, UART "8N1"). Values that
are out of range or inconsistent are reported in `unmatched` (and the default is kept), as are
content words the design does not understand. An optional enable input is left out unless the spec
mentions one, and when two designs score within a point the runner-up is named in `reasons`.
Requests for processors, FFTs, DDR controllers and
the like return None; `explain_no_match(spec)` says why in one sentence.

## Verification

`tests/designlib/` renders every design with its default and each `test_params` set and checks:
Verilator `--lint-only -Wall` with no warnings, Yosys `synth -top`, and the graded Icarus simulation
passing with `Mismatches: 0` (through `veriloop.tools`, in the sandbox). Mutation tests break one
line of the RTL of every design (off-by-one, wrong reset value or style, swapped bits, wrong edge)
and require its testbench to report mismatches; the testbenches of 13 sequential designs assert reset
between clock edges, so a synchronous reset where an asynchronous one was asked (or the reverse) fails.

## Designs
"""


def _fmt_default(p: ParamSpec) -> str:
    if p.default_from:
        return f"by {p.default_from}"
    if p.type == "bool":
        return "true" if p.default else "false"
    if p.hex and isinstance(p.default, int):
        return f"0x{p.default:X}"
    return str(p.default)


def _param_line(p: ParamSpec) -> str:
    return f"`{p.name}`={_fmt_default(p)} ({p.allowed()})"


def _entry_rows(e: DesignEntry) -> str:
    params = "<br>".join(_param_line(p) for p in e.params) or "none"
    return f"| `{e.name}` | {e.title} | `{e.top}` | {params} |"


def _set_by(p: ParamSpec) -> str:
    parts = [f"{key}: " + ", ".join(f"'{w}'" for w in words[:3]) for key, words in p.words.items() if words]
    parts += [f"{name} extractor" for name in p.extract]
    if p.patterns:
        parts.append(f"{len(p.patterns)} regex(es)")
    return f" Set by: {'; '.join(parts)}." if parts else ""


def _entry_details(e: DesignEntry) -> str:
    lines = [f"### {e.name}: {e.title}", "", e.description, ""]
    for p in e.params:
        lines.append(f"- `{p.name}` ({p.allowed()}, default {_fmt_default(p)}): {p.doc}{_set_by(p)}")
    ports = ", ".join(
        f"{p.dir} `{p.name}`"
        + (f"[{p.width}]" if p.width != "1" else "")
        + (f" if {p.when}" if p.when else "")
        for p in e.ports
    )
    lines += ["", f"Ports: {ports}.", ""]
    return "\n".join(lines)


def generate_readme() -> str:
    """The full README text for the current library."""
    lib = load_library()
    table = ["| design | title | top | parameters (default, allowed) |", "|---|---|---|---|"]
    table += [_entry_rows(e) for e in lib]
    details = [_entry_details(e) for e in lib]
    return (
        _INTRO + f"\n{len(lib)} designs.\n\n" + "\n".join(table) + "\n\n## Details\n\n" + "\n".join(details)
    )


def readme_path() -> Path:
    """Where the README lives."""
    return Path(__file__).with_name("README.md")


if __name__ == "__main__":
    readme_path().write_text(generate_readme())
    print(f"wrote {readme_path()}")
