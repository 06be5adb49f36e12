"""Web UI test helpers: runs made by the real CLI (offline backend), `veriloop ui` started as a real
server process, and Debian's headless Chromium driven by Playwright."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
VEV2_FIXTURE = Path(__file__).parents[1] / "bench" / "fixtures" / "vev2"
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--no-first-run"]

needs_browser = pytest.mark.skipif(
    not CHROMIUM.is_file() or shutil.which("iverilog") is None
    or importlib.util.find_spec("playwright") is None,
    reason="needs Debian's chromium (scripts/setup.sh), iverilog and playwright (the dev extra)",
)


def cli_env(data_dir: Path) -> dict[str, str]:
    env = os.environ.copy()
    env["VERILOOP_DATA_DIR"] = str(data_dir)
    env["XDG_CONFIG_HOME"] = str(data_dir.parent / "xdg")
    env["HF_HUB_OFFLINE"] = "1"
    return env


def veriloop(data_dir: Path, *args: str) -> subprocess.Popen[bytes]:
    """Start `veriloop ARGS` (the real CLI) with the given data dir; the caller waits on it."""
    return subprocess.Popen([sys.executable, "-m", "veriloop.cli", *args], cwd=data_dir.parent,
                            env=cli_env(data_dir), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(proc: subprocess.Popen[bytes], timeout: float = 120) -> None:
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode(errors="replace")[-2000:]


class UiServer:
    """`veriloop ui --port 0` in its own process; `url` is what it printed."""

    def __init__(self, data_dir: Path, *extra: str) -> None:
        self.proc = subprocess.Popen([sys.executable, "-m", "veriloop.cli", "ui", "--port", "0", *extra],
                                     cwd=data_dir.parent, env=cli_env(data_dir), stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert line.startswith("veriloop ui: http://"), (line, self.proc.stderr and self.proc.stderr.read())
        self.url = line.split(": ", 1)[1].strip()
        self.base = self.url.split("?", 1)[0]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh headless Chromium (its own user-data dir); pages opened on it are closed with it."""
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=BROWSER_ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()


def wait_for(pred: Any, timeout: float = 60, every: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(every)
    raise AssertionError("timed out waiting")
