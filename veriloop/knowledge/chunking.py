"""Reading files and cutting them into chunks: docs by heading, Verilog/SystemVerilog by module."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from veriloop.errors import InputError
from veriloop.knowledge.models import Chunk, Kind

DOC_SUFFIXES = {".md", ".markdown", ".txt", ".text", ".rst", ".pdf"}
CODE_SUFFIXES = {".v", ".sv", ".vh", ".svh"}
SUPPORTED = DOC_SUFFIXES | CODE_SUFFIXES
MAX_CHARS = 900
"""Sections longer than this are split at paragraph boundaries."""


@dataclass
class Section:
    """A titled piece of a document before it becomes a chunk."""

    heading: str
    body: str
    extra: dict[str, str] = field(default_factory=dict)


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def kind_for(path: Path) -> Kind:
    return "code" if path.suffix.lower() in CODE_SUFFIXES else "doc"


def read_text(path: Path, data: bytes) -> str:
    """The text of a supported file (PDF through pypdf)."""
    if path.suffix.lower() == ".pdf":
        import io

        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(data))
            return "\n\n".join((page.extract_text() or "") for page in reader.pages)
        except (PdfReadError, ValueError, KeyError) as exc:
            raise InputError(f"{path}: not a readable PDF ({exc}).") from None
    return data.decode("utf-8", errors="replace")


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """Split a leading `---` block of `key: value` lines from the body."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    meta: dict[str, str] = {}
    for line in m.group(1).splitlines():
        if ":" in line:
            key, value = line.split(":", 1)
            meta[key.strip().lower()] = value.strip()
    return meta, text[m.end() :]


_MD_HEADING = re.compile(r"^(#{1,4})\s+(.*?)\s*#*\s*$")


def markdown_sections(text: str) -> tuple[str, list[Section]]:
    """Sections of a markdown text, split at headings of level 1-4 (outside code fences)."""
    title = ""
    sections: list[Section] = []
    path: list[str] = []
    current: list[str] = []
    heading = ""
    fence = False

    def flush() -> None:
        body = "\n".join(current).strip()
        if body:
            sections.append(Section(heading=heading, body=body))

    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fence = not fence
        m = None if fence else _MD_HEADING.match(line)
        if m:
            flush()
            current = []
            level, name = len(m.group(1)), m.group(2)
            if level == 1 and not title:
                title = name
            path = path[: level - 1] + [name]
            heading = " > ".join(p for p in path[1:] if p) or name
            continue
        current.append(line)
    flush()
    return title, sections


_RST_UNDERLINE = re.compile(r"^([=\-~^\"'`#*+])\1{2,}\s*$")


def rst_sections(text: str) -> tuple[str, list[Section]]:
    """Sections of a reStructuredText document (title lines followed by an underline)."""
    lines = text.splitlines()
    title = ""
    sections: list[Section] = []
    heading = ""
    current: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        nxt = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and _RST_UNDERLINE.match(nxt) and len(nxt.strip()) >= len(line.strip()):
            body = "\n".join(current).strip()
            if body:
                sections.append(Section(heading=heading, body=body))
            heading = line.strip()
            title = title or heading
            current = []
            i += 2
            continue
        if _RST_UNDERLINE.match(line) and not current:
            i += 1
            continue
        current.append(line)
        i += 1
    body = "\n".join(current).strip()
    if body:
        sections.append(Section(heading=heading, body=body))
    return title, sections


def paragraph_sections(text: str) -> list[Section]:
    """Plain text: paragraphs grouped up to MAX_CHARS."""
    return [Section(heading="", body=p) for p in split_long(text)]


def split_long(body: str, limit: int = MAX_CHARS) -> list[str]:
    """Cut a body into pieces of at most `limit` characters, at blank lines, then lines."""
    body = body.strip()
    if not body:
        return []
    if len(body) <= limit:
        return [body]
    units: list[str] = []
    for para in re.split(r"\n\s*\n", body):
        if len(para) <= limit:
            units.append(para)
            continue
        for line in para.splitlines():
            units.extend(line[i : i + limit] for i in range(0, max(len(line), 1), limit))
    pieces: list[str] = []
    buf = ""
    for unit in units:
        if buf and len(buf) + len(unit) + 2 > limit:
            pieces.append(buf)
            buf = unit
        else:
            buf = f"{buf}\n\n{unit}" if buf else unit
    if buf.strip():
        pieces.append(buf)
    return [p.strip() for p in pieces if p.strip()]


_MODULE = re.compile(
    r"^[ \t]*(?:\(\*.*?\*\)\s*)?(module|macromodule|interface|package|program|class)\s+"
    r"(?:automatic\s+|static\s+)?([A-Za-z_][\w$]*)",
    re.M,
)
_END = {
    "module": "endmodule",
    "macromodule": "endmodule",
    "interface": "endinterface",
    "package": "endpackage",
    "program": "endprogram",
    "class": "endclass",
}


def verilog_sections(text: str) -> list[Section]:
    """One section per module/interface/package; text outside them becomes a preamble section."""
    sections: list[Section] = []
    pos = 0
    preamble: list[str] = []
    while True:
        m = _MODULE.search(text, pos)
        if not m:
            break
        if text[pos : m.start()].strip():
            preamble.append(text[pos : m.start()].strip())
        end_kw = _END[m.group(1)]
        end = re.compile(rf"\b{end_kw}\b(\s*:\s*\w+)?").search(text, m.end())
        stop = end.end() if end else len(text)
        body = text[m.start() : stop].strip()
        sections.append(
            Section(
                heading=f"{m.group(1)} {m.group(2)}",
                body=body,
                extra={"module": m.group(2), "unit": m.group(1)},
            )
        )
        pos = stop
    if text[pos:].strip():
        preamble.append(text[pos:].strip())
    if "\n".join(preamble).strip():
        sections.insert(0, Section(heading="preamble", body="\n\n".join(preamble)))
    return sections


def language_of(path: Path, text: str) -> str:
    if path.suffix.lower() in {".sv", ".svh"}:
        return "systemverilog"
    if re.search(r"\b(always_ff|always_comb|logic|interface|typedef|enum)\b", text):
        return "systemverilog"
    return "verilog"


def chunk_text(text: str, source: str, kind: Kind, fmt: str, base_meta: dict[str, str]) -> list[Chunk]:
    """Cut one document's text into chunks with ids `<kind>:<source>#<n>`."""
    meta_fm, body = front_matter(text) if fmt in {"md", "txt", "rst"} else ({}, text)
    title = meta_fm.get("title", "")
    if fmt == "md":
        found_title, sections = markdown_sections(body)
    elif fmt == "rst":
        found_title, sections = rst_sections(body)
    elif fmt == "verilog":
        found_title, sections = "", verilog_sections(body)
    else:
        found_title, sections = "", paragraph_sections(body)
    title = title or found_title
    chunks: list[Chunk] = []
    for sec in sections:
        pieces = [sec.body] if fmt == "verilog" and len(sec.body) <= 4 * MAX_CHARS else split_long(sec.body)
        for j, piece in enumerate(pieces):
            header = " — ".join(p for p in (title, sec.heading) if p)
            chunk_body = f"{header}\n{piece}" if header and fmt != "verilog" else piece
            meta: dict[str, str | int | float | bool] = {**base_meta, **sec.extra}
            meta.update({k: v for k, v in meta_fm.items() if k in {"tool", "tags", "language", "doc"}})
            meta.update({"title": title, "heading": sec.heading, "part": j})
            chunks.append(
                Chunk(id=f"{kind}:{source}#{len(chunks)}", text=chunk_body, kind=kind, metadata=meta)
            )
    return chunks


def chunk_file(path: Path, data: bytes, source: str, kind: Kind | None = None) -> list[Chunk]:
    """Chunks of one file; `kind` overrides the guess from the suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        raise InputError(
            f"{path}: unsupported file type '{suffix or path.name}'.",
            hint="Supported: " + ", ".join(sorted(SUPPORTED)),
        )
    text = read_text(path, data)
    the_kind: Kind = kind or kind_for(path)
    fmt = {".md": "md", ".markdown": "md", ".rst": "rst"}.get(suffix, "txt")
    base: dict[str, str] = {"source": source, "file_hash": file_hash(data), "format": suffix.lstrip(".")}
    if suffix in CODE_SUFFIXES:
        fmt = "verilog"
        base["language"] = language_of(path, text)
    return chunk_text(text, source, the_kind, fmt, base)
