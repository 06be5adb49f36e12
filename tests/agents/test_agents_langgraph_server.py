"""The design graph under LangGraph's own server (`langgraph dev`, in memory), driven through its HTTP API."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from veriloop.agents.server import RunOptions, resolve_options
from veriloop.testing.processes import free_port, stop_group

ROOT = Path(__file__).resolve().parents[2]
SPEC = "8-bit up counter with synchronous active-high reset and enable"
STARTUP_S = 120
REQUEST_S = 240


def _server_env(tmp_path: Path) -> dict[str, str]:
    """No keys, no tracing, no analytics or version checks: the server talks to nothing but us."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.endswith(("_API_KEY", "_ENDPOINT")) and not k.startswith(("LANGSMITH_", "LANGCHAIN_"))
    }
    env.update(
        LANGSMITH_TRACING="false",
        LANGSMITH_TRACING_V2="false",
        LANGCHAIN_TRACING_V2="false",
        LANGGRAPH_CLI_NO_ANALYTICS="1",
        LANGGRAPH_NO_VERSION_CHECK="true",
        VERILOOP_DATA_DIR=str(tmp_path / "data"),
        XDG_CONFIG_HOME=str(tmp_path / "xdg"),
        HF_HUB_OFFLINE="1",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    """`langgraph dev` on 127.0.0.1:<free port> in its own session; the whole session is killed after."""
    pytest.importorskip("langgraph_api", reason="needs the [studio] extra (langgraph-cli[inmem])")
    port = free_port()
    log = (tmp_path / "server.log").open("wb")
    argv = [
        str(Path(sys.executable).with_name("langgraph")),
        "dev",
        "--config",
        str(ROOT / "langgraph.json"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-browser",
        "--no-reload",
        "--server-log-level",
        "WARNING",
    ]
    env = _server_env(tmp_path)
    proc = subprocess.Popen(
        argv, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail("langgraph dev exited:\n" + (tmp_path / "server.log").read_text()[-4000:])
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/ok", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                pytest.fail("langgraph dev did not answer:\n" + (tmp_path / "server.log").read_text()[-4000:])
            time.sleep(0.5)
        yield url
    finally:
        stopped = stop_group(proc, grace_s=20)
        log.close()
        assert stopped, "langgraph dev left processes behind"


def _post(client: Any, path: str, body: dict[str, Any]) -> Any:
    r = client.post(path, json=body)
    assert r.status_code < 300, (path, r.status_code, r.text[:2000])
    return r.json()


def _stream(client: Any, path: str, body: dict[str, Any]) -> list[tuple[str, Any]]:
    """A run's server-sent events as (event, data) pairs."""
    events: list[tuple[str, Any]] = []
    event, data = "", []
    with client.stream("POST", path, json=body) as r:
        assert r.status_code == 200, r.read()[:2000]
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
            elif not line and event:
                events.append((event, json.loads("\n".join(data)) if data else None))
                event, data = "", []
    return events


def _interrupt(values: dict[str, Any]) -> dict[str, Any]:
    pending = values.get("__interrupt__") or []
    assert pending, sorted(values)
    return dict(pending[0]["value"])


def test_run_options_come_from_input_then_context_then_configurable() -> None:
    given = {"spec": "x", "samples": 2, "mode": ""}  # "" is an empty field in Studio's form: not given
    context = RunOptions(seed=5, samples=3)
    configurable = {"seed": 7, "max_iters": 9, "thread_id": "t"}
    opts = resolve_options(given, context, configurable)
    assert (opts["samples"], opts["seed"], opts["max_iters"]) == (2, 5, 9)
    assert opts["mode"] is None and opts["interactive"] is False and opts["max_steps"] == 4
    assert resolve_options({}, {"interactive": True}, {})["interactive"] is True
    with pytest.raises(ValueError, match="samples"):
        resolve_options({"samples": 40}, None, {})


@pytest.mark.timeout(300)
def test_design_graph_runs_streams_and_resumes_under_langgraph_dev(server: str, tmp_path: Path) -> None:
    with httpx.Client(base_url=server, timeout=REQUEST_S) as client:
        assistants = _post(client, "/assistants/search", {"graph_id": "design"})
        assert assistants, "langgraph.json's design graph is not registered"
        aid = assistants[0]["assistant_id"]
        schemas = client.get(f"/assistants/{aid}/schemas").json()
        form = schemas["context_schema"]["properties"]
        for option in ("backend", "mode", "max_iters", "samples", "seed", "tb", "ref", "interactive"):
            assert option in form, option
        assert "spec" in schemas["input_schema"]["properties"]

        # 1. A plain run, streamed: node updates and the agents' progress messages arrive as they happen.
        tid = _post(client, "/threads", {})["thread_id"]
        events = _stream(
            client,
            f"/threads/{tid}/runs/stream",
            {
                "assistant_id": aid,
                "input": {"spec": SPEC},
                "context": {"max_iters": 2, "seed": 3},
                "stream_mode": ["updates", "custom"],
            },
        )
        kinds = [e for e, _ in events]
        assert "error" not in kinds, events[-3:]
        nodes = [next(iter(d)) for e, d in events if e == "updates"]
        assert nodes[:2] == ["intake", "planner"] and nodes[-1] == "finish", nodes
        assert {"architect", "generator", "verifier", "evaluator", "review"} <= set(nodes)
        said = [d for e, d in events if e == "custom"]
        assert {"planner", "generator", "verifier"} <= {d["agent"] for d in said}
        assert any(d["message"].startswith("VERIFIED") for d in said), said

        state = client.get(f"/threads/{tid}/state").json()
        values = state["values"]
        assert state["next"] == []
        result = values["result"]
        assert result["status"] == "VERIFIED" and result["verified"], result
        assert values["max_iters"] == 2 and values["seed"] == 3  # the options came from the run's context
        assert values["backends"]["generator"] == "offline"
        last = values["verdicts"][-1]
        assert last["passed"] and last["mismatches"] == 0 and last["samples"] > 0
        top = result["top"]
        assert f"module {top}" in values["rtl"][top]
        report = json.loads((Path(result["out_dir"]) / "report.json").read_text())
        assert report["status"] == "verified" and report["run_id"] == tid
        assert Path(result["out_dir"]).is_relative_to(tmp_path / "data")

        history = _post(client, f"/threads/{tid}/history", {"limit": 50})
        stepped = [n for h in history for n in h["next"]]
        for node in ("intake", "planner", "architect", "generator", "verifier", "evaluator", "review"):
            assert node in stepped, (node, stepped)
        assert "finish" in stepped
        assert history[0]["values"]["result"]["status"] == "VERIFIED"

        # Fork from the checkpoint before the planner's review: only review and finish run again.
        before_review = next(h for h in history if h["next"] == ["review"])
        forked = _stream(
            client,
            f"/threads/{tid}/runs/stream",
            {
                "assistant_id": aid,
                "input": None,
                "checkpoint_id": before_review["checkpoint"]["checkpoint_id"],
                "stream_mode": ["updates"],
            },
        )
        assert [next(iter(d)) for e, d in forked if e == "updates"] == ["review", "finish"], forked
        assert client.get(f"/threads/{tid}/state").json()["values"]["result"]["status"] == "VERIFIED"

        # 2. An interactive run (asked for in the input) stops at the plan and at the final design.
        tid = _post(client, "/threads", {})["thread_id"]
        out = _post(
            client,
            f"/threads/{tid}/runs/wait",
            {"assistant_id": aid, "input": {"spec": SPEC, "interactive": True}},
        )
        asked = _interrupt(out)
        assert asked["kind"] == "approve_plan" and asked["plan"]["top"], asked
        state = client.get(f"/threads/{tid}/state").json()
        assert state["next"] == ["approve_plan"]
        assert state["tasks"][0]["interrupts"][0]["value"]["kind"] == "approve_plan"

        out = _post(client, f"/threads/{tid}/runs/wait", {"assistant_id": aid, "command": {"resume": "yes"}})
        asked = _interrupt(out)
        assert asked["kind"] == "approve_final" and asked["verdict"]["passed"], asked
        out = _post(client, f"/threads/{tid}/runs/wait", {"assistant_id": aid, "command": {"resume": "yes"}})
        assert "__interrupt__" not in out or not out["__interrupt__"]
        assert out["result"]["status"] == "VERIFIED", out.get("result")
        said = [e["text"] for e in out["transcript"] if e["kind"] == "human"]
        assert said == ["plan approval: yes", "final approval: yes"], said
        history = _post(client, f"/threads/{tid}/history", {"limit": 50})
        assert sum(1 for h in history if h["next"] == ["approve_plan"]) >= 1

        # 3. interactive from `configurable`; a human who rejects the plan stops the run, honestly reported.
        tid = _post(client, "/threads", {})["thread_id"]
        out = _post(
            client,
            f"/threads/{tid}/runs/wait",
            {"assistant_id": aid, "input": {"spec": SPEC}, "config": {"configurable": {"interactive": True}}},
        )
        assert _interrupt(out)["kind"] == "approve_plan"
        out = _post(client, f"/threads/{tid}/runs/wait", {"assistant_id": aid, "command": {"resume": "no"}})
        assert out["decision"] == "human_stop", out.get("decision")
        assert out["result"]["status"] == "NOT VERIFIED", out.get("result")
        assert "rejected by a human" in out["result"]["reason"]

        # 4. Bad input is refused before work starts, with veriloop's own sentence.
        tid = _post(client, "/threads", {})["thread_id"]
        out = _post(client, f"/threads/{tid}/runs/wait", {"assistant_id": aid, "input": {"spec": "  "}})
        error = out.get("__error__") or {}
        assert "InputError: The design spec is empty." in error.get("message", ""), out
        assert client.get(f"/threads/{tid}/state").json()["values"].get("result") is None
