"""The UI's JSON API over a run built with veriloop's own stores (no browser): what each endpoint
reads, the steering note's checks, and the errors a page shows."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from veriloop import runstore
from veriloop.evolve.database import DatabaseConfig, IterationRow, ProgramDatabase, ProgramRow
from veriloop.web.server import build_app


def program(i: int, parent: str | None, score: float | None, island: int = 0) -> ProgramRow:
    code = f"def f():\n    return {i}\n"
    h = hashlib.sha256(code.encode()).hexdigest()
    return ProgramRow(id=f"{i:06d}-{h[:6]}", iteration=i, parent_id=parent, island=island, code=code,
                      code_hash=h,
                      status="ok" if score is not None else "eval_failed", combined_score=score,
                      metrics={"combined_score": score or 0.0}, artifacts={"feedback": f"fb {i}"},
                      features={"combined_score": score or 0.0, "code_length": float(len(code))},
                      fault=None if score is not None else "timeout", model="offline", cost=0.5)


@pytest.fixture
def world(tmp_path: Path) -> tuple[TestClient, runstore.RunRecord, list[ProgramRow]]:
    data = tmp_path / "data"
    rec = runstore.create_run(data, "evolve", title="tiny", meta={"options": {"iterations": 3}})
    db = ProgramDatabase(rec.dir / "programs.sqlite", DatabaseConfig(num_islands=2))
    progs = [program(0, None, 1.0)]
    progs.append(program(1, progs[0].id, 2.0, 1))
    progs.append(program(2, progs[1].id, None))
    for p in progs:
        db.record(IterationRow(iteration=p.iteration, status="evaluated", program_id=p.id, cost=p.cost,
                               fault=p.fault), p)
    db.close()
    runstore.update_run(rec, status="done")
    return TestClient(build_app(data), base_url="http://127.0.0.1"), rec, progs


def test_runs_list_and_evolve_view_read_the_program_database(world) -> None:  # type: ignore[no-untyped-def]
    client, rec, progs = world
    (row,) = client.get("/api/runs").json()
    assert row["id"] == rec.id and row["state"] == "done"
    assert (row["done"], row["total"], row["best"], row["spend"]) == (3, 4, 2.0, 1.5)
    view = client.get(f"/api/evolve/{rec.id}").json()
    assert [p[0] for p in view["programs"]] == [p.id for p in progs]
    assert view["best"] == {"id": progs[1].id, "score": 2.0}
    assert view["stats"]["by_status"] == {"evaluated": 3} and view["stats"]["planned"] == 4
    assert view["grid"]["dims"] == ["code_length", "combined_score"] and len(view["grid"]["cells"]) == 2
    by_island = view["grid"]["by_island"]  # programs born on each island, binned over the run's range
    assert {k: [c[2] for c in v] for k, v in by_island.items()} == {"0": [progs[0].id], "1": [progs[1].id]}


def test_program_detail_has_the_diff_from_its_parent(world) -> None:  # type: ignore[no-untyped-def]
    client, rec, progs = world
    p = client.get(f"/api/evolve/{rec.id}/program/{progs[1].id}").json()
    assert p["parent_diff"].splitlines()[:2] == [f"--- parent {progs[0].id}", f"+++ program {progs[1].id}"]
    assert "-    return 0" in p["parent_diff"] and "+    return 1" in p["parent_diff"]
    assert p["children"] == [progs[2].id] and p["parent_score"] == 1.0
    assert p["artifacts"] == {"feedback": "fb 1"} and p["cost"] == 0.5
    failed = client.get(f"/api/evolve/{rec.id}/program/{progs[2].id}").json()
    assert failed["fault"] == "timeout" and failed["combined_score"] is None
    missing = client.get(f"/api/evolve/{rec.id}/program/nope")
    assert missing.status_code == 404 and "no program 'nope'" in missing.json()["error"]


def test_steering_note_is_checked_then_stored_with_its_time(world) -> None:  # type: ignore[no-untyped-def]
    client, rec, _ = world
    url = f"/api/evolve/{rec.id}/notes"
    assert client.post(url, content="text=hi", headers={"Content-Type": "application/x-www-form-urlencoded"}
                       ).status_code == 415
    assert client.post(url, json={"text": "   "}).status_code == 400
    assert client.post(url, json={"text": "x" * 5000}).status_code == 400
    ok = client.post(url, json={"text": "try smaller constants"})
    assert ok.status_code == 200 and ok.json()["text"] == "try smaller constants"
    conn = sqlite3.connect(rec.dir / "programs.sqlite")
    assert conn.execute("SELECT text FROM notes").fetchall() == [("try smaller constants",)]
    conn.close()
    assert client.get(f"/api/runs/{rec.id}/status").json()["notes"] == 1
    assert client.get(f"/api/evolve/{rec.id}").json()["notes"][0]["text"] == "try smaller constants"


def test_unknown_runs_wrong_kinds_and_a_run_without_database(tmp_path: Path) -> None:
    data = tmp_path / "data"
    rec = runstore.create_run(data, "evolve", title="starting", meta={"options": {"iterations": 9}})
    client = TestClient(build_app(data), base_url="http://127.0.0.1")
    view = client.get(f"/api/evolve/{rec.id}").json()  # started, nothing evaluated yet
    assert view["programs"] == [] and view["stats"]["planned"] == 10 and view["run"]["state"] == "running"
    assert client.get("/api/evolve/e-nope").status_code == 404
    wrong = client.get(f"/api/bench/{rec.id}")
    assert wrong.status_code == 404 and "not a bench run" in wrong.json()["error"]
    assert client.get("/").status_code == 200 and "app.js" in client.get("/").text
    assert client.get("/static/app.js").status_code == 200
    foreign = TestClient(build_app(data), base_url="http://attacker.example")
    assert foreign.get("/api/runs").status_code == 403
    gated = TestClient(build_app(data, token="s3cret"), base_url="http://10.0.0.5")
    assert gated.get("/api/runs").status_code == 401
    assert gated.get("/api/runs", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    first = gated.get("/?token=s3cret")
    assert first.status_code == 200 and "veriloop_ui_token=s3cret" in first.headers["set-cookie"]
