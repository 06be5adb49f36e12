"""Small Verilog helpers shared by suites and grading: module names and renaming, read by the parser."""

from __future__ import annotations

from veriloop.tools.vsource import read, rename_unit


def module_names(src: str) -> list[str]:
    """Names of the modules (and macromodules) a source defines, in order (duplicates kept).

    Read by pyslang (`veriloop.tools.vsource`), so comments, strings and macros cannot add or hide one."""
    return [u.name for u in read(src, "source.sv").units if u.kind in ("module", "macromodule")]


def rename_module(src: str, old: str, new: str) -> str:
    """The source with the declaration of module `old` renamed to `new` (the header's name only)."""
    return rename_unit(src, old, new)
