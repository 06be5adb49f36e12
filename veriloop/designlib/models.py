"""Typed records of the design library: parameters, ports, entries, matches and renderings."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

ParamValue = int | bool | str


class ParamSpec(BaseModel):
    """One design parameter: its type, default, allowed values and the words that set it."""

    name: str
    type: Literal["int", "bool", "choice", "bits"]
    default: ParamValue
    doc: str = ""
    min: int | None = None
    max: int | None = None
    pow2: bool = False
    hex: bool = False
    choices: list[str] = Field(default_factory=list)
    # built-in extractor names (see veriloop.designlib.extract)
    extract: list[str] = Field(default_factory=list)
    # regexes (one capture group, matched on the normalised spec) that set an int/bits value
    patterns: list[str] = Field(default_factory=list)
    # choice value -> phrases that select it; bool: keys "true" / "false"
    words: dict[str, list[str]] = Field(default_factory=dict)
    # default taken from another parameter's value (e.g. POLY from CRC_WIDTH)
    default_from: str | None = None
    default_map: dict[str, ParamValue] = Field(default_factory=dict)
    # the value must fit in as many bits as this other (int or numeric choice) parameter says
    fits: str | None = None

    def allowed(self) -> str:
        """A short human description of the allowed values."""
        if self.type == "int":
            rng = f"{self.min}..{self.max}"
            return rng + (" (power of two)" if self.pow2 else "")
        if self.type == "bool":
            return "true/false"
        if self.type == "choice":
            return "/".join(self.choices)
        return f"binary string of {self.min}..{self.max} bits"


class PortSpec(BaseModel):
    """One port of the top module; `when` names a structural condition (same syntax as @if)."""

    name: str
    dir: Literal["input", "output", "inout"]
    width: str = "1"
    when: str | None = None
    doc: str = ""


class DesignEntry(BaseModel):
    """A parameterisable library design loaded from its design.toml."""

    name: str
    title: str
    description: str
    top: str
    keywords: dict[str, float]
    exclude: list[str] = Field(default_factory=list)
    params: list[ParamSpec] = Field(default_factory=list)
    ports: list[PortSpec] = Field(default_factory=list)
    spec: str
    test_params: list[dict[str, ParamValue]] = Field(default_factory=list)
    path: Path

    def param(self, name: str) -> ParamSpec | None:
        """The parameter called `name`, or None."""
        for p in self.params:
            if p.name == name:
                return p
        return None


class DesignMatch(BaseModel):
    """The best library entry for a spec, the parameters read from it, and what was not honoured."""

    entry: DesignEntry
    params: dict[str, ParamValue]
    score: float
    reasons: list[str]
    unmatched: list[str]


class RenderedDesign(BaseModel):
    """RTL and self-checking testbench of one entry rendered with concrete parameters."""

    name: str
    top: str
    rtl: str
    testbench: str
    spec: str
    params: dict[str, ParamValue]
    ports: list[PortSpec] = Field(default_factory=list)
