"""Yosys synthesis: does it synthesise, cells by type, an area estimate and the logic depth.

Flow: `read_verilog -sv` all sources; `synth -flatten -top T` (generic gates); `stat -json`;
`ltp -noff` (longest topological path through combinational cells, flip-flops cut) is the logic
depth. With a Liberty file: `dfflibmap -liberty L; abc -liberty L; stat -liberty L` and the
library's own area.

Area estimate without Liberty: the sum over cells of AREA_TABLE, in NAND2-equivalents (a
textbook CMOS transistor count divided by 4: NAND2/NOR2 = 1, INV = 0.67, AND2/OR2 = 1.33,
XOR2/XNOR2 = 2.33, MUX2 = 2.33, AOI3/OAI3 = 1.33, AOI4/OAI4 = 1.67, D flip-flop = 4.5, with enable
or sync reset = 5.5, latch = 3). It ranks designs; it is not a sign-off number.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, Field

from veriloop.tools.runner import Sources, load_sources, run_tool, tail
from veriloop.tools.versions import version

AREA_TABLE: dict[str, float] = {
    "$_NOT_": 0.67,
    "$_BUF_": 0.67,
    "$_NAND_": 1.0,
    "$_NOR_": 1.0,
    "$_AND_": 1.33,
    "$_OR_": 1.33,
    "$_ANDNOT_": 1.33,
    "$_ORNOT_": 1.33,
    "$_XOR_": 2.33,
    "$_XNOR_": 2.33,
    "$_MUX_": 2.33,
    "$_NMUX_": 2.33,
    "$_AOI3_": 1.33,
    "$_OAI3_": 1.33,
    "$_AOI4_": 1.67,
    "$_OAI4_": 1.67,
}
"""NAND2-equivalent area per generic Yosys cell (flip-flops are matched by prefix below)."""
_FF_AREA = 4.5
_FF_EXTRA_AREA = 5.5
_LATCH_AREA = 3.0
_UNKNOWN_AREA = 2.0


class SynthReport(BaseModel):
    """Synthesis outcome of one top module."""

    synthesizes: bool
    top: str
    cells: int = 0
    cells_by_type: dict[str, int] = Field(default_factory=dict)
    area: float = 0.0
    area_unit: str = "NAND2-eq (veriloop table)"
    logic_depth: int | None = None
    flip_flops: int = 0
    latches: int = 0
    wires: int = 0
    warnings: list[str] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)
    log_tail: str = ""
    tool_version: str | None = None
    wall_s: float = 0.0


def cell_area(cell: str) -> float:
    """NAND2-equivalent area of one generic cell type."""
    if cell in AREA_TABLE:
        return AREA_TABLE[cell]
    if "DLATCH" in cell:
        return _LATCH_AREA
    if cell.startswith(("$_DFFE_", "$_SDFF", "$_DFFSR", "$_DFFSRE", "$_ALDFF")):
        return _FF_EXTRA_AREA
    if cell.startswith("$_DFF") or cell.startswith("$_SDFFE"):
        return _FF_AREA
    return _UNKNOWN_AREA


def _is_ff(cell: str) -> bool:
    return "DFF" in cell.upper() and "LATCH" not in cell.upper()


def estimate_area(cells_by_type: dict[str, int]) -> float:
    return round(sum(cell_area(c) * n for c, n in cells_by_type.items()), 2)


def synthesize(
    sources: Sources,
    top: str,
    *,
    liberty: str | None = None,
    timeout_s: float = 120.0,
    flatten: bool = True,
) -> SynthReport:
    """Synthesise `top` from `sources`; a design that does not synthesise gets synthesizes=False."""
    files = load_sources(sources)
    lib_name = None
    if liberty is not None:
        from pathlib import Path

        from veriloop.errors import InputError

        lp = Path(liberty)
        if not lp.is_file():
            raise InputError(f"Liberty file {liberty} does not exist.")
        lib_name = "cells.lib"
        files[lib_name] = lp.read_text(encoding="utf-8", errors="replace")
    reads = "; ".join(f"read_verilog -sv {name}" for name in sorted(files) if name != lib_name)
    script = [reads, f"synth {'-flatten ' if flatten else ''}-top {top}"]
    if lib_name:
        script += [
            f"dfflibmap -liberty {lib_name}",
            f"abc -liberty {lib_name}",
            "opt_clean",
            f"tee -o stat.json stat -json -liberty {lib_name}",
            f"tee -o stat.txt stat -liberty {lib_name}",
        ]
    else:
        script += ["tee -o stat.json stat -json"]
    script += ["tee -o ltp.txt ltp -noff"]
    res = run_tool(
        ["yosys", "-p", "; ".join(script)],
        files,
        timeout_s=timeout_s,
        collect=["stat.json", "stat.txt", "ltp.txt"],
        label="yosys synth",
    )
    log = res.stdout + res.stderr
    errors = [ln.strip() for ln in log.splitlines() if ln.startswith("ERROR") or ": ERROR" in ln]
    warnings = sorted({ln.strip() for ln in log.splitlines() if ln.startswith("Warning:")})[:50]
    rep = SynthReport(
        synthesizes=False,
        top=top,
        warnings=warnings,
        errors=errors,
        log_tail=tail(log, 40),
        tool_version=version("yosys"),
        wall_s=res.wall_s,
    )
    if res.killed:
        rep.errors.append(f"yosys stopped by the sandbox: {res.killed}")
        return rep
    if res.exit_code != 0 or "stat.json" not in res.files:
        if not rep.errors:
            rep.errors.append(f"yosys exited with code {res.exit_code}")
        return rep
    stat = json.loads(res.files["stat.json"].decode(errors="replace"))
    design: dict[str, Any] = stat.get("design") or next(iter(stat.get("modules", {}).values()), {})
    by_type = {str(k): int(v) for k, v in design.get("num_cells_by_type", {}).items()}
    rep.synthesizes = True
    rep.cells = int(design.get("num_cells", sum(by_type.values())))
    rep.cells_by_type = by_type
    rep.wires = int(design.get("num_wires", 0))
    rep.flip_flops = sum(
        n for c, n in by_type.items() if _is_ff(c) or (lib_name and c.upper().startswith("DFF"))
    )
    rep.latches = sum(n for c, n in by_type.items() if "LATCH" in c.upper())
    if lib_name:
        text = res.files.get("stat.txt", b"").decode(errors="replace")
        m = re.findall(r"Chip area for (?:top )?module [^:]*:\s*([\d.]+)", text)
        rep.area = float(m[-1]) if m else float(design.get("area", 0.0))
        rep.area_unit = "Liberty area units"
    else:
        rep.area = estimate_area(by_type)
    m2 = re.search(
        r"Longest topological path in \S+ \(length=(\d+)\)", res.files.get("ltp.txt", b"").decode()
    )
    rep.logic_depth = int(m2[1]) if m2 else None
    return rep
