"""Pull Verilog modules and JSON objects out of free-form LLM replies."""

from __future__ import annotations

import json
import re
from typing import Any

_FENCE = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n(.*?)(?:```|\Z)", re.S)
_MODULE = re.compile(r"^[ \t]*(?:module|macromodule)\s+(?:automatic\s+)?([A-Za-z_][A-Za-z0-9_$]*)", re.M)
_ENDMODULE = re.compile(r"\bendmodule\b")


def _strip_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", lambda m: " " * len(m.group(0)), text, flags=re.S)
    return re.sub(r"//[^\n]*", lambda m: " " * len(m.group(0)), text)


def split_modules(source: str) -> dict[str, str]:
    """Each `module NAME ... endmodule` in `source`, by name (later definitions win)."""
    out: dict[str, str] = {}
    clean = _strip_comments(source)
    pos = 0
    while True:
        m = _MODULE.search(clean, pos)
        if not m:
            break
        end = _ENDMODULE.search(clean, m.end())
        if not end:
            break
        # Keep the comment lines right above the module with it (they often document it).
        start = m.start()
        prefix = source[pos:start]
        header = ""
        lines = prefix.splitlines(keepends=True)
        while lines and (lines[-1].strip().startswith("//") or not lines[-1].strip()):
            header = lines.pop() + header
        out[m.group(1)] = (header.lstrip("\n") + source[start : end.end()]).strip() + "\n"
        pos = end.end()
    return out


def extract_modules(reply: str) -> dict[str, str]:
    """Verilog modules in a reply: fenced blocks first (any language tag), else the bare text."""
    found: dict[str, str] = {}
    for m in _FENCE.finditer(reply or ""):
        lang = m.group(1).lower()
        if lang in ("json", "python", "bash", "sh", "text", "yaml"):
            continue
        found.update(split_modules(m.group(2)))
    if not found:
        found = split_modules(reply or "")
    return found


def module_names(source: str) -> list[str]:
    return list(split_modules(source))


def extract_json(reply: str) -> dict[str, Any] | None:
    """The first JSON object in a reply (a ```json block, any fence, or the outermost braces)."""
    candidates: list[str] = [m.group(2) for m in _FENCE.finditer(reply or "")]
    text = reply or ""
    first, last = text.find("{"), text.rfind("}")
    if first != -1 and last > first:
        candidates.append(text[first : last + 1])
    for cand in candidates:
        cand = cand.strip()
        if not cand.startswith("{"):
            i, j = cand.find("{"), cand.rfind("}")
            if i == -1 or j <= i:
                continue
            cand = cand[i : j + 1]
        try:
            obj = json.loads(cand)
        except ValueError:
            continue
        if isinstance(obj, dict):
            return obj
    return None


_KEYWORDS = {
    "module",
    "input",
    "output",
    "inout",
    "wire",
    "reg",
    "logic",
    "integer",
    "always",
    "initial",
    "assign",
    "begin",
    "end",
    "if",
    "else",
    "for",
    "while",
    "case",
    "endcase",
    "repeat",
    "forever",
    "parameter",
    "localparam",
    "genvar",
    "generate",
    "endgenerate",
    "function",
    "task",
    "bit",
    "int",
    "real",
    "time",
    "string",
    "event",
    "default",
    "return",
    "typedef",
    "enum",
    "struct",
    "always_ff",
    "always_comb",
    "always_latch",
    "fork",
    "join",
    "wait",
    "force",
    "release",
    "byte",
    "shortint",
    "longint",
    "automatic",
    "static",
    "var",
    "signed",
    "unsigned",
    "import",
    "export",
}


def instantiated_modules(source: str) -> list[str]:
    """Names of modules instantiated in `source` that it does not define itself (best effort)."""
    clean = _strip_comments(source)
    defined = set(module_names(source))
    inst = re.compile(
        r"(?<![\w$.`'])([A-Za-z_][A-Za-z0-9_$]*)\s*(?:#\s*\((?:[^()]|\([^()]*\))*\)\s*)?"
        r"([A-Za-z_][A-Za-z0-9_$]*)\s*(?:\[[^\]]*\]\s*)?\("
    )
    seen: list[str] = []
    for m in inst.finditer(clean):
        name = m.group(1)
        if name in _KEYWORDS or name in defined or name.startswith("$") or name in seen:
            continue
        if m.group(2) in _KEYWORDS:
            continue
        seen.append(name)
    return seen
