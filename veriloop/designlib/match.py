"""Matching a natural-language spec to a library design and its parameters (deterministic scoring)."""

from __future__ import annotations

import re

from veriloop.designlib.extract import Found, extract_param, normalise, phrase_regex
from veriloop.designlib.library import all_entries
from veriloop.designlib.models import DesignEntry, DesignMatch, ParamValue
from veriloop.designlib.render import coerce_param, resolve_params
from veriloop.errors import InputError

MIN_SCORE = 2.0
EXCLUDE_PENALTY = 8.0

# Requests that are plainly beyond a library of small parameterisable blocks, with the noun to report.
BEYOND: dict[str, str] = {
    "risc v": "a RISC-V processor",
    "riscv": "a RISC-V processor",
    "rv32": "a RISC-V processor",
    "cpu": "a CPU",
    "processor": "a processor",
    "microprocessor": "a processor",
    "microcontroller": "a microcontroller",
    "risc core": "a processor core",
    "soc": "a system on chip",
    "fft": "an FFT",
    "fourier": "a Fourier transform",
    "dct": "a DCT",
    "fir": "a FIR filter",
    "iir": "an IIR filter",
    "filter": "a filter",
    "cordic": "a CORDIC unit",
    "square root": "a square root unit",
    "floating point": "floating-point arithmetic",
    "fpu": "a floating-point unit",
    "ethernet": "an Ethernet MAC",
    "pcie": "a PCIe controller",
    "usb": "a USB controller",
    "ddr": "a DDR memory controller",
    "sdram": "an SDRAM controller",
    "ddr2": "a DDR memory controller",
    "ddr3": "a DDR memory controller",
    "ddr4": "a DDR memory controller",
    "lpddr": "a DDR memory controller",
    "memory controller": "a memory controller",
    "dram": "a DRAM controller",
    "cache": "a cache",
    "i2c": "an I2C controller",
    "axi": "an AXI interconnect",
    "wishbone": "a Wishbone bus",
    "dma": "a DMA engine",
    "aes": "an AES cipher",
    "sha": "a SHA hash",
    "sha256": "a SHA hash",
    "neural": "a neural-network accelerator",
    "convolution": "a convolution engine",
    "systolic": "a systolic array",
    "gpu": "a GPU",
    "hdmi": "an HDMI controller",
    "vga": "a VGA controller",
    "video": "video processing",
    "jpeg": "a JPEG codec",
    "pll": "a PLL",
    "adc": "an ADC",
    "dac": "a DAC",
    "analog": "analog circuitry",
    "vending machine": "a vending-machine FSM",
    "traffic light": "a traffic-light controller",
    "divider circuit": "an integer divider",
    "integer divider": "an integer divider",
    "division unit": "an integer divider",
    "quotient": "an integer divider",
    "booth": "a Booth multiplier",
    "mac unit": "a multiply-accumulate unit",
    "multiply accumulate": "a multiply-accumulate unit",
    "pipelined": "a pipelined datapath",
    "instruction": "an instruction-set processor",
    "operating system": "software",
}

_STOPWORDS_TEXT = """
    a an the and or of to in on at by for with without from into that which is are be its it this these
    those as when while where each every one two all any no not only then than so such per if else via
    using use uses used has have having should must shall will can may design implement implements
    implementing write create generate build make module verilog systemverilog sv rtl hdl circuit block
    logic hardware simple basic standard please give me need want i we you called named input inputs
    output outputs port ports signal signals clock clk clocked rising falling edge posedge negedge
    reset rst resets active high low synchronous asynchronous sync async bit bits wide width value
    values parameter parameterised parameterized parameterizable configurable generic register
    registered combinational sequential new s x detect detects detecting detection generate generates
    generator produce produces word words number numbers data cycle cycles time times mode
"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())


def _keyword_score(entry: DesignEntry, text: str) -> tuple[float, list[str], list[tuple[int, int]]]:
    score = 0.0
    reasons: list[str] = []
    spans: list[tuple[int, int]] = []
    for phrase, weight in entry.keywords.items():
        m = phrase_regex(phrase).search(text)
        if m:
            score += weight
            reasons.append(f"keyword '{phrase}' (+{weight:g})")
            spans.append((m.start(), m.end()))
    for phrase in entry.exclude:
        if phrase_regex(phrase).search(text):
            score -= EXCLUDE_PENALTY
            reasons.append(f"conflicting word '{phrase}' (-{EXCLUDE_PENALTY:g})")
    return score, reasons, spans


def beyond_scope(spec: str) -> str | None:
    """The out-of-scope request named in the spec (e.g. 'a RISC-V processor'), if any."""
    text = normalise(spec)
    for phrase, what in BEYOND.items():
        if phrase_regex(phrase).search(text):
            return what
    return None


def _ranked(text: str) -> list[tuple[float, DesignEntry, list[str], list[tuple[int, int]]]]:
    ranked = []
    for entry in all_entries():
        score, reasons, spans = _keyword_score(entry, text)
        ranked.append((score, entry, reasons, spans))
    ranked.sort(key=lambda r: (-r[0], r[1].name))
    return ranked


def _extract_all(
    entry: DesignEntry, text: str
) -> tuple[dict[str, ParamValue], list[str], list[str], list[tuple[int, int]]]:
    params: dict[str, ParamValue] = {}
    reasons: list[str] = []
    unmatched: list[str] = []
    taken: list[tuple[int, int]] = []
    for p in entry.params:
        found: Found | None = extract_param(text, p, taken)
        if found is None:
            if p.type == "bool" and "enable" in p.extract:
                params[p.name] = False
                reasons.append(f"{p.name}=false (no enable mentioned)")
            continue
        snippet = text[found.start : found.end]
        try:
            coerce_param(entry, p, found.value)
        except InputError as exc:
            unmatched.append(f"'{snippet}': {exc.message}")
            taken.append((found.start, found.end))
            continue
        params[p.name] = found.value
        taken.append((found.start, found.end))
        note = f" ({found.note})" if found.note else ""
        reasons.append(f"{p.name}={found.value} from '{snippet}'{note}")
    return params, reasons, unmatched, taken


def _leftover_words(text: str, entry: DesignEntry, spans: list[tuple[int, int]]) -> list[str]:
    covered: set[int] = set()
    for s, e in spans:
        covered.update(range(s, e))
    entry_words = set()
    for phrase in list(entry.keywords) + [w for p in entry.params for ws in p.words.values() for w in ws]:
        entry_words.update(normalise(phrase).split())
    entry_words.update(normalise(entry.name).split())
    entry_words.update(normalise(entry.title).split())
    entry_words.update(normalise(entry.description).split())
    for p in entry.params:
        entry_words.update(normalise(p.doc).split())
    left = []
    for m in re.finditer(r"[a-z][a-z0-9]*", text):
        word = m.group(0)
        if m.start() in covered or word in STOPWORDS or word.rstrip("s") in STOPWORDS:
            continue
        if word in entry_words or word.rstrip("s") in entry_words:
            continue
        if word not in left:
            left.append(word)
    return left


def _resolve_consistent(
    entry: DesignEntry, params: dict[str, ParamValue], unmatched: list[str]
) -> dict[str, ParamValue]:
    """Resolve params; values that conflict with each other are dropped (last read first) and reported."""
    params = dict(params)
    while True:
        try:
            return resolve_params(entry, params)
        except InputError as exc:
            if not params:
                raise
            name = list(params)[-1]
            for candidate in reversed(list(params)):
                if candidate in exc.message:
                    name = candidate
                    break
            unmatched.append(f"{name}={params.pop(name)}: {exc.message}")


def match_spec(spec: str) -> DesignMatch | None:
    """The best library design for `spec` with parameters read from it, or None when nothing fits well."""
    text = normalise(spec)
    if not text or beyond_scope(spec):
        return None
    ranked = _ranked(text)
    score, entry, reasons, spans = ranked[0]
    if score < MIN_SCORE:
        return None
    close = [r[1].name for r in ranked[1:4] if r[0] >= MIN_SCORE and score - r[0] < 1.0]
    if close:
        reasons = [*reasons, f"also close: {', '.join(close)}"]
    params, p_reasons, unmatched, taken = _extract_all(entry, text)
    full = _resolve_consistent(entry, params, unmatched)
    leftovers = _leftover_words(text, entry, spans + taken)
    unmatched += [f"'{w}' not understood" for w in leftovers]
    return DesignMatch(
        entry=entry.model_copy(deep=True),
        params=full,
        score=score,
        reasons=reasons + p_reasons,
        unmatched=unmatched,
    )


def explain_no_match(spec: str) -> str:
    """One plain sentence saying why `spec` has no library match (or which design it matches)."""
    text = normalise(spec)
    if not text:
        return "The spec is empty."
    what = beyond_scope(spec)
    if what:
        return (
            f"The spec asks for {what}, which is beyond the built-in design library "
            f"(small parameterisable blocks such as counters, FIFOs, adders, UART and SPI)."
        )
    ranked = _ranked(text)
    score, entry, _, _ = ranked[0]
    if score < MIN_SCORE:
        return (
            "No design in the built-in library matches the spec "
            f"(best candidate '{entry.name}' scored {score:g}, below the threshold {MIN_SCORE:g})."
        )
    return f"The spec matches the library design '{entry.name}' (score {score:g})."
