"""Record/replay cassettes: JSONL of (request fingerprint, occurrence) -> completion or error.

One line per exchange::

    {"v": 1, "fingerprint": "<sha256>", "occurrence": 0, "task": "design.rtl", "backend": "fake",
     "model": "fake-model", "request": {...messages, tools, sampling...},
     "completion": {...} | "error": {"type": "ContextTooLong", "message": "...", "hint": "..."}}

Identical requests (e.g. n samples of one prompt) are told apart by their occurrence index,
assigned when the request starts, so a replay answers them in the same order as the recording.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections import Counter
from pathlib import Path
from typing import Any

from veriloop import errors
from veriloop.errors import BackendError, CassetteMiss, InputError
from veriloop.llm.contract import Completion, CompletionRequest, LLMBackend
from veriloop.llm.ledger import UsageLedger

CASSETTE_VERSION = 1


def _last_user_words(request: CompletionRequest, n: int = 8) -> str:
    for m in reversed(request.messages):
        if m.role == "user" and m.content:
            words = m.content.split()
            return " ".join(words[:n]) + (" ..." if len(words) > n else "")
    return ""


def describe_request(request: CompletionRequest, fingerprint: str, occurrence: int) -> str:
    """A short human name for a request: task, first words of the last user message, hash."""
    words = _last_user_words(request)
    said = f' "{words}"' if words else ""
    nth = f", occurrence #{occurrence + 1}" if occurrence else ""
    return f"task '{request.task}'{said} (hash {fingerprint[:12]}{nth})"


def _error_to_json(err: BackendError) -> dict[str, Any]:
    return {"type": type(err).__name__, "message": err.message, "hint": err.hint}


def _error_from_json(data: dict[str, Any]) -> BackendError:
    cls = getattr(errors, str(data.get("type", "")), BackendError)
    if not (isinstance(cls, type) and issubclass(cls, BackendError)):
        cls = BackendError
    return cls(str(data.get("message", "recorded backend error")), data.get("hint"))


_CASSETTES: dict[Path, tuple[threading.Lock, Counter[str]]] = {}
_CASSETTES_LOCK = threading.Lock()


def _cassette_state(path: Path) -> tuple[threading.Lock, Counter[str]]:
    """The shared (lock, occurrence counts) of one cassette file; an existing file continues its numbering."""
    key = path.resolve()
    with _CASSETTES_LOCK:
        if key not in _CASSETTES:
            counts: Counter[str] = Counter()
            if path.exists():
                for entry in _read_cassette(path):
                    counts[entry["fingerprint"]] += 1
            _CASSETTES[key] = (threading.Lock(), counts)
        return _CASSETTES[key]


class RecordingBackend(LLMBackend):
    """Wraps any backend and appends each exchange to a JSONL cassette (replayable bit for bit)."""

    def __init__(self, inner: LLMBackend, cassette_path: Path | str) -> None:
        self.inner = inner
        self.name = inner.name
        self.model = inner.model
        self.path = Path(cassette_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # Every recorder of one cassette in this process shares its lock and occurrence numbering,
        # so several agents' backends can record one run into one file.
        self._lock, self._counts = _cassette_state(self.path)

    @property
    def ledger(self) -> UsageLedger | None:
        return getattr(self.inner, "ledger", None)

    def describe(self) -> str:
        return f"{self.inner.describe()}, recording to {self.path}"

    async def complete(self, request: CompletionRequest) -> Completion:
        fp = request.fingerprint(self.inner.model)
        with self._lock:
            occurrence = self._counts[fp]
            self._counts[fp] += 1
        entry: dict[str, Any] = {
            "v": CASSETTE_VERSION,
            "fingerprint": fp,
            "occurrence": occurrence,
            "task": request.task,
            "backend": self.inner.name,
            "model": self.inner.model,
            "request": request.model_dump(mode="json", exclude={"context"}),
        }
        try:
            completion = await self.inner.complete(request)
        except BackendError as err:
            entry["error"] = _error_to_json(err)
            self._append(entry)
            raise
        entry["completion"] = completion.model_dump(mode="json")
        self._append(entry)
        return completion

    def _append(self, entry: dict[str, Any]) -> None:
        line = json.dumps(entry, sort_keys=True, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as fh:
            fh.write(line)
            fh.flush()

    async def aclose(self) -> None:
        await self.inner.aclose()


def _read_cassette(path: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"Cannot read cassette {path}: {exc.strerror}.") from None
    for no, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except json.JSONDecodeError:
            if no == len(text.splitlines()):
                continue  # a recording cut short by a kill: the last line may be partial
            raise InputError(
                f"Cassette {path}, line {no}: not valid JSON.",
                hint="The cassette is corrupt; record it again.",
            ) from None
        if not isinstance(entry, dict) or "fingerprint" not in entry:
            raise InputError(f"Cassette {path}, line {no}: not a cassette entry.")
        out.append(entry)
    return out


class ReplayBackend(LLMBackend):
    """Answers from a recorded cassette with no network; a request not in it raises CassetteMiss."""

    def __init__(self, cassette: Path | str, name: str = "replay", ledger: UsageLedger | None = None) -> None:
        self.path = Path(cassette).expanduser()
        if not self.path.is_file():
            raise InputError(
                f"Cassette {self.path} does not exist.",
                hint="Record one first with --record CASSETTE on a run against a real backend.",
            )
        self.name = name
        self.ledger = ledger if ledger is not None else UsageLedger()
        self._entries: dict[tuple[str, int], dict[str, Any]] = {}
        self._models: list[str] = []
        for entry in _read_cassette(self.path):
            key = (str(entry["fingerprint"]), int(entry.get("occurrence", 0)))
            self._entries.setdefault(key, entry)
            model = str(entry.get("model", ""))
            if model not in self._models:
                self._models.append(model)
        self.model = self._models[0] if self._models else "replay"
        self._fps = {fp for fp, _ in self._entries}
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._entries)

    def describe(self) -> str:
        return f"replay of cassette {self.path} ({len(self._entries)} recorded exchanges, no network)"

    async def complete(self, request: CompletionRequest) -> Completion:
        candidates = [request.fingerprint(m) for m in self._models] or [request.fingerprint(self.model)]
        fp = next((f for f in candidates if f in self._fps), candidates[0])
        with self._lock:
            occurrence = self._counts[fp]
            self._counts[fp] += 1
        entry = self._entries.get((fp, occurrence))
        await asyncio.sleep(0)
        if entry is None:
            seen = sum(1 for f, _ in self._entries if f == fp)
            why = f"only {seen} recorded" if seen else "never recorded"
            raise CassetteMiss(
                f"Cassette {self.path} has no reply for {describe_request(request, fp, occurrence)}: {why}.",
                hint="Re-record with --record, or rerun with the same prompts, model, seed and sample count.",
            )
        if "error" in entry:
            err = _error_from_json(entry["error"])
            self.ledger.add_failure(str(entry.get("backend", self.name)), str(entry.get("model", self.model)))
            raise err
        completion = Completion.model_validate(entry["completion"])
        self.ledger.add(completion)
        return completion
