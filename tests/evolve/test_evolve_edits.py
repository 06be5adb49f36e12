"""Edit application: exact and whitespace-tolerant SEARCH/REPLACE, ambiguity and EVOLVE-block limits."""

from __future__ import annotations

from veriloop.evolve.edits import apply_reply, normalised_hash

PROG = """import math

# EVOLVE-BLOCK-START
def f(x):
    y = x + 1
    if y > 3:
        y = y * 2
    return y
# EVOLVE-BLOCK-END


def g():
    y = 0
    return f(2)
"""


def diff(search: str, replace: str) -> str:
    return f"reasoning...\n<<<<<<< SEARCH\n{search}\n=======\n{replace}\n>>>>>>> REPLACE\n"


def test_exact_match_applies() -> None:
    res = apply_reply(PROG, diff("    y = x + 1", "    y = x + 2"))
    assert res.applied == 1 and res.failed == 0 and res.outside == 0
    assert res.code is not None and "y = x + 2" in res.code and res.code.count("y = x + 1") == 0
    assert res.code.endswith("return f(2)\n")


def test_whitespace_tolerant_match_reindents() -> None:
    reply = diff("if y > 3:\n    y = y * 2", "if y >= 3:\n    y = y * 5")
    res = apply_reply(PROG, reply)
    assert res.applied == 1, res.messages
    assert res.code is not None
    assert "    if y >= 3:\n        y = y * 5\n" in res.code


def test_ambiguous_match_is_refused() -> None:
    prog = PROG.replace("    return y\n# EVOLVE", "    y = x + 1\n    return y\n# EVOLVE")
    res = apply_reply(prog, diff("    y = x + 1", "    y = 0"))
    assert res.code is None and res.failed == 1 and res.ambiguous == 1
    assert res.fault == "failed_search"
    tolerant = apply_reply(prog, diff("y   =   x + 1", "y = 0"))
    assert tolerant.code is None and tolerant.ambiguous == 1


def test_no_match_fails_and_is_fed_back() -> None:
    res = apply_reply(PROG, diff("    z = 42", "    z = 43"))
    assert res.code is None and res.failed == 1 and res.fault == "failed_search"
    assert "matched nothing" in res.feedback()


def test_edit_outside_block_is_refused() -> None:
    res = apply_reply(PROG, diff("def g():\n    y = 0", "def g():\n    y = 1"))
    assert res.code is None and res.outside == 1 and res.fault == "outside_block"
    # A SEARCH that matches both inside and outside applies only inside (unique there).
    res2 = apply_reply(PROG, diff("import math", "import os"))
    assert res2.code is None and res2.outside == 1


def test_marker_lines_cannot_be_edited() -> None:
    res = apply_reply(PROG, diff("# EVOLVE-BLOCK-END", ""))
    assert res.code is None and res.outside == 1


def test_mixed_blocks_are_counted() -> None:
    reply = diff("    y = x + 1", "    y = x + 3") + diff("    nope = 1", "    nope = 2")
    res = apply_reply(PROG, reply)
    assert res.applied == 1 and res.failed == 1 and res.code is not None
    assert "1 of 2 edit block(s) applied" in res.feedback()


def test_no_diff_and_empty_reply() -> None:
    assert apply_reply(PROG, "I would not change anything.").fault == "no_diff"
    assert apply_reply(PROG, "").fault == "no_diff"


def test_full_rewrite_keeps_outside_code() -> None:
    rewritten = PROG.replace("y = x + 1", "y = x * 7").replace("y = 0", "y = 99")
    res = apply_reply(PROG, f"Here:\n```python\n{rewritten}```\n")
    assert res.kind == "rewrite" and res.code is not None
    assert "y = x * 7" in res.code and "y = 0" in res.code and "y = 99" not in res.code
    assert res.outside == 1  # the outside change was reported and ignored


def test_rewrite_of_block_body_only() -> None:
    body = "def f(x):\n    return x * 10\n"
    res = apply_reply(PROG, f"```python\n{body}```")
    assert res.code is not None and "return x * 10" in res.code and "def g():" in res.code


def test_normalised_hash_ignores_whitespace() -> None:
    assert normalised_hash("a = 1\n\nb  = 2  \n") == normalised_hash("a = 1\nb = 2\n")
    assert normalised_hash("a = 1\n") != normalised_hash("a = 2\n")
