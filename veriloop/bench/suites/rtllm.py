"""RTLLM v2 read from a checkout: one folder per design (description, testbench, verified reference)."""

from __future__ import annotations

import re
from pathlib import Path

from veriloop.bench.problem import BenchProblem, Suite
from veriloop.errors import InputError
from veriloop.tools.vsource import VerilogSource, read, rename_unit

PASS_MARKER = "Your Design Passed"
_HDL = {".v", ".sv", ".vh", ".svh"}
_MAX_DATA_BYTES = 16 << 20
_NOT_DATA = {"design_description.txt", "makefile", "Makefile"}
_MODULES = ("module", "macromodule")


def dut_name(description: str) -> str | None:
    """The module name given on the description's 'Module name:' line (same line or the next one)."""
    lines = description.splitlines()
    for i, line in enumerate(lines):
        m = re.match(r"\s*module\s+name\s*:\s*(.*)$", line, re.I)
        if not m:
            continue
        rest = m.group(1).strip()
        if not rest:
            rest = next((ln.strip() for ln in lines[i + 1:] if ln.strip()), "")
        word = re.match(r"[A-Za-z_]\w*", rest)
        return word.group(0) if word else None
    return None


_PASS_DISPLAY = re.compile(r'\$display\s*\(\s*"[^"\n]*' + re.escape(PASS_MARKER) + r'[^"\n]*"[^;]*;')
_FLAG = "veriloop_design_passed"


def summarize_pass_marker(tb: str, top: str) -> str | None:
    """Rewrite an RTLLM testbench to print the standard `Mismatches: N in 1 samples` summary.

    The testbench's own pass message also sets a flag; a `final` block in its top module prints the
    summary from that flag, and the top is renamed `tb`. The flag lives in the trusted testbench, so
    a design printing the pass message itself changes nothing; grading then adds its nonce as for
    any testbench. None when the testbench has no pass message to hook.
    """
    if not _PASS_DISPLAY.search(tb):
        return None
    head = re.search(rf"\bmodule\s+{re.escape(top)}\b[^;]*;", tb)
    if head is None:
        return None
    end = re.search(r"\bendmodule\b", tb[head.end():])
    if end is None:
        return None
    stop = head.end() + end.start()
    body = _PASS_DISPLAY.sub(lambda m: f"begin {_FLAG} = 1'b1; {m.group(0)} end", tb[head.end():stop])
    out = (tb[: head.end()] + f"\n  reg {_FLAG} = 1'b0;\n" + body
           + f'  final $display("Mismatches: %0d in 1 samples", {_FLAG} ? 0 : 1);\n' + tb[stop:])
    return out if top == "tb" else re.sub(rf"\bmodule\s+{re.escape(top)}\b", "module tb", out, count=1)


def design_dirs(root: Path) -> list[Path]:
    """Every folder under root holding a design_description.txt, sorted by relative path."""
    return sorted((p.parent for p in root.rglob("design_description.txt")),
                  key=lambda d: d.relative_to(root).as_posix())


def load_rtllm(root: Path) -> Suite:
    """Read and validate every design folder; the first unreadable one is named in an InputError."""
    dirs = design_dirs(root)
    if not dirs:
        raise InputError(f"{root} holds no RTLLM design folders (no design_description.txt found).",
                         hint="Point --path at a checkout of RTLLM v2.")
    leaf_counts: dict[str, int] = {}
    for d in dirs:
        leaf_counts[d.name] = leaf_counts.get(d.name, 0) + 1
    problems: list[BenchProblem] = []
    for d in dirs:
        pid = d.name if leaf_counts[d.name] == 1 else d.relative_to(root).as_posix()
        problems.append(_load_one(d, pid))
    return Suite(name="rtllm", path=str(root), problems=problems)


def _text(p: Path, pid: str) -> str:
    try:
        return p.read_text(encoding="utf-8", errors="replace")
    except OSError as exc:
        raise InputError(f"RTLLM design '{pid}': cannot read {p.name}: {exc.strerror}.") from None


def _dut_of(tb: VerilogSource, described: str) -> str:
    """The module the testbench expects from the design: the one type it instantiates but does not
    define (upstream descriptions sometimes misspell it, e.g. freq_divbyeven's says freq_diveven)."""
    outside = [t for t in tb.instantiated if t not in tb.unit_names]
    if len(outside) == 1:
        return outside[0]
    return described


def _tb_top(tb: VerilogSource, dut: str) -> str:
    """The testbench's top: a module it defines that nothing in it instantiates (the last one)."""
    names = [u.name for u in tb.units if u.kind in _MODULES and u.name != dut]
    roots = [n for n in names if n not in tb.instantiated]
    return (roots or names or [""])[-1]


def reference_design(sources: list[tuple[str, str]], dut: str) -> tuple[str, str] | None:
    """(reference text with its top module renamed to `dut`, the module's name as published).

    RTLLM v2 names the reference's module `verified_<name>` (or `<name>`; twice neither:
    adder_pipe_64bit's is `verified_adder_64bit`). The top is, in that order: a module called `dut`,
    one called `verified_<dut>`, or the one module nothing else in the file instantiates. Only the
    name token of its header changes (a parser finds it), so helper modules, comments and strings
    are left as published. None when no file has such a module.
    """
    for name, text in sources:
        src = read(text, name, defines=())
        mods = [u.name for u in src.units if u.kind in _MODULES]
        if dut in mods:
            return text, dut
        if f"verified_{dut}" in mods:
            return rename_unit(text, f"verified_{dut}", dut), f"verified_{dut}"
        roots = [m for m in mods if m not in src.instantiated]
        if len(roots) == 1:
            return rename_unit(text, roots[0], dut), roots[0]
    return None


def _load_one(d: Path, pid: str) -> BenchProblem:
    desc = _text(d / "design_description.txt", pid)
    described = dut_name(desc)
    if not described:
        raise InputError(f"RTLLM design '{pid}' ({d}): design_description.txt has no 'Module name:' line.")
    tb_path = d / "testbench.v"
    if not tb_path.is_file():
        raise InputError(f"RTLLM design '{pid}' ({d}): testbench.v is missing.")
    tb = _text(tb_path, pid)
    tb_src = read(tb, "testbench.v", defines=())
    dut = _dut_of(tb_src, described)
    refs = sorted(d.glob("verified_*.v")) + sorted(d.glob("verified_*.sv"))
    if not refs:
        raise InputError(f"RTLLM design '{pid}' ({d}): no reference verified_*.v.")
    found = reference_design([(r.name, _text(r, pid)) for r in refs], dut)
    if found is None:
        raise InputError(f"RTLLM design '{pid}' ({d}): no verified_*.v defines module {dut}, "
                         f"verified_{dut} or a single top module to rename.")
    golden, _published = found
    top = _tb_top(tb_src, dut)
    if not top:
        raise InputError(f"RTLLM design '{pid}' ({d}): testbench.v defines no testbench module.")
    graded_tb = tb
    if "Mismatches:" not in tb:
        rewritten = summarize_pass_marker(tb, top)
        if rewritten is None:
            raise InputError(f"RTLLM design '{pid}' ({d}): testbench.v prints neither '{PASS_MARKER}' "
                             "nor a 'Mismatches:' summary, so it cannot be graded.")
        graded_tb, top = rewritten, "tb"
    data: dict[str, bytes] = {}
    for f in sorted(d.iterdir()):
        if f.is_file() and f.suffix not in _HDL and f.name not in _NOT_DATA \
                and f.stat().st_size <= _MAX_DATA_BYTES:
            data[f.name] = f.read_bytes()
    reserved = {u.name for u in read(graded_tb, "testbench.v", defines=()).units} - {dut}
    return BenchProblem(
        id=pid, suite="rtllm", spec=desc.strip(), top=dut, testbench=graded_tb, tb_top=top, ref=None,
        golden=golden, reserved_modules=sorted(reserved), data_files=data, source=str(d),
    )
