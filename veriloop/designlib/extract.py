"""Reading parameter values out of a normalised natural-language spec (numbers, units, option words)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from veriloop.designlib.models import ParamSpec, ParamValue

_FREQ = re.compile(r"\b(\d+(?:\.\d+)?) ?(ghz|mhz|khz|hz)\b")
_FREQ_SCALE = {"hz": 1.0, "khz": 1e3, "mhz": 1e6, "ghz": 1e9}
_TIME_SCALE = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
_NEAR = r"(?: [a-z0-9]+){0,3} "


@dataclass(frozen=True)
class Found:
    """A value read from the spec, with the character span it came from and an optional note."""

    value: ParamValue
    start: int
    end: int
    note: str = ""


def normalise(spec: str) -> str:
    """Lower-case, unify dashes/slashes/underscores to spaces, drop punctuation, single-space."""
    text = spec.lower()
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)  # 115,200 -> 115200
    text = re.sub(r"[\u2010-\u2015]", "-", text)
    text = re.sub(r"(?<=\d)'b(?=[01])", " 0b", text)  # 4'b1011 -> 4 0b1011
    text = re.sub(r"[^a-z0-9.=:\s]", " ", text)
    text = re.sub(r"\.(?!\d)", " ", text)
    text = re.sub(r"(?<!\d)\.", " ", text)
    return re.sub(r"\s+", " ", text).strip()


def parse_int(token: str) -> int:
    """Decimal, 0x hex or 0b binary integer."""
    token = token.strip()
    if token.startswith(("0x", "0b")):
        return int(token, 0)
    return int(float(token))


def frequencies(text: str) -> list[tuple[float, int, int]]:
    """Every frequency mentioned, in Hz, with its span."""
    return [(float(m.group(1)) * _FREQ_SCALE[m.group(2)], m.start(), m.end()) for m in _FREQ.finditer(text)]


def _first(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(pattern, text)


def ex_width(text: str, p: ParamSpec) -> Found | None:
    """'8-bit', '8 bits wide', 'width of 8', '32 x 16' (second number)."""
    for pat in (
        r"\b(\d+) bits? wide\b",
        r"\bwidth (?:of |= ?|is )?(\d+)\b",
        r"\b(\d+) bit\b(?! (?:data|stop|parity)\b)",
        r"\b[1-9]\d* ?x ?(\d+)\b",
        r"\b(\d+) bits\b(?! (?:data|stop|parity)\b)",
    ):
        m = _first(pat, text)
        if m:
            return Found(parse_int(m.group(1)), m.start(), m.end())
    return None


def ex_depth(text: str, p: ParamSpec) -> Found | None:
    """'16-entry', '16 entries', 'depth 16', '16 deep', '1k words'."""
    m = _first(r"\b(\d+) ?k (?:words|entries|locations|deep)\b", text)
    if m:
        return Found(parse_int(m.group(1)) * 1024, m.start(), m.end())
    for pat in (
        r"\b(\d+) (?:entry|entries|deep|words?|locations|elements?|slots|lines)\b",
        r"\bdepth (?:of |= ?|is )?(\d+)\b",
        r"\b([1-9]\d*) ?x ?\d+\b",
    ):
        m = _first(pat, text)
        if m:
            return Found(parse_int(m.group(1)), m.start(), m.end())
    return None


def ex_reset_kind(text: str, p: ParamSpec) -> Found | None:
    """'asynchronous reset', 'sync active-high reset', 'reset is asynchronous'."""
    for pat in (
        r"\b(asynchronous|async|synchronous|sync)(?: [a-z0-9]+){0,3} (?:reset|rst|clear)\b",
        r"\b(?:reset|rst|clear)(?: is| that is)? (asynchronous|async|synchronous|sync)\b",
        r"\b(asynchronously|synchronously) (?:reset|clear)",
    ):
        m = _first(pat, text)
        if m:
            word = m.group(1)
            return Found("async" if word.startswith("async") else "sync", m.start(1), m.end(1))
    return None


def ex_reset_polarity(text: str, p: ParamSpec) -> Found | None:
    """'active-low reset', 'reset (active high)', 'rst_n', 'negative reset'."""
    for pat in (
        r"\b(?P<v>active (?P<p>low|high))(?: [a-z0-9]+){0,3} (?:reset|rst|clear)\b",
        r"\b(?:reset|rst|clear)(?: is| signal is| that is)? (?P<v>active (?P<p>low|high))\b",
        r"\b(?P<v>(?:rst|reset|clr) n|rstn|resetn|nreset|nrst)\b",
    ):
        m = _first(pat, text)
        if m:
            value = "high" if m.groupdict().get("p") == "high" else "low"
            return Found(value, m.start("v"), m.end("v"))
    if re.search(r"\b(?:reset|rst)\b", text):
        m = _first(r"\bactive (low|high)\b", text)
        if m:
            return Found(m.group(1), m.start(), m.end())
    return None


def ex_enable(text: str, p: ParamSpec) -> Found | None:
    """'without enable' / 'no enable' (false) or 'with enable', 'count enable', 'en input' (true)."""
    m = _first(r"\b(?:without|no)(?: an?| any)? (?:count |clock )?enable\b", text)
    if m:
        return Found(False, m.start(), m.end())
    m = _first(
        r"\b(?:(?:count|clock|chip|active high|active low) )?(?:enable|en)\b(?: input| signal| pin)?", text
    )
    if m:
        return Found(True, m.start(), m.end())
    return None


def ex_baud_divisor(text: str, p: ParamSpec) -> Found | None:
    """'115200 baud at 50 MHz' -> clocks per bit = round(clock / baud)."""
    m = _first(r"\b(\d+(?:\.\d+)?) ?(k|m)? ?(?:baud|bps|bit s)\b", text) or _first(
        r"\bbaud(?: rate)?(?: of| =| is)? (\d+(?:\.\d+)?) ?(k|m)?\b", text
    )
    if not m:
        return None
    baud = float(m.group(1)) * {"k": 1e3, "m": 1e6}.get(m.group(2) or "", 1.0)
    if baud <= 0:
        return None
    freqs = frequencies(text)
    if freqs and max(freqs)[0] > 0:
        clock, s, e = max(freqs)
        return Found(round(clock / baud), min(m.start(), s), max(m.end(), e), f"{clock:g} Hz / {baud:g} baud")
    return Found(round(50e6 / baud), m.start(), m.end(), f"assumed a 50 MHz clock for {baud:g} baud")


def ex_clock_ratio(text: str, p: ParamSpec) -> Found | None:
    """'50 MHz to 1 MHz' / '1 Hz output from a 50 MHz clock' -> the ratio of the two frequencies."""
    freqs = frequencies(text)
    if len(freqs) < 2:
        return None
    (f1, s1, e1), (f2, s2, e2) = freqs[0], freqs[1]
    hi, lo = max(f1, f2), min(f1, f2)
    if lo <= 0:
        return None
    return Found(round(hi / lo), min(s1, s2), max(e1, e2), f"{hi:g} Hz / {lo:g} Hz")


def ex_time_cycles(text: str, p: ParamSpec) -> Found | None:
    """'10 ms at 50 MHz' -> cycles = time * clock."""
    m = _first(r"\b(\d+(?:\.\d+)?) ?(ms|us|ns|s)\b", text)
    if not m:
        return None
    seconds = float(m.group(1)) * _TIME_SCALE[m.group(2)]
    freqs = frequencies(text)
    if not freqs:
        return Found(
            max(1, round(seconds * 50e6)), m.start(), m.end(), f"assumed a 50 MHz clock for {seconds:g} s"
        )
    clock, s, e = freqs[0]
    return Found(
        max(1, round(seconds * clock)), min(m.start(), s), max(m.end(), e), f"{seconds:g} s x {clock:g} Hz"
    )


def ex_pwm_bits(text: str, p: ParamSpec) -> Found | None:
    """'8-bit PWM' / '10-bit resolution' -> period 2^n."""
    m = _first(r"\b(\d+) bit(?: resolution| pwm| duty| counter)?\b", text) or _first(
        r"\bresolution (?:of )?(\d+) bits?\b", text
    )
    if m:
        n = parse_int(m.group(1))
        if 1 <= n <= 30:
            return Found(2**n, m.start(), m.end(), f"{n}-bit -> period {2**n}")
    return None


def ex_count_range(text: str, p: ParamSpec) -> Found | None:
    """'counts from 0 to 9' -> 10 states."""
    m = _first(r"\b(?:counts?|counting)(?: up)?(?: from)? 0 (?:to|through|thru) (\d+)\b", text) or _first(
        r"\bfrom 0 to (\d+)\b", text
    )
    if m:
        return Found(parse_int(m.group(1)) + 1, m.start(), m.end(), f"0..{m.group(1)}")
    return None


def ex_decoder_outputs(text: str, p: ParamSpec) -> Found | None:
    """'3-to-8 decoder' / '3:8' / '1 of 16' -> number of input bits."""
    m = _first(r"\b(\d+) ?(?:to|:) ?(\d+)\b", text)
    if m:
        a, b = parse_int(m.group(1)), parse_int(m.group(2))
        if b == 2**a:
            return Found(a, m.start(), m.end())
        if b > 1 and b & (b - 1) == 0:
            return Found(int(math.log2(b)), m.start(), m.end())
    m = _first(r"\b(?:1|one) (?:of|hot of) (\d+)\b", text)
    if m:
        b = parse_int(m.group(1))
        if b > 1 and b & (b - 1) == 0:
            return Found(int(math.log2(b)), m.start(), m.end())
    return None


def ex_spi_mode(text: str, p: ParamSpec) -> Found | None:
    """'SPI mode 3' -> CPOL = bit 1, CPHA = bit 0 (for the parameter named CPOL or CPHA)."""
    m = _first(r"\bmode ([0-3])\b", text)
    if not m:
        return None
    mode = int(m.group(1))
    bit = (mode >> 1) & 1 if p.name == "CPOL" else mode & 1
    return Found(bool(bit), m.start(), m.end(), f"SPI mode {mode}")


def ex_spi_divider(text: str, p: ParamSpec) -> Found | None:
    """'SCLK = clk/8' or '10 MHz SCLK from 100 MHz' -> half period in clocks."""
    m = _first(r"\bsclk(?: =| is| of)? (?:clk|clock|system clock) ?/ ?(\d+)\b", text) or _first(
        r"\bsclk (?:at |of )?(?:the )?(?:clock|clk) divided by (\d+)\b", text
    )
    if m:
        return Found(max(1, parse_int(m.group(1)) // 2), m.start(), m.end())
    freqs = frequencies(text)
    if len(freqs) >= 2:
        hi, lo = max(f for f, _, _ in freqs[:2]), min(f for f, _, _ in freqs[:2])
        if lo > 0:
            return Found(max(1, round(hi / lo / 2)), freqs[0][1], freqs[1][2], f"{hi:g} Hz / {lo:g} Hz / 2")
    return None


def ex_uart_format(text: str, p: ParamSpec) -> Found | None:
    """'8N1' / '7E2' -> data bits, parity, stop bits (for the matching parameter)."""
    m = _first(r"\b([5-9])([noe])([12])\b", text)
    if not m:
        return None
    if p.name == "DATA_BITS":
        return Found(int(m.group(1)), m.start(), m.end())
    if p.name == "PARITY":
        return Found({"n": "none", "e": "even", "o": "odd"}[m.group(2)], m.start(), m.end())
    return Found(int(m.group(3)), m.start(), m.end())


EXTRACTORS: dict[str, Callable[[str, ParamSpec], Found | None]] = {
    "width": ex_width,
    "depth": ex_depth,
    "reset_kind": ex_reset_kind,
    "reset_polarity": ex_reset_polarity,
    "enable": ex_enable,
    "baud_divisor": ex_baud_divisor,
    "clock_ratio": ex_clock_ratio,
    "time_cycles": ex_time_cycles,
    "pwm_bits": ex_pwm_bits,
    "count_range": ex_count_range,
    "decoder_outputs": ex_decoder_outputs,
    "spi_mode": ex_spi_mode,
    "spi_divider": ex_spi_divider,
    "uart_format": ex_uart_format,
}


SHARED_EXTRACTORS = {"spi_mode", "uart_format"}


@lru_cache(maxsize=4096)
def phrase_regex(phrase: str) -> re.Pattern[str]:
    """A keyword phrase as a regex over normalised text: '#' is any number, words may take a plural s."""
    parts = []
    for tok in normalise(phrase.replace("#", " 7919 ")).split():
        if tok == "7919":
            parts.append(r"\d+")
        elif tok.isalpha():
            parts.append(re.escape(tok) + "s?")
        else:
            parts.append(re.escape(tok))
    return re.compile(r"\b" + " ".join(parts) + r"\b")


def _coerce_capture(p: ParamSpec, raw: str) -> ParamValue | None:
    raw = raw.strip()
    try:
        if p.type == "int":
            return parse_int(raw)
        if p.type == "bool":
            return raw in ("1", "true", "yes", "on")
        if p.type == "bits":
            return raw.removeprefix("0b")
        return raw  # a choice outside p.choices is reported by validation, not dropped silently
    except ValueError:
        return None


def _words(text: str, p: ParamSpec) -> Found | None:
    best: tuple[int, int, int, str] | None = None  # (-length, start, end, key)
    for key, phrases in p.words.items():
        for phrase in phrases:
            for m in phrase_regex(phrase).finditer(text):
                cand = (-(m.end() - m.start()), m.start(), m.end(), key)
                if best is None or cand < best:
                    best = cand
    if best is None:
        return None
    key = best[3]
    value: ParamValue
    if p.type == "bool":
        value = key == "true"
    elif p.type == "int":
        value = int(key)
    else:
        value = key
    return Found(value, best[1], best[2])


def extract_param(text: str, p: ParamSpec, taken: list[tuple[int, int]]) -> Found | None:
    """The value of one parameter: its own patterns, then its option words, then built-in extractors.

    Spans already used by another parameter (`taken`) are not reused.
    """

    def free(f: Found) -> bool:
        return all(f.end <= s or f.start >= e for s, e in taken)

    for pat in p.patterns:
        for m in re.finditer(pat, text):
            value = _coerce_capture(p, m.group(1))
            found = Found(value, m.start(1), m.end(1)) if value is not None else None
            if found is not None and free(found):
                return found
    found = _words(text, p)
    if found is not None and free(found):
        return found
    for name in p.extract:
        found = EXTRACTORS[name](text, p)
        # one token such as '8N1' or 'mode 3' legitimately sets several parameters
        if found is not None and (name in SHARED_EXTRACTORS or free(found)):
            return found
    return None
