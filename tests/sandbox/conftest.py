"""Fixtures shared by the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from veriloop.sandbox.staged import StepPool


@pytest.fixture
def pool() -> Iterator[StepPool]:
    """One warm staged sandbox of its own, closed after the test."""
    p = StepPool(1)
    try:
        yield p
    finally:
        p.close()
