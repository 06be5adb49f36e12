"""One benchmark problem: what the model is shown, how a sample is graded, and the golden answer."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

ProblemKind = Literal["rtl", "evolve"]


class BenchProblem(BaseModel):
    """A problem of any suite. RTL problems are graded by a trusted testbench; evolve ones by score."""

    id: str
    suite: str
    kind: ProblemKind = "rtl"
    spec: str = ""
    """The natural-language task shown to the model."""
    interface: str = ""
    """A module header to complete (code-completion suites); empty otherwise."""
    top: str = "TopModule"
    """The module the sample must define."""
    testbench: str = ""
    tb_top: str = "tb"
    ref: str | None = None
    """A reference module compiled beside the sample (VerilogEval's RefModule), if the bench needs one."""
    golden: str = ""
    """The suite's own solution, used by `--backend reference`."""
    reserved_modules: list[str] = Field(default_factory=list)
    """Module names the testbench/ref define; a sample must not redefine them."""
    data_files: dict[str, bytes] = Field(default_factory=dict)
    """Files the testbench reads from its own directory ($readmemh, $fopen): the grader places them in
    the grading job's directory, beside the compiled testbench."""
    source: str = ""
    """Where the problem was read from (for messages)."""
    evolve_dir: str | None = None
    """For evolve problems: the problem directory."""


class Suite(BaseModel):
    """A loaded suite: name, where it came from, and its problems in order."""

    name: str
    path: str = ""
    problems: list[BenchProblem]
