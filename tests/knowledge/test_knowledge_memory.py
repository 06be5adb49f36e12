"""Lessons memory: error signatures, distillation, and a lesson from one run found by the next."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from veriloop.knowledge.memory import Attempt, distill_lessons, embedding_text, signature

from .conftest import store_settings

# Real tool output (iverilog 11, verilator 5.006, yosys 0.23) for the same mistakes in two designs.
SAME_ERROR_PAIRS = [
    (
        "undecl.v:2: error: Unable to bind wire/reg/memory `cnt' in `top'\nElaboration failed",
        "/tmp/run7/rtl/fifo_ctrl.sv:45: error: Unable to bind wire/reg/memory `rd_ptr_q' in `fifo_ctrl'\n"
        "Elaboration failed",
    ),
    (
        "%Warning-WIDTH: vl_width.v:2:12: Operator ASSIGNW expects 4 bits on the Assign RHS, "
        "but Assign RHS's VARREF 'a' generates 8 bits.\n"
        "                               : ... In instance top\n"
        "    2 |   assign y = a;\n      |            ^",
        "%Warning-WIDTH: /work/x/acc.v:4:16: Operator ASSIGNW expects 8 bits on the Assign RHS, "
        "but Assign RHS's VARREF 'sum' generates 16 bits.\n"
        "                               : ... In instance acc",
    ),
    (
        "port.v:3: error: port ``z'' is not a port of u.\n1 error(s) during elaboration.",
        "fifo_top.v:3: error: port ``data_in'' is not a port of mem0.\n1 error(s) during elaboration.",
    ),
    (
        "outreg.v:2: error: y is not a valid l-value in top.\noutreg.v:1:      : y is declared here as wire.",
        "pwm_gen.v:5: error: pwm_out is not a valid l-value in pwm_gen.\npwm_gen.v:1:      : pwm_out is "
        "declared here as wire.",
    ),
    (
        "ERROR: Module `\\missing_mod' referenced in module `\\top' in cell `\\u' is not part of the design.",
        "ERROR: Module `\\crc_lfsr' referenced in module `\\crc_unit' in cell `\\u_lfsr' "
        "is not part of the design.",
    ),
    (
        "nomod.v:2: error: Unknown module type: missing_mod\n2 error(s) during elaboration.",
        "crc_unit.v:2: error: Unknown module type: crc_lfsr\n2 error(s) during elaboration.",
    ),
]


@pytest.mark.parametrize(("first", "second"), SAME_ERROR_PAIRS)
def test_same_error_in_other_files_has_the_same_signature(first: str, second: str) -> None:
    assert signature(first) == signature(second)
    assert "<file>" in signature(first) or "ERROR" in signature(first)


def test_different_errors_have_different_signatures() -> None:
    sigs = {signature(a) for a, _ in SAME_ERROR_PAIRS}
    assert len(sigs) == len(SAME_ERROR_PAIRS)


def test_embedding_text_cleans_tool_output_only() -> None:
    raw = "alu_core.v:2: error: Unable to bind wire/reg/memory `carry_in' in `alu_core'"
    cleaned = embedding_text(raw)
    assert "alu_core" not in cleaned and "carry_in" not in cleaned and "Unable to bind" in cleaned
    question = "how wide must an 8-bit sum be to keep the carry"
    assert embedding_text(question) == question


def test_distill_lessons_keeps_only_errors_that_went_away() -> None:
    err = "top.v:3: error: Unable to bind wire/reg/memory `cnt' in `top'\nElaboration failed"
    attempts = [
        Attempt(code="module top; assign y = cnt; endmodule", error_text=err),
        Attempt(code="module top; wire cnt; assign y = cnt; endmodule", error_text="", note="declared cnt"),
    ]
    (lesson,) = distill_lessons(attempts, run_id="run-1", job="rtl", tool="iverilog")
    assert lesson.fix == "declared cnt"
    assert lesson.error_signature == signature(err)
    assert lesson.provenance.run_id == "run-1" and lesson.provenance.tool == "iverilog"

    no_note = [attempts[0], Attempt(code=attempts[1].code, error_text="")]
    (from_diff,) = distill_lessons(no_note)
    assert "+module top; wire cnt;" in from_diff.fix

    stuck = [attempts[0], Attempt(code="module top; endmodule", error_text=err.replace("3:", "9:"), note="x")]
    assert distill_lessons(stuck) == []


@pytest.fixture(scope="module")
def lesson_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kb-lessons") / "store"


def _open(path: Path) -> Any:
    from veriloop.knowledge.store import open_store

    return open_store(store_settings(path))


def test_a_lesson_from_one_run_is_found_by_the_next(lesson_store_dir: Path) -> None:
    run1 = _open(lesson_store_dir)
    run1.add_lesson(
        error_text="/tmp/a/run-1/counter.v:14: error: Unable to bind wire/reg/memory `cnt_q' in `counter'\n"
        "Elaboration failed",
        fix="Declare the counter register before use: reg [3:0] cnt_q;",
        insight="Generated RTL often uses a register it never declared.",
        run_id="run-1",
        job="rtl",
        tool="iverilog",
    )
    run1.add_lesson(
        error_text="%Warning-LATCH: alu.v:7:3: Latch inferred for signal 'y' (not all control paths of "
        "combinational always assign a value)",
        fix="Assign y a default at the top of the always @(*) block.",
        run_id="run-1",
        tool="verilator",
    )
    del run1

    run2 = _open(lesson_store_dir)  # a new store object, as the next run would open it
    hits = run2.find_lessons(
        "/tmp/b/run-2/work/fsm_ctrl.sv:203: error: Unable to bind wire/reg/memory `state_nxt' in `fsm_ctrl'\n"
        "Elaboration failed",
        k=2,
    )
    assert hits[0].exact and hits[0].score == 1.0
    assert hits[0].lesson.fix.startswith("Declare the counter register")
    assert hits[0].lesson.provenance.run_id == "run-1" and hits[0].lesson.provenance.tool == "iverilog"
    assert "run-1" in hits[0].lesson.as_prompt()

    latch = run2.find_lessons(
        "%Warning-LATCH: dec.sv:31:5: Latch inferred for signal 'next_state' (not all control paths of "
        "combinational always assign a value)\n%Error: Exiting due to 1 warning(s)",
        k=1,
        tool="verilator",
    )
    assert latch[0].exact and "default" in latch[0].lesson.fix


def test_similar_but_different_errors_come_back_as_inexact(lesson_store_dir: Path) -> None:
    store = _open(lesson_store_dir)
    hits = store.find_lessons("%Error: top.v:2:18: Can't find definition of variable: 'cnt_q'", k=3)
    assert hits and not any(h.exact for h in hits)
    assert all(0 < h.score < 1 for h in hits)


def test_the_same_lesson_is_stored_once(lesson_store_dir: Path) -> None:
    store = _open(lesson_store_dir)
    before = store.stats().counts["lessons"]
    store.add_lesson(
        error_text="z.v:1: error: Unable to bind wire/reg/memory `k' in `z'",
        fix="Declare the counter register before use: reg [3:0] cnt_q;",
        run_id="run-3",
    )
    assert store.stats().counts["lessons"] == before
    assert (
        store.find_lessons("q.v:8: error: Unable to bind wire/reg/memory `p' in `q'")[
            0
        ].lesson.provenance.run_id
        == "run-3"
    )


def test_a_lesson_needs_error_and_fix(lesson_store_dir: Path) -> None:
    from veriloop.errors import InputError

    store = _open(lesson_store_dir)
    with pytest.raises(InputError):
        store.add_lesson(error_text="x.v:1: error: boom", fix="  ")
