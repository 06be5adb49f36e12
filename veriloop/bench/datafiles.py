"""Inline `$readmemh/$readmemb` data files into a testbench (graded simulations run in an empty dir)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_READMEM = re.compile(
    r'\$readmem([hb])\s*\(\s*"([^"\n]+)"\s*,\s*([^,;()]+?)\s*(?:,\s*([^,;()]+?)\s*)?(?:,\s*([^,;()]+?)\s*)?\)\s*;')
_COMMENTS = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_WORD = re.compile(r"^[0-9a-fA-FxXzZ_?]+$")


def _words(text: str) -> list[str]:
    return _COMMENTS.sub(" ", text).split()


def readmem_assignments(data: str, radix: str, mem: str, start: str | None) -> str | None:
    """`begin mem[i] = 'h..; ... end` for a readmem file; None when the file is not plain readmem data."""
    base = f"({start}) + " if start else ""
    addr = 0
    stmts = []
    for w in _words(data):
        if w.startswith("@"):
            try:
                addr = int(w[1:], 16)
            except ValueError:
                return None
            continue
        if not _WORD.match(w):
            return None
        stmts.append(f"{mem}[{base}{addr}] = '{radix}{w};")
        addr += 1
    return "begin " + " ".join(stmts) + " end"


def inline_readmem(tb: str, files: dict[str, bytes]) -> tuple[str, set[str]]:
    """Replace every $readmem of a known data file by explicit assignments; returns (tb, files inlined)."""
    used: set[str] = set()

    def repl(m: re.Match[str]) -> str:
        radix, fname, mem, start = m.group(1), m.group(2), m.group(3), m.group(4)
        name = PurePosixPath(fname).name
        if name not in files:
            return m.group(0)
        block = readmem_assignments(files[name].decode("utf-8", errors="replace"), radix, mem.strip(),
                                    start.strip() if start else None)
        if block is None:
            return m.group(0)
        used.add(name)
        return block

    return _READMEM.sub(repl, tb), used
