"""Ray executor: the same sandboxed cascade evaluation, run as Ray tasks on the nodes of a cluster.

The problem's files travel with the work: the driver packs the problem directory once (a tar of its
regular files, read without following links out of it) and puts it in Ray's object store; each task
gets that object, and its node unpacks it once per content digest into a directory of its own
(`$VERILOOP_RAY_CACHE`, else `<node tmp>/veriloop-ray-problems`; then `<digest>/<name>/`), readable
by the sandbox's unprivileged user, and evaluates there in its own sandbox. Nothing on a node
depends on the driver's paths: a node needs only veriloop installed (the same version and Python as
the driver). Paths in what a node reports (tracebacks) are written back as the driver's, so a
cluster run's database equals a local run's.

A task lost with its node or worker process is re-run by Ray (`max_retries`); when the retries are
spent, the candidate is recorded as a fault ("lost"), never dropped.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import tarfile
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from veriloop.config import SandboxConfig
from veriloop.errors import ConfigError, InputError, ToolMissingError
from veriloop.evolve import problem_files
from veriloop.evolve.evaluate import EvalOutcome
from veriloop.evolve.problem import Problem

MAX_PACK_BYTES = 256 * 1024 * 1024
"""A problem directory larger than this is refused: it would travel to every node."""
TASK_RETRIES = 3
"""How often Ray re-runs an evaluation whose worker process or node died (not a candidate's fault:
the candidate runs in the node's sandbox, whose failures are ordinary outcomes)."""
CACHE_DIRNAME = "veriloop-ray-problems"
CACHE_ENV = "VERILOOP_RAY_CACHE"
"""Where a node unpacks problems when set in the node's environment (else <tmp>/CACHE_DIRNAME)."""
_SKIP_DIRS = {"__pycache__", ".git"}


def pack_problem(problem: Problem) -> bytes:
    """The problem directory as a reproducible tar: regular files only, no links out, no caches."""
    root = Path(os.path.realpath(problem.path))
    buf = io.BytesIO()
    total = 0
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
            dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
            for name in sorted(filenames):
                rel = os.path.relpath(os.path.join(dirpath, name), root)
                if name.endswith(".pyc") or not (
                    os.path.isfile(os.path.join(dirpath, name)) or os.path.islink(os.path.join(dirpath, name))
                ):
                    continue
                try:
                    data = problem_files.read_bytes(root, rel, problem.name)
                except InputError:
                    continue  # a link out of the directory (or a fifo): the sandbox would not see it either
                total += len(data)
                if total > MAX_PACK_BYTES:
                    raise InputError(
                        f"Problem '{problem.name}' is larger than {MAX_PACK_BYTES >> 20} MB, too large to "
                        "send to every Ray node.",
                        hint="Keep large data out of the problem directory (generate it in the evaluator), "
                        "or use --executor local.",
                    )
                info = tarfile.TarInfo(rel)
                info.size = len(data)
                info.mode = 0o644
                info.mtime = 0
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def unpack_problem(blob: bytes, digest: str, name: str, base: Path | None = None) -> Path:
    """The node-local copy of a packed problem (unpacked once per digest; safe under concurrency)."""
    base = base or Path(os.environ.get(CACHE_ENV) or Path(tempfile.gettempdir()) / CACHE_DIRNAME)
    target = base / digest[:32] / name
    if target.is_dir():
        return target
    base.mkdir(parents=True, exist_ok=True)
    os.chmod(base, 0o755)
    staging = Path(tempfile.mkdtemp(prefix=f".{digest[:12]}-", dir=base))
    try:
        inner = staging / name
        inner.mkdir()
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r") as tar:
            for member in tar.getmembers():  # regular files at plain relative paths only
                rel = PurePosixPath(member.name)
                if not member.isfile() or rel.is_absolute() or ".." in rel.parts:
                    continue
                dest = inner.joinpath(*rel.parts)
                dest.parent.mkdir(parents=True, exist_ok=True)
                src = tar.extractfile(member)
                if src is not None:
                    dest.write_bytes(src.read())
        for dirpath, _dirs, files in os.walk(staging):
            os.chmod(dirpath, 0o755)  # the sandbox runs jobs as an unprivileged user
            for f in files:
                os.chmod(os.path.join(dirpath, f), 0o644)
        try:
            os.rename(staging, base / digest[:32])
        except OSError:
            if not target.is_dir():  # another worker on this node won the race, or a real error
                raise
    finally:
        if staging.exists():
            import shutil

            shutil.rmtree(staging, ignore_errors=True)
    return target


def _map_paths(outcome: EvalOutcome, node_dir: str, driver_dir: str) -> EvalOutcome:
    """Write the node's copy of the problem back as the driver's path in the outcome's texts."""
    if node_dir == driver_dir:
        return outcome
    outcome.artifacts = {k: v.replace(node_dir, driver_dir) for k, v in outcome.artifacts.items()}
    if outcome.error:
        outcome.error = outcome.error.replace(node_dir, driver_dir)
    outcome.proxy_trouble = [t.replace(node_dir, driver_dir) for t in outcome.proxy_trouble]
    return outcome


def _remote_evaluate(problem_json: str, sandbox_json: str, digest: str, blob: bytes, code: str) -> str:
    """Runs on a Ray node: unpack the problem locally, evaluate in this node's sandbox."""
    from veriloop.config import SandboxConfig as _SandboxConfig
    from veriloop.evolve.evaluate import evaluate_code
    from veriloop.evolve.problem import Problem as _Problem
    from veriloop.sandbox import get_sandbox

    problem = _Problem.model_validate_json(problem_json)
    driver_dir = str(problem.path)
    local = unpack_problem(blob, digest, problem.path.name or "problem")
    update: dict[str, Any] = {
        "path": local,
        "evaluator_path": local / os.path.relpath(problem.evaluator_path, problem.path),
    }
    if problem.templates_dir is not None:
        update["templates_dir"] = local / os.path.relpath(problem.templates_dir, problem.path)
    problem = problem.model_copy(update=update)
    sandbox = get_sandbox(_SandboxConfig.model_validate_json(sandbox_json))
    outcome = evaluate_code(problem, code, sandbox=sandbox)
    return _map_paths(outcome, str(local), driver_dir).model_dump_json()


def connect(address: str | None, workers: int) -> tuple[Any, bool]:
    """The `ray` module, connected to the cluster at `address` (None: start a local Ray with `workers`
    CPUs), and whether this call connected (so its caller disconnects at the end)."""
    try:
        import ray
    except ImportError:
        raise ToolMissingError(
            "--executor ray needs the 'ray' package, which is not installed.",
            hint="pip install 'veriloop[ray]'",
        ) from None
    if ray.is_initialized():
        return ray, False
    kwargs: dict[str, Any] = {
        "ignore_reinit_error": True,
        "include_dashboard": False,
        "log_to_driver": False,
    }
    if address:
        kwargs["address"] = address
    else:
        kwargs["num_cpus"] = max(1, workers)
    try:
        ray.init(**kwargs)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ConfigError(
            f"Cannot connect to the Ray cluster at {address or 'local'}: {exc}.",
            hint="Check --address (the head's host:port, e.g. 10.0.0.5:6379, or auto) and that this "
            "machine has the cluster's token (RAY_AUTH_TOKEN).",
        ) from None
    return ray, True


class RayExecutor:
    """Evaluations as Ray tasks (1 CPU each) on the cluster at `address`; None starts a local Ray."""

    name = "ray"

    def __init__(
        self, workers: int, address: str | None = None, sandbox_config: SandboxConfig | None = None
    ) -> None:
        self.workers = max(1, workers)
        self._ray, self._started_ray = connect(address, self.workers)
        self._sandbox_json = (
            (sandbox_config or SandboxConfig()).model_copy(update={"max_parallel": 1}).model_dump_json()
        )
        self._packed: dict[str, tuple[str, Any]] = {}
        self._counts = {"tasks": 0, "lost": 0}
        self._fn = self._ray.remote(num_cpus=1, max_retries=TASK_RETRIES, retry_exceptions=False)(
            _remote_evaluate
        )
        self._sem = asyncio.Semaphore(self.workers)

    def _problem_ref(self, problem: Problem) -> tuple[str, Any]:
        key = problem.model_dump_json()
        got = self._packed.get(key)
        if got is None:
            blob = pack_problem(problem)
            digest = hashlib.sha256(blob).hexdigest()
            got = (digest, self._ray.put(blob))
            self._packed[key] = got
        return got

    async def evaluate(self, problem: Problem, code: str) -> EvalOutcome:
        async with self._sem:
            digest, blob_ref = self._problem_ref(problem)
            self._counts["tasks"] += 1
            ref = self._fn.remote(problem.model_dump_json(), self._sandbox_json, digest, blob_ref, code)
            try:
                text = await ref
            except Exception as exc:  # noqa: BLE001 - a lost node is a fault of this candidate only
                self._counts["lost"] += 1
                return EvalOutcome(
                    error=f"Ray task lost after {TASK_RETRIES} re-runs: {type(exc).__name__}: "
                    f"{str(exc)[:300]}",
                    fault="lost",
                )
            return EvalOutcome.model_validate_json(text)

    def stats(self) -> dict[str, Any]:
        """Tasks sent and candidates lost with their node (after Ray's re-runs)."""
        return {"executor": "ray", "workers": self.workers, **self._counts}

    def close(self) -> None:
        self._packed.clear()
        if self._started_ray:
            self._ray.shutdown()
