"""Rendering a library entry with concrete parameters into RTL, testbench and spec text."""

from __future__ import annotations

from collections.abc import Mapping

from veriloop.designlib.library import read_sources
from veriloop.designlib.models import DesignEntry, ParamSpec, ParamValue, RenderedDesign
from veriloop.designlib.template import eval_cond, render_template
from veriloop.errors import InputError


def coerce_param(entry: DesignEntry, spec: ParamSpec, value: object) -> ParamValue:
    where = f"Parameter {spec.name} of design {entry.name}"
    if spec.type == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        if isinstance(value, int) and value in (0, 1):
            return bool(value)
        raise InputError(f"{where} must be true or false, not {value!r}.")
    if spec.type == "int":
        if isinstance(value, bool):
            raise InputError(f"{where} must be an integer, not {value!r}.")
        try:
            ivalue = int(value, 0) if isinstance(value, str) else int(value)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            raise InputError(f"{where} must be an integer, not {value!r}.") from None
        lo = spec.min if spec.min is not None else ivalue
        hi = spec.max if spec.max is not None else ivalue
        if not lo <= ivalue <= hi:
            raise InputError(f"{where} must be in {spec.allowed()}, not {ivalue}.")
        if spec.pow2 and ivalue & (ivalue - 1):
            raise InputError(f"{where} must be a power of two, not {ivalue}.")
        return ivalue
    if spec.type == "choice":
        svalue = str(value).lower()
        if svalue not in spec.choices:
            raise InputError(f"{where} must be one of {spec.allowed()}, not {value!r}.")
        return svalue
    svalue = str(value).strip().removeprefix("0b")
    if not svalue or set(svalue) - {"0", "1"}:
        raise InputError(f"{where} must be a string of 0s and 1s, not {value!r}.")
    if spec.min is not None and spec.max is not None and not spec.min <= len(svalue) <= spec.max:
        raise InputError(f"{where} must have {spec.min}..{spec.max} bits, not {len(svalue)}.")
    return svalue


def resolve_params(entry: DesignEntry, params: Mapping[str, object] | None = None) -> dict[str, ParamValue]:
    """Validate given values, fill defaults (including defaults that depend on other params)."""
    given = dict(params or {})
    known = {p.name for p in entry.params}
    unknown = sorted(set(given) - known)
    if unknown:
        raise InputError(
            f"Design {entry.name} has no parameter {', '.join(unknown)}.",
            hint=f"Its parameters are: {', '.join(sorted(known)) or 'none'}.",
        )
    out: dict[str, ParamValue] = {}
    for spec in entry.params:
        if spec.name in given:
            out[spec.name] = coerce_param(entry, spec, given[spec.name])
    for spec in entry.params:
        if spec.name in out:
            continue
        default: object = spec.default
        if spec.default_from is not None:
            key = str(out.get(spec.default_from, "")).lower()
            default = spec.default_map.get(key, spec.default)
        out[spec.name] = coerce_param(entry, spec, default)
    for spec in entry.params:
        if spec.fits is not None:
            bits = int(out[spec.fits])
            if int(out[spec.name]) >= 1 << bits:
                raise InputError(
                    f"Parameter {spec.name} of design {entry.name} must fit in {spec.fits}={bits} bits, "
                    f"not {out[spec.name]:#x}."
                )
    return {spec.name: out[spec.name] for spec in entry.params}


def template_env(entry: DesignEntry, values: dict[str, ParamValue]) -> dict[str, str]:
    """Template variables: every param as text plus derived helpers (reset style, bit lengths)."""
    env: dict[str, str] = {"TOP": entry.top}
    for spec in entry.params:
        v = values[spec.name]
        if spec.type == "bool":
            env[spec.name] = "1" if v else "0"
        elif spec.type == "bits":
            bits = str(v)
            env[spec.name] = bits
            env[f"{spec.name}_LEN"] = str(len(bits))
            env[f"{spec.name}_VLOG"] = f"{len(bits)}'b{bits}"
        else:
            env[spec.name] = str(v)
            if spec.hex and isinstance(v, int):
                env[f"{spec.name}_HEX"] = f"0x{v:X}"
            if spec.type == "int" and isinstance(v, int) and 0 <= v <= 30:
                env[f"{spec.name}_POW2"] = str(1 << v)
    sync = str(values.get("RESET", "sync")) == "sync"
    high = str(values.get("RESET_POLARITY", "high")) == "high"
    rst = "rst" if high else "rst_n"
    env.setdefault("RESET", "sync" if sync else "async")
    env.setdefault("RESET_POLARITY", "high" if high else "low")
    env["RST"] = rst
    env["RST_ON"] = rst if high else f"!{rst}"
    env["RST_ASSERT"] = "1'b1" if high else "1'b0"
    env["RST_DEASSERT"] = "1'b0" if high else "1'b1"
    if sync:
        env["ALWAYS_FF"] = "always @(posedge clk)"
    else:
        env["ALWAYS_FF"] = f"always @(posedge clk or {'posedge' if high else 'negedge'} {rst})"
    env["RESET_DESC"] = (
        f"{'synchronous' if sync else 'asynchronous'} active-{'high' if high else 'low'} reset `{rst}`"
    )
    return env


def render(entry: DesignEntry, params: Mapping[str, object] | None = None) -> RenderedDesign:
    """Render an entry's RTL, testbench and spec with validated parameters."""
    values = resolve_params(entry, params)
    env = template_env(entry, values)
    rtl_src, tb_src = read_sources(entry)
    return RenderedDesign(
        name=entry.name,
        top=entry.top,
        rtl=render_template(rtl_src, env),
        testbench=render_template(tb_src, env),
        spec=render_template(entry.spec, env).strip(),
        params=values,
        ports=[p.model_copy() for p in entry.ports if p.when is None or eval_cond(p.when, env)],
    )
