"""Loading the built-in design library from `designs/<name>/design.toml` (+ rtl.v, tb.v)."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from veriloop.designlib.models import DesignEntry
from veriloop.errors import InputError

DESIGNS_DIR = Path(__file__).parent / "designs"


def _load_entry(directory: Path) -> DesignEntry:
    with (directory / "design.toml").open("rb") as fh:
        data = tomllib.load(fh)
    data["path"] = directory
    return DesignEntry.model_validate(data)


@lru_cache(maxsize=1)
def _load_all() -> tuple[DesignEntry, ...]:
    entries = [_load_entry(d) for d in sorted(DESIGNS_DIR.iterdir()) if (d / "design.toml").is_file()]
    return tuple(entries)


def all_entries() -> tuple[DesignEntry, ...]:
    """The shared, loaded-once entries (read-only: callers must not modify them)."""
    return _load_all()


def load_library() -> list[DesignEntry]:
    """Every design of the library, sorted by name (copies: callers may not alter the library)."""
    return [e.model_copy(deep=True) for e in _load_all()]


def get_entry(name: str) -> DesignEntry:
    """The library design called `name`; an InputError naming the choices otherwise."""
    for e in _load_all():
        if e.name == name:
            return e.model_copy(deep=True)
    names = ", ".join(e.name for e in _load_all())
    raise InputError(f"The design library has no design called {name!r}.", hint=f"Known designs: {names}.")


def read_sources(entry: DesignEntry) -> tuple[str, str]:
    """The raw (template) RTL and testbench text of an entry."""
    return (entry.path / "rtl.v").read_text(), (entry.path / "tb.v").read_text()
