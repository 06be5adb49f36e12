"""Chunking: markdown by heading, reStructuredText, Verilog by module, PDF text, size limits."""

from __future__ import annotations

from pathlib import Path

import pytest

from veriloop.errors import InputError
from veriloop.knowledge.chunking import MAX_CHARS, chunk_file, split_long


def test_markdown_is_cut_at_headings_and_keeps_front_matter(tmp_path: Path) -> None:
    text = (
        "---\ntool: verilator\n---\n# Lint guide\n\nIntro text.\n\n## WIDTH\nWidth body.\n\n"
        "```\n# not a heading inside a fence\n```\n\n### Sub\nSub body.\n"
    )
    p = tmp_path / "guide.md"
    p.write_text(text)
    chunks = chunk_file(p, p.read_bytes(), "src/guide.md")
    headings = [c.metadata["heading"] for c in chunks]
    assert headings == ["Lint guide", "WIDTH", "WIDTH > Sub"]
    assert all(c.metadata["tool"] == "verilator" and c.kind == "doc" for c in chunks)
    assert "# not a heading inside a fence" in chunks[1].text
    assert chunks[1].text.startswith("Lint guide — WIDTH\n")
    assert [c.id for c in chunks] == [f"doc:src/guide.md#{i}" for i in range(3)]


def test_rst_sections(tmp_path: Path) -> None:
    p = tmp_path / "notes.rst"
    p.write_text("Title\n=====\n\nFirst para.\n\nResets\n------\n\nUse a synchronous reset.\n")
    chunks = chunk_file(p, p.read_bytes(), "notes.rst")
    assert [c.metadata["heading"] for c in chunks] == ["Title", "Resets"]
    assert "synchronous reset" in chunks[1].text


def test_verilog_is_cut_by_module_with_a_preamble(tmp_path: Path) -> None:
    p = tmp_path / "two.sv"
    p.write_text(
        "`timescale 1ns/1ps\n`define W 8\n"
        "module adder #(parameter W=8) (input [W-1:0] a, b, output [W:0] s);\n"
        "  assign s = a + b;\nendmodule\n\n"
        "module top(input logic clk, output logic q);\n  always_ff @(posedge clk) q <= ~q;\nendmodule : top\n"
    )
    chunks = chunk_file(p, p.read_bytes(), "two.sv")
    assert [c.metadata.get("module") for c in chunks] == [None, "adder", "top"]
    assert chunks[0].metadata["heading"] == "preamble" and "`define W 8" in chunks[0].text
    assert chunks[2].text.rstrip().endswith("endmodule : top")
    assert all(c.kind == "code" and c.metadata["language"] == "systemverilog" for c in chunks)


def test_plain_verilog_language_and_kind_override(tmp_path: Path) -> None:
    p = tmp_path / "inv.v"
    p.write_text("module inv(input a, output y); assign y = ~a; endmodule\n")
    (chunk,) = chunk_file(p, p.read_bytes(), "inv.v")
    assert chunk.metadata["language"] == "verilog"
    (as_doc,) = chunk_file(p, p.read_bytes(), "inv.v", kind="doc")
    assert as_doc.kind == "doc"


def test_long_sections_are_split_under_the_limit() -> None:
    body = "\n\n".join(f"Paragraph {i} " + "word " * 60 for i in range(20))
    pieces = split_long(body)
    assert len(pieces) > 1
    assert all(len(p) <= MAX_CHARS for p in pieces)
    assert "".join(pieces).replace("\n", "").replace(" ", "") == body.replace("\n", "").replace(" ", "")


def _minimal_pdf(text: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, written by hand (no PDF library needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def test_pdf_text_is_extracted(tmp_path: Path) -> None:
    p = tmp_path / "manual.pdf"
    p.write_bytes(_minimal_pdf("Metastability needs a two flop synchronizer"))
    chunks = chunk_file(p, p.read_bytes(), "manual.pdf")
    assert chunks and "two flop synchronizer" in chunks[0].text
    assert chunks[0].metadata["format"] == "pdf"


def test_broken_pdf_and_unsupported_type_are_input_errors(tmp_path: Path) -> None:
    bad = tmp_path / "broken.pdf"
    bad.write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    with pytest.raises(InputError):
        chunk_file(bad, bad.read_bytes(), "broken.pdf")
    other = tmp_path / "image.png"
    other.write_bytes(b"\x89PNG")
    with pytest.raises(InputError, match="unsupported file type"):
        chunk_file(other, other.read_bytes(), "image.png")
