"""The built-in RTL suite: every design-library entry, rendered at each of its test parameter sets."""

from __future__ import annotations

from veriloop.bench.problem import BenchProblem, Suite
from veriloop.bench.verilog import module_names
from veriloop.errors import InputError


def load_builtin() -> Suite:
    """One problem per (entry, test parameter set): spec, self-checking testbench, golden RTL."""
    from veriloop.designlib.library import load_library
    from veriloop.designlib.render import render

    problems: list[BenchProblem] = []
    for entry in load_library():
        param_sets: list[dict[str, object] | None] = [dict(p) for p in entry.test_params] or [None]
        for i, params in enumerate(param_sets):
            pid = entry.name if len(param_sets) == 1 else f"{entry.name}-{i + 1}"
            try:
                r = render(entry, params)
            except Exception as exc:  # a library entry that cannot render is a bug to name plainly
                raise InputError(f"Built-in design '{pid}' cannot be rendered: {exc}.") from None
            tb_modules = module_names(r.testbench)
            if not tb_modules:
                raise InputError(f"Built-in design '{pid}': its testbench defines no module.")
            problems.append(BenchProblem(
                id=pid, suite="builtin", spec=r.spec, top=r.top, testbench=r.testbench,
                tb_top="tb" if "tb" in tb_modules else tb_modules[-1], golden=r.rtl,
                reserved_modules=sorted(set(tb_modules) - {r.top}), source=str(entry.path),
            ))
    if not problems:
        raise InputError("The built-in design library is empty.")
    return Suite(name="builtin", path="veriloop.designlib", problems=problems)
