"""The no-LLM evolve operator: seeded mutations inside EVOLVE blocks, emitted as SEARCH/REPLACE text.

Mutations: numeric constants, comparison and arithmetic operators, swaps of adjacent simple
statements, and crossover of one differing hunk from an inspiration program. The reply depends
only on the request's seed and context (parent code, inspirations, language).
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Callable
from typing import Any

from veriloop.evolve.problem import END_MARK, START_MARK, find_blocks
from veriloop.llm.contract import CompletionRequest

_NUM = re.compile(r"(?<![\w.'])(\d+\.\d*|\d*\.\d+|\d+)(?![\w.'])")
_PY_CMP = [
    (" < ", " <= "),
    (" <= ", " < "),
    (" > ", " >= "),
    (" >= ", " > "),
    (" == ", " != "),
    (" != ", " == "),
]
_V_CMP = [(" < ", " > "), (" > ", " < "), (" == ", " != "), (" != ", " == ")]
_ARITH = [(" + ", " - "), (" - ", " + "), (" * ", " / "), (" / ", " * ")]
_V_ARITH = [(" + ", " - "), (" - ", " + "), (" & ", " | "), (" | ", " & "), (" ^ ", " & ")]


def _is_comment(line: str, lang: str) -> bool:
    s = line.strip()
    return not s or s.startswith("#") or s.startswith("//") or s.startswith('"""') or s.startswith("'''")


def _code_part(line: str, lang: str) -> str:
    mark = "#" if lang == "python" else "//"
    return line.split(mark, 1)[0]


class _Work:
    """The program being mutated and the SEARCH/REPLACE blocks emitted so far."""

    def __init__(self, code: str, lang: str) -> None:
        self.lines = code.split("\n")
        self.lang = lang
        self.edits: list[tuple[str, str]] = []
        self.notes: list[str] = []

    def editable(self) -> list[int]:
        blocks = find_blocks("\n".join(self.lines))
        out: list[int] = []
        for b in blocks:
            out.extend(
                i
                for i in range(b.start, b.end)
                if START_MARK not in self.lines[i] and END_MARK not in self.lines[i]
            )
        return out

    def replace(self, start: int, end: int, new: list[str], note: str) -> None:
        """Replace lines [start, end) with `new`, widening the SEARCH context until it is unique."""
        lo, hi = start, end
        allowed = set(self.editable())
        while True:
            search = self.lines[lo:hi]
            text = "\n".join(self.lines)
            if text.count("\n".join(search)) == 1 or (lo == 0 and hi == len(self.lines)):
                break
            if lo - 1 in allowed:
                lo -= 1
            elif hi in allowed:
                hi += 1
            else:
                return
        before = self.lines[lo:hi]
        after = self.lines[lo:start] + new + self.lines[end:hi]
        self.edits.append(("\n".join(before), "\n".join(after)))
        self.lines = self.lines[:lo] + after + self.lines[hi:]
        self.notes.append(note)


def _mutate_constant(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    cands = []
    for i in w.editable():
        line = w.lines[i]
        if _is_comment(line, w.lang):
            continue
        code = _code_part(line, w.lang)
        for m in _NUM.finditer(code):
            if w.lang == "verilog" and ("[" in code[: m.start()] and "]" in code[m.end() :]):
                continue
            cands.append((i, m))
    if not cands:
        return False
    i, m = cands[rng.randrange(len(cands))]
    tok = m.group(1)
    if "." in tok:
        v = float(tok)
        choice = rng.random()
        if choice < 0.4:
            nv = v * rng.uniform(0.5, 1.5)
        elif choice < 0.8:
            nv = v + rng.gauss(0.0, max(0.1, abs(v) * 0.3))
        else:
            nv = round(v * rng.choice([0.1, 0.5, 2.0, 10.0]), 6)
        new_tok = f"{nv:.6g}"
        if "." not in new_tok and "e" not in new_tok:
            new_tok += ".0"
    else:
        v = int(tok)
        nv = (
            max(0, v + rng.choice([-2, -1, 1, 2]))
            if rng.random() < 0.7
            else max(0, v * 2 if rng.random() < 0.5 else v // 2)
        )
        new_tok = str(nv)
    if new_tok == tok:
        return False
    line = w.lines[i]
    w.replace(i, i + 1, [line[: m.start(1)] + new_tok + line[m.end(1) :]], f"constant {tok} -> {new_tok}")
    return True


def _mutate_operator(table: list[tuple[str, str]]) -> Callable[[_Work, random.Random, dict[str, Any]], bool]:
    def run(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
        cands = []
        for i in w.editable():
            if _is_comment(w.lines[i], w.lang):
                continue
            code = _code_part(w.lines[i], w.lang)
            for old, new in table:
                start = 0
                while (j := code.find(old, start)) >= 0:
                    cands.append((i, j, old, new))
                    start = j + 1
        if not cands:
            return False
        i, j, old, new = cands[rng.randrange(len(cands))]
        line = w.lines[i]
        w.replace(
            i, i + 1, [line[:j] + new + line[j + len(old) :]], f"operator '{old.strip()}' -> '{new.strip()}'"
        )
        return True

    return run


def _simple_statement(line: str, lang: str) -> bool:
    s = line.strip()
    if _is_comment(line, lang):
        return False
    if lang == "python":
        return not (
            s.endswith(":")
            or s.startswith(
                (
                    "return",
                    "def ",
                    "class ",
                    "@",
                    "elif",
                    "else",
                    "yield",
                    "break",
                    "continue",
                    "import",
                    "from ",
                )
            )
        )
    if lang != "verilog":
        return True
    return s.endswith(";") and not s.startswith(
        ("module", "input", "output", "wire", "reg", "parameter", "localparam", "end")
    )


def _swap_statements(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    ed = set(w.editable())
    cands = []
    for i in sorted(ed):
        j = i + 1
        if j not in ed:
            continue
        a, b = w.lines[i], w.lines[j]
        indent_a = a[: len(a) - len(a.lstrip())]
        indent_b = b[: len(b) - len(b.lstrip())]
        if indent_a == indent_b and a != b and _simple_statement(a, w.lang) and _simple_statement(b, w.lang):
            cands.append(i)
    if not cands:
        return False
    i = cands[rng.randrange(len(cands))]
    w.replace(i, i + 2, [w.lines[i + 1], w.lines[i]], f"swapped lines {i + 1} and {i + 2}")
    return True


def _crossover(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    insps = [c for c in ctx.get("inspirations") or [] if isinstance(c, str)]
    if not insps:
        return False
    other = insps[rng.randrange(len(insps))]
    try:
        o_blocks = find_blocks(other)
        p_blocks = find_blocks("\n".join(w.lines))
    except ValueError:
        return False
    if len(o_blocks) != len(p_blocks):
        return False
    k = rng.randrange(len(p_blocks))
    pb, ob = p_blocks[k], o_blocks[k]
    o_lines = other.split("\n")[ob.start : ob.end]
    p_lines = w.lines[pb.start : pb.end]
    ops = [
        op
        for op in difflib.SequenceMatcher(None, p_lines, o_lines, autojunk=False).get_opcodes()
        if op[0] == "replace"
    ]
    if not ops:
        return False
    _, i1, i2, j1, j2 = ops[rng.randrange(len(ops))]
    w.replace(
        pb.start + i1, pb.start + i2, o_lines[j1:j2], f"crossover of {i2 - i1} line(s) from an inspiration"
    )
    return True


def _duplicate_line(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    cands = [i for i in w.editable() if not _is_comment(w.lines[i], w.lang)]
    if not cands:
        return False
    i = cands[rng.randrange(len(cands))]
    w.replace(i, i + 1, [w.lines[i], w.lines[i]], f"duplicated line {i + 1}")
    return True


def _delete_line(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    cands = [i for i in w.editable() if not _is_comment(w.lines[i], w.lang)]
    if len(cands) < 2:
        return False
    i = cands[rng.randrange(len(cands))]
    w.replace(i, i + 1, [], f"deleted line {i + 1}")
    return True


def _operators(lang: str) -> list[tuple[Callable[[_Work, random.Random, dict[str, Any]], bool], float]]:
    if lang == "verilog":
        return [
            (_mutate_constant, 0.35),
            (_mutate_operator(_V_CMP), 0.1),
            (_mutate_operator(_V_ARITH), 0.15),
            (_swap_statements, 0.15),
            (_crossover, 0.25),
        ]
    if lang != "python":  # line-oriented scripts (ABC recipes, configs...)
        return [
            (_mutate_constant, 0.2),
            (_swap_statements, 0.25),
            (_duplicate_line, 0.15),
            (_delete_line, 0.15),
            (_crossover, 0.25),
        ]
    return [
        (_mutate_constant, 0.4),
        (_mutate_operator(_PY_CMP), 0.1),
        (_mutate_operator(_ARITH), 0.1),
        (_swap_statements, 0.1),
        (_crossover, 0.3),
    ]


def propose(
    parent_code: str,
    *,
    seed: int,
    language: str = "python",
    inspirations: list[str] | None = None,
    max_edits: int = 2,
) -> str:
    """A SEARCH/REPLACE reply with 1..max_edits seeded mutations of `parent_code`."""
    rng = random.Random(seed)
    w = _Work(parent_code, "verilog" if language in ("verilog", "systemverilog") else language)
    ctx = {"inspirations": inspirations or []}
    ops = _operators(w.lang)
    want = rng.randint(1, max(1, max_edits))
    attempts = 0
    while len(w.edits) < want and attempts < 12:
        attempts += 1
        op = rng.choices([o for o, _ in ops], weights=[p for _, p in ops], k=1)[0]
        op(w, rng, ctx)
    header = (
        "Offline operator (seeded mutation, no LLM): "
        + ("; ".join(w.notes) or "no applicable mutation")
        + "."
    )
    blocks = [f"<<<<<<< SEARCH\n{s}\n=======\n{r}\n>>>>>>> REPLACE" for s, r in w.edits]
    return header + ("\n\n" + "\n\n".join(blocks) + "\n" if blocks else "\n")


def answer(request: CompletionRequest) -> str:
    """Entry point of the offline backend for tasks starting with 'evolve.'."""
    ctx = request.context
    parent = ctx.get("parent_code")
    if not isinstance(parent, str) or not parent:
        return "Offline operator (no LLM): the request carried no parent program to mutate."
    seed = request.seed if request.seed is not None else int(ctx.get("seed", 0))
    return propose(
        parent,
        seed=seed,
        language=str(ctx.get("language", "python")),
        inspirations=list(ctx.get("inspirations") or []),
        max_edits=int(ctx.get("max_edits", 2)),
    )
