"""Small Verilog text helpers shared by suites and grading: module names, comments, renaming."""

from __future__ import annotations

import re

_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
_MODULE = re.compile(r"\b(?:module|macromodule)\s+(?:automatic\s+|static\s+)?([A-Za-z_][\w$]*)")


def strip_comments(src: str) -> str:
    """The source without comments and string literals (so module names found are real)."""
    src = _STRING.sub('""', src)
    return _COMMENT.sub(" ", src)


def module_names(src: str) -> list[str]:
    """Names of the modules a source defines, in order (duplicates kept)."""
    return _MODULE.findall(strip_comments(src))


def rename_module(src: str, old: str, new: str) -> str:
    """Rename every whole-word occurrence of a module name."""
    return re.sub(rf"\b{re.escape(old)}\b", new, src)
