"""A cut-off or runaway edit reply is a fault of its iteration, with its reason, and is never re-sent
(issue 14). Real sandbox, fake OpenAI server."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from veriloop.config import load_settings
from veriloop.evolve.controller import run_evolution
from veriloop.testing.fake_openai import FakeOpenAIServer, Reply, write_config

from .helpers_evolve import ONE_ISLAND_TOML, copy_problem, one_at_a_time

# The first complete SEARCH block is a valid edit; the reply was cut in the middle of the second.
CUT = (
    "Raise b a little.\n<<<<<<< SEARCH\n    b = 0.5\n=======\n    b = 0.9\n>>>>>>> REPLACE\n"
    "<<<<<<< SEARCH\n    x = a + b * 2\n=======\n    x = a + b * 2 + CUTMARK"
)
# A small model's loop: the same two lines until the client stops it.
RUNAWAY = "I will change x.\n<<<<<<< SEARCH\n" + "    x = a + b * 2\n    return x\n" * 200
GOOD = "<<<<<<< SEARCH\n    x = a + b * 2\n=======\n    x = 3.6\n>>>>>>> REPLACE\n"


def test_cut_off_and_runaway_replies_are_faults_with_their_reason(
    tmp_path: Path, fake_openai: FakeOpenAIServer
) -> None:
    problem = copy_problem(tmp_path, ONE_ISLAND_TOML)
    write_config(tmp_path, fake_openai, retries=0, extra="[max_tokens]\nevolve = 900\n")
    fake_openai.enqueue(Reply(content=CUT, finish_reason="length"), Reply(content=RUNAWAY), GOOD)
    opts = one_at_a_time(iterations=3)
    summary = run_evolution(problem, load_settings(), opts)
    assert summary.status == "done" and summary.stats["faults"].get("cut_off") == 2, summary.stats
    conn = sqlite3.connect(Path(summary.run_dir) / "programs.sqlite")
    rows = conn.execute(
        "SELECT iteration, status, fault, detail, program_id FROM iterations WHERE iteration > 0 "
        "ORDER BY iteration"
    ).fetchall()
    conn.close()
    assert rows[0] == (1, "edit_failed", "cut_off", "cut off at max_tokens 900", None)
    assert rows[1][:3] == (2, "edit_failed", "cut_off") and rows[1][4] is None
    assert rows[1][3] == "stopped: the reply repeated the same 2 lines 12 times"
    assert rows[2][1] == "evaluated" and summary.best_score is not None and summary.best_score > -0.02
    # Nothing of the cut replies travelled into a later prompt.
    later = "\n".join(str(m.get("content")) for body in fake_openai.requests[1:] for m in body["messages"])
    assert "CUTMARK" not in later and "b = 0.9" not in later
    assert fake_openai.requests[0]["max_tokens"] == 900


def test_evolve_marks_inspirations_then_lessons_droppable(tmp_path: Path) -> None:
    from veriloop.evolve.database import ProgramRow
    from veriloop.evolve.problem import load_problem
    from veriloop.evolve.prompts import Templates, build_request
    from veriloop.llm.fit import estimate_tokens, trim_to_fit

    problem = load_problem(copy_problem(tmp_path, ONE_ISLAND_TOML))
    code = (problem.path / "initial_program.py").read_text(encoding="utf-8")
    parent = ProgramRow(id="p", iteration=0, code=code, code_hash="h", combined_score=-1.0)
    insp = ProgramRow(id="i", iteration=1, code=code.replace("0.5", "0.7") + "# " + "x" * 3000, code_hash="i")
    req = build_request(
        problem,
        Templates(problem=problem),
        parent,
        [insp],
        iteration=2,
        seed=1,
        lessons=["keep x near 3.7"],
        diff_based=True,
    )
    assert [d.kind for d in req.droppable] == ["example", "lesson"]
    user = req.messages[1].content or ""
    assert all(d.text in user for d in req.droppable)
    trimmed, note = trim_to_fit(req, estimate_tokens(req) - 500)
    assert note is not None and note.startswith("left out 1 retrieved part")
    sent = trimmed.messages[1].content or ""
    assert "x" * 3000 not in sent and "keep x near 3.7" in sent and "def choose" in sent
