"""`veriloop ui` in headless Chromium: every view over runs the test makes with the offline backend,
click-through to a program's diff and a sample's log, a running evolve run updating live, a steering
note, and the token needed off loopback. The evolve view's screenshot goes to docs/ui.png (README)."""

from __future__ import annotations

import json
import sqlite3
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from veriloop.problems import problem_path

from .conftest import VEV2_FIXTURE, UiServer, finish, needs_browser, veriloop, wait_for

pytestmark = [needs_browser, pytest.mark.timeout(300)]

SCREENSHOT = Path(__file__).parents[2] / "docs" / "ui.png"
SPEC = "8-bit up counter with synchronous active-high reset and enable"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One finished evolve, bench and design run, made concurrently by the real CLI."""
    data = tmp_path_factory.mktemp("ui-runs") / "data"
    data.mkdir()
    procs = [
        veriloop(data, "evolve", str(problem_path("cache_policy")), "--iterations", "5"),
        veriloop(data, "bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
                 "--backend", "reference", "--limit", "3"),
        veriloop(data, "design", SPEC),
    ]
    for p in procs:
        finish(p, timeout=150)
    # a second, smaller bench run to compare against (made after the first: ids sort by time)
    time.sleep(1.1)
    finish(veriloop(data, "bench", "run", "--suite", "verilog-eval", "--path", str(VEV2_FIXTURE),
                    "--backend", "reference", "--limit", "2"), timeout=120)
    ids = sorted(d.name for d in (data / "runs").iterdir())
    kind = {k: [i for i in ids if i.startswith(k)] for k in "ebd"}
    return {"data": data, "evolve": kind["e"][0], "bench": kind["b"][0], "bench2": kind["b"][1],
            "design": kind["d"][0]}


@pytest.fixture(scope="module")
def server(runs: dict[str, Any]) -> Iterator[UiServer]:
    srv = UiServer(runs["data"])
    try:
        yield srv
    finally:
        srv.stop()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    pg = browser.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda exc: errors.append(str(exc)))
    pg.set_default_timeout(20_000)
    try:
        yield pg
        assert not errors, errors
    finally:
        pg.close()


def test_runs_list_shows_every_kind_and_filters(page: Any, server: UiServer, runs: dict[str, Any]) -> None:
    page.goto(server.url)
    page.wait_for_selector("#runs")
    rows = page.locator("#runs tr[data-run]")
    assert rows.count() == 4
    text = page.locator("#runs").inner_text()
    assert "evolve cache_policy" in text and "verilog-eval" in text and "100.0% pass" in text
    assert "verified" in text and "done" in text
    page.select_option("#f-kind", "bench")
    assert rows.count() == 2 and {rows.nth(i).get_attribute("data-run") for i in range(2)} == {
        runs["bench"], runs["bench2"]}
    page.select_option("#f-kind", "")
    page.fill("#f-text", "counter")
    assert rows.count() == 1 and rows.first.get_attribute("data-run") == runs["design"]
    page.fill("#f-text", "")
    page.locator(f"#runs tr[data-run='{runs['evolve']}'] td").nth(2).click()
    page.wait_for_selector("#lineage")
    assert f"#/evolve/{runs['evolve']}" in page.url


def test_evolve_view_lineage_click_opens_program_diff(page: Any, server: UiServer,
                                                      runs: dict[str, Any]) -> None:
    page.goto(f"{server.url}#/evolve/{runs['evolve']}")
    page.wait_for_selector("#lineage circle")
    assert page.locator("#lineage circle").count() == 6  # the seed and five children
    assert page.locator("#evolve-progress").inner_text() == "6 / 6 iterations"
    assert page.locator("#score-chart path[data-island]").count() >= 1
    assert page.locator("#map-elites rect[data-id]").count() >= 1
    # click the newest program's node: its diff from the parent, metrics and code appear
    api = json.loads(page.evaluate(f"fetch('/api/evolve/{runs['evolve']}').then(r => r.text())"))
    newest = api["programs"][-1][0]
    page.locator(f"#lineage circle[data-id='{newest}']").click()
    page.wait_for_selector("#program-diff")
    assert f"Program {newest}" in page.locator("#program-title").inner_text()
    diff = page.locator("#program-diff").inner_text()
    assert diff.startswith("--- parent ") and "\n@@" in diff
    assert page.locator("#program-diff .add").count() + page.locator("#program-diff .del").count() >= 1
    assert "hit_rate" in page.locator("#program-metrics").inner_text()
    assert "def make_policy" in page.locator("#program-code").inner_text()
    assert page.locator("#lineage circle.sel").get_attribute("data-id") == newest
    # a MAP-Elites cell opens its champion; one island's grid holds no more cells than the whole run's
    all_cells = page.locator("#map-elites rect[data-id]").count()
    page.select_option("#grid-island", "1")
    assert 1 <= page.locator("#map-elites rect[data-id]").count() <= all_cells
    page.select_option("#grid-island", "")
    page.locator("#map-elites rect[data-id]").first.click()
    page.wait_for_function("document.querySelector('#program-title').textContent.includes('Program')")
    page.locator(f"#lineage circle[data-id='{newest}']").scroll_into_view_if_needed()
    page.locator(f"#lineage circle[data-id='{newest}']").click()
    page.wait_for_function(f"document.querySelector('#program-title').textContent.includes('{newest}')")
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT), full_page=False)
    assert SCREENSHOT.stat().st_size > 10_000


def test_bench_view_grid_click_opens_sample_log(page: Any, server: UiServer, runs: dict[str, Any]) -> None:
    page.goto(f"{server.url}#/bench/{runs['bench']}")
    page.wait_for_selector("#bench-grid .sq")
    groups = page.locator("#bench-groups").inner_text()
    assert "reference" in groups and "100.0%" in groups
    assert page.locator("#bench-grid .sq.p").count() == 3
    page.locator("#bench-grid .sq").first.click()
    page.wait_for_selector("#sample-log")
    assert "Prob001_and2" in page.locator("#sample-title").inner_text()
    assert page.locator("#sample-verdict").inner_text().startswith("pass")
    log = page.locator("#sample-log").inner_text()
    assert "Mismatches" in log or "mismatch" in log.lower(), log
    diff = page.locator("#sample-diff").inner_text()  # the reference backend answers with the reference
    assert diff == "(identical to the reference)" or diff.startswith("--- Prob001_and2 reference\n")
    assert "module TopModule" in page.locator("#sample-code").inner_text()


def test_design_view_steps_verdicts_rtl_report(page: Any, server: UiServer, runs: dict[str, Any]) -> None:
    page.goto(f"{server.url}#/design/{runs['design']}")
    page.wait_for_selector("#design-steps details")
    steps = page.locator("#design-steps details")
    assert steps.count() >= 3
    agents = page.locator("#design-steps summary b").all_inner_texts()
    assert any("planner" in a for a in agents) and any("verifier" in a for a in agents)
    kinds = page.locator("#design-steps summary").all_inner_texts()
    assert any("· prompt ·" in k for k in kinds) and any("· tool ·" in k for k in kinds)
    assert "PASS" in page.locator("#design-verdicts").inner_text()
    assert "module" in page.locator("#design-rtl").inner_text()
    assert "verified" in page.locator("#design-report").inner_text().lower()


def test_running_evolve_run_updates_live_and_takes_a_steering_note(
    browser: Any, tmp_path: Path
) -> None:
    data = tmp_path / "live" / "data"
    data.mkdir(parents=True)
    run = veriloop(data, "evolve", str(problem_path("cache_policy")), "--iterations", "40")
    srv = UiServer(data)
    page = browser.new_page()
    page.set_default_timeout(20_000)
    try:
        db = wait_for(lambda: next(iter((data / "runs").glob("*/programs.sqlite")), None)
                      if (data / "runs").is_dir() else None, timeout=60)
        run_id = db.parent.name
        page.goto(srv.url)
        page.wait_for_selector(f"#runs tr[data-run='{run_id}'] .state-running")
        page.goto(f"{srv.url}#/evolve/{run_id}")
        page.wait_for_selector("#evolve-progress")
        page.wait_for_selector("#live", state="visible")  # set once the first status poll answers
        first = page.locator("#evolve-progress").inner_text()
        # the page polls; without a reload its numbers move while the run goes
        page.wait_for_function(
            "t => document.querySelector('#evolve-progress').textContent !== t", arg=first, timeout=60_000)
        later = page.locator("#evolve-progress").inner_text()
        assert int(later.split()[0]) > int(first.split()[0]) and later.endswith("/ 41 iterations")
        page.fill("#note-text", "prefer recency-weighted frequency")
        page.click("#note-send")
        page.wait_for_function("document.querySelector('#notes').textContent.includes('recency-weighted')")
        conn = sqlite3.connect(db)
        try:
            (text, created), = conn.execute("SELECT text, created FROM notes").fetchall()
        finally:
            conn.close()
        assert text == "prefer recency-weighted frequency" and abs(created - time.time()) < 120
    finally:
        page.close()
        srv.stop()
        if run.poll() is None:
            run.terminate()
        run.communicate(timeout=60)


def _get(url: str, **headers: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as r:
            return int(r.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def test_off_loopback_needs_the_printed_token_and_loopback_refuses_foreign_hosts(
    browser: Any, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    srv = UiServer(data, "--host", "0.0.0.0")
    try:
        assert "?token=" in srv.url
        token = srv.url.split("?token=", 1)[1]
        port = srv.base.rsplit(":", 1)[1].rstrip("/")
        base = f"http://127.0.0.1:{port}/"
        assert _get(base + "api/runs") == 401
        assert _get(base) == 401
        assert _get(base + "api/runs?token=wrong" + token[:4]) == 401
        assert _get(base + f"api/runs?token={token}") == 200
        assert _get(base + "api/runs", Authorization=f"Bearer {token}") == 200
        assert _get(base + "static/app.js", Cookie=f"veriloop_ui_token={token}") == 200
        # the page opened with the token keeps working through its cookie (the API calls carry no token)
        page = browser.new_page()
        try:
            page.goto(base + f"?token={token}")
            page.wait_for_selector("#runs-count")
            assert page.locator("#runs-table").inner_text() == "No runs."
            status = page.evaluate("fetch('/api/runs').then(r => r.status)")
            assert status == 200
        finally:
            page.close()
    finally:
        srv.stop()
    local = UiServer(data)
    try:
        assert "token" not in local.url and local.base.startswith("http://127.0.0.1:")
        assert _get(local.base + "api/runs") == 200
        assert _get(local.base + "api/runs", Host="attacker.example") == 403
    finally:
        local.stop()


def test_interactive_design_waiting_for_a_human_is_approved_from_the_page(
    browser: Any, tmp_path: Path
) -> None:
    data = tmp_path / "ask" / "data"
    data.mkdir(parents=True)
    # no one at the terminal: the run stops at the plan approval, its question saved in the checkpoint
    proc = veriloop(data, "design", SPEC, "--interactive")
    proc.communicate(timeout=120)
    (run_dir,) = (data / "runs").iterdir()
    srv = UiServer(data)
    page = browser.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(f"{srv.url}#/design/{run_dir.name}")
        page.wait_for_selector("#design-question")
        assert "approve_plan" in page.locator("#design-question h3").inner_text()
        assert "Approve this plan?" in page.locator("#design-question").inner_text()
        page.click("#answer-approve")
        # the server continues the thread; the page follows it to the next question
        page.wait_for_function("document.querySelector('#design-question h3')?.textContent"
                               ".includes('approve_final')", timeout=90_000)
        assert "Stop the run" not in page.locator("#design-question").inner_text()
        page.click("#answer-approve")
        page.wait_for_function("document.querySelector('#design-report')?.textContent.toLowerCase()"
                               ".includes('verified')", timeout=90_000)
        record = json.loads((run_dir / "run.json").read_text())
        assert record["status"] == "done" and record["meta"]["verified"] is True
        humans = page.locator("#design-steps summary").all_inner_texts()
        assert sum("human" in h for h in humans) >= 2
    finally:
        page.close()
        srv.stop()


def test_two_bench_runs_side_by_side(page: Any, server: UiServer, runs: dict[str, Any]) -> None:
    page.goto(f"{server.url}#/bench/{runs['bench']}")
    page.wait_for_selector(f"#compare-with option[value='{runs['bench2']}']", state="attached")
    page.select_option("#compare-with", runs["bench2"])
    page.wait_for_selector("#compare-pairs")
    assert f"#/compare/{runs['bench']}/{runs['bench2']}" in page.url
    row = page.locator("#compare-pairs tr").nth(1).inner_text()
    assert "+0.0 pts" in row and "100.0%" in row
    cells = page.locator("#compare-pairs tr").nth(1).locator("td")
    assert cells.nth(5).inner_text() == "2"  # the two problems both runs graded
    grid = page.locator("#compare-grid").inner_text()
    assert "Prob003_xor2" in grid and page.locator("#compare-grid .sq.p").count() == 5
