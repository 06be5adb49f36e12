"""EDA tools over the sandbox, each returning a typed report that records the tool version.

- `icarus.simulate(sources, top="tb", timeout_s=30) -> SimReport` (compile + simulate: one staged job)
- `verilator.lint(sources, top=None) -> LintReport`
- `yosys.synthesize(sources, top, liberty=None) -> SynthReport`
- `equiv.check_equivalence(a, b, top, ...) -> EquivReport`
- `grading.grade_testbench(design_sv, testbench_sv, ref_sv=None, top="tb", timeout_s=30,
  golden_sv=None) -> GradeReport`: the one honest grader (every path that reports a pass uses it);
  `grading.grade_files(...)` over files (`tools sim`)
- `grading.grade_many(items, workers=0) -> list[GradeReport]` (parallel, longest expected first;
  costs from `simcost`)
- `vsource.read(text) -> VerilogSource`: Verilog structure read by a parser (pyslang): units,
  instances, names, system calls, directives; what every caller uses instead of regexes
- `screen.screen_design(design, trusted_names(tb, ref)) -> Screening`: the rules a graded design
  must follow (refusals are category `illegal`); `expected`: golden sample counts, cached
- `versions() -> dict[str, str | None]` (cached)

`sources` is `{file name: text}` or a list of host paths. Every tool runs inside
`veriloop.sandbox` (never in this process); a missing tool raises ToolMissingError.
"""

from __future__ import annotations

from veriloop.tools.versions import version, versions

__all__ = ["version", "versions"]
