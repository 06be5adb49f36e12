"""The design graph as LangGraph's server (`langgraph dev`, Studio) runs it: its own Deps, options, stream.

`langgraph.json` names `make_graph`. The server calls it once per request with the run's config
and context; it yields the design graph with three additions the CLI does not need:

- every agent node gets this run's `Deps` (settings read as the CLI reads them: `veriloop.toml`
  in the server's working directory or the user's config dir, plus `VERILOOP_*` variables), and
  the agents' progress messages go to the run's `custom` stream;
- an `intake` node turns the request (`{"spec": ..., "interactive": true, ...}`) into the initial
  state; options not in the input come from the run's `context`, then its `configurable`
  (`RunOptions` is the schema Studio shows as a form), then the CLI's defaults; inputs are
  checked exactly as `veriloop design` checks them;
- a `finish` node writes the outputs under `<data dir>/studio/<thread id>/` and puts a short
  `result` (status VERIFIED / NOT VERIFIED, reason, where the files are) into the state.

`interactive` runs stop at `interrupt()` for the plan and the final design; answer from Studio or
with `Command(resume="yes" | "no" | "<feedback>")` (API: `{"command": {"resume": "yes"}}`).
"""

from __future__ import annotations

import asyncio
import inspect
import re
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any, Required

from langchain_core.runnables import RunnableConfig
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from veriloop.agents.deps import Deps
from veriloop.agents.graph import build_graph  # imported with the module: the server loads it at start-up
from veriloop.agents.state import DesignState, Mode
from veriloop.errors import VeriloopError

GRAPH_NAME = "veriloop-design"


class DesignRunError(ValueError):
    """A VeriloopError as the server reports it (it shows only ValueError-like messages to clients)."""

    def __init__(self, err: VeriloopError) -> None:
        super().__init__(f"{type(err).__name__}: {err.message}" + (f" Hint: {err.hint}" if err.hint else ""))


@contextmanager
def user_errors() -> Iterator[None]:
    """Let the sentence of a VeriloopError reach the run's error instead of "An internal error occurred"."""
    try:
        yield
    except VeriloopError as err:
        raise DesignRunError(err) from err


class RunOptions(BaseModel):
    """A design run's options (the run's `context`; Studio shows it as a form). Unset means default."""

    backend: str | None = Field(None, description="LLM backend for every agent (default: default_backend).")
    mode: Mode | None = Field(
        None, description="self-verified (agents build their checks) or oracle-tb (needs tb)."
    )
    max_iters: int | None = Field(None, ge=1, description="Design iterations at most (default 4).")
    samples: int | None = Field(
        None, ge=1, le=16, description="Candidate designs on the first pass (default 1)."
    )
    seed: int | None = Field(None, description="Seed for the backends (default 0).")
    tb: str | None = Field(None, description="Testbench text or a file on the server (oracle-tb mode).")
    ref: str | None = Field(None, description="Reference design text or file, checked for equivalence.")
    top: str | None = Field(None, description="Top module name.")
    interactive: bool | None = Field(
        None, description="Stop for a human's approval of the plan and of the final design."
    )
    budget_usd: float | None = Field(None, gt=0, description="Dollar budget for LLM calls.")
    max_steps: int | None = Field(None, ge=1, description="LLM calls per agent turn at most (default 4).")


OPTION_DEFAULTS: dict[str, Any] = {
    "max_iters": 4,
    "samples": 1,
    "seed": 0,
    "interactive": False,
    "max_steps": 4,
}


class DesignRequest(TypedDict, total=False):
    """The run's input: the spec, and any option (these win over context and configurable)."""

    spec: Required[str]
    backend: str
    mode: Mode
    max_iters: int
    samples: int
    seed: int
    tb: str
    ref: str
    top: str
    interactive: bool
    budget_usd: float
    max_steps: int


class ServerState(DesignState, total=False):
    """The design state plus what only server runs carry."""

    backend: str
    result: dict[str, Any]
    """Written by `finish`: status, verified, reason, top, iterations, usd, out_dir, files."""


def resolve_options(
    given: Mapping[str, Any], context: Any, configurable: Mapping[str, Any]
) -> dict[str, Any]:
    """Each option from the input, else the run's context, else its configurable, else the default."""
    fields = RunOptions.model_fields
    merged: dict[str, Any] = dict(OPTION_DEFAULTS)
    layers: list[Mapping[str, Any]] = [configurable or {}]
    if isinstance(context, RunOptions):
        layers.append({k: getattr(context, k) for k in context.model_fields_set})
    elif isinstance(context, Mapping):
        layers.append(context)
    layers.append(given)
    for layer in layers:
        # None and "" (an empty field in Studio's form) mean "not given".
        merged.update({k: v for k, v in layer.items() if k in fields and v is not None and v != ""})
    return RunOptions.model_validate(merged).model_dump()


def _progress_to_stream(agent: str, iteration: int, message: str) -> None:
    """An agent's progress message as a `custom` stream chunk (dropped outside a graph step)."""
    from langgraph.config import get_stream_writer

    try:
        writer = get_stream_writer()
    except RuntimeError:
        return
    writer({"agent": agent, "iteration": iteration, "message": message})


def bind_deps(deps: Deps) -> Callable[[Any], Any]:
    """Wrap an agent node so that it sees `deps` as its runtime context (sync and async nodes alike)."""

    def bind(fn: Any) -> Any:
        if inspect.iscoroutinefunction(fn):

            async def anode(state: DesignState, runtime: Any) -> Any:
                with user_errors():
                    return await fn(state, runtime.override(context=deps))

            node: Any = anode
        else:

            def snode(state: DesignState, runtime: Any) -> Any:
                with user_errors():
                    return fn(state, runtime.override(context=deps))

            node = snode
        node.__name__, node.__doc__ = fn.__name__, fn.__doc__
        return node

    return bind


def _intake(deps: Deps) -> Callable[..., Any]:
    async def intake(state: ServerState, config: RunnableConfig, runtime: Any) -> dict[str, Any]:
        """Check the request as `veriloop design` does and build the initial state."""
        from veriloop.agents.run import _initial_state, prepare

        configurable = dict(config.get("configurable") or {})
        opts = resolve_options(state, getattr(runtime, "context", None), configurable)
        spec = str(state.get("spec") or "")
        with user_errors():
            p = await asyncio.to_thread(
                prepare,
                spec,
                deps.settings,
                tb=opts["tb"],
                ref=opts["ref"],
                top=opts["top"],
                backend=opts["backend"],
                mode=opts["mode"],
                max_iters=opts["max_iters"],
                budget_usd=opts["budget_usd"],
            )
        # Open the knowledge store off the event loop now, so the agents find it ready.
        await asyncio.to_thread(deps.knowledge)
        thread = str(configurable.get("thread_id") or "")
        names = ", ".join(sorted(set(p.backends.values())))
        deps.say("planner", 0, f"run on thread {thread}: {p.mode}, backend(s) {names}")
        initial = _initial_state(
            thread,
            p.spec,
            mode=p.mode,
            top=p.top,
            tb=p.tb,
            ref=p.ref,
            interactive=bool(opts["interactive"]),
            max_iters=opts["max_iters"],
            budget_usd=opts["budget_usd"],
            max_steps=opts["max_steps"],
            samples=opts["samples"],
            seed=opts["seed"],
            backends=p.backends,
        )
        return {**initial, "backend": opts["backend"] or "", "result": {}}

    return intake


def _finish(deps: Deps) -> Callable[..., Any]:
    async def finish(state: ServerState, config: RunnableConfig) -> dict[str, Any]:
        """Store lessons, write the outputs as the CLI does, and summarise the outcome in `result`."""
        from veriloop.agents import eda
        from veriloop.agents.lessons import store_lessons
        from veriloop.agents.run import write_outputs_safe

        thread = str((config.get("configurable") or {}).get("thread_id") or "")
        # The thread id names a directory: keep it one safe path component.
        folder = re.sub(r"[^A-Za-z0-9_-]", "_", thread)[:100] or "local"
        out_dir = Path(deps.settings.data_path).resolve() / "studio" / folder
        stored = await asyncio.to_thread(store_lessons, deps, state) if state.get("fixes") else 0
        versions = await asyncio.to_thread(eda.versions)
        with user_errors():
            report = await asyncio.to_thread(write_outputs_safe, state, out_dir, versions, stored)
        label = "VERIFIED" if report.verified else "NOT VERIFIED"
        deps.say("planner", int(state.get("iteration", 0)), f"{label}: {report.reason}")
        result = {
            "status": label,
            "verified": report.verified,
            "reason": report.reason,
            "top": report.top,
            "iterations": report.iterations,
            "usd": report.usd,
            "out_dir": str(out_dir),
            "files": list(report.files),
        }
        return {"result": result}

    return finish


def build_server_graph(deps: Deps) -> Any:
    """The compiled design graph bound to `deps` (no checkpointer: the server brings its own)."""
    g = build_graph(
        state_schema=ServerState,
        input_schema=DesignRequest,
        context_schema=RunOptions,
        bind=bind_deps(deps),
        intake=_intake(deps),
        finish=_finish(deps),
    )
    return g.compile(name=GRAPH_NAME)


@asynccontextmanager
async def make_graph(config: RunnableConfig) -> AsyncIterator[Any]:
    """`langgraph.json` entry: the design graph with a Deps of its own, closed when the server is done."""
    from veriloop.config import load_settings

    with user_errors():
        settings = await asyncio.to_thread(load_settings)
    deps = Deps(settings=settings, progress=_progress_to_stream)
    try:
        yield build_server_graph(deps)
    finally:
        await deps.aclose()
