"""VerilogEval v2 (spec-to-rtl and code-complete-iccad2023) read from a checkout of its dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from veriloop.bench.problem import BenchProblem, Suite
from veriloop.bench.verilog import module_names, rename_module
from veriloop.errors import InputError

Variant = Literal["spec-to-rtl", "code-complete"]
_DIRS = {"spec-to-rtl": "dataset_spec-to-rtl", "code-complete": "dataset_code-complete-iccad2023"}


def dataset_dir(path: Path, variant: Variant) -> Path:
    """Accept the dataset folder itself or a folder that contains it."""
    sub = _DIRS[variant]
    if (path / sub).is_dir():
        return path / sub
    if path.name == sub or any(path.glob("Prob*_test.sv")):
        return path
    raise InputError(f"{path} holds no VerilogEval {variant} dataset (no {sub}/ and no Prob*_test.sv).",
                     hint=f"Point --path at the verilog-eval checkout or at its {sub}/ folder.")


def _problem_ids(d: Path) -> list[str]:
    listed = d / "problems.txt"
    if listed.is_file():
        ids = [ln.strip() for ln in listed.read_text(encoding="utf-8").splitlines() if ln.strip()]
        if ids:
            return ids
    return sorted(p.name[: -len("_test.sv")] for p in d.glob("Prob*_test.sv"))


def _read(p: Path, pid: str) -> str:
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"VerilogEval problem {pid}: {p.name} is missing in {p.parent}.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"VerilogEval problem {pid}: cannot read {p}: {exc}.") from None
    if not text.strip():
        raise InputError(f"VerilogEval problem {pid}: {p.name} is empty.")
    return text


def load_verilog_eval(path: Path, variant: Variant) -> Suite:
    """Read every problem (prompt, interface for code-complete, testbench, reference)."""
    d = dataset_dir(path, variant)
    ids = _problem_ids(d)
    if not ids:
        raise InputError(f"{d} lists no VerilogEval problems.")
    problems: list[BenchProblem] = []
    for pid in ids:
        prompt = _read(d / f"{pid}_prompt.txt", pid)
        test = _read(d / f"{pid}_test.sv", pid)
        ref = _read(d / f"{pid}_ref.sv", pid)
        ifc = _read(d / f"{pid}_ifc.txt", pid) if variant == "code-complete" else ""
        if "RefModule" not in module_names(ref):
            raise InputError(f"VerilogEval problem {pid}: {pid}_ref.sv defines no module RefModule.")
        if not any(n == "tb" for n in module_names(test)):
            raise InputError(f"VerilogEval problem {pid}: {pid}_test.sv has no top module tb.")
        problems.append(BenchProblem(
            id=pid, suite="verilog-eval" if variant == "spec-to-rtl" else "verilog-eval-cc",
            spec=prompt.strip(), interface=ifc.strip(), top="TopModule", testbench=test, tb_top="tb",
            ref=ref, golden=rename_module(ref, "RefModule", "TopModule"),
            reserved_modules=sorted(set(module_names(test)) | set(module_names(ref))),
            source=str(d / pid),
        ))
    return Suite(name=problems[0].suite, path=str(d), problems=problems)
