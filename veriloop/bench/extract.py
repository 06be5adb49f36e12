"""Pull Verilog out of a model's reply and decide, before any tool runs, whether it is usable."""

from __future__ import annotations

import re
from collections import Counter

from pydantic import BaseModel, Field

from veriloop.bench.verilog import module_names

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_BEGIN_DONE = re.compile(r"\[BEGIN\](.*?)(?:\[DONE\]|\Z)", re.S)
_HDL_TAGS = {"", "verilog", "systemverilog", "sv", "v", "vhdl", "vlog"}


class Extracted(BaseModel):
    """The code taken from a reply and what was found about it."""

    code: str = ""
    category: str | None = None
    """None when the code may be graded; else the failure category decided without tools."""
    detail: str = ""
    modules: list[str] = Field(default_factory=list)


def _blocks(reply: str) -> list[str]:
    fenced = [body for tag, body in _FENCE.findall(reply) if tag.lower() in _HDL_TAGS]
    with_module = [b for b in fenced if re.search(r"\bmodule\b", b)]
    if with_module:
        return with_module
    bd = [b for b in _BEGIN_DONE.findall(reply) if b.strip()]
    if bd:
        return bd
    m = re.search(r"\bmodule\b.*\bendmodule\b", reply, re.S)
    if m:
        return [m.group(0)]
    return fenced


def extract_code(reply: str, top: str, interface: str = "", reserved: list[str] | None = None) -> Extracted:
    """Extract the design from a reply.

    - no text or no Verilog at all → `no_code` (empty/garbled reply);
    - a body without its header on a code-completion task gets the given interface prepended;
    - helper modules beside the top are legitimate; two definitions of the top → `syntax` (the
      compiler would reject it; we say why); a redefinition of a module the testbench owns →
      `illegal`, as the grader would refuse it. Module names are read by the parser.
    """
    if not reply or not reply.strip():
        return Extracted(category="no_code", detail="empty reply")
    blocks = _blocks(reply)
    code = "\n\n".join(b.strip() for b in blocks if b.strip())
    if interface and code and not re.search(rf"\bmodule\s+{re.escape(top)}\b", code) \
            and re.search(r"\bendmodule\b", code):
        code = interface.rstrip() + "\n" + code
    names = module_names(code)
    if not code or not names or not re.search(r"\bendmodule\b", code):
        return Extracted(code=code, category="no_code", detail="reply holds no complete Verilog module",
                         modules=names)
    dup = sorted(n for n, k in Counter(names).items() if k > 1)
    if dup:
        return Extracted(code=code, category="syntax", modules=names,
                         detail=f"module {', '.join(dup)} defined more than once")
    clash = sorted(set(names) & set(reserved or []) - {top})
    if clash:  # refused like the grader refuses it (veriloop.tools.screen), not left to the compiler
        return Extracted(code=code, category="illegal", modules=names,
                         detail=f"reply redefines testbench module(s) {', '.join(clash)}")
    if top not in names:
        return Extracted(code=code, category="syntax", modules=names,
                         detail=f"reply defines {', '.join(names)} but not {top}")
    return Extracted(code=code, modules=names)
