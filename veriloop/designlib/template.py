"""The tiny template language of library sources: `// @if COND` blocks and `{{NAME}}` values.

Rules (documented in README.md):
- A line whose stripped text is `// @if COND`, `// @elif COND`, `// @else` or `// @endif` opens,
  switches or closes a block; blocks nest. The directive lines themselves are dropped.
- COND is `NAME` (bool param true), `!NAME` (false), `NAME==value` or `NAME!=value`.
- `{{NAME}}` is replaced by the value of NAME; `{{NAME?yes text|no text}}` picks a text by a
  condition (NAME may be `NAME==value`); plain `{{NAME}}` values may appear inside those texts,
  which may not contain `|` or `}`. An unknown name is an error, never left in the output.
"""

from __future__ import annotations

import re

_DIRECTIVE = re.compile(r"^\s*//\s*@(if|elif|else|endif)\b\s*(.*?)\s*$")
_PLAIN = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
_VALUE = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*(?:[!=]=[A-Za-z0-9_.]+)?)(?:\?([^|}]*)\|([^}]*))?\}\}")


class TemplateError(ValueError):
    """A template is malformed or names an unknown variable."""


def eval_cond(cond: str, env: dict[str, str]) -> bool:
    """Evaluate one condition against the rendered variable strings."""
    cond = cond.strip()
    if cond.startswith("!"):
        return not eval_cond(cond[1:], env)
    for op in ("==", "!="):
        if op in cond:
            name, value = (s.strip() for s in cond.split(op, 1))
            if name not in env:
                raise TemplateError(f"unknown template variable {name!r} in condition {cond!r}")
            same = env[name].lower() == value.lower()
            return same if op == "==" else not same
    if cond not in env:
        raise TemplateError(f"unknown template variable {cond!r}")
    return env[cond] not in ("0", "false", "", "no")


def _filter_blocks(text: str, env: dict[str, str]) -> list[str]:
    out: list[str] = []
    # each frame: [parent_active, this_branch_active, some_branch_taken]
    stack: list[list[bool]] = []
    active = True
    for lineno, line in enumerate(text.splitlines(), start=1):
        m = _DIRECTIVE.match(line)
        if not m:
            if active:
                out.append(line)
            continue
        kind, cond = m.group(1), m.group(2)
        if kind == "if":
            taken = active and eval_cond(cond, env)
            stack.append([active, taken, taken])
            active = taken
        elif not stack:
            raise TemplateError(f"line {lineno}: @{kind} without @if")
        elif kind == "elif":
            parent, _, done = stack[-1]
            taken = parent and not done and eval_cond(cond, env)
            stack[-1] = [parent, taken, done or taken]
            active = taken
        elif kind == "else":
            parent, _, done = stack[-1]
            stack[-1] = [parent, parent and not done, True]
            active = parent and not done
        else:
            parent = stack.pop()[0]
            active = parent
    if stack:
        raise TemplateError("unterminated @if block")
    return out


def _substitute(line: str, env: dict[str, str]) -> str:
    def plain(m: re.Match[str]) -> str:
        if m.group(1) not in env:
            raise TemplateError(f"unknown template variable {m.group(1)!r}")
        return env[m.group(1)]

    # plain values first, so that they may appear inside a conditional text
    line = _PLAIN.sub(plain, line)

    def repl(m: re.Match[str]) -> str:
        key, yes, no = m.group(1), m.group(2), m.group(3)
        if yes is not None:
            return yes if eval_cond(key, env) else (no or "")
        if key not in env:
            raise TemplateError(f"unknown template variable {key!r}")
        return env[key]

    return _VALUE.sub(repl, line)


def render_template(text: str, env: dict[str, str]) -> str:
    """Apply @if blocks then {{...}} substitutions; the result ends with one newline."""
    lines = [_substitute(line, env) for line in _filter_blocks(text, env)]
    return "\n".join(lines).rstrip() + "\n"
