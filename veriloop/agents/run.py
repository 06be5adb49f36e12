"""run_design: validate inputs, register the run, drive the checkpointed graph, write the outputs."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from veriloop.agents.deps import Deps, ProgressFn
from veriloop.agents.state import AGENTS, DesignState, Mode
from veriloop.config import Settings
from veriloop.errors import BackendAuthError, BackendError, InputError, VeriloopError
from veriloop.runstore import RunRecord, create_run, update_run

AskFn = Callable[[dict[str, Any]], str]
"""ask(interrupt payload) -> the human's answer (interactive runs)."""


class DesignResult(BaseModel):
    """What a design run produced."""

    run_id: str
    status: str
    """"verified", "not verified" or "interrupted"."""
    verified: bool
    reason: str
    out_dir: str
    files: list[str] = Field(default_factory=list)
    report: dict[str, Any] = Field(default_factory=dict)
    pending: dict[str, Any] | None = None
    """For an interrupted run: what the graph is waiting for."""

    @property
    def exit_code(self) -> int:
        return 0 if self.verified else 1


def read_text_arg(value: str | Path | None, what: str) -> str | None:
    """A file's text: Path objects and existing file names are read; other strings are taken as text."""
    if value is None:
        return None
    path: Path | None = value if isinstance(value, Path) else None
    if isinstance(value, str) and "\n" not in value and len(value) < 4096:
        try:
            is_file = Path(value).is_file()
        except OSError:
            is_file = False
        if is_file or value.endswith((".v", ".sv", ".vh", ".txt", ".md")):
            path = Path(value)
    if path is None:
        return str(value)
    return read_input_file(path, what)


def read_input_file(path: Path, what: str) -> str:
    """The non-empty UTF-8 text of a file the user named; one clear InputError sentence otherwise."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"The {what} file {path} does not exist.") from None
    except IsADirectoryError:
        raise InputError(f"The {what} path {path} is a directory, not a file.") from None
    except UnicodeDecodeError:
        raise InputError(f"The {what} file {path} is not UTF-8 text.") from None
    except OSError as exc:
        raise InputError(f"The {what} file {path} cannot be read: {exc.strerror}.") from None
    if not text.strip():
        raise InputError(f"The {what} file {path} is empty.")
    return text


def check_backends(settings: Settings, names: set[str]) -> None:
    """Every backend must exist and have its key set before any work starts."""
    for name in sorted(names):
        cfg = settings.backend(name)
        if cfg.kind == "openai" and cfg.api_key_env and not os.environ.get(cfg.api_key_env):
            raise BackendAuthError(
                f"Backend '{name}' reads its API key from ${cfg.api_key_env}, which is not set.",
                hint=f"export {cfg.api_key_env}=... or use --backend offline.",
            )
        if cfg.kind == "openai" and not cfg.base_url and not cfg.api_key_env:
            raise InputError(f"Backend '{name}' has neither base_url nor api_key_env configured.")


def agent_backends(settings: Settings, backend: str | None) -> dict[str, str]:
    """Each agent's backend: `[agents] <name>` in the config, else --backend, else default_backend."""
    default = backend or settings.default_backend
    return {a: getattr(settings.agents, a) or default for a in AGENTS}


def _initial_state(
    run_id: str,
    spec: str,
    *,
    mode: Mode,
    top: str | None,
    tb: str | None,
    ref: str | None,
    interactive: bool,
    max_iters: int,
    budget_usd: float | None,
    max_steps: int,
    samples: int,
    seed: int,
    backends: dict[str, str],
) -> DesignState:
    return DesignState(
        run_id=run_id,
        spec=spec,
        mode=mode,
        top=top or "",
        tb=tb or "",
        tb_source="user" if tb else "",
        ref=ref or "",
        interactive=interactive,
        max_iters=max_iters,
        budget_usd=budget_usd,
        max_steps=max_steps,
        samples=samples,
        candidates=[],
        seed=seed,
        backends=backends,
        escalated=False,
        iteration=0,
        failures=0,
        verdicts=[],
        transcript=[],
        fixes=[],
        decision="",
        reason="",
        rtl={},
        feedback="",
    )


class Prepared(BaseModel):
    """Checked inputs of a run."""

    spec: str
    tb: str | None
    ref: str | None
    mode: Mode
    top: str | None
    backends: dict[str, str]


def prepare(
    spec: str,
    settings: Settings,
    *,
    tb: str | Path | None,
    ref: str | Path | None,
    top: str | None,
    backend: str | None,
    mode: str | None,
    max_iters: int,
    budget_usd: float | None,
) -> Prepared:
    """All input checks, in the order a user would fix them. Raises a VeriloopError; nothing is written."""
    from veriloop.agents import eda
    from veriloop.agents.codeparse import instantiated_modules

    if not spec or not spec.strip():
        raise InputError(
            "The design spec is empty.", hint='Give a sentence such as "8-bit up counter with enable".'
        )
    tb_text = read_text_arg(tb, "testbench")
    ref_text = read_text_arg(ref, "reference")
    chosen: Mode
    if mode is None:
        chosen = "oracle-tb" if tb_text else "self-verified"
    elif mode in ("self-verified", "oracle-tb"):
        chosen = mode  # type: ignore[assignment]
    else:
        raise InputError(f"Unknown mode '{mode}'; use self-verified or oracle-tb.")
    if chosen == "oracle-tb" and not tb_text:
        raise InputError("Mode oracle-tb needs a testbench (--tb FILE).")
    if chosen == "self-verified" and tb_text:
        raise InputError("A --tb testbench means oracle-tb mode; drop --tb for self-verified runs.")
    if max_iters < 1:
        raise InputError("--max-iters must be at least 1.")
    if budget_usd is not None and budget_usd <= 0:
        raise InputError("--budget-usd must be positive.")
    if top is not None and not top.replace("_", "a").isalnum():
        raise InputError(f"--top '{top}' is not a Verilog module name.")
    if top is None and tb_text:
        cands = [n for n in instantiated_modules(tb_text) if n not in ("RefModule",)]
        top = cands[0] if len(cands) == 1 else None
    backends = agent_backends(settings, backend)
    names = set(backends.values())
    if settings.agents.escalate_to:
        names.add(settings.agents.escalate_to)
    check_backends(settings, names)
    eda.require_tools()
    return Prepared(spec=spec.strip(), tb=tb_text, ref=ref_text, mode=chosen, top=top, backends=backends)


def run_design(
    spec: str,
    settings: Settings,
    *,
    tb: str | Path | None = None,
    ref: str | Path | None = None,
    top: str | None = None,
    out_dir: Path | str | None = None,
    backend: str | None = None,
    max_iters: int = 4,
    budget_usd: float | None = None,
    interactive: bool = False,
    mode: str | None = None,
    seed: int = 0,
    max_steps: int = 4,
    samples: int = 1,
    progress: ProgressFn | None = None,
    ask: AskFn | None = None,
    on_start: Callable[[RunRecord], None] | None = None,
) -> DesignResult:
    """Spec in, verified (or honestly not verified) RTL out. See arun_design."""
    return asyncio.run(
        arun_design(
            spec,
            settings,
            tb=tb,
            ref=ref,
            top=top,
            out_dir=out_dir,
            backend=backend,
            max_iters=max_iters,
            budget_usd=budget_usd,
            interactive=interactive,
            mode=mode,
            seed=seed,
            max_steps=max_steps,
            samples=samples,
            progress=progress,
            ask=ask,
            on_start=on_start,
        )
    )


async def arun_design(
    spec: str,
    settings: Settings,
    *,
    tb: str | Path | None = None,
    ref: str | Path | None = None,
    top: str | None = None,
    out_dir: Path | str | None = None,
    backend: str | None = None,
    max_iters: int = 4,
    budget_usd: float | None = None,
    interactive: bool = False,
    mode: str | None = None,
    seed: int = 0,
    max_steps: int = 4,
    samples: int = 1,
    progress: ProgressFn | None = None,
    ask: AskFn | None = None,
    on_start: Callable[[RunRecord], None] | None = None,
) -> DesignResult:
    """Validate everything first, then register the run and drive the graph to its end (or an interrupt).

    `samples` > 1 makes the generator write that many candidate designs in parallel on its first pass
    (different seeds); the verifier grades them all and keeps the best.
    """
    if not 1 <= samples <= 16:
        raise InputError("--samples must be between 1 and 16.")
    p = prepare(
        spec,
        settings,
        tb=tb,
        ref=ref,
        top=top,
        backend=backend,
        mode=mode,
        max_iters=max_iters,
        budget_usd=budget_usd,
    )
    spec, tb_text, ref_text, chosen, backends, top = p.spec, p.tb, p.ref, p.mode, p.backends, p.top
    meta = {
        "spec": spec,
        "mode": chosen,
        "top": top,
        "backends": backends,
        "max_iters": max_iters,
        "budget_usd": budget_usd,
        "interactive": interactive,
        "seed": seed,
        "max_steps": max_steps,
        "samples": samples,
        "out_dir": str(Path(out_dir).resolve()) if out_dir else None,
    }
    record = create_run(settings.data_path, "design", title=spec.splitlines()[0][:80], meta=meta)
    if not meta["out_dir"]:
        record = update_run(record, meta=meta | {"out_dir": str(record.dir / "out")})
    if on_start is not None:
        on_start(record)
    state = _initial_state(
        record.id,
        spec,
        mode=chosen,
        top=top,
        tb=tb_text,
        ref=ref_text,
        interactive=interactive,
        max_iters=max_iters,
        budget_usd=budget_usd,
        max_steps=max_steps,
        samples=samples,
        seed=seed,
        backends=backends,
    )
    return await drive(record, settings, state, progress=progress, ask=ask)


async def drive(
    record: RunRecord,
    settings: Settings,
    graph_input: Any,
    *,
    progress: ProgressFn | None = None,
    ask: AskFn | None = None,
) -> DesignResult:
    """Run (or continue) the run's thread until it ends or waits for a human, then write the outputs."""
    from langgraph.types import Command

    from veriloop.agents.graph import checkpointed_graph

    deps = Deps(settings=settings, progress=progress)
    config: dict[str, Any] = {"configurable": {"thread_id": record.id}, "recursion_limit": 200}
    out_dir = Path(record.meta.get("out_dir") or record.dir / "out")
    try:
        async with checkpointed_graph(record.dir) as graph:
            pending: dict[str, Any] | None = None
            while True:
                async for _ in graph.astream(
                    graph_input, config, context=deps, stream_mode="updates", durability="sync"
                ):
                    pass
                snap = await graph.aget_state(config)
                interrupts = [i for t in snap.tasks for i in t.interrupts]
                if not interrupts:
                    break
                payload = (
                    interrupts[0].value
                    if isinstance(interrupts[0].value, dict)
                    else {"value": interrupts[0].value}
                )
                if ask is None:
                    pending = payload
                    break
                graph_input = Command(resume=ask(payload))
            values: DesignState = snap.values  # type: ignore[assignment]
    except VeriloopError as err:
        update_run(record, status="failed", meta=record.meta | {"error": err.message})
        # The user still gets the out dir and a report of what was done before the backend failed.
        if isinstance(err, BackendError) and await _write_aborted(record, config, out_dir, err):
            err.hint = ((err.hint + " ") if err.hint else "") + f"Partial outputs and report: {out_dir}"
        raise
    except (KeyboardInterrupt, asyncio.CancelledError):
        update_run(record, status="interrupted")
        raise
    finally:
        await deps.aclose()
    if pending is not None:
        update_run(record, status="interrupted", meta=record.meta | {"pending": pending.get("kind")})
        return DesignResult(
            run_id=record.id,
            status="interrupted",
            verified=False,
            reason="waiting for a human: " + str(pending.get("question", "")),
            out_dir=str(out_dir),
            pending=pending,
        )
    return finalize(record, settings, values, out_dir, deps)


async def _write_aborted(record: RunRecord, config: dict[str, Any], out_dir: Path, err: BackendError) -> bool:
    """Write the outputs of the last checkpoint with the backend's reason (best effort; True if written)."""
    from veriloop.agents import eda
    from veriloop.agents.graph import checkpointed_graph

    try:
        async with checkpointed_graph(record.dir) as graph:
            snap = await graph.aget_state(config)
        values: dict[str, Any] = dict(snap.values or {})
        reason = f"aborted: the LLM backend failed: {err.message}"
        if err.hint:
            reason += f" ({err.hint})"
        values.update(decision="backend_error", reason=reason)
        write_outputs_safe(values, out_dir, eda.versions(), 0)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - the backend's error is the one the user must see
        return False
    return True


def finalize(
    record: RunRecord, settings: Settings, values: DesignState, out_dir: Path, deps: Deps
) -> DesignResult:
    from veriloop.agents import eda
    from veriloop.agents.lessons import store_lessons

    stored = store_lessons(deps, values) if values.get("fixes") else 0
    report = write_outputs_safe(values, out_dir, eda.versions(), stored)
    status = "done" if report.verified else "failed"
    update_run(
        record,
        status=status,
        meta=record.meta
        | {
            "verified": report.verified,
            "reason": report.reason,
            "out_dir": str(out_dir),
            "usd": report.usd,
            "iterations": report.iterations,
        },
    )
    return DesignResult(
        run_id=record.id,
        status=report.status,
        verified=report.verified,
        reason=report.reason,
        out_dir=str(out_dir),
        files=[str(out_dir / f) for f in report.files],
        report=report.model_dump(mode="json"),
    )


def write_outputs_safe(
    values: DesignState, out_dir: Path, versions: dict[str, str | None], stored: int
) -> Any:
    from veriloop.agents.report import write_outputs
    from veriloop.errors import StoreError

    try:
        return write_outputs(values, out_dir, versions, stored)
    except OSError as exc:
        raise StoreError(f"Cannot write the design outputs to {out_dir}: {exc.strerror}.") from None
