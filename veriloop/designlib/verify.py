"""Checking a rendered library design with the real tools: Verilator lint, Yosys synthesis, graded sim."""

from __future__ import annotations

from pydantic import BaseModel, Field

from veriloop.designlib.models import RenderedDesign


class DesignCheck(BaseModel):
    """Evidence that a rendered design is lint-clean, synthesises and passes its own testbench."""

    name: str
    params: dict[str, int | bool | str]
    lint_clean: bool | None = None
    lint_messages: list[str] = Field(default_factory=list)
    synthesizes: bool | None = None
    cells: int | None = None
    sim_category: str = ""
    mismatches: int | None = None
    samples: int | None = None
    log_tail: str = ""

    @property
    def ok(self) -> bool:
        """Every check that ran succeeded and the simulation passed with samples."""
        return (
            self.lint_clean is not False
            and self.synthesizes is not False
            and self.sim_category == "pass"
            and (self.samples or 0) > 0
        )


def check_rendered(
    design: RenderedDesign, *, lint: bool = True, synth: bool = True, timeout_s: float = 60.0
) -> DesignCheck:
    """Run lint (no warnings allowed), synthesis and the graded testbench on one rendered design."""
    from veriloop.tools.grading import grade_testbench
    from veriloop.tools.verilator import lint as verilator_lint
    from veriloop.tools.yosys import synthesize

    sources = {f"{design.top}.v": design.rtl}
    out = DesignCheck(name=design.name, params=design.params)
    if lint:
        rep = verilator_lint(sources, design.top, timeout_s=timeout_s)
        out.lint_clean = rep.ok and rep.warnings == 0
        out.lint_messages = [
            f"{d.severity} {d.code or ''} line {d.line}: {d.message}" for d in rep.diagnostics
        ]
    if synth:
        syn = synthesize(sources, design.top, timeout_s=max(timeout_s, 120.0))
        out.synthesizes = syn.synthesizes
        out.cells = syn.cells
        if not syn.synthesizes:
            out.log_tail = syn.log_tail
    grade = grade_testbench(design.rtl, design.testbench, timeout_s=timeout_s)
    out.sim_category = grade.category
    out.mismatches = grade.mismatches
    out.samples = grade.samples
    if grade.category != "pass":
        out.log_tail = (out.log_tail + "\n" + grade.log_tail + "\n" + grade.detail).strip()
    return out
