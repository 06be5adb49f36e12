"""Edit application: SEARCH/REPLACE diffs and fenced full rewrites, confined to EVOLVE blocks."""

from __future__ import annotations

import hashlib
import re

from pydantic import BaseModel, Field

from veriloop.evolve.problem import END_MARK, START_MARK, Block, find_blocks

_DIFF_RE = re.compile(
    r"^<{7} SEARCH[ \t]*\n(.*?)^={7}[ \t]*\n(.*?)^>{7} REPLACE[ \t]*$", re.DOTALL | re.MULTILINE
)
_FENCE_RE = re.compile(r"^```[ \t]*([\w+#.-]*)[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)


class EditResult(BaseModel):
    """What applying one LLM reply did."""

    kind: str = "none"
    """diff, rewrite or none (no usable edit in the reply)."""
    code: str | None = None
    """The new program, or None when nothing could be applied."""
    blocks: int = 0
    applied: int = 0
    failed: int = 0
    """SEARCH texts that matched nowhere (or ambiguously)."""
    ambiguous: int = 0
    outside: int = 0
    """Edits refused because they touch code outside the EVOLVE blocks."""
    messages: list[str] = Field(default_factory=list)
    diff_text: str = ""

    @property
    def fault(self) -> str | None:
        """The fault class for run stats, if this reply was unusable."""
        if self.code is not None:
            return None
        if self.kind == "none":
            return "no_diff"
        if self.outside and not self.failed:
            return "outside_block"
        return "failed_search"

    def feedback(self) -> str:
        """One paragraph for the next prompt."""
        if self.kind == "none":
            return "Your previous reply contained no SEARCH/REPLACE block and no fenced program."
        parts = [f"{self.applied} of {self.blocks} edit block(s) applied"]
        if self.failed:
            parts.append(f"{self.failed} SEARCH text(s) matched nothing or more than one place")
        if self.outside:
            parts.append(f"{self.outside} edit(s) refused because they touch code outside the EVOLVE block")
        return "; ".join(parts) + "." + ("" if not self.messages else " " + " ".join(self.messages[:4]))


def normalised_hash(code: str) -> str:
    """Hash of the code with whitespace normalised (trailing space, blank lines, runs of spaces)."""
    lines = [" ".join(ln.split()) for ln in code.splitlines()]
    return hashlib.sha256("\n".join(ln for ln in lines if ln).encode()).hexdigest()


def parse_diff_blocks(text: str) -> list[tuple[str, str]]:
    """(search, replace) pairs in a reply, without their final newline."""
    return [(m.group(1), m.group(2)) for m in _DIFF_RE.finditer(text)]


def parse_rewrite(text: str) -> str | None:
    """The longest fenced code block in a reply, if any."""
    bodies = [m.group(2) for m in _FENCE_RE.finditer(text)]
    return max(bodies, key=len) if bodies else None


def _editable(blocks: list[Block], start: int, end: int) -> bool:
    """True when lines [start, end) lie inside one block (an empty range at a block edge counts)."""
    return any(b.start <= start and end <= b.end for b in blocks)


def _line_spans(lines: list[str], search: list[str], exact: bool) -> list[int]:
    n = len(search)
    if n == 0:
        return []
    if exact:
        return [i for i in range(len(lines) - n + 1) if lines[i : i + n] == search]
    key = [" ".join(s.split()) for s in search]
    norm = [" ".join(s.split()) for s in lines]
    return [i for i in range(len(norm) - n + 1) if norm[i : i + n] == key]


def _indent(s: str) -> str:
    return s[: len(s) - len(s.lstrip())]


def _reindent(replace: list[str], search_first: str, found_first: str) -> list[str]:
    """Shift the replacement by the indentation difference between the SEARCH text and the code."""
    want, have = _indent(found_first), _indent(search_first)
    if want == have:
        return replace
    out = []
    for ln in replace:
        if ln.startswith(have):
            out.append(want + ln[len(have) :])
        else:
            out.append(ln if not ln.strip() else want + ln.lstrip())
    return out


def _apply_one(lines: list[str], search: str, replace: str, res: EditResult) -> list[str] | None:
    s_lines = search.split("\n")
    if s_lines and s_lines[-1] == "":
        s_lines = s_lines[:-1]
    r_lines = replace.split("\n")
    if r_lines and r_lines[-1] == "":
        r_lines = r_lines[:-1]
    if any(START_MARK in ln or END_MARK in ln for ln in s_lines + r_lines):
        res.outside += 1
        res.messages.append("An edit touched an EVOLVE-BLOCK marker line.")
        return None
    if not any(ln.strip() for ln in s_lines):
        res.failed += 1
        res.messages.append("A SEARCH section was empty.")
        return None
    if _is_placeholder(s_lines):
        res.failed += 1
        res.messages.append(
            "A SEARCH section is the instructions' placeholder text, not lines of the program; "
            "copy the program's own lines."
        )
        return None
    blocks = find_blocks("\n".join(lines))
    for exact in (True, False):
        spans = _line_spans(lines, s_lines, exact)
        if not spans:
            continue
        inside = [i for i in spans if _editable(blocks, i, i + len(s_lines))]
        if not inside:
            res.outside += 1
            res.messages.append("A SEARCH text matched only code outside the EVOLVE block.")
            return None
        if len(inside) > 1:
            res.failed += 1
            res.ambiguous += 1
            res.messages.append(f"A SEARCH text matched {len(inside)} places; make it unique.")
            return None
        i = inside[0]
        new_r = r_lines if exact else _reindent(r_lines, s_lines[0], lines[i])
        return lines[:i] + new_r + lines[i + len(s_lines) :]
    res.failed += 1
    first = next((ln.strip() for ln in s_lines if ln.strip()), "")
    res.messages.append(f"A SEARCH text starting {first[:60]!r} matched nothing.")
    if first.startswith("("):
        res.messages.append("Copy the program's lines bare, without a '(' in front of them.")
    return None


_PLACEHOLDERS = (
    "lines copied exactly from the current program",
    "the new lines",
    "lines of the current program",
)


def _is_placeholder(s_lines: list[str]) -> bool:
    """A SEARCH text that is (a copy of) the prompt's description of what goes there."""
    text = " ".join(ln.strip() for ln in s_lines if ln.strip()).strip("() ").lower()
    return any(text.startswith(p) for p in _PLACEHOLDERS)


def apply_diff(parent: str, text: str) -> EditResult:
    """Apply every SEARCH/REPLACE block of `text` to `parent`, in order."""
    pairs = parse_diff_blocks(text)
    res = EditResult(kind="diff", blocks=len(pairs), diff_text=text)
    trailing_nl = parent.endswith("\n")
    lines = parent.split("\n")
    if trailing_nl:
        lines = lines[:-1]
    for search, replace in pairs:
        new = _apply_one(lines, search, replace, res)
        if new is not None:
            lines = new
            res.applied += 1
    if res.applied:
        code = "\n".join(lines) + ("\n" if trailing_nl else "")
        if code != parent:
            res.code = code
        else:
            res.messages.append("The applied edits left the program unchanged.")
    return res


def _splice(parent: str, rewrite: str, res: EditResult) -> str | None:
    p_lines = parent.splitlines()
    p_blocks = find_blocks(parent)
    has_marks = START_MARK in parent
    if not has_marks:
        return rewrite
    try:
        r_blocks = find_blocks(rewrite)
    except ValueError:
        r_blocks = []
    if START_MARK not in rewrite or len(r_blocks) != len(p_blocks):
        if len(p_blocks) == 1 and START_MARK not in rewrite:
            # A rewrite of just the block's contents.
            b = p_blocks[0]
            new_lines = p_lines[: b.start] + rewrite.rstrip("\n").split("\n") + p_lines[b.end :]
            return "\n".join(new_lines) + ("\n" if parent.endswith("\n") else "")
        res.outside += 1
        res.messages.append("The rewrite does not keep the EVOLVE-BLOCK markers of the program.")
        return None
    r_lines = rewrite.splitlines()
    out: list[str] = []
    prev = 0
    changed_outside = False
    for pb, rb in zip(p_blocks, r_blocks, strict=True):
        out.extend(p_lines[prev : pb.start])
        out.extend(r_lines[rb.start : rb.end])
        prev = pb.end
    out.extend(p_lines[prev:])
    # Outside-block text of the rewrite differs from the parent's: keep the parent's, report it.
    r_out = [ln.strip() for i, ln in enumerate(r_lines) if not any(b.start <= i < b.end for b in r_blocks)]
    p_out = [ln.strip() for i, ln in enumerate(p_lines) if not any(b.start <= i < b.end for b in p_blocks)]
    changed_outside = [x for x in r_out if x] != [x for x in p_out if x]
    if changed_outside:
        res.outside += 1
        res.messages.append("Changes outside the EVOLVE block were ignored; only the block was taken.")
    return "\n".join(out) + ("\n" if parent.endswith("\n") else "")


def apply_rewrite(parent: str, text: str) -> EditResult:
    """Take the fenced program in `text`; only its EVOLVE-block contents replace the parent's."""
    body = parse_rewrite(text)
    if body is None:
        return EditResult(kind="none")
    res = EditResult(kind="rewrite", blocks=1, diff_text=text)
    code = _splice(parent, body, res)
    if code is not None and code != parent:
        res.code = code
        res.applied = 1
    elif code is not None:
        res.failed = 1
        res.messages.append("The rewrite is identical to the parent.")
    return res


def apply_reply(parent: str, text: str) -> EditResult:
    """Apply an LLM reply: SEARCH/REPLACE blocks if there are any, else a fenced full rewrite."""
    if not text or not text.strip():
        return EditResult(kind="none", messages=["The reply was empty."])
    if parse_diff_blocks(text):
        return apply_diff(parent, text)
    return apply_rewrite(parent, text)
