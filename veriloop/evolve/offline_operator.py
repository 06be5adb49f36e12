"""The no-LLM evolve operator: seeded mutations inside EVOLVE blocks, emitted as SEARCH/REPLACE text.

It is no LLM: it never reads the prompt, only the parent program. Mutations: numeric constants
across scales (log-uniform jumps over two decades, set to 0 or 1, sign flips, swaps of two
constants, relative and additive steps; small steps and changes of scale for integers),
comparison and arithmetic operators, swaps of adjacent simple statements, crossover of one
differing hunk from an inspiration program, and for line scripts (ABC recipes) lines duplicated,
deleted, or replaced by / joined with a command that the script's own comments list. A proposal
that would give an already evaluated program (the request's `evaluated` hashes, the parent, an
inspiration) is replaced by the next one drawn from the same seeded stream, so no iteration is
spent on a duplicate. The reply depends only on the request's seed and context (parent code,
inspirations, language, evaluated hashes).
"""

from __future__ import annotations

import difflib
import random
import re
from collections.abc import Callable, Container
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


def _constants(w: _Work) -> list[tuple[int, re.Match[str]]]:
    """(line index, match) of every numeric literal in the editable code (not Verilog bit ranges)."""
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
    return cands


def _float_token(v: float) -> str:
    tok = f"{v:.6g}"
    if "." not in tok and "e" not in tok and "n" not in tok:
        tok += ".0"
    return tok


def _new_float(v: float, rng: random.Random) -> tuple[float, str]:
    """A new value for float `v` and the kind of move: scale jumps as often as small steps."""
    choice = rng.random()
    if choice < 0.3:  # log-uniform jump: anywhere from a tenth to ten times (a zero jumps off zero)
        mag = abs(v) if v != 0 else 10.0 ** rng.uniform(-3.0, 0.0)
        return mag * 10.0 ** rng.uniform(-1.0, 1.0), "log-uniform jump"
    if choice < 0.45:
        return (0.0 if v != 0.0 and rng.random() < 0.5 else (1.0 if v != 1.0 else 0.0)), "set"
    if choice < 0.75:
        return v * rng.uniform(0.7, 1.3) if v != 0 else rng.uniform(0.01, 0.2), "relative step"
    return abs(v + rng.gauss(0.0, max(0.05, abs(v) * 0.2))), "additive step"


def _new_int(v: int, rng: random.Random) -> tuple[int, str]:
    """A new value for integer `v`: mostly small steps, sometimes a change of scale, rarely 0/1."""
    choice = rng.random()
    if choice < 0.6:
        return max(0, v + rng.choice([-2, -1, 1, 2])), "small step"
    if choice < 0.68:
        return (0 if v != 0 and rng.random() < 0.5 else (1 if v != 1 else 0)), "set"
    if v >= 4 and choice < 0.84:
        return max(1, round(v * 10.0 ** rng.uniform(-0.7, 0.7))), "log-uniform jump"
    return max(0, v * 2 if rng.random() < 0.5 else v // 2), "scale"


def _mutate_constant(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    cands = _constants(w)
    if not cands:
        return False
    i, m = cands[rng.randrange(len(cands))]
    tok = m.group(1)
    if "." in tok:
        fv, how = _new_float(float(tok), rng)
        new_tok = _float_token(fv)
    else:
        iv, how = _new_int(int(tok), rng)
        new_tok = str(iv)
    if new_tok == tok:
        return False
    line = w.lines[i]
    w.replace(
        i, i + 1, [line[: m.start(1)] + new_tok + line[m.end(1) :]], f"constant {tok} -> {new_tok} ({how})"
    )
    return True


_UNARY_BEFORE = set("=(,[:+-*/%<>!&|^~{") | {""}


def _flip_sign(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    """Negate a float literal: drop a unary minus, turn a binary - into + (and back), or add a minus."""
    cands = [(i, m) for i, m in _constants(w) if "." in m.group(1) and float(m.group(1)) != 0.0]
    if not cands:
        return False
    i, m = cands[rng.randrange(len(cands))]
    line, s, e = w.lines[i], m.start(1), m.end(1)
    before = line[:s].rstrip()
    if before.endswith("-"):
        head = before[:-1]
        if head.rstrip()[-1:] in _UNARY_BEFORE:  # unary minus: drop it
            new = head + line[s:]
            note = f"sign of -{m.group(1)} flipped"
        else:  # binary minus -> plus
            new = head + "+" + line[len(before) : s] + line[s:]
            note = f"'- {m.group(1)}' -> '+ {m.group(1)}'"
    elif before.endswith("+") and before[:-1].rstrip()[-1:] not in _UNARY_BEFORE:
        new = before[:-1] + "-" + line[len(before) : s] + line[s:]
        note = f"'+ {m.group(1)}' -> '- {m.group(1)}'"
    elif before[-1:] in _UNARY_BEFORE:
        new = line[:s] + "-" + line[s:]
        note = f"sign of {m.group(1)} flipped"
    else:
        new = line[:s] + "(-" + m.group(1) + ")" + line[e:]
        note = f"sign of {m.group(1)} flipped"
    w.replace(i, i + 1, [new], note)
    return True


def _swap_constants(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    """Exchange two different literals of the same kind (two floats or two integers)."""
    cands = _constants(w)
    if len(cands) < 2:
        return False
    a = rng.randrange(len(cands))
    kind = "." in cands[a][1].group(1)
    others = [
        k
        for k, (_, m) in enumerate(cands)
        if k != a and ("." in m.group(1)) == kind and m.group(1) != cands[a][1].group(1)
    ]
    if not others:
        return False
    b = others[rng.randrange(len(others))]
    (i, ma), (j, mb) = sorted([cands[a], cands[b]], key=lambda c: (c[0], c[1].start(1)))
    if not set(range(i, j + 1)) <= set(w.editable()):
        return False  # in two different EVOLVE blocks
    ta, tb = ma.group(1), mb.group(1)
    if i == j:
        line = w.lines[i]
        new = [line[: ma.start(1)] + tb + line[ma.end(1) : mb.start(1)] + ta + line[mb.end(1) :]]
    else:
        first = w.lines[i][: ma.start(1)] + tb + w.lines[i][ma.end(1) :]
        last = w.lines[j][: mb.start(1)] + ta + w.lines[j][mb.end(1) :]
        new = [first] + w.lines[i + 1 : j] + [last]
    w.replace(i, j + 1, new, f"swapped constants {ta} and {tb}")
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


_LISTED = re.compile(r"\b[a-z][a-z0-9_]*(?:, [a-z][a-z0-9_]*){2,}")


def _vocabulary(w: _Work) -> list[str]:
    """Words the program's own comments list (`a, b, c, ...`): the commands a line script may use."""
    words: dict[str, None] = {}
    for line in w.lines:
        s = line.strip()
        if s.startswith(("#", "//")):
            for m in _LISTED.finditer(s):
                words.update(dict.fromkeys(m.group(0).split(", ")))
    return list(words)


def _command_line(w: _Work, word: str, like: str) -> str:
    indent = like[: len(like) - len(like.lstrip())]
    return indent + word + (";" if like.rstrip().endswith(";") else "")


def _pick_command(w: _Work, rng: random.Random) -> tuple[int, str] | None:
    """A script line (not a comment) and a command its comments list, laid out like that line."""
    vocab = _vocabulary(w)
    cands = [i for i in w.editable() if not _is_comment(w.lines[i], w.lang)]
    if not vocab or not cands:
        return None
    i = cands[rng.randrange(len(cands))]
    return i, _command_line(w, vocab[rng.randrange(len(vocab))], w.lines[i])


def _substitute_command(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    """Replace one line of a script by a command its comments list."""
    picked = _pick_command(w, rng)
    if picked is None:
        return False
    i, new = picked
    if new.strip() == w.lines[i].strip():
        return False
    w.replace(i, i + 1, [new], f"line {i + 1} -> '{new.strip()}' (a command the comments list)")
    return True


def _insert_command(w: _Work, rng: random.Random, ctx: dict[str, Any]) -> bool:
    """Insert, after one line of a script, a command its comments list."""
    picked = _pick_command(w, rng)
    if picked is None:
        return False
    i, new = picked
    w.replace(i, i + 1, [w.lines[i], new], f"inserted '{new.strip()}' after line {i + 1}")
    return True


Op = Callable[[_Work, random.Random, dict[str, Any]], bool]


def _operators(lang: str) -> list[tuple[Op, float]]:
    if lang == "verilog":
        return [
            (_mutate_constant, 0.3),
            (_swap_constants, 0.05),
            (_mutate_operator(_V_CMP), 0.1),
            (_mutate_operator(_V_ARITH), 0.15),
            (_swap_statements, 0.15),
            (_crossover, 0.25),
        ]
    if lang != "python":  # line-oriented scripts (ABC recipes, configs...)
        return [
            (_mutate_constant, 0.2),
            (_swap_statements, 0.2),
            (_duplicate_line, 0.08),
            (_delete_line, 0.12),
            (_substitute_command, 0.12),
            (_insert_command, 0.08),
            (_crossover, 0.2),
        ]
    return [
        (_mutate_constant, 0.4),
        (_flip_sign, 0.08),
        (_swap_constants, 0.07),
        (_mutate_operator(_PY_CMP), 0.08),
        (_mutate_operator(_ARITH), 0.07),
        (_swap_statements, 0.07),
        (_crossover, 0.23),
    ]


HEADER = "Offline operator (seeded mutation, no LLM)"
ATTEMPTS = 24
"""Proposals tried per request before the operator says it found no new program."""


def _one(parent_code: str, rng: random.Random, lang: str, ctx: dict[str, Any], max_edits: int) -> _Work:
    w = _Work(parent_code, lang)
    ops = _operators(lang)
    want = rng.randint(1, max(1, max_edits))
    attempts = 0
    while len(w.edits) < want and attempts < 12:
        attempts += 1
        op = rng.choices([o for o, _ in ops], weights=[p for _, p in ops], k=1)[0]
        op(w, rng, ctx)
    return w


def _reply(w: _Work) -> str:
    blocks = [f"<<<<<<< SEARCH\n{s}\n=======\n{r}\n>>>>>>> REPLACE" for s, r in w.edits]
    header = f"{HEADER}: " + ("; ".join(w.notes) or "no applicable mutation") + "."
    return header + ("\n\n" + "\n\n".join(blocks) + "\n" if blocks else "\n")


def propose(
    parent_code: str,
    *,
    seed: int,
    language: str = "python",
    inspirations: list[str] | None = None,
    max_edits: int = 2,
    evaluated: Container[str] | None = None,
) -> str:
    """A SEARCH/REPLACE reply with 1..max_edits seeded mutations of `parent_code`.

    The result is never the parent itself, an inspiration, or a program whose `normalised_hash` is
    in `evaluated` (the run's programs, evaluated or in flight): up to ATTEMPTS proposals are drawn
    from the same seeded stream, and when all of them are old the reply says so and edits nothing.
    """
    from veriloop.evolve.edits import apply_reply, normalised_hash

    rng = random.Random(seed)
    lang = "verilog" if language in ("verilog", "systemverilog") else language
    ctx = {"inspirations": inspirations or []}
    old = {normalised_hash(parent_code)} | {normalised_hash(c) for c in ctx["inspirations"]}
    repeats = 0
    for _ in range(ATTEMPTS):
        w = _one(parent_code, rng, lang, ctx, max_edits)
        if not w.edits:
            continue
        reply = _reply(w)
        code = apply_reply(parent_code, reply).code
        if code is None:  # edits that undo each other (or do not apply): draw again
            repeats += 1
            continue
        h = normalised_hash(code)
        if h not in old and (evaluated is None or h not in evaluated):
            if repeats:
                reply = reply.replace(": ", f" after {repeats} proposal(s) that repeated old programs: ", 1)
            return reply
        repeats += 1
    return (
        f"{HEADER}: no new program in {ATTEMPTS} proposals "
        "(each repeated the parent or an evaluated program).\n"
    )


def answer(request: CompletionRequest) -> str:
    """Entry point of the offline backend for tasks starting with 'evolve.'."""
    ctx = request.context
    parent = ctx.get("parent_code")
    if not isinstance(parent, str) or not parent:
        return "Offline operator (no LLM): the request carried no parent program to mutate."
    seed = request.seed if request.seed is not None else int(ctx.get("seed", 0))
    evaluated = ctx.get("evaluated")
    return propose(
        parent,
        seed=seed,
        language=str(ctx.get("language", "python")),
        inspirations=list(ctx.get("inspirations") or []),
        max_edits=int(ctx.get("max_edits", 2)),
        evaluated=evaluated if isinstance(evaluated, Container) else None,
    )
