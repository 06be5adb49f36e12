"""Shared fixtures: an isolated data dir and environment for every test."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads the developer's config or writes outside its tmp dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("VERILOOP_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def fake_openai(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """A started FakeOpenAIServer (veriloop.testing.fake_openai); FAKE_KEY is set; stopped afterwards.

    Point a backend at it with `write_config(tmp_path, fake_openai)` (backend "fake", the default).
    """
    from veriloop.testing.fake_openai import FakeOpenAIServer

    monkeypatch.setenv("FAKE_KEY", "sk-fake-test-key")
    server = FakeOpenAIServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
