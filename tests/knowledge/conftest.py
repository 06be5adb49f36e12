"""Shared knowledge-store fixtures: one corpus store per session (the model loads once per process)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def load_evaluate() -> ModuleType:
    """bench/retrieval/evaluate.py as a module (it is a script, not part of the package)."""
    name = "veriloop_bench_retrieval_evaluate"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "bench" / "retrieval" / "evaluate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def store_settings(path: Path) -> Any:
    from veriloop.config import KnowledgeConfig, Settings

    return Settings(knowledge=KnowledgeConfig(store_dir=str(path)))


@pytest.fixture(scope="session")
def corpus_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store holding the built-in corpus, built once per test session. Tests must not modify it."""
    import os

    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    path = tmp_path_factory.mktemp("kb-corpus") / "store"
    load_evaluate().build_store(path)
    return path


@pytest.fixture
def corpus_store(corpus_store_dir: Path) -> Any:
    from veriloop.knowledge.store import open_store

    return open_store(store_settings(corpus_store_dir), create=False)
